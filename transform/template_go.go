package transform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/transform/jsonpath"
	"github.com/portico-gw/portico/transform/vtl"
)

// TemplateData is the data (dot) of a Go template. Its functions — body,
// json, path, params, the $util equivalents and the set* overrides — are
// listed in the package documentation.
type TemplateData struct {
	// Body is the payload, as $input.body: "{}" when empty.
	Body string
	// Path, Query and Header are the method request's parameters.
	Path   map[string]string
	Query  url.Values
	Header http.Header
	// Context is the request context: {{.Context.RequestID}},
	// {{.Context.Identity.SourceIP}}, {{.Context.Authorizer.Claims.sub}}.
	// Never nil.
	Context *reqctx.Context
	// StageVariables are the stage variables.
	StageVariables map[string]string
	// Status is the integration's status code in response templates, 0 in
	// request templates.
	Status int
}

// goTemplate is a parsed Go template and a pool of clones whose functions
// are bound to one execution at a time.
type goTemplate struct {
	base *template.Template
	pool sync.Pool // *goInstance
}

type goInstance struct {
	tpl     *template.Template
	run     *goRun
	regexps map[string]*regexp.Regexp // compiled by regexMatch and regexReplaceAll
}

// goRun is the state of one execution.
type goRun struct {
	t     *Template
	in    *Input
	ctx   context.Context
	steps int
	ov    Overrides
	out   []byte
}

const (
	tickFunc  = "porticoTick"
	printFunc = "porticoPrint"
)

// errGoTemplate marks failures of the template machinery itself.
var errGoTemplate = errors.New("transform: go template")

func (r *goRun) tick() error {
	r.steps++
	if r.steps > r.t.lim.MaxSteps {
		return vtl.ErrStepLimit
	}
	if r.steps&255 == 0 {
		return r.ctx.Err()
	}
	return nil
}

