package router

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// concrete turns a valid template into a path it matches: parameters
// become "x" and a greedy parameter "a/b".
func concrete(template string) string {
	segs := strings.Split(strings.Trim(template, "/"), "/")
	for i, s := range segs {
		switch {
		case strings.HasSuffix(s, "+}"):
			segs[i] = "a/b"
		case strings.HasPrefix(s, "{"):
			segs[i] = "x"
		}
	}
	return "/" + strings.Join(segs, "/")
}

var fuzzTemplates = []string{
	"/", "/pets", "/pets/", "/pets/{id}", "/pets/{id}/toys/{toy}", "/files/{proxy+}", "/{proxy+}",
	"/a/{b}/c/{d+}", "/{a.b,c:d-e_f}", "/a/%2F/{x}", "/café", "/./..", "/x/{x}",
	"", "pets", "//", "/a//b", "/pets//", "/{", "/{a", "/a{b}", "/{a}b", "/}", "/{}", "/{+}",
	"/{a++}", "/{a}/{a}", "/{p+}/x", "/{a+}/{b+}", "/a b", "/a?b", "/a#b", "/a\x00", "/a\xff",
	"/a\u00a0", manyParams(16, true), manyParams(17, false),
}

func FuzzAdd(f *testing.F) {
	for _, s := range fuzzTemplates {
		f.Add("GET", s)
		f.Add("ANY", s)
	}
	for _, m := range []string{"get", "", "X-CUSTOM", "HEAD", "G T", "Any", "POST\n"} {
		f.Add(m, "/x")
	}
	f.Fuzz(func(t *testing.T, method, template string) {
		var b Builder
		err := b.Add(method, template, 1)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("Add(%q, %q) error of type %T, want *TemplateError", method, template, err)
			}
			if te.Method != method || te.Template != template || te.Reason == "" {
				t.Fatalf("Add(%q, %q) = %#v, want it to name the route and a reason", method, template, te)
			}
			if len(b.routes) != 0 {
				t.Fatalf("Add(%q, %q) failed but kept the route", method, template)
			}
			return
		}
		if err := b.Add(method, template, 2); err == nil || !strings.Contains(err.Error(), "duplicate") {
			t.Fatalf("Add(%q, %q) twice = %v, want a duplicate error", method, template, err)
		}
		rt, err := b.Build()
		if err != nil {
			t.Fatalf("Build() = %v", err)
		}
		reqMethod := method
		if method == "ANY" {
			reqMethod = "PATCH"
		}
		path := concrete(template)
		var p Params
		m := rt.Lookup(reqMethod, path, &p)
		if m.Result != Found || m.Value != 1 || m.Method != method {
			t.Fatalf("%s %q added, but Lookup(%q, %q) = %+v", method, template, reqMethod, path, m)
		}
		want := template
		if len(want) > 1 {
			want = strings.TrimSuffix(want, "/")
		}
		if m.Template != want {
			t.Errorf("Template = %q, want %q", m.Template, want)
		}
		if n := strings.Count(template, "{"); p.N != n {
			t.Errorf("Lookup(%q) set %d params, want %d", path, p.N, n)
		}
		for i := 0; i < p.N; i++ {
			if v := p.Values[i]; v != "x" && v != "a/b" {
				t.Errorf("param %s = %q, want x or a/b", p.Keys[i], v)
			}
		}
	})
}

// lookupRoutes is the router FuzzLookup tests: literal, parameter and
// greedy siblings at several levels, a node with many literal children,
// HEAD, ANY and custom methods.
var lookupRoutes = []string{
	"GET /", "GET /pets", "GET /pets/mine", "GET /pets/{id}", "DELETE /pets/{id}",
	"GET /pets/{id}/toys", "HEAD /pets/{id}/toys", "ANY /files/{proxy+}", "POST /files/upload",
	"GET /files/{name}", "GET /a/{x}/c", "GET /a/b/d", "GET /a/b/{y}/e", "PUT /a/{x}/{rest+}",
	"POST /{proxy+}", "GET /raw/a%2Fb", "X-CUSTOM /c/{id}/{rest+}", "ANY /c/{id}",
	"GET /l/k0", "GET /l/k1", "GET /l/k2", "POST /l/k3", "GET /l/k4", "GET /l/k5",
	"GET /l/k6", "GET /l/k7", "GET /l/k8/{n}", "GET /l/{n}/{m}",
}

// refRoute is a route for refLookup.
type refRoute struct {
	method, template string
	segs             []string
	value            int
}

