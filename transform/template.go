package transform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/transform/jsonpath"
	"github.com/portico-gw/portico/transform/vtl"
)

// Language is a mapping-template language.
type Language string

// The template languages.
const (
	// VTL is the model gateway's Velocity Template Language subset (see
	// package vtl for what is supported). It is the default, so that
	// templates exported from the model gateway run unchanged.
	VTL Language = "vtl"
	// GoTemplate is Go's text/template with the data model of
	// [TemplateData] and the functions listed in the package documentation.
	GoTemplate Language = "go"
)

// Limits bound templates and the bodies mappings buffer. Zero fields take
// the defaults.
type Limits struct {
	// MaxTemplateBytes bounds the source of one template (default 300 KB,
	// the model gateway's limit); a longer one is a configuration error.
	MaxTemplateBytes int
	// MaxOutputBytes bounds what one template execution writes (default
	// 10 MB).
	MaxOutputBytes int
	// MaxBodyBytes bounds the request and response bodies a mapping
	// buffers (default 10 MB). A larger integration response is answered
	// with 502 INTEGRATION_FAILURE.
	MaxBodyBytes int64
	// Timeout bounds one template execution (default 1 s).
	Timeout time.Duration
	// MaxSteps bounds the evaluation steps of one template execution
	// (default 5,000,000).
	MaxSteps int
	// MaxLoopIterations bounds one #foreach or range (default 1000, the
	// model gateway's limit).
	MaxLoopIterations int
}

// Default limits.
const (
	DefaultMaxTemplateBytes  = 300 << 10
	DefaultMaxOutputBytes    = 10 << 20
	DefaultMaxBodyBytes      = 10 << 20
	DefaultTemplateTimeout   = time.Second
	DefaultMaxSteps          = 5_000_000
	DefaultMaxLoopIterations = 1000
)

func (l Limits) withDefaults() Limits {
	if l.MaxTemplateBytes <= 0 {
		l.MaxTemplateBytes = DefaultMaxTemplateBytes
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTemplateTimeout
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = DefaultMaxSteps
	}
	if l.MaxLoopIterations <= 0 {
		l.MaxLoopIterations = DefaultMaxLoopIterations
	}
	return l
}

// Input is what a template sees: the body it transforms ($input.body) and
// the method request it came with ($input.params(), $context,
// $stageVariables). An Input is used by one template execution at a time.
type Input struct {
	// Body is the payload: the method request's body in request templates,
	// the integration's response body in response templates. Binary
	// payloads are passed base64-encoded, as in the model gateway.
	Body []byte
	// PathParams, Query and Header are the method request's parameters.
	PathParams map[string]string
	Query      url.Values
	Header     http.Header
	// Context is the request context ($context); nil reads as empty.
	Context *reqctx.Context
	// StageVariables are $stageVariables; nil means Context.StageVariables.
	StageVariables map[string]string
	// Status is the integration's status code in response templates, 0 in
	// request templates.
	Status int

	parsed bool
	doc    any
	docErr error
	params map[string]any
}

// ErrBodyNotJSON is the cause of a template or parameter-mapping failure on
// a body that is not JSON while the template reads it as JSON ($input.json,
// $input.path, method.request.body.NAME…).
var ErrBodyNotJSON = errors.New("transform: body is not valid JSON")

// document returns the body parsed as JSON; an empty body reads as {}.
func (in *Input) document() (any, error) {
	if !in.parsed {
		in.parsed = true
		if len(in.Body) == 0 {
			in.doc = map[string]any{}
		} else if in.doc, in.docErr = jsonpath.Decode(in.Body); in.docErr != nil {
			in.docErr = fmt.Errorf("%w: %v", ErrBodyNotJSON, in.docErr)
		}
	}
	return in.doc, in.docErr
}

func (in *Input) rc() *reqctx.Context {
	if in.Context == nil {
		return &reqctx.Context{}
	}
	return in.Context
}

func (in *Input) stageVars() map[string]string {
	if in.StageVariables != nil {
		return in.StageVariables
	}
	if in.Context != nil {
		return in.Context.StageVariables
	}
	return nil
}

// bodyString is $input.body: an empty body reads as "{}", as in the model
// gateway.
func (in *Input) bodyString() string {
	if len(in.Body) == 0 {
		return "{}"
	}
	return string(in.Body)
}

// param is $input.params(name): the path parameter, else the query string
// parameter, else the header of that name; "" if none.
func (in *Input) param(name string) string {
	if v, ok := in.PathParams[name]; ok {
		return v
	}
	if vs, ok := in.Query[name]; ok && len(vs) > 0 {
		return vs[0]
	}
	return in.Header.Get(name)
}

// allParams is $input.params(): {path: {...}, querystring: {...}, header:
// {...}}, with the first value of repeated parameters.
func (in *Input) allParams() map[string]any {
	if in.params != nil {
		return in.params
	}
	path := make(map[string]any, len(in.PathParams))
	for k, v := range in.PathParams {
		path[k] = v
	}
	query := make(map[string]any, len(in.Query))
	for k, vs := range in.Query {
		if len(vs) > 0 {
			query[k] = vs[0]
		}
	}
	header := make(map[string]any, len(in.Header))
	for k, vs := range in.Header {
		if len(vs) > 0 {
			header[k] = vs[0]
		}
	}
	in.params = map[string]any{"path": path, "querystring": query, "header": header}
	return in.params
}