// goFuncs returns the functions of a template instance; they read the
// execution state through inst.
func goFuncs(inst *goInstance) template.FuncMap {
	run := func() *goRun { return inst.run }
	str := func(name string, f func(string) string) func(string) (string, error) {
		return func(s string) (string, error) {
			if err := run().tick(); err != nil {
				return "", err
			}
			return f(s), nil
		}
	}
	strErr := func(f func(string) (string, error)) func(string) (string, error) {
		return func(s string) (string, error) {
			if err := run().tick(); err != nil {
				return "", err
			}
			return f(s)
		}
	}
	set := func(which string) func(k, v string) (string, error) {
		return func(k, v string) (string, error) {
			r := run()
			if err := r.tick(); err != nil {
				return "", err
			}
			m := &r.ov.Header
			switch which {
			case "query":
				m = &r.ov.Query
			case "path":
				m = &r.ov.Path
			}
			if *m == nil {
				*m = map[string]string{}
			}
			(*m)[k] = v
			return "", nil
		}
	}
	fm := template.FuncMap{
		tickFunc: func() (string, error) { return "", run().tick() },
		printFunc: func(v any) (string, error) {
			r := run()
			if err := r.tick(); err != nil {
				return "", err
			}
			return goString(v), nil
		},
		"body": func() (string, error) {
			r := run()
			if err := r.tick(); err != nil {
				return "", err
			}
			return r.in.bodyString(), nil
		},
		"json": func(expr string) (string, error) {
			r := run()
			if err := r.tick(); err != nil {
				return "", err
			}
			return r.t.jsonOf(r.in, expr)
		},
		"path": func(expr string) (any, error) {
			r := run()
			if err := r.tick(); err != nil {
				return nil, err
			}
			return r.t.pathOf(r.in, expr)
		},
		"params": func(name ...string) (any, error) {
			r := run()
			if err := r.tick(); err != nil {
				return nil, err
			}
			switch len(name) {
			case 0:
				return r.in.allParams(), nil
			case 1:
				return r.in.param(name[0]), nil
			}
			return nil, errors.New("params takes at most one name")
		},
		"escapeJavaScript": func(v any) (string, error) {
			if err := run().tick(); err != nil {
				return "", err
			}
			if v == nil {
				return "null", nil
			}
			return EscapeJavaScript(goString(v)), nil
		},
		"parseJson": func(s string) (any, error) {
			if err := run().tick(); err != nil {
				return nil, err
			}
			return ParseJSON(s)
		},
		"toJson": func(v any) (string, error) {
			if err := run().tick(); err != nil {
				return "", err
			}
			return string(jsonpath.AppendJSON(nil, v)), nil
		},
		"urlEncode":    str("urlEncode", URLEncode),
		"urlDecode":    strErr(URLDecode),
		"base64Encode": str("base64Encode", Base64Encode),
		"base64Decode": strErr(Base64Decode),
		"setStatus": func(code int) (string, error) {
			r := run()
			if err := r.tick(); err != nil {
				return "", err
			}
			if code < 100 || code > 599 {
				return "", fmt.Errorf("setStatus %d: outside 100-599", code)
			}
			r.ov.Status = code
			return "", nil
		},
		"setHeader": set("header"),
		"setQuery":  set("query"),
		"setPath":   set("path"),
	}
	regexps := func(expr string) (*regexp.Regexp, error) {
		if re, ok := inst.regexps[expr]; ok {
			return re, nil
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		if inst.regexps == nil {
			inst.regexps = map[string]*regexp.Regexp{}
		}
		if len(inst.regexps) < 64 {
			inst.regexps[expr] = re
		}
		return re, nil
	}
	fm["regexMatch"] = func(s, expr string) (bool, error) {
		if err := run().tick(); err != nil {
			return false, err
		}
		re, err := regexps(expr)
		if err != nil {
			return false, err
		}
		return re.MatchString(s), nil
	}
	fm["regexReplaceAll"] = func(s, expr, repl string) (string, error) {
		r := run()
		if err := r.tick(); err != nil {
			return "", err
		}
		re, err := regexps(expr)
		if err != nil {
			return "", err
		}
		out := re.ReplaceAllString(s, repl)
		if len(out) > r.t.lim.MaxOutputBytes {
			return "", vtl.ErrOutputLimit
		}
		return out, nil
	}
	for name, f := range goHelpers {
		fm[name] = f
	}
	return fm
}

// goHelpers are the string, number and collection helpers of Go templates,
// the counterparts of the Java methods VTL templates call. They hold no
// state, so they are shared by every instance.
var goHelpers = template.FuncMap{
	"keys": func(m any) []string {
		switch m := m.(type) {
		case map[string]any:
			return sortedKeys(m)
		case map[string]string:
			return sortedKeys(m)
		}
		return nil
	},
	"split":     func(s, sep string) []string { return strings.Split(s, sep) },
	"join":      func(items []string, sep string) string { return strings.Join(items, sep) },
	"lower":     strings.ToLower,
	"upper":     strings.ToUpper,
	"trim":      strings.TrimSpace,
	"replace":   func(s, old, new string) string { return strings.ReplaceAll(s, old, new) },
	"hasPrefix": strings.HasPrefix,
	"hasSuffix": strings.HasSuffix,
	"contains":  strings.Contains,
	"indexOf":   strings.Index,
	"parseForm": func(s string) (map[string]any, error) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(v))
		for k, vs := range v {
			m[k] = vs[0]
		}
		return m, nil
	},
	"int":   goInt,
	"float": goFloat,
	"add":   func(a, b any) (any, error) { return goArith("+", a, b) },
	"sub":   func(a, b any) (any, error) { return goArith("-", a, b) },
	"mul":   func(a, b any) (any, error) { return goArith("*", a, b) },
	"div":   func(a, b any) (any, error) { return goArith("/", a, b) },
	"mod":   func(a, b any) (any, error) { return goArith("%", a, b) },
	"default": func(def, v any) any {
		if v == nil || v == "" {
			return def
		}
		return v
	},
}

func goInt(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case float64:
		return int(v), nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return int(i), nil
		}
		f, err := v.Float64()
		return int(f), err
	case string:
		return strconv.Atoi(strings.TrimSpace(v))
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("int: cannot convert %T", v)
}

