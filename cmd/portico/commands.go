package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	yaml "go.yaml.in/yaml/v4"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/openapi"
	"github.com/portico-gw/portico/openapi/sdk"
)

// multiFlag is a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// stageVars parses -var NAME=VALUE flags.
func stageVars(vars multiFlag) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok {
			return nil, usageError{fmt.Sprintf("-var %q: want NAME=VALUE", v)}
		}
		m[name] = value
	}
	return m, nil
}

// readDocument reads the document at path ("-" for standard input).
func readDocument(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, openapi.MaxDocumentBytes+1))
	}
	return os.ReadFile(path)
}

// loaded is an imported document deployed on an in-memory gateway.
type loaded struct {
	imp   *openapi.Imported
	gw    *portico.Gateway
	stage *portico.Stage
}

// load imports the document at path with the functions it names connected
// as fns says (unconnected ones answer 502), and deploys it on a new
// gateway with opts, as stage cfg.
func load(path string, iopts openapi.ImportOptions, fns map[string]string, cfg portico.StageConfig, opts ...portico.Option) (*loaded, error) {
	imp, err := importDocument(path, iopts, fns)
	if err != nil {
		return nil, err
	}
	// An empty key store and the loopback network unless the caller gives
	// its own (later options win).
	nets, err := auth.CIDRNetworks(map[string][]string{"loopback": {"127.0.0.0/8", "::1/128"}})
	if err != nil {
		return nil, err
	}
	opts = append([]portico.Option{portico.WithAPIKeys(auth.NewMemoryKeyStore()), portico.WithSourceNetworks(nets)}, opts...)
	gw, err := portico.New(opts...)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "prod"
	}
	cfg.Auth = imp.Endpoint
	if cfg.Auth.EndpointType == portico.EndpointPrivate && len(cfg.Auth.AllowedNetworks) == 0 {
		cfg.Auth.AllowedNetworks = []string{"loopback"}
	}
	st, err := gw.Deploy(imp.API, cfg)
	if err != nil {
		_ = gw.Shutdown(context.Background())
		return &loaded{imp: imp}, err
	}
	return &loaded{imp: imp, gw: gw, stage: st}, nil
}

// importDocument imports the document at path with the functions it names
// connected as fns says (unconnected ones answer 502).
func importDocument(path string, iopts openapi.ImportOptions, fns map[string]string) (*openapi.Imported, error) {
	data, err := readDocument(path)
	if err != nil {
		return nil, err
	}
	if iopts.Registry, err = functions(data, fns); err != nil {
		return nil, err
	}
	return openapi.Import(data, iopts)
}

func (l *loaded) close() {
	if l != nil && l.gw != nil {
		_ = l.gw.Shutdown(context.Background())
	}
}

// functions returns a registry with an entry for every function the
// document names: those in fns (name → URL) call the URL, the others fail
// when invoked.
func functions(data []byte, fns map[string]string) (integration.Registry, error) {
	names, err := functionNames(data)
	if err != nil {
		return nil, err
	}
	reg := integration.Registry{}
	for _, n := range names {
		reg[n] = unconnected(n)
	}
	for n, u := range fns {
		reg[n] = remoteFunction(u)
	}
	return reg, nil
}

// functionNames lists the function names and ARNs the document's
// integrations (aws, aws_proxy) and custom authorizers refer to, except
// those with stage variables, which are resolved at deploy.
func functionNames(data []byte) (names []string, err error) {
	var doc any
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("document: %v", r)
			}
		}()
		err = yaml.Unmarshal(data, &doc)
	}()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", openapi.ErrInvalidDocument, err)
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > openapi.MaxDepth {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			if x, ok := v["x-amazon-apigateway-integration"].(map[string]any); ok {
				if t, _ := x["type"].(string); strings.EqualFold(t, "aws_proxy") || strings.EqualFold(t, "aws") {
					if u, _ := x["uri"].(string); u != "" {
						names = append(names, u)
					}
				}
			}
			if x, ok := v["x-amazon-apigateway-authorizer"].(map[string]any); ok {
				if u, _ := x["authorizerUri"].(string); u != "" {
					names = append(names, u)
				}
			}
			for _, c := range v {
				walk(c, depth+1)
			}
		case []any:
			for _, c := range v {
				walk(c, depth+1)
			}
		}
	}
	walk(doc, 0)
	names = slices.DeleteFunc(names, func(n string) bool { return strings.Contains(n, "${") })
	slices.Sort(names)
	return slices.Compact(names), nil
}

// unconnected is a function nobody connected with -function.
func unconnected(name string) http.Handler {
	return integration.RawFunction(func(context.Context, []byte) ([]byte, error) {
		return nil, fmt.Errorf("function %q is not connected: pass -function '%s=URL'", name, name)
	})
}

