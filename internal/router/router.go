package router

import (
	"fmt"
	"slices"
	"strings"
)

// MaxParams is the most path parameters one template may declare.
const MaxParams = 16

// mapThreshold is the number of literal children from which a node looks
// them up in a map instead of scanning a slice.
const mapThreshold = 8

// Result is the outcome kind of a lookup.
type Result uint8

// The lookup results.
const (
	NotFound Result = iota
	Found
	MethodNotAllowed
)

// Params receives path parameters without allocating. Values are substrings
// of the path passed to Lookup, still percent-escaped.
type Params struct {
	N      int
	Keys   [MaxParams]string
	Values [MaxParams]string
}

// Get returns the value of the parameter name.
func (p *Params) Get(name string) (string, bool) {
	for i := 0; i < p.N; i++ {
		if p.Keys[i] == name {
			return p.Values[i], true
		}
	}
	return "", false
}

// Reset empties p.
func (p *Params) Reset() { p.N = 0 }

// Match is the outcome of a lookup.
type Match struct {
	Result Result
	// Value is the value given to Add (Found only).
	Value int
	// Method is the declared method that matched, "ANY" if ANY did
	// (Found only).
	Method string
	// Template is the normalised resource template that matched (Found and
	// MethodNotAllowed).
	Template string
	// Allow is the Allow header value for MethodNotAllowed: the resource's
	// methods, sorted, separated by ", ".
	Allow string
}

// TemplateError reports a bad route given to [Builder.Add].
type TemplateError struct{ Method, Template, Reason string }

func (e *TemplateError) Error() string {
	return fmt.Sprintf("router: %s %s: %s", e.Method, e.Template, e.Reason)
}

type segKind uint8

const (
	segLiteral segKind = iota
	segParam
	segGreedy
)

type segment struct {
	kind segKind
	text string // literal text or parameter name
}

type route struct {
	method   string
	template string
	segs     []segment
	value    int
}

// Builder collects routes; the zero value is ready to use. Not safe for
// concurrent use.
type Builder struct {
	routes []route
}

func methodOK(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func paramNameOK(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.,:-", c) >= 0) {
			return false
		}
	}
	return true
}

func literalOK(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '{' || c == '}' || c == '?' || c == '#' {
			return c, false
		}
	}
	return 0, true
}

// parse splits and checks a template.
func parse(template string) ([]segment, string, error) {
	if !strings.HasPrefix(template, "/") {
		return nil, "", fmt.Errorf("must start with %q", "/")
	}
	t := template
	if len(t) > 1 {
		t = strings.TrimSuffix(t, "/")
	}
	if t == "/" {
		return nil, "/", nil
	}
	parts := strings.Split(t[1:], "/")
	segs := make([]segment, 0, len(parts))
	seen := map[string]bool{}
	params := 0
	for i, p := range parts {
		if p == "" {
			return nil, "", fmt.Errorf("empty path segment")
		}
		if strings.HasPrefix(p, "{") || strings.HasSuffix(p, "}") || strings.ContainsAny(p, "{}") {
			if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") || strings.Count(p, "{") != 1 || strings.Count(p, "}") != 1 {
				if strings.Contains(p, "{") && !strings.Contains(p, "}") {
					return nil, "", fmt.Errorf("unclosed %q in segment %q", "{", p)
				}
				return nil, "", fmt.Errorf("a parameter must be a whole segment: %q", p)
			}
			name := p[1 : len(p)-1]
			kind := segParam
			if strings.HasSuffix(name, "+") {
				kind = segGreedy
				name = name[:len(name)-1]
				if i != len(parts)-1 {
					return nil, "", fmt.Errorf("greedy parameter {%s+} must be the last segment", name)
				}
			}
			if !paramNameOK(name) {
				return nil, "", fmt.Errorf("bad parameter name %q: want characters of A-Z a-z 0-9 _ . , : -", name)
			}
			if seen[name] {
				return nil, "", fmt.Errorf("duplicate parameter name %q", name)
			}
			seen[name] = true
			params++
			if params > MaxParams {
				return nil, "", fmt.Errorf("more than %d parameters", MaxParams)
			}
			segs = append(segs, segment{kind: kind, text: name})
			continue
		}
		if c, ok := literalOK(p); !ok {
			return nil, "", fmt.Errorf("character %q not allowed in segment %q", c, p)
		}
		segs = append(segs, segment{kind: segLiteral, text: p})
	}
	return segs, t, nil
}

// Add registers value for method and template. method is an upper-case
// HTTP token or "ANY"; template is a path template such as "/",
// "/pets/{id}" or "/files/{proxy+}". It returns a *[TemplateError] for bad
// input.
func (b *Builder) Add(method, template string, value int) error {
	fail := func(reason string) error { return &TemplateError{Method: method, Template: template, Reason: reason} }
	if !methodOK(method) {
		return fail("method must be ANY or an upper-case token of A-Z 0-9 _ -")
	}
	segs, norm, err := parse(template)
	if err != nil {
		return fail(err.Error())
	}
	for _, r := range b.routes {
		if r.method == method && sameShape(r.segs, segs) {
			return fail(fmt.Sprintf("duplicate of route %s %s", r.method, r.template))
		}
		if n := conflictingParam(r.segs, segs); n != "" {
			return fail(fmt.Sprintf("conflicting parameter names: %s (route %s %s)", n, r.method, r.template))
		}
	}
	b.routes = append(b.routes, route{method: method, template: norm, segs: segs, value: value})
	return nil
}