// Overrides are what a template asked to change beyond the body: in a
// request template the integration request's headers, query string and
// path parameters ($context.requestOverride), in a response template the
// method response's status and headers ($context.responseOverride).
type Overrides struct {
	// Status is the status code to send; 0 keeps it.
	Status int
	// Header, Query and Path map names to the values to set.
	Header, Query, Path map[string]string
}

// Result is the outcome of a template execution.
type Result struct {
	Body      []byte
	Overrides Overrides
}

// Template is a compiled mapping template, in either language. It is
// immutable and safe for concurrent use.
type Template struct {
	lang  Language
	vtl   *vtl.Template
	gotpl *goTemplate
	paths map[string]*jsonpath.Path // JSONPath literals, compiled at parse
	lim   Limits
}

// ParseTemplate compiles a template of the given language ("" means VTL)
// under lim. Syntax errors, constructs outside the supported subset,
// malformed JSONPath literals and a template over lim.MaxTemplateBytes are
// errors naming the line.
func ParseTemplate(lang Language, src string, lim Limits) (*Template, error) {
	lim = lim.withDefaults()
	if len(src) > lim.MaxTemplateBytes {
		return nil, fmt.Errorf("transform: template of %d bytes exceeds the limit of %d", len(src), lim.MaxTemplateBytes)
	}
	t := &Template{lang: lang, lim: lim, paths: map[string]*jsonpath.Path{}}
	switch lang {
	case VTL, "":
		t.lang = VTL
		if err := t.parseVTL(src); err != nil {
			return nil, err
		}
	case GoTemplate:
		if err := t.parseGo(src); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("transform: unknown template language %q (want %q or %q)", lang, VTL, GoTemplate)
	}
	return t, nil
}

// Language returns the template's language.
func (t *Template) Language() Language { return t.lang }

// path returns the compiled JSONPath for expr.
func (t *Template) path(expr string) (*jsonpath.Path, error) {
	if p, ok := t.paths[expr]; ok {
		return p, nil
	}
	return jsonpath.Parse(expr)
}

// jsonOf is $input.json(expr): the JSON text of what expr selects; "null"
// when a singular query selects nothing.
func (t *Template) jsonOf(in *Input, expr string) (string, error) {
	v, err := t.pathOf(in, expr)
	if err != nil {
		return "", err
	}
	if expr == "$" && len(in.Body) > 0 {
		if _, err := in.document(); err == nil {
			return string(in.Body), nil // the body as sent, keys in their order
		}
	}
	return string(jsonpath.AppendJSON(nil, v)), nil
}

// pathOf is $input.path(expr).
func (t *Template) pathOf(in *Input, expr string) (any, error) {
	p, err := t.path(expr)
	if err != nil {
		return nil, err
	}
	doc, err := in.document()
	if err != nil {
		if expr == "$" {
			// $input.path('$') of a body that is not JSON is the body as a
			// string, which templates split to parse form bodies.
			return string(in.Body), nil
		}
		return nil, err
	}
	v, _ := p.Value(doc)
	return v, nil
}

// Render executes the template on in. Errors: ErrBodyNotJSON (wrapped) when
// the template reads a non-JSON body as JSON; an execution failure, a limit
// reached or ctx ending otherwise. Render never panics.
func (t *Template) Render(ctx context.Context, in *Input) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, t.lim.Timeout)
	defer cancel()
	if t.lang == GoTemplate {
		return t.renderGo(ctx, in)
	}
	return t.renderVTL(ctx, in)
}

// overridesFrom reads the requestOverride/responseOverride map a VTL
// template filled.
func overridesFrom(m *vtl.Map) (Overrides, error) {
	var o Overrides
	if m == nil {
		return o, nil
	}
	if s, ok := m.Get("status"); ok && s != nil {
		n, err := statusValue(s)
		if err != nil {
			return o, err
		}
		o.Status = n
	}
	conv := func(key string) map[string]string {
		v, _ := m.Get(key)
		sub, _ := v.(*vtl.Map)
		if sub == nil || sub.Len() == 0 {
			return nil
		}
		out := make(map[string]string, sub.Len())
		for _, k := range sub.Keys() {
			x, _ := sub.Get(k)
			out[k] = vtl.String(x)
		}
		return out
	}
	o.Header, o.Query, o.Path = conv("header"), conv("querystring"), conv("path")
	return o, nil
}

func statusValue(v any) (int, error) {
	var n int
	switch v := v.(type) {
	case int:
		n = v
	case int64:
		n = int(v)
	default:
		s := vtl.String(v)
		if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
			return 0, fmt.Errorf("status override %q is not an integer", s)
		}
	}
	if n < 100 || n > 599 {
		return 0, fmt.Errorf("status override %d is outside 100-599", n)
	}
	return n, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
