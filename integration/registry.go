package integration

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/reqctx"
)

// Registry maps names — function names, NAME:ALIAS, or Lambda ARNs — to
// integrations, so that routes can refer to functions by name, and stage
// variables can choose among them (the model's Lambda alias per stage). It
// is safe for concurrent reads once set up.
type Registry map[string]http.Handler

// Ref returns an integration that resolves name in reg when a stage is
// deployed. name may contain ${stageVariables.x}. Lookup tries, in order: the
// name as given; for an API Gateway invocation URI
// (arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fnArn}/invocations),
// the function ARN inside it; for a function ARN
// (arn:aws:lambda:{region}:{account}:function:NAME[:ALIAS]), NAME:ALIAS and
// then NAME.
func Ref(reg Registry, name string) *FunctionRef {
	return &FunctionRef{reg: reg, name: name}
}

// FunctionRef is a reference to a registered integration by name. It is an
// integration and a [Binder]; safe for concurrent use.
type FunctionRef struct {
	reg  Registry
	name string
}

var _ Binder = (*FunctionRef)(nil)

// Name returns the name the reference was made with.
func (f *FunctionRef) Name() string { return f.name }

// BindStage resolves the reference with the stage's variables. An
// undefined variable or a name not in the registry is an error naming both.
func (f *FunctionRef) BindStage(vars map[string]string) (http.Handler, error) {
	name, err := ExpandStageVariables(f.name, vars)
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", f.name, err)
	}
	h, ok := lookup(f.reg, name)
	if !ok {
		return nil, fmt.Errorf("function %q (from %q) is not in the registry", name, f.name)
	}
	return h, nil
}

// ServeHTTP resolves the reference without stage variables and serves the
// request; a reference that does not resolve answers 500
// API_CONFIGURATION_ERROR. The gateway binds references at deploy time, so
// this path serves only references used outside a gateway.
func (f *FunctionRef) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var vars map[string]string
	if rc := reqctx.From(r.Context()); rc != nil {
		vars = rc.StageVariables
	}
	h, err := f.BindStage(vars)
	if err != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, err))
		return
	}
	h.ServeHTTP(w, r)
}

func lookup(reg Registry, name string) (http.Handler, bool) {
	if h, ok := reg[name]; ok {
		return h, true
	}
	// API Gateway invocation URI → function ARN.
	if strings.HasPrefix(name, "arn:aws:apigateway:") {
		if _, after, ok := strings.Cut(name, "/functions/"); ok {
			fn := strings.TrimSuffix(after, "/invocations")
			return lookup(reg, fn)
		}
		return nil, false
	}
	// Function ARN → NAME:ALIAS, NAME.
	if strings.HasPrefix(name, "arn:aws:lambda:") {
		parts := strings.Split(name, ":")
		// arn aws lambda region account function NAME [ALIAS]
		if len(parts) < 7 || parts[5] != "function" {
			return nil, false
		}
		if len(parts) >= 8 {
			if h, ok := reg[parts[6]+":"+parts[7]]; ok {
				return h, true
			}
		}
		h, ok := reg[parts[6]]
		return h, ok
	}
	return nil, false
}
