// Command portico checks, exports, turns into SDKs and serves OpenAPI
// documents written for the model gateway (with x-amazon-apigateway-*
// extensions), without writing any Go.
//
//	portico import [-fail-on-warnings] [-type REST|HTTP] [-var NAME=VALUE]... FILE
//	    Import FILE, deploy it on an in-memory gateway (stage prod, with
//	    the stage variables given), and print the API, its routes and the
//	    import warnings. Exits 1 if the document cannot be served.
//	portico export [-spec oas30|swagger] [-format json|yaml] [-no-extensions]
//	               [-base-url URL] [-stage NAME [-var NAME=VALUE]...] [-o OUT] FILE
//	    Import FILE and export it as OpenAPI 3.0 or Swagger 2.0; with
//	    -stage, deploy it on that stage first and export the stage.
//	portico sdk -lang go|ts [-package NAME] [-sigv4] [-base-url URL]
//	            [-stage NAME [-var NAME=VALUE]...] [-o OUT] FILE
//	    Generate a Go or TypeScript client for the API FILE describes.
//	portico serve [-addr HOST:PORT] [-stage NAME] [-var NAME=VALUE]...
//	              [-function NAME=URL]... [-api-key VALUE]... [-network LABEL=CIDR]... FILE
//	    Serve FILE as a gateway until interrupted. A PRIVATE endpoint
//	    (x-amazon-apigateway-endpoint-configuration) admits the source
//	    networks its vpcEndpointIds name, labelled with -network, or
//	    loopback callers when it names none.
//
// Functions (aws_proxy and aws integrations, custom authorizers) name Go
// functions when Portico is embedded. Here, -function NAME=URL connects the
// function NAME (as the document writes it: a name or an ARN) to an HTTP
// endpoint that takes the event as a POST body and answers the function's
// result, as the Lambda runtime interface emulator does
// (http://127.0.0.1:9000/2015-03-31/functions/function/invocations). A
// function that is not connected answers 502 INTEGRATION_FAILURE when
// invoked; import, export and sdk need none.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `usage:
  portico import [-fail-on-warnings] [-type REST|HTTP] [-var NAME=VALUE]... FILE
  portico export [-spec oas30|swagger] [-format json|yaml] [-no-extensions] [-base-url URL] [-stage NAME [-var NAME=VALUE]...] [-o OUT] FILE
  portico sdk -lang go|ts [-package NAME] [-sigv4] [-base-url URL] [-stage NAME [-var NAME=VALUE]...] [-o OUT] FILE
  portico serve [-addr HOST:PORT] [-stage NAME] [-var NAME=VALUE]... [-function NAME=URL]... [-api-key VALUE]... [-network LABEL=CIDR]... FILE
`

// run runs the command line args and returns the exit code. ready, if not
// nil, is told the address serve listens on.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "import":
		err = cmdImport(args[1:], stdout)
	case "export":
		err = cmdExport(args[1:], stdout, stderr)
	case "sdk":
		err = cmdSDK(args[1:], stdout)
	case "serve":
		err = cmdServe(ctx, args[1:], stderr, ready)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "portico: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "portico %s: %v\n%s", args[0], err, usage)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "portico %s: %v\n", args[0], err)
		return exitError
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parse parses a subcommand's flags and returns its one file argument.
func parse(fs *flag.FlagSet, args []string) (string, error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", usageError{"flags:" + flagList(fs)}
		}
		return "", usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return "", usageError{fmt.Sprintf("want one document FILE, got %d arguments", fs.NArg())}
	}
	return fs.Arg(0), nil
}

func flagList(fs *flag.FlagSet) string {
	s := ""
	fs.VisitAll(func(f *flag.Flag) { s += fmt.Sprintf("\n  -%s\t%s", f.Name, f.Usage) })
	return s
}