func goFloat(v any) (float64, error) {
	switch v := v.(type) {
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case float64:
		return v, nil
	case json.Number:
		return v.Float64()
	case string:
		return strconv.ParseFloat(strings.TrimSpace(v), 64)
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("float: cannot convert %T", v)
}

// goArith computes with integers when both operands are integral, with
// floats otherwise.
func goArith(op string, a, b any) (any, error) {
	ai, errA := goIntStrict(a)
	bi, errB := goIntStrict(b)
	if errA == nil && errB == nil {
		switch op {
		case "+":
			return ai + bi, nil
		case "-":
			return ai - bi, nil
		case "*":
			return ai * bi, nil
		case "/", "%":
			if bi == 0 {
				return nil, errors.New("division by zero")
			}
			if op == "/" {
				return ai / bi, nil
			}
			return ai % bi, nil
		}
	}
	af, err := goFloat(a)
	if err != nil {
		return nil, err
	}
	bf, err := goFloat(b)
	if err != nil {
		return nil, err
	}
	switch op {
	case "+":
		return af + bf, nil
	case "-":
		return af - bf, nil
	case "*":
		return af * bf, nil
	case "/":
		if bf == 0 {
			return nil, errors.New("division by zero")
		}
		return af / bf, nil
	}
	return nil, fmt.Errorf("%s needs integers", op)
}

func goIntStrict(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case json.Number:
		i, err := v.Int64()
		return int(i), err
	}
	return 0, errors.New("not an integer")
}

// goString renders a value printed by a Go template: nil as "", strings as
// they are, numbers as written, collections as JSON.
func goString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int:
		return strconv.Itoa(v)
	case map[string]any, []any, map[string]string, []string:
		return string(jsonpath.AppendJSON(nil, v))
	case fmt.Stringer:
		return v.String()
	}
	return vtl.String(v)
}

func (t *Template) parseGo(src string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: parser panicked: %v", errGoTemplate, r)
		}
	}()
	placeholder := &goInstance{}
	base, err := template.New("template").Funcs(goFuncs(placeholder)).Parse(src)
	if err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	if err := checkGoRecursion(base); err != nil {
		return err
	}
	for _, tpl := range base.Templates() {
		if tpl.Tree == nil || tpl.Root == nil {
			continue
		}
		if err := t.checkGoPaths(tpl.Tree, tpl.Root); err != nil {
			return err
		}
		instrument(tpl.Root)
		tpl.Root.Nodes = append([]parse.Node{tickNode(tpl.Root.Position())}, tpl.Root.Nodes...)
	}
	t.gotpl = &goTemplate{base: base}
	return nil
}

// checkGoPaths compiles the JSONPath literals of json and path calls.
func (t *Template) checkGoPaths(tree *parse.Tree, n parse.Node) error {
	var err error
	walkGo(n, func(n parse.Node) {
		cmd, ok := n.(*parse.CommandNode)
		if !ok || err != nil || len(cmd.Args) < 2 {
			return
		}
		id, ok := cmd.Args[0].(*parse.IdentifierNode)
		if !ok || (id.Ident != "json" && id.Ident != "path") {
			return
		}
		s, ok := cmd.Args[1].(*parse.StringNode)
		if !ok {
			return
		}
		if e := t.addPath(s.Text); e != nil {
			loc, _ := tree.ErrorContext(cmd)
			err = fmt.Errorf("transform: template: %s: %s %q: %w", loc, id.Ident, s.Text, e)
		}
	})
	return err
}

// walkGo calls f on n and every node below it.
func walkGo(n parse.Node, f func(parse.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkGo(c, f)
		}
	case *parse.ActionNode:
		walkGo(n.Pipe, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkGo(c, f)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkGo(a, f)
		}
	case *parse.IfNode:
		walkGo(n.Pipe, f)
		walkGo(n.List, f)
		walkGo(n.ElseList, f)
	case *parse.RangeNode:
		walkGo(n.Pipe, f)
		walkGo(n.List, f)
		walkGo(n.ElseList, f)
	case *parse.WithNode:
		walkGo(n.Pipe, f)
		walkGo(n.List, f)
		walkGo(n.ElseList, f)
	case *parse.TemplateNode:
		walkGo(n.Pipe, f)
	}
}