// remoteFunction invokes a function over HTTP: the event is POSTed to url
// and the response body is the function's result.
func remoteFunction(url string) http.Handler {
	client := &http.Client{Timeout: 30 * time.Second}
	return integration.RawFunction(func(ctx context.Context, event []byte) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20+1))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode/100 != 2 {
			return nil, fmt.Errorf("function at %s answered %s", url, resp.Status)
		}
		return body, nil
	})
}

func cmdImport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	failOnWarnings := fs.Bool("fail-on-warnings", false, "fail when the import gives warnings")
	typ := fs.String("type", "", "API type: REST or HTTP (default: from the document)")
	var vars multiFlag
	fs.Var(&vars, "var", "stage variable NAME=VALUE for the test deployment (repeatable)")
	path, err := parse(fs, args)
	if err != nil {
		return err
	}
	v, err := stageVars(vars)
	if err != nil {
		return err
	}
	l, err := load(path, openapi.ImportOptions{FailOnWarnings: *failOnWarnings, Type: portico.APIType(strings.ToUpper(*typ))}, nil, portico.StageConfig{Variables: v})
	defer l.close()
	if l != nil && l.imp != nil {
		printImport(stdout, l.imp)
	}
	var we *openapi.WarningsError
	if errors.As(err, &we) {
		for _, w := range we.Warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "ok: the document deploys")
	return nil
}

// printImport prints the imported API: its settings, routes and warnings.
func printImport(w io.Writer, imp *openapi.Imported) {
	api := imp.API
	fmt.Fprintf(w, "API %q (%s), OpenAPI %s, %d routes\n", api.Name, apiType(api), imp.Version, len(api.Routes))
	if imp.Endpoint.EndpointType != "" {
		fmt.Fprintf(w, "endpoint: %s %s\n", imp.Endpoint.EndpointType, strings.Join(imp.Endpoint.AllowedNetworks, " "))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tINTEGRATION\tAUTH\tOPERATION")
	for _, r := range api.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Key(), integrationKind(r.Integration), routeAuth(r.Auth), r.OperationName)
	}
	_ = tw.Flush()
	for _, wn := range imp.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}

func apiType(api *portico.API) portico.APIType {
	if api.Type == "" {
		return portico.REST
	}
	return api.Type
}

func integrationKind(h http.Handler) string {
	switch h := h.(type) {
	case nil:
		return "none"
	case *integration.FunctionRef:
		return "function " + shortFunction(h.Name())
	case integration.Mock, *integration.Mock:
		return "mock"
	case *integration.HTTP:
		return "http " + h.Target
	case *integration.HTTPProxy:
		return "http_proxy " + h.Target
	default:
		return fmt.Sprintf("%T", h)
	}
}

// shortFunction returns the function name in a Lambda ARN or invocation
// URI, or name itself.
func shortFunction(name string) string {
	if _, after, ok := strings.Cut(name, ":function:"); ok {
		after, _, _ = strings.Cut(after, "/")
		return after
	}
	return name
}

