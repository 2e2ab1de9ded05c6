package router

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxParams is the most path parameters one template may declare, the
// greedy parameter included.
const MaxParams = 16

// mapThreshold is the number of literal children from which a node finds
// them in a map instead of scanning a slice.
const mapThreshold = 8

// methodAny is the method that serves every request method a resource does
// not declare.
const methodAny = "ANY"

// Result is the kind of outcome of [Router.Lookup].
type Result uint8

// The results of [Router.Lookup].
const (
	// NotFound means no resource matches the path. It is the zero Result.
	NotFound Result = iota
	// Found means a route matches the path and method.
	Found
	// MethodNotAllowed means a resource matches the path but none of the
	// resources matching it serves the method.
	MethodNotAllowed
)

// String returns "NotFound", "Found" or "MethodNotAllowed".
func (r Result) String() string {
	switch r {
	case NotFound:
		return "NotFound"
	case Found:
		return "Found"
	case MethodNotAllowed:
		return "MethodNotAllowed"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// Params receives path parameters without allocating. The zero value is
// empty and ready to use; [Router.Lookup] resets it before filling it.
type Params struct {
	// N is the number of parameters set: Keys[:N] and Values[:N].
	N int
	// Keys are the parameter names, in template order, without braces or
	// "+" ("id", "proxy").
	Keys [MaxParams]string
	// Values are substrings of the path given to [Router.Lookup], still
	// percent-escaped; the caller unescapes them. A parameter's value is
	// one non-empty segment; a greedy parameter's value is the rest of the
	// path without its leading slash ("a/b/c"), never empty.
	Values [MaxParams]string
}

// Get returns the value of the parameter name and whether it is set.
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

// Match is the outcome of [Router.Lookup]. The zero Match is a NotFound.
type Match struct {
	// Result says whether the route was found.
	Result Result
	// Value is the value given to [Builder.Add] for the route that matched
	// (Found only).
	Value int
	// Method is the declared method of the route that matched: the request
	// method, "GET" when GET serves a HEAD request, or "ANY" (Found only).
	Method string
	// Template is the normalised template of the resource that matched,
	// such as "/pets/{id}" (Found and MethodNotAllowed).
	Template string
	// Allow is the Allow header value for MethodNotAllowed: the methods
	// declared on the resource, sorted and separated by ", ", such as
	// "DELETE, GET".
	Allow string
}

// TemplateError reports a route refused by [Builder.Add]. Its text is
// `router: METHOD TEMPLATE: REASON`.
type TemplateError struct {
	// Method and Template are the arguments given to [Builder.Add].
	Method, Template string
	// Reason says what is wrong, such as `unclosed "{"`.
	Reason string
}

// Error returns "router: " followed by the method, template and reason.
func (e *TemplateError) Error() string {
	return "router: " + e.Method + " " + e.Template + ": " + e.Reason
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

func (s segment) String() string {
	switch s.kind {
	case segParam:
		return "{" + s.text + "}"
	case segGreedy:
		return "{" + s.text + "+}"
	}
	return s.text
}

type route struct {
	method   string
	template string // normalised
	segs     []segment
	value    int
}

// Builder collects routes and compiles them into a [Router]. The zero
// value is ready to use. A Builder is not safe for concurrent use.
type Builder struct {
	routes []route
}

// Add registers value for method and template.
//
// method is "ANY" or an upper-case HTTP token of A-Z, 0-9, "_" and "-",
// such as "GET" or "X-CUSTOM". template starts with "/" and is made of
// segments that are each a literal, a parameter "{name}" or, last, a greedy
// parameter "{name+}"; names are one or more of A-Z a-z 0-9 _ . , : -.
// Literals may not hold "{", "}", "?", "#", white space or control
// characters. One trailing slash is ignored; "/" is the root. The package
// documentation has the full rules.
//
// Add returns a *[TemplateError] for a bad method or template, for a
// duplicate of a route already added (same method, same template once
// parameter names are ignored), and for a template naming a parameter
// differently from another template at the same place, such as
// "/pets/{id}" and "/pets/{petId}/toys". A refused route is not added.
func (b *Builder) Add(method, template string, value int) error {
	fail := func(format string, args ...any) error {
		return &TemplateError{Method: method, Template: template, Reason: fmt.Sprintf(format, args...)}
	}
	if !methodOK(method) {
		return fail("method must be ANY or an upper-case token of A-Z 0-9 _ -")
	}
	segs, reason := parse(template)
	if reason != "" {
		return fail("%s", reason)
	}
	for _, r := range b.routes {
		if r.method == method && sameShape(r.segs, segs) {
			return fail("duplicate of route %s %s", r.method, r.template)
		}
		if x, y, ok := conflict(r.segs, segs); ok {
			return fail("conflicting parameter names: %s vs %s (route %s %s)", x, y, r.method, r.template)
		}
	}
	b.routes = append(b.routes, route{method: method, template: normalise(segs), segs: segs, value: value})
	return nil
}

func methodOK(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
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
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.,:-", c) >= 0) {
			return false
		}
	}
	return true
}

// literalReason says what is wrong with the literal segment s, or "".
func literalReason(s string) string {
	if !utf8.ValidString(s) {
		return fmt.Sprintf("invalid UTF-8 in literal segment %q", s)
	}
	for _, r := range s {
		if r == '{' || r == '}' || r == '?' || r == '#' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Sprintf("character %q not allowed in literal segment %q", r, s)
		}
	}
	return ""
}