func tickNode(p parse.Pos) *parse.ActionNode {
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: p, Pipe: &parse.PipeNode{
		NodeType: parse.NodePipe, Pos: p,
		Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: p, Args: []parse.Node{
			&parse.IdentifierNode{NodeType: parse.NodeIdentifier, Pos: p, Ident: tickFunc},
		}}},
	}}
}

// instrument makes every printing action go through porticoPrint (nil
// prints as "", collections as JSON) and every range iteration count a
// step, so that loops are bounded by the step limit.
func instrument(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			instrument(c)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) == 0 {
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{
				&parse.IdentifierNode{NodeType: parse.NodeIdentifier, Pos: n.Pos, Ident: printFunc},
			}})
		}
	case *parse.IfNode:
		instrument(n.List)
		instrument(n.ElseList)
	case *parse.WithNode:
		instrument(n.List)
		instrument(n.ElseList)
	case *parse.RangeNode:
		instrument(n.List)
		instrument(n.ElseList)
		if n.List != nil {
			n.List.Nodes = append([]parse.Node{tickNode(n.Position())}, n.List.Nodes...)
		}
	}
}

// checkGoRecursion rejects templates that invoke themselves, directly or
// not: without a bound on their depth they could exhaust the stack.
func checkGoRecursion(base *template.Template) error {
	calls := map[string][]string{}
	for _, tpl := range base.Templates() {
		if tpl.Tree == nil {
			continue
		}
		walkGo(tpl.Root, func(n parse.Node) {
			if tn, ok := n.(*parse.TemplateNode); ok {
				calls[tpl.Name()] = append(calls[tpl.Name()], tn.Name)
			}
		})
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case visiting:
			return fmt.Errorf("transform: template: %q invokes itself; recursive templates are not supported", name)
		case done:
			return nil
		}
		state[name] = visiting
		for _, c := range calls[name] {
			if err := visit(c); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for name := range calls {
		if err := visit(name); err != nil {
			return err
		}
	}
	return nil
}

// limitWriter collects a Go template's output up to the limit.
type limitWriter struct{ run *goRun }

func (w limitWriter) Write(p []byte) (int, error) {
	r := w.run
	if len(r.out)+len(p) > r.t.lim.MaxOutputBytes {
		return 0, vtl.ErrOutputLimit
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	r.out = append(r.out, p...)
	return len(p), nil
}

func (t *Template) instance() (*goInstance, error) {
	if inst, ok := t.gotpl.pool.Get().(*goInstance); ok {
		return inst, nil
	}
	inst := &goInstance{}
	c, err := t.gotpl.base.Clone()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errGoTemplate, err)
	}
	c.Funcs(goFuncs(inst))
	inst.tpl = c
	return inst, nil
}

func (t *Template) renderGo(ctx context.Context, in *Input) (res Result, err error) {
	inst, err := t.instance()
	if err != nil {
		return Result{}, err
	}
	run := &goRun{t: t, in: in, ctx: ctx}
	inst.run = run
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: execution panicked: %v", errGoTemplate, r)
			return // a panicking instance is not reused
		}
		inst.run = nil
		t.gotpl.pool.Put(inst)
	}()
	// The template gets its own copy of the request context, so that
	// methods it may call cannot change the gateway's.
	rc := *in.rc()
	data := &TemplateData{
		Body:           in.bodyString(),
		Path:           in.PathParams,
		Query:          in.Query,
		Header:         in.Header,
		Context:        &rc,
		StageVariables: in.stageVars(),
		Status:         in.Status,
	}
	if err := inst.tpl.Execute(limitWriter{run}, data); err != nil {
		return Result{}, fmt.Errorf("transform: %w", err)
	}
	return Result{Body: run.out, Overrides: run.ov}, nil
}
