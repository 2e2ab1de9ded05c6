package router

import (
	"strings"
	"testing"
)

func build(t *testing.T, routes ...string) *Router {
	t.Helper()
	var b Builder
	for i, r := range routes {
		m, p, _ := strings.Cut(r, " ")
		if err := b.Add(m, p, i); err != nil {
			t.Fatalf("Add(%q): %v", r, err)
		}
	}
	rt, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestAddErrors(t *testing.T) {
	tests := []struct {
		name, method, template, reason string
		before                         []string
	}{
		{name: "no leading slash", method: "GET", template: "pets", reason: `must start with "/"`},
		{name: "empty", method: "GET", template: "", reason: `must start with "/"`},
		{name: "empty segment", method: "GET", template: "/a//b", reason: "empty path segment"},
		{name: "unclosed brace", method: "GET", template: "/pets/{id", reason: `unclosed "{"`},
		{name: "partial segment prefix", method: "GET", template: "/a{b}", reason: "whole segment"},
		{name: "partial segment suffix", method: "GET", template: "/{a}b", reason: "whole segment"},
		{name: "stray close", method: "GET", template: "/a}", reason: "whole segment"},
		{name: "nested braces", method: "GET", template: "/{{a}}", reason: "whole segment"},
		{name: "empty name", method: "GET", template: "/{}", reason: "bad parameter name"},
		{name: "bad name", method: "GET", template: "/{a b}", reason: "bad parameter name"},
		{name: "greedy not last", method: "GET", template: "/{p+}/x", reason: "must be the last segment"},
		{name: "two greedy", method: "GET", template: "/{a+}/{b+}", reason: "must be the last segment"},
		{name: "duplicate param", method: "GET", template: "/{a}/{a}", reason: `duplicate parameter name "a"`},
		{name: "too many params", method: "GET", template: "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/{k}/{l}/{m}/{n}/{o}/{p}/{q}", reason: "more than 16"},
		{name: "question mark", method: "GET", template: "/a?b", reason: "not allowed"},
		{name: "space", method: "GET", template: "/a b", reason: "not allowed"},
		{name: "lower-case method", method: "get", template: "/a", reason: "method must be"},
		{name: "empty method", method: "", template: "/a", reason: "method must be"},
		{name: "duplicate route", method: "GET", template: "/pets/", before: []string{"GET /pets"}, reason: "duplicate of route GET /pets"},
		{name: "duplicate shape", method: "GET", template: "/pets/{id}", before: []string{"GET /pets/{id}"}, reason: "duplicate"},
		{name: "duplicate ANY", method: "ANY", template: "/{p+}", before: []string{"ANY /{p+}"}, reason: "duplicate"},
		{name: "conflicting names", method: "GET", template: "/pets/{petId}/toys", before: []string{"GET /pets/{id}"}, reason: "conflicting parameter names: {id} vs {petId}"},
		{name: "conflicting names across methods", method: "POST", template: "/pets/{petId}", before: []string{"GET /pets/{id}"}, reason: "conflicting parameter names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Builder
			for _, r := range tt.before {
				m, p, _ := strings.Cut(r, " ")
				if err := b.Add(m, p, 0); err != nil {
					t.Fatal(err)
				}
			}
			err := b.Add(tt.method, tt.template, 1)
			te, ok := err.(*TemplateError)
			if !ok || !strings.Contains(te.Reason, tt.reason) {
				t.Fatalf("Add(%q, %q) = %v, want reason containing %q", tt.method, tt.template, err, tt.reason)
			}
			if te.Method != tt.method || te.Template != tt.template || !strings.Contains(err.Error(), tt.template) {
				t.Fatalf("error %q does not name the route", err)
			}
		})
	}
}

func TestAddAccepts(t *testing.T) {
	var b Builder
	for _, r := range []string{
		"GET /", "GET /pets", "GET /pets/{id}", "ANY /pets/{id}", "X-CUSTOM /pets/{id}",
		"GET /pets/{id}/toys/{toy_id.v:1,2}", "GET /files/{proxy+}", "GET /files/{id}",
		"GET /a-b.c~d/%2F", "GET /pets/{id}/{rest+}",
	} {
		m, p, _ := strings.Cut(r, " ")
		if err := b.Add(m, p, 0); err != nil {
			t.Errorf("Add(%q) = %v", r, err)
		}
	}
	if _, err := (&Builder{}).Build(); err != nil {
		t.Errorf("empty Build: %v", err)
	}
}