func routeAuth(a portico.RouteAuth) string {
	var parts []string
	if a.Authorizer != "" && a.Authorizer != "NONE" {
		parts = append(parts, a.Authorizer)
	}
	if len(a.Scopes) > 0 {
		parts = append(parts, "scopes="+strings.Join(a.Scopes, ","))
	}
	if a.APIKeyRequired {
		parts = append(parts, "api-key")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// output writes b to path, or to stdout when path is "" or "-".
func output(path string, stdout io.Writer, b []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func cmdExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	spec := fs.String("spec", "oas30", "oas30 or swagger")
	format := fs.String("format", "json", "json or yaml")
	noExt := fs.Bool("no-extensions", false, "leave out the x-amazon-apigateway-* extensions")
	sf := addSourceFlags(fs)
	path, err := parse(fs, args)
	if err != nil {
		return err
	}
	src, closeSrc, err := exportSource(path, *sf.stage, sf.vars)
	defer closeSrc()
	if err != nil {
		return err
	}
	b, warnings, err := openapi.Export(src, openapi.ExportOptions{
		Spec: openapi.Spec(*spec), Format: openapi.Format(*format), OmitExtensions: *noExt, BaseURL: *sf.baseURL,
	})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	return output(*sf.out, stdout, b)
}

// sourceFlags are the flags export and sdk share: what to describe and
// where to write it.
type sourceFlags struct {
	baseURL, stage, out *string
	vars                multiFlag
}

func addSourceFlags(fs *flag.FlagSet) *sourceFlags {
	f := &sourceFlags{
		baseURL: fs.String("base-url", "", "the URL clients call the stage at"),
		stage:   fs.String("stage", "", "deploy on stage NAME and describe the stage (default: the API)"),
		out:     fs.String("o", "", "output file (default: standard output)"),
	}
	fs.Var(&f.vars, "var", "stage variable NAME=VALUE, with -stage (repeatable)")
	return f
}

// exportSource imports the document at path and returns what to export:
// the API, or with a stage name the API deployed on that stage with the
// given variables. Call the returned function when done.
func exportSource(path, stage string, vars multiFlag) (any, func(), error) {
	v, err := stageVars(vars)
	if err != nil {
		return nil, func() {}, err
	}
	if stage == "" {
		if len(v) > 0 {
			return nil, func() {}, usageError{"-var needs -stage"}
		}
		imp, err := importDocument(path, openapi.ImportOptions{}, nil)
		if err != nil {
			return nil, func() {}, err
		}
		return imp.API, func() {}, nil
	}
	l, err := load(path, openapi.ImportOptions{}, nil, portico.StageConfig{Name: stage, Variables: v})
	if err != nil {
		l.close()
		return nil, func() {}, err
	}
	return l.stage, l.close, nil
}

func cmdSDK(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sdk", flag.ContinueOnError)
	lang := fs.String("lang", "", "go or ts")
	pkg := fs.String("package", "client", "Go package name")
	sigv4 := fs.Bool("sigv4", false, "Go: add WithSigV4, built on the aws-sdk-go-v2 signer")
	sf := addSourceFlags(fs)
	path, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *lang != "go" && *lang != "ts" {
		return usageError{fmt.Sprintf("-lang must be go or ts, not %q", *lang)}
	}
	from, closeFrom, err := exportSource(path, *sf.stage, sf.vars)
	defer closeFrom()
	if err != nil {
		return err
	}
	doc, err := openapi.Document(from, openapi.ExportOptions{OmitExtensions: true, BaseURL: *sf.baseURL})
	if err != nil {
		return err
	}
	var src []byte
	if *lang == "go" {
		src, err = sdk.Go(doc, sdk.GoOptions{Package: *pkg, SigV4: *sigv4})
	} else {
		src, err = sdk.TypeScript(doc, sdk.TSOptions{})
	}
	if err != nil {
		return err
	}
	return output(*sf.out, stdout, src)
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer, ready func(string)) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	stage := fs.String("stage", "prod", "stage name")
	var vars, fns, keys, nets multiFlag
	fs.Var(&vars, "var", "stage variable NAME=VALUE (repeatable)")
	fs.Var(&fns, "function", "connect function NAME to URL: NAME=URL (repeatable)")
	fs.Var(&nets, "network", "label requests from CIDR with source network LABEL: LABEL=CIDR (repeatable; the label loopback covers 127.0.0.0/8 and ::1)")
	fs.Var(&keys, "api-key", "an API key value callers may send in x-api-key (repeatable; at least 20 characters)")
	path, err := parse(fs, args)
	if err != nil {
		return err
	}
	v, err := stageVars(vars)
	if err != nil {
		return err
	}
	cfg := portico.StageConfig{Name: *stage, Variables: v}
	functions := map[string]string{}
	for _, f := range fns {
		name, u, ok := strings.Cut(f, "=")
		if !ok || !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return usageError{fmt.Sprintf("-function %q: want NAME=http(s)://URL", f)}
		}
		functions[name] = u
	}
	store := auth.NewMemoryKeyStore()
	mgr, err := auth.NewKeys(store)
	if err != nil {
		return err
	}
	for i, k := range keys {
		if _, err := mgr.Import(ctx, fmt.Sprintf("cli-%d", i+1), k); err != nil {
			return usageError{fmt.Sprintf("-api-key #%d: %v", i+1, err)}
		}
	}
	ranges := map[string][]string{"loopback": {"127.0.0.0/8", "::1/128"}}
	for _, n := range nets {
		label, cidr, ok := strings.Cut(n, "=")
		if !ok || label == "" {
			return usageError{fmt.Sprintf("-network %q: want LABEL=CIDR", n)}
		}
		ranges[label] = append(ranges[label], cidr)
	}
	networks, err := auth.CIDRNetworks(ranges)
	if err != nil {
		return usageError{fmt.Sprintf("-network: %v", err)}
	}
	l, err := load(path, openapi.ImportOptions{}, functions, cfg, portico.WithAPIKeys(store), portico.WithSourceNetworks(networks))
	if err != nil {
		l.close()
		return err
	}
	for _, w := range l.imp.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		l.close()
		return err
	}
	srv := &http.Server{Handler: l.gw, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "portico: serving %q on http://%s/%s\n", l.imp.API.Name, ln.Addr(), *stage)
	if ready != nil {
		ready(ln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		l.close()
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = l.gw.Shutdown(shutdown)
	err = srv.Shutdown(shutdown)
	<-done
	return err
}