func sameShape(a, b []segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].kind != b[i].kind || a[i].kind == segLiteral && a[i].text != b[i].text {
			return false
		}
	}
	return true
}

// conflictingParam reports "{a} vs {b}" when two templates have
// differently named non-greedy parameters at the same position under the
// same parent.
func conflictingParam(a, b []segment) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x.kind != y.kind {
			return ""
		}
		if x.kind == segLiteral {
			if x.text != y.text {
				return ""
			}
			continue
		}
		if x.kind == segParam && x.text != y.text {
			return "{" + x.text + "} vs {" + y.text + "}"
		}
		if x.kind == segGreedy {
			return ""
		}
	}
	return ""
}

type node struct {
	literals   []*node
	literalMap map[string]*node
	text       string
	param      *node
	paramName  string
	greedy     *node
	greedyName string

	methods  map[string]int // method → value
	allow    string
	template string
}

func (n *node) literal(s string) *node {
	if n.literalMap != nil {
		return n.literalMap[s]
	}
	for _, c := range n.literals {
		if c.text == s {
			return c
		}
	}
	return nil
}

// Router matches requests to routes. It is immutable and safe for
// concurrent use.
type Router struct {
	root *node
}

// Build compiles the routes into a Router.
func (b *Builder) Build() (*Router, error) {
	root := &node{}
	for _, r := range b.routes {
		n := root
		for _, s := range r.segs {
			switch s.kind {
			case segLiteral:
				c := n.literal(s.text)
				if c == nil {
					c = &node{text: s.text}
					n.literals = append(n.literals, c)
				}
				n = c
			case segParam:
				if n.param == nil {
					n.param = &node{}
					n.paramName = s.text
				}
				n = n.param
			case segGreedy:
				if n.greedy == nil {
					n.greedy = &node{}
					n.greedyName = s.text
				}
				n = n.greedy
			}
		}
		if n.methods == nil {
			n.methods = map[string]int{}
		}
		n.methods[r.method] = r.value
		n.template = r.template
	}
	finish(root)
	return &Router{root: root}, nil
}

func finish(n *node) {
	if len(n.literals) >= mapThreshold {
		n.literalMap = make(map[string]*node, len(n.literals))
		for _, c := range n.literals {
			n.literalMap[c.text] = c
		}
	}
	if len(n.methods) > 0 {
		ms := make([]string, 0, len(n.methods))
		for m := range n.methods {
			ms = append(ms, m)
		}
		slices.Sort(ms)
		n.allow = strings.Join(ms, ", ")
	}
	for _, c := range n.literals {
		finish(c)
	}
	if n.param != nil {
		finish(n.param)
	}
	if n.greedy != nil {
		finish(n.greedy)
	}
}

// Lookup matches method and an escaped request path (r.URL.EscapedPath()).
func (r *Router) Lookup(method, path string, p *Params) Match {
	p.N = 0
	if path == "" {
		path = "/"
	}
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	if path[0] != '/' {
		return Match{}
	}
	var fallback *node // first resource matching the path, in precedence order
	n, m, v := r.match(r.root, path[1:], path == "/", method, p, &fallback)
	if n != nil {
		return Match{Result: Found, Value: v, Method: m, Template: n.template}
	}
	p.N = 0
	if fallback != nil {
		return Match{Result: MethodNotAllowed, Template: fallback.template, Allow: fallback.allow}
	}
	return Match{}
}

// accept reports whether n serves method and which declared method does,
// recording n in *fallback for a 405 if it serves the path at all.
func accept(n *node, method string, fallback **node) (string, int, bool) {
	if len(n.methods) == 0 {
		return "", 0, false
	}
	if v, ok := n.methods[method]; ok {
		return method, v, true
	}
	if v, ok := n.methods["ANY"]; ok {
		return "ANY", v, true
	}
	if method == "HEAD" {
		if v, ok := n.methods["GET"]; ok {
			return "GET", v, true
		}
	}
	if *fallback == nil {
		*fallback = n
	}
	return "", 0, false
}

// match matches rest (the path below n, without its leading slash) at n;
// end is true when no segments remain. It fills p with the parameters of
// the match it returns.
func (r *Router) match(n *node, rest string, end bool, method string, p *Params, fallback **node) (*node, string, int) {
	if end {
		if m, v, ok := accept(n, method, fallback); ok {
			return n, m, v
		}
		return nil, "", 0
	}
	seg, after, more := rest, "", false
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		seg, after, more = rest[:i], rest[i+1:], true
	}
	if c := n.literal(seg); c != nil {
		if f, m, v := r.match(c, after, !more, method, p, fallback); f != nil {
			return f, m, v
		}
	}
	if n.param != nil && seg != "" && p.N < MaxParams {
		k := p.N
		p.Keys[k], p.Values[k] = n.paramName, seg
		p.N++
		if f, m, v := r.match(n.param, after, !more, method, p, fallback); f != nil {
			return f, m, v
		}
		p.N = k
	}
	if n.greedy != nil && rest != "" && p.N < MaxParams {
		if m, v, ok := accept(n.greedy, method, fallback); ok {
			p.Keys[p.N], p.Values[p.N] = n.greedyName, rest
			p.N++
			return n.greedy, m, v
		}
	}
	return nil, "", 0
}