// parse splits and checks a template. It returns the segments (none for
// the root) or a reason the template is bad.
func parse(template string) ([]segment, string) {
	if !strings.HasPrefix(template, "/") {
		return nil, `must start with "/"`
	}
	t := template[1:]
	if t == "" {
		return nil, ""
	}
	t = strings.TrimSuffix(t, "/")
	if t == "" {
		return nil, "empty path segment"
	}
	parts := strings.Split(t, "/")
	segs := make([]segment, 0, len(parts))
	params := 0
	for i, p := range parts {
		if p == "" {
			return nil, "empty path segment"
		}
		open, closed := strings.IndexByte(p, '{'), strings.IndexByte(p, '}')
		if open < 0 && closed < 0 {
			if reason := literalReason(p); reason != "" {
				return nil, reason
			}
			segs = append(segs, segment{kind: segLiteral, text: p})
			continue
		}
		if last := strings.LastIndexByte(p, '{'); last >= 0 && strings.IndexByte(p[last:], '}') < 0 {
			return nil, `unclosed "{"`
		}
		if open != 0 || closed != len(p)-1 || strings.Count(p, "{") != 1 || strings.Count(p, "}") != 1 {
			return nil, fmt.Sprintf("a parameter must be a whole segment: %q", p)
		}
		s := segment{kind: segParam, text: p[1 : len(p)-1]}
		if name, ok := strings.CutSuffix(s.text, "+"); ok {
			s = segment{kind: segGreedy, text: name}
		}
		if !paramNameOK(s.text) {
			return nil, fmt.Sprintf("bad parameter name %q: want one or more of A-Z a-z 0-9 _ . , : -", s.text)
		}
		if s.kind == segGreedy && i != len(parts)-1 {
			return nil, fmt.Sprintf("greedy parameter %s must be the last segment", s)
		}
		if params++; params > MaxParams {
			return nil, fmt.Sprintf("more than %d parameters", MaxParams)
		}
		for _, o := range segs {
			if o.kind != segLiteral && o.text == s.text {
				return nil, fmt.Sprintf("duplicate parameter name %q", s.text)
			}
		}
		segs = append(segs, s)
	}
	return segs, ""
}

func normalise(segs []segment) string {
	if len(segs) == 0 {
		return "/"
	}
	var sb strings.Builder
	for _, s := range segs {
		sb.WriteByte('/')
		sb.WriteString(s.String())
	}
	return sb.String()
}

// sameShape reports whether a and b are the same template once parameter
// names are ignored.
func sameShape(a, b []segment) bool {
	return slices.EqualFunc(a, b, func(x, y segment) bool {
		return x.kind == y.kind && (x.kind != segLiteral || x.text == y.text)
	})
}

// conflict reports the two parameters of a and b that sit at the same
// place (same kind, below the same parent) under different names.
func conflict(a, b []segment) (segment, segment, bool) {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		switch {
		case x.kind != y.kind, x.kind == segLiteral && x.text != y.text:
			return segment{}, segment{}, false // different children from here on
		case x.kind != segLiteral && x.text != y.text:
			return x, y, true
		}
	}
	return segment{}, segment{}, false
}

// resource is the end of one template: its routes, one per method.
type resource struct {
	template string
	allow    string
	methods  []string // sorted
	values   []int    // values[i] serves methods[i]
	get, any int      // index of GET and ANY in methods, or -1
}

type node struct {
	text       string // the literal segment leading here, for literal children
	literals   []*node
	literalMap map[string]*node // the literals by text, when there are many
	param      *node
	paramName  string
	greedy     *node
	greedyName string
	res        *resource // nil unless a template ends here
}

// literal returns the literal child for segment s, or nil.
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