func TestLookup(t *testing.T) {
	rt := build(t,
		"GET /",                       // 0
		"GET /pets",                   // 1
		"GET /pets/mine",              // 2
		"GET /pets/{id}",              // 3
		"DELETE /pets/{id}",           // 4
		"GET /pets/{id}/toys",         // 5
		"ANY /files/{proxy+}",         // 6
		"POST /files/upload",          // 7
		"GET /a/{x}/c",                // 8
		"GET /a/b/d",                  // 9
		"GET /shop/{item}",            // 10
		"ANY /{proxy+}",               // 11
		"PUT /only-put",               // 12
		"HEAD /heads",                 // 13
		"GET /heads",                  // 14
		"GET /docs/{path+}",           // 15
		"GET /docs/{section}/summary", // 16
	)
	tests := []struct {
		name, method, path string
		res                Result
		value              int
		matched, template  string
		params             string
		allow              string
	}{
		{name: "root", method: "GET", path: "/", res: Found, value: 0, matched: "GET", template: "/"},
		{name: "empty path is root", method: "GET", path: "", res: Found, value: 0, template: "/"},
		{name: "literal", method: "GET", path: "/pets", res: Found, value: 1, template: "/pets"},
		{name: "trailing slash", method: "GET", path: "/pets/", res: Found, value: 1},
		{name: "literal beats param", method: "GET", path: "/pets/mine", res: Found, value: 2},
		{name: "param", method: "GET", path: "/pets/7", res: Found, value: 3, template: "/pets/{id}", params: "id=7"},
		{name: "param escaped value", method: "GET", path: "/pets/a%2Fb", res: Found, value: 3, params: "id=a%2Fb"},
		{name: "nested", method: "GET", path: "/pets/7/toys", res: Found, value: 5, params: "id=7"},
		{name: "method route", method: "DELETE", path: "/pets/7", res: Found, value: 4, matched: "DELETE", params: "id=7"},
		{name: "greedy", method: "PATCH", path: "/files/a/b/c", res: Found, value: 6, matched: "ANY", template: "/files/{proxy+}", params: "proxy=a/b/c"},
		{name: "method beats ANY", method: "POST", path: "/files/upload", res: Found, value: 7},
		{name: "ANY takes other methods", method: "GET", path: "/files/upload", res: Found, value: 6, params: "proxy=upload"},
		{name: "backtracking to param", method: "GET", path: "/a/b/c", res: Found, value: 8, params: "x=b"},
		{name: "literal branch still wins", method: "GET", path: "/a/b/d", res: Found, value: 9},
		{name: "method-aware fallback to greedy", method: "POST", path: "/pets/7", res: Found, value: 11, params: "proxy=pets/7"},
		{name: "greedy at root", method: "GET", path: "/x/y", res: Found, value: 11, params: "proxy=x/y"},
		{name: "HEAD falls back to GET", method: "HEAD", path: "/pets", res: Found, value: 1, matched: "GET"},
		{name: "HEAD route preferred", method: "HEAD", path: "/heads", res: Found, value: 13, matched: "HEAD"},
		{name: "params reset on backtrack", method: "GET", path: "/docs/intro/summary", res: Found, value: 16, params: "section=intro"},
		{name: "greedy after failed literal branch", method: "GET", path: "/docs/intro/other", res: Found, value: 15, params: "path=intro/other"},
		{name: "case-sensitive", method: "GET", path: "/PETS", res: Found, value: 11, params: "proxy=PETS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Params
			m := rt.Lookup(tt.method, tt.path, &p)
			if m.Result != tt.res || m.Value != tt.value {
				t.Fatalf("Lookup(%s %q) = %+v, want result %d value %d", tt.method, tt.path, m, tt.res, tt.value)
			}
			if tt.matched != "" && m.Method != tt.matched {
				t.Errorf("Method = %q, want %q", m.Method, tt.matched)
			}
			if tt.template != "" && m.Template != tt.template {
				t.Errorf("Template = %q, want %q", m.Template, tt.template)
			}
			var got []string
			for i := 0; i < p.N; i++ {
				got = append(got, p.Keys[i]+"="+p.Values[i])
			}
			if strings.Join(got, ",") != tt.params {
				t.Errorf("params = %v, want %q", got, tt.params)
			}
		})
	}
}

func TestLookupNotFoundAndNotAllowed(t *testing.T) {
	rt := build(t, "GET /pets/{id}", "DELETE /pets/{id}", "PUT /pets", "GET /api/{proxy+}", "POST /x/y")
	tests := []struct {
		name, method, path string
		res                Result
		allow, template    string
	}{
		{name: "unknown", method: "GET", path: "/owners", res: NotFound},
		{name: "wrong method", method: "POST", path: "/pets/1", res: MethodNotAllowed, allow: "DELETE, GET", template: "/pets/{id}"},
		{name: "wrong method literal", method: "GET", path: "/pets", res: MethodNotAllowed, allow: "PUT", template: "/pets"},
		{name: "greedy needs a segment", method: "GET", path: "/api", res: NotFound},
		{name: "greedy needs a segment with slash", method: "GET", path: "/api/", res: NotFound},
		{name: "param never empty", method: "GET", path: "/pets//", res: NotFound},
		{name: "intermediate node has no methods", method: "GET", path: "/x", res: NotFound},
		{name: "relative path", method: "GET", path: "pets/1", res: NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Params
			m := rt.Lookup(tt.method, tt.path, &p)
			if m.Result != tt.res || m.Allow != tt.allow || m.Template != tt.template {
				t.Fatalf("Lookup(%s %q) = %+v, want %d allow %q template %q", tt.method, tt.path, m, tt.res, tt.allow, tt.template)
			}
			if p.N != 0 {
				t.Errorf("params left set: %d", p.N)
			}
		})
	}
}

func TestManyLiteralChildren(t *testing.T) {
	var routes []string
	for _, s := range strings.Fields("a b c d e f g h i j k l m n") {
		routes = append(routes, "GET /"+s+"/{id}")
	}
	rt := build(t, routes...)
	var p Params
	if m := rt.Lookup("GET", "/k/1", &p); m.Result != Found || m.Value != 10 {
		t.Fatalf("%+v", m)
	}
	if v, ok := p.Get("id"); !ok || v != "1" {
		t.Fatalf("Get(id) = %q, %v", v, ok)
	}
	if _, ok := p.Get("nope"); ok {
		t.Fatal("Get(nope) found")
	}
	p.Reset()
	if p.N != 0 {
		t.Fatal("Reset did not empty Params")
	}
}

func TestLookupAllocs(t *testing.T) {
	rt := build(t, "GET /pets/{id}", "ANY /files/{proxy+}", "GET /a/b/c")
	var p Params
	for _, path := range []string{"/pets/7", "/files/a/b", "/nope/x", "/a/b/c"} {
		if n := testing.AllocsPerRun(100, func() { rt.Lookup("GET", path, &p) }); n != 0 {
			t.Errorf("Lookup(%q) allocates %.1f times", path, n)
		}
	}
}
