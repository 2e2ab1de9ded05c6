package transform

import (
	"context"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/transform/jsonpath"
	"github.com/portico-gw/portico/transform/vtl"
)

// The members of the host variables VTL templates get.
var (
	inputMembers = []string{"body", "json", "path", "params"}
	utilMembers  = []string{"escapeJavaScript", "parseJson", "urlEncode", "urlDecode", "base64Encode", "base64Decode"}
)

func vtlOptions() vtl.Options {
	return vtl.Options{Objects: map[string][]string{
		"input":   inputMembers,
		"util":    utilMembers,
		"context": contextMembers(),
	}}
}

func (t *Template) parseVTL(src string) error {
	tpl, err := vtl.Parse(src, vtlOptions())
	if err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	for _, c := range tpl.HostCalls() {
		if c.Var != "input" || (c.Method != "json" && c.Method != "path") {
			continue
		}
		if len(c.Args) != 1 {
			return fmt.Errorf("transform: vtl: line %d: $input.%s takes one JSONPath argument", c.Line, c.Method)
		}
		expr, ok := c.Args[0].(string)
		if !ok {
			if _, dynamic := c.Args[0].(vtl.NotLiteral); dynamic {
				continue
			}
			return fmt.Errorf("transform: vtl: line %d: $input.%s takes a string", c.Line, c.Method)
		}
		if err := t.addPath(expr); err != nil {
			return fmt.Errorf("transform: vtl: line %d: $input.%s(%q): %w", c.Line, c.Method, expr, err)
		}
	}
	t.vtl = tpl
	return nil
}

func (t *Template) addPath(expr string) error {
	if _, ok := t.paths[expr]; ok {
		return nil
	}
	p, err := jsonpath.Parse(expr)
	if err != nil {
		return err
	}
	t.paths[expr] = p
	return nil
}

// vtlRun holds the host variables of one VTL execution.
type vtlRun struct {
	t     *Template
	in    *Input
	input inputObj
	ctx   contextObj
}

func (r *vtlRun) Var(name string) (any, bool) {
	switch name {
	case "input":
		return &r.input, true
	case "util":
		return utilObj{}, true
	case "context":
		return &r.ctx, true
	case "stageVariables":
		if sv := r.in.stageVars(); sv != nil {
			return sv, true
		}
		return map[string]string{}, true
	}
	return nil, false
}

func (t *Template) renderVTL(ctx context.Context, in *Input) (Result, error) {
	run := &vtlRun{t: t, in: in}
	run.input = inputObj{run: run}
	run.ctx = contextObj{rc: in.rc()}
	out, err := t.vtl.Execute(ctx, nil, run, vtl.Limits{
		MaxOutput:     t.lim.MaxOutputBytes,
		MaxSteps:      t.lim.MaxSteps,
		MaxIterations: t.lim.MaxLoopIterations,
	})
	if err != nil {
		return Result{}, fmt.Errorf("transform: %w", err)
	}
	res := Result{Body: out}
	// A request template sets the integration request's headers through
	// requestOverride, a response template the method response's through
	// responseOverride.
	m := run.ctx.requestOverride
	if in.Status != 0 {
		m = run.ctx.responseOverride
	}
	if res.Overrides, err = overridesFrom(m); err != nil {
		return Result{}, fmt.Errorf("transform: %w", err)
	}
	return res, nil
}

// inputObj is $input.
type inputObj struct {
	run  *vtlRun
	body *string
}

func (o *inputObj) Property(name string) (any, bool) {
	if name == "body" {
		if o.body == nil {
			s := o.run.in.bodyString()
			o.body = &s
		}
		return *o.body, true
	}
	return nil, false
}

func (o *inputObj) Call(name string, args []any) (any, error) {
	in, t := o.run.in, o.run.t
	switch name {
	case "json", "path":
		if len(args) != 1 {
			return nil, fmt.Errorf("$input.%s takes one JSONPath argument", name)
		}
		expr, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("$input.%s: the JSONPath is not a string", name)
		}
		if name == "json" {
			return t.jsonOf(in, expr)
		}
		return t.pathOf(in, expr)
	case "params":
		switch len(args) {
		case 0:
			return in.allParams(), nil
		case 1:
			return in.param(vtl.String(args[0])), nil
		}
		return nil, errors.New("$input.params takes at most one argument")
	case "body":
		p, _ := o.Property("body")
		return p, nil
	}
	return nil, nil
}

// utilObj is $util.
type utilObj struct{}

func (utilObj) Property(string) (any, bool) { return nil, false }

func (utilObj) Call(name string, args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("$util.%s takes one argument", name)
	}
	arg := args[0]
	s := vtl.String(arg)
	switch name {
	case "escapeJavaScript":
		if arg == nil {
			return "null", nil
		}
		return EscapeJavaScript(s), nil
	case "parseJson":
		v, err := ParseJSON(s)
		if err != nil {
			return nil, fmt.Errorf("$util.parseJson: %v", err)
		}
		return v, nil
	case "urlEncode":
		return URLEncode(s), nil
	case "urlDecode":
		v, err := URLDecode(s)
		if err != nil {
			return nil, fmt.Errorf("$util.urlDecode: %v", err)
		}
		return v, nil
	case "base64Encode":
		return Base64Encode(s), nil
	case "base64Decode":
		v, err := Base64Decode(s)
		if err != nil {
			return nil, fmt.Errorf("$util.%v", err)
		}
		return v, nil
	}
	return nil, nil
}

// contextObj is $context; ctxGroup one of its groups ($context.identity).
type contextObj struct {
	rc                                *reqctx.Context
	requestOverride, responseOverride *vtl.Map
}

func (c *contextObj) Property(name string) (any, bool) {
	switch name {
	case "requestOverride":
		if c.requestOverride == nil {
			c.requestOverride = vtl.NewMap()
			c.requestOverride.Set("header", vtl.NewMap())
			c.requestOverride.Set("querystring", vtl.NewMap())
			c.requestOverride.Set("path", vtl.NewMap())
		}
		return c.requestOverride, true
	case "responseOverride":
		if c.responseOverride == nil {
			c.responseOverride = vtl.NewMap()
			c.responseOverride.Set("status", nil)
			c.responseOverride.Set("header", vtl.NewMap())
		}
		return c.responseOverride, true
	}
	return ctxLookup(c.rc, name)
}

func (c *contextObj) Call(string, []any) (any, error) { return nil, nil }

func ctxLookup(rc *reqctx.Context, name string) (any, bool) {
	if contextGroups[name] {
		return ctxGroup{rc: rc, prefix: name}, true
	}
	if f, ok := contextVars[name]; ok {
		return f(rc), true
	}
	if f, err := compileContextVar(name); err == nil {
		return f(rc), true
	}
	return nil, false
}

type ctxGroup struct {
	rc     *reqctx.Context
	prefix string
}

func (g ctxGroup) Property(name string) (any, bool) { return ctxLookup(g.rc, g.prefix+"."+name) }

func (g ctxGroup) Call(string, []any) (any, error) { return nil, nil }