// Router matches requests to the routes of a [Builder]. It is immutable
// and safe for concurrent use. A nil or zero Router finds nothing.
type Router struct {
	root *node
}

// Build compiles the routes added so far into a new [Router]; b stays
// usable and later additions do not change the Router. Build with no
// routes gives a Router that finds nothing. Every route was checked by
// [Builder.Add], so the error is nil today; it is kept for checks that
// need the whole set of routes.
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
					n.param, n.paramName = &node{}, s.text
				}
				n = n.param
			case segGreedy:
				if n.greedy == nil {
					n.greedy, n.greedyName = &node{}, s.text
				}
				n = n.greedy
			}
		}
		if n.res == nil {
			n.res = &resource{template: r.template}
		}
		n.res.methods = append(n.res.methods, r.method)
		n.res.values = append(n.res.values, r.value)
	}
	finish(root)
	return &Router{root: root}, nil
}

// finish sorts each resource's methods, precomputes the strings Lookup
// returns and indexes large sets of literal children.
func finish(n *node) {
	if len(n.literals) >= mapThreshold {
		n.literalMap = make(map[string]*node, len(n.literals))
		for _, c := range n.literals {
			n.literalMap[c.text] = c
		}
	}
	if r := n.res; r != nil {
		idx := make([]int, len(r.methods))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(i, j int) int { return strings.Compare(r.methods[i], r.methods[j]) })
		methods, values := make([]string, len(idx)), make([]int, len(idx))
		for i, j := range idx {
			methods[i], values[i] = r.methods[j], r.values[j]
		}
		r.methods, r.values = methods, values
		r.get, r.any = slices.Index(methods, "GET"), slices.Index(methods, methodAny)
		r.allow = strings.Join(methods, ", ")
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

// Lookup matches method and an escaped request path, as given by
// [net/url.URL.EscapedPath], following the rules in the package
// documentation. On Found it fills p with the path parameters; otherwise
// it leaves p empty. p may be nil when the caller needs no parameters.
// Lookup does not allocate.
func (r *Router) Lookup(method, path string, p *Params) Match {
	if p == nil {
		var scratch Params
		p = &scratch
	}
	p.N = 0
	if r == nil || r.root == nil {
		return Match{}
	}
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return Match{}
	}
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	l := lookup{method: method, p: p}
	if res, i := l.match(r.root, path[1:], path == "/"); res != nil {
		return Match{Result: Found, Value: res.values[i], Method: res.methods[i], Template: res.template}
	}
	p.N = 0
	if res := l.fallback; res != nil {
		return Match{Result: MethodNotAllowed, Template: res.template, Allow: res.allow}
	}
	return Match{}
}

// lookup is the state of one [Router.Lookup].
type lookup struct {
	method   string
	p        *Params
	fallback *resource // the first resource that matched the path but not the method
}

// match matches rest, the path below n without its leading slash, at n;
// end is true when no segments remain (rest is then ""). It returns the
// resource found and the index of its method that serves the request, and
// leaves the match's parameters in l.p.
func (l *lookup) match(n *node, rest string, end bool) (*resource, int) {
	if end {
		if i, ok := l.accept(n.res); ok {
			return n.res, i
		}
		return nil, 0
	}
	seg, after, more := rest, "", false
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		seg, after, more = rest[:i], rest[i+1:], true
	}
	if c := n.literal(seg); c != nil {
		if res, i := l.match(c, after, !more); res != nil {
			return res, i
		}
	}
	if n.param != nil && seg != "" {
		k := l.p.N
		l.p.Keys[k], l.p.Values[k] = n.paramName, seg
		l.p.N = k + 1
		if res, i := l.match(n.param, after, !more); res != nil {
			return res, i
		}
		l.p.N = k
	}
	if n.greedy != nil && rest != "" {
		if i, ok := l.accept(n.greedy.res); ok {
			k := l.p.N
			l.p.Keys[k], l.p.Values[k] = n.greedyName, rest
			l.p.N = k + 1
			return n.greedy.res, i
		}
	}
	return nil, 0
}

// accept returns the index of the method of res that serves the request:
// the request method, else GET for HEAD, else ANY. If res exists but
// serves no such method, it is kept as the fallback for MethodNotAllowed
// unless one was found before.
func (l *lookup) accept(res *resource) (int, bool) {
	if res == nil {
		return 0, false
	}
	for i, m := range res.methods {
		if m == l.method {
			return i, true
		}
	}
	if l.method == "HEAD" && res.get >= 0 {
		return res.get, true
	}
	if res.any >= 0 {
		return res.any, true
	}
	if l.fallback == nil {
		l.fallback = res
	}
	return 0, false
}
