package integration

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/portico-gw/portico/reqctx"
)

// Registry maps names to integrations, so that routes can refer to functions
// the way the model gateway refers to Lambda functions: by name, by
// NAME:ALIAS, or by ARN, with a stage variable choosing among them (a Lambda
// alias per stage). Keys are looked up as written; see [Ref] for how ARNs
// are resolved. A nil Registry is empty. A Registry is safe for concurrent
// reads once set up; do not change it while it is in use.
type Registry map[string]http.Handler

// maxRefDepth bounds references to references, so a cycle is an error.
const maxRefDepth = 8

// Ref returns an integration that refers to the integration named name in
// reg, resolved when a stage is deployed ([FunctionRef.BindStage]). name may
// contain ${stageVariables.x}. Once the variables are substituted, the name
// is looked up in reg trying, in order:
//   - the name as written;
//   - for an API Gateway invocation URI,
//     arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fnArn}/invocations,
//     the function ARN inside it, then as for a function ARN;
//   - for a function ARN, arn:aws:lambda:{region}:{account}:function:NAME[:ALIAS],
//     NAME:ALIAS, then NAME.
//
// reg is read when the reference is resolved, not when Ref is called.
func Ref(reg Registry, name string) *FunctionRef {
	return &FunctionRef{reg: reg, name: name}
}

// FunctionRef is a reference to an integration in a [Registry], made by
// [Ref]. It is an integration and a [Binder]; the gateway binds it once per
// deployment and serves the integration it resolves to. It is safe for
// concurrent use.
type FunctionRef struct {
	reg  Registry
	name string

	once      sync.Once // resolves the unbound reference for ServeHTTP
	unbound   http.Handler
	unbindErr error
}

var (
	_ http.Handler = (*FunctionRef)(nil)
	_ Binder       = (*FunctionRef)(nil)
)

// errNotRegistered is the cause of a lookup that found nothing.
var errNotRegistered = errors.New("not in the registry")

// Name returns the name the reference was made with, stage variable
// references included.
func (f *FunctionRef) Name() string { return f.name }

// BindStage resolves the reference with the stage's variables vars and
// returns the integration it names. When that integration is itself a
// [Binder] (a [Mock] with stage variables, another [FunctionRef]), it is
// bound with the same variables. The error names the reference and the
// variable it lacks or the name it did not find.
func (f *FunctionRef) BindStage(vars map[string]string) (http.Handler, error) {
	return f.bind(vars, 0)
}

func (f *FunctionRef) bind(vars map[string]string, depth int) (http.Handler, error) {
	if depth >= maxRefDepth {
		return nil, fmt.Errorf("function %q: references nest deeper than %d (a cycle?)", f.name, maxRefDepth)
	}
	name, err := ExpandStageVariables(f.name, vars)
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", f.name, err)
	}
	h, ok := lookupRef(f.reg, name)
	if !ok {
		return nil, fmt.Errorf("function %q (from %q): %w", name, f.name, errNotRegistered)
	}
	switch b := h.(type) {
	case *FunctionRef:
		if h, err = b.bind(vars, depth+1); err != nil {
			return nil, fmt.Errorf("function %q: %w", f.name, err)
		}
	case Binder:
		if h, err = b.BindStage(vars); err != nil {
			return nil, fmt.Errorf("function %q: %w", f.name, err)
		}
		if h == nil {
			return nil, fmt.Errorf("function %q: BindStage returned no handler", f.name)
		}
	}
	return h, nil
}

// ServeHTTP serves a reference used without [FunctionRef.BindStage] (the
// gateway binds references at deploy time, so this path is for references
// used outside one): it resolves the reference once, without stage
// variables, and answers 500 API_CONFIGURATION_ERROR when it does not
// resolve.
func (f *FunctionRef) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.once.Do(func() { f.unbound, f.unbindErr = f.bind(nil, 0) })
	if f.unbindErr != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, f.unbindErr))
		return
	}
	f.unbound.ServeHTTP(w, r)
}

// lookup finds name in reg: as written, then through the function ARN of an
// invocation URI, then as NAME:ALIAS and NAME of a function ARN. ARNs of any
// partition (aws, aws-cn, aws-us-gov …) are understood.
func lookupRef(reg Registry, name string) (http.Handler, bool) {
	key, ok := lookupKey(reg, name)
	if !ok {
		return nil, false
	}
	return reg[key], true
}

// Resolve returns the key of the registry entry that name refers to, looked
// up as [Ref] does (as written, through an invocation URI, as NAME:ALIAS or
// NAME of a function ARN), with no stage variables substituted. ok is false
// when no entry matches.
func (r Registry) Resolve(name string) (key string, ok bool) { return lookupKey(r, name) }

// lookupKey is lookupRef returning the key found.
func lookupKey(reg Registry, name string) (string, bool) {
	if _, ok := reg[name]; ok {
		return name, true
	}
	// arn:{partition}:{service}:{region}:{account}:{resource}
	parts := strings.SplitN(name, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return "", false
	}
	switch parts[2] {
	case "apigateway":
		// arn:{p}:apigateway:{region}:lambda:path/2015-03-31/functions/{fnArn}/invocations
		fn, ok := strings.CutPrefix(parts[5], "path/2015-03-31/functions/")
		if parts[4] != "lambda" || !ok {
			return "", false
		}
		if fn, ok = strings.CutSuffix(fn, "/invocations"); !ok || !strings.HasPrefix(fn, "arn:") {
			return "", false
		}
		return lookupKey(reg, fn)
	case "lambda":
		// arn:{p}:lambda:{region}:{account}:function:NAME[:ALIAS]
		res, ok := strings.CutPrefix(parts[5], "function:")
		if !ok {
			return "", false
		}
		fn, alias, hasAlias := strings.Cut(res, ":")
		if fn == "" || strings.Contains(alias, ":") {
			return "", false
		}
		if hasAlias {
			if _, ok := reg[fn+":"+alias]; ok {
				return fn + ":" + alias, true
			}
		}
		if _, ok := reg[fn]; ok {
			return fn, true
		}
		return "", false
	}
	return "", false
}