// refLookup is a slow, direct reading of the matching rules: it matches
// every template against the split path, orders the matches by precedence
// and picks the first that serves the method.
func refLookup(routes []refRoute, method, path string) (Match, []string) {
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return Match{}, nil
	}
	if len(path) > 1 && strings.HasSuffix(path, "/") {
		path = path[:len(path)-1]
	}
	var psegs []string
	if path != "/" {
		psegs = strings.Split(path[1:], "/")
	}
	type candidate struct {
		template string
		kinds    []int
		params   []string
		routes   []refRoute
	}
	var cands []*candidate
	byTemplate := map[string]*candidate{}
	for _, r := range routes {
		if c := byTemplate[r.template]; c != nil {
			c.routes = append(c.routes, r)
			continue
		}
		c := &candidate{template: r.template, routes: []refRoute{r}}
		greedy := len(r.segs) > 0 && strings.HasSuffix(r.segs[len(r.segs)-1], "+}")
		ok := len(psegs) == len(r.segs) || greedy && len(psegs) >= len(r.segs)
		for i, s := range r.segs {
			if !ok {
				break
			}
			name := strings.Trim(s, "{+}")
			switch {
			case strings.HasSuffix(s, "+}"):
				rest := strings.Join(psegs[i:], "/")
				ok = rest != ""
				c.kinds = append(c.kinds, 2)
				c.params = append(c.params, name+"="+rest)
			case strings.HasPrefix(s, "{"):
				ok = psegs[i] != ""
				c.kinds = append(c.kinds, 1)
				c.params = append(c.params, name+"="+psegs[i])
			default:
				ok = psegs[i] == s
				c.kinds = append(c.kinds, 0)
			}
		}
		byTemplate[r.template] = c
		if ok {
			cands = append(cands, c)
		}
	}
	slices.SortFunc(cands, func(a, b *candidate) int { return slices.Compare(a.kinds, b.kinds) })
	for _, c := range cands {
		for _, want := range []string{method, "HEAD→GET", "ANY"} {
			if want == "HEAD→GET" {
				if method != "HEAD" {
					continue
				}
				want = "GET"
			}
			for _, r := range c.routes {
				if r.method == want {
					return Match{Result: Found, Value: r.value, Method: r.method, Template: c.template}, c.params
				}
			}
		}
	}
	if len(cands) == 0 {
		return Match{}, nil
	}
	var allow []string
	for _, r := range cands[0].routes {
		allow = append(allow, r.method)
	}
	slices.Sort(allow)
	return Match{Result: MethodNotAllowed, Template: cands[0].template, Allow: strings.Join(allow, ", ")}, nil
}

func refRoutes(t testing.TB, routes []string) []refRoute {
	t.Helper()
	var rs []refRoute
	for i, r := range routes {
		m, tmpl, _ := strings.Cut(r, " ")
		tmpl = strings.TrimSuffix(tmpl, "/")
		var segs []string
		if tmpl == "" {
			tmpl = "/"
		} else {
			segs = strings.Split(tmpl[1:], "/")
		}
		rs = append(rs, refRoute{method: m, template: tmpl, segs: segs, value: i})
	}
	return rs
}

// checkLookup compares rt.Lookup with refLookup and checks the invariants
// of a Lookup result.
func checkLookup(t *testing.T, rt *Router, ref []refRoute, method, path string) {
	t.Helper()
	var p Params
	got := rt.Lookup(method, path, &p)
	want, wantParams := refLookup(ref, method, path)
	if got != want {
		t.Fatalf("Lookup(%q, %q) = %+v, want %+v", method, path, got, want)
	}
	var gotParams []string
	for i := 0; i < p.N; i++ {
		gotParams = append(gotParams, p.Keys[i]+"="+p.Values[i])
		if got.Result != Found || p.Values[i] == "" || !strings.Contains(path, p.Values[i]) {
			t.Fatalf("Lookup(%q, %q) = %v with param %s=%q, want Found and a non-empty part of the path", method, path, got.Result, p.Keys[i], p.Values[i])
		}
	}
	if !slices.Equal(gotParams, wantParams) {
		t.Fatalf("Lookup(%q, %q) params = %q, want %q", method, path, gotParams, wantParams)
	}
}

func FuzzLookup(f *testing.F) {
	rt := build(f, lookupRoutes...)
	ref := refRoutes(f, lookupRoutes)
	for _, path := range []string{
		"", "/", "//", "///", "/pets", "/pets/", "/pets//", "/pets/1", "/pets/1/toys", "/pets//toys",
		"/files", "/files/a/b", "/files/upload", "/a/b/c", "/a/b/d", "/a/b/z/e", "/a/b/z/c", "/raw/a%2Fb",
		"/raw/a%2fb", "/c/1/2/3", "/l/k3", "/l/k8/1", "/l/k9/1", "/l/k9", "pets", "*", "/%zz/{x}", "/\x00/\xff",
	} {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "X-CUSTOM", "get", ""} {
			f.Add(m, path)
		}
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		checkLookup(t, rt, ref, method, path)
	})
}

// TestLookupReference compares Lookup with refLookup on every path of up
// to four segments drawn from a small alphabet.
func TestLookupReference(t *testing.T) {
	rt := build(t, lookupRoutes...)
	ref := refRoutes(t, lookupRoutes)
	alphabet := []string{"", "pets", "files", "a", "b", "c", "l", "k3", "k8", "upload", "x"}
	paths := []string{""}
	for prefix, depth := []string{""}, 1; depth <= 4; depth++ {
		var next []string
		for _, p := range prefix {
			for _, s := range alphabet {
				next = append(next, p+"/"+s)
			}
		}
		paths, prefix = append(paths, next...), next
	}
	for _, path := range paths {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "X-CUSTOM"} {
			checkLookup(t, rt, ref, m, path)
		}
	}
}
