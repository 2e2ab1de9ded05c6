package router

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// build adds routes given as "METHOD /template", each with its index as
// value, and builds the router.
func build(t testing.TB, routes ...string) *Router {
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
		t.Fatalf("Build: %v", err)
	}
	return rt
}

// paramString renders p as "k=v,k=v".
func paramString(p *Params) string {
	var sb strings.Builder
	for i := 0; i < p.N; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(p.Keys[i] + "=" + p.Values[i])
	}
	return sb.String()
}

// manyParams returns a template of n parameters "/{p0}/{p1}/..." with a
// greedy last one if greedy is set.
func manyParams(n int, greedy bool) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "/{p%d", i)
		if greedy && i == n-1 {
			sb.WriteByte('+')
		}
		sb.WriteByte('}')
	}
	return sb.String()
}

func TestAddErrors(t *testing.T) {
	tests := []struct {
		name   string
		before []string
		route  string // "METHOD template"
		reason string // substring of the Reason
	}{
		// Shape of the template.
		{name: "no leading slash", route: "GET pets", reason: `must start with "/"`},
		{name: "empty template", route: "GET ", reason: `must start with "/"`},
		{name: "double slash alone", route: "GET //", reason: "empty path segment"},
		{name: "interior empty segment", route: "GET /a//b", reason: "empty path segment"},
		{name: "empty segment before trailing slash", route: "GET /pets//", reason: "empty path segment"},
		{name: "leading empty segment", route: "GET //pets", reason: "empty path segment"},

		// Parameters.
		{name: "unclosed brace", route: "GET /pets/{id", reason: `unclosed "{"`},
		{name: "unclosed across slash", route: "GET /{a/b}", reason: `unclosed "{"`},
		{name: "unclosed after close", route: "GET /}{a", reason: `unclosed "{"`},
		{name: "unclosed after param", route: "GET /{a}{", reason: `unclosed "{"`},
		{name: "literal before param", route: "GET /a{b}", reason: "a parameter must be a whole segment"},
		{name: "literal after param", route: "GET /{a}b", reason: "a parameter must be a whole segment"},
		{name: "stray close", route: "GET /a}", reason: "a parameter must be a whole segment"},
		{name: "nested braces", route: "GET /{{a}}", reason: "a parameter must be a whole segment"},
		{name: "two params in a segment", route: "GET /{a}{b}", reason: "a parameter must be a whole segment"},
		{name: "empty name", route: "GET /{}", reason: `bad parameter name ""`},
		{name: "empty greedy name", route: "GET /{+}", reason: `bad parameter name ""`},
		{name: "space in name", route: "GET /{a b}", reason: `bad parameter name "a b"`},
		{name: "plus inside name", route: "GET /{a+b}", reason: `bad parameter name "a+b"`},
		{name: "double plus", route: "GET /{a++}", reason: `bad parameter name "a+"`},
		{name: "non-ASCII name", route: "GET /{é}", reason: "bad parameter name"},
		{name: "slash-free star name", route: "GET /{*}", reason: "bad parameter name"},
		{name: "greedy not last", route: "GET /{proxy+}/x", reason: "greedy parameter {proxy+} must be the last segment"},
		{name: "two greedy", route: "GET /{a+}/{b+}", reason: "must be the last segment"},
		{name: "duplicate param", route: "GET /{a}/x/{a}", reason: `duplicate parameter name "a"`},
		{name: "duplicate param and greedy", route: "GET /{a}/{a+}", reason: `duplicate parameter name "a"`},
		{name: "17 params", route: "GET " + manyParams(17, false), reason: "more than 16 parameters"},
		{name: "16 params and a greedy", route: "GET " + manyParams(17, true), reason: "more than 16"},

		// Literal characters.
		{name: "question mark", route: "GET /a?b", reason: `character '?' not allowed in literal segment "a?b"`},
		{name: "hash", route: "GET /a#b", reason: `character '#' not allowed`},
		{name: "space", route: "GET /a b", reason: `character ' ' not allowed`},
		{name: "tab", route: "GET /a\tb", reason: `character '\t' not allowed`},
		{name: "newline", route: "GET /a\n", reason: `character '\n' not allowed`},
		{name: "NUL", route: "GET /a\x00", reason: `character '\x00' not allowed`},
		{name: "DEL", route: "GET /a\x7f", reason: `character '\x7f' not allowed`},
		{name: "no-break space", route: "GET /a\u00a0b", reason: `character '\u00a0' not allowed`},
		{name: "line separator", route: "GET /a\u2028b", reason: "not allowed"},
		{name: "C1 control", route: "GET /a\u0085", reason: "not allowed"},
		{name: "invalid UTF-8", route: "GET /a\xffb", reason: "invalid UTF-8"},

		// Methods.
		{name: "lower-case method", route: "get /a", reason: "method must be ANY or an upper-case token"},
		{name: "mixed-case ANY", route: "Any /a", reason: "method must be"},
		{name: "empty method", route: " /a", reason: "method must be"},
		{name: "method with space", route: "GE\tT /a", reason: "method must be"},
		{name: "method with punctuation", route: "GET! /a", reason: "method must be"},
		{name: "bad method reported first", route: "get a", reason: "method must be"},

		// Against routes added before.
		{name: "duplicate route", before: []string{"GET /pets"}, route: "GET /pets", reason: "duplicate of route GET /pets"},
		{name: "duplicate with trailing slash", before: []string{"GET /pets"}, route: "GET /pets/", reason: "duplicate of route GET /pets"},
		{name: "duplicate root", before: []string{"POST /"}, route: "POST /", reason: "duplicate of route POST /"},
		{name: "duplicate param route", before: []string{"GET /pets/{id}"}, route: "GET /pets/{id}", reason: "duplicate of route GET /pets/{id}"},
		{name: "duplicate shape other names", before: []string{"GET /pets/{id}"}, route: "GET /pets/{petId}", reason: "duplicate of route GET /pets/{id}"},
		{name: "duplicate ANY greedy", before: []string{"ANY /{proxy+}"}, route: "ANY /{path+}", reason: "duplicate of route ANY /{proxy+}"},
		{name: "conflicting names", before: []string{"GET /pets/{id}"}, route: "GET /pets/{petId}/toys", reason: "conflicting parameter names: {id} vs {petId} (route GET /pets/{id})"},
		{name: "conflicting names other method", before: []string{"GET /pets/{id}"}, route: "POST /pets/{petId}", reason: "conflicting parameter names: {id} vs {petId}"},
		{name: "conflicting names deeper", before: []string{"GET /a/{x}/b/{y}"}, route: "GET /a/{x}/b/{z}/c", reason: "conflicting parameter names: {y} vs {z}"},
		{name: "conflicting greedy names", before: []string{"ANY /files/{proxy+}"}, route: "GET /files/{path+}", reason: "conflicting parameter names: {proxy+} vs {path+}"},
		{name: "conflicting names at root", before: []string{"GET /{a}"}, route: "GET /{b}/c", reason: "conflicting parameter names: {a} vs {b}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Builder
			for _, r := range tt.before {
				m, p, _ := strings.Cut(r, " ")
				if err := b.Add(m, p, 0); err != nil {
					t.Fatalf("Add(%q): %v", r, err)
				}
			}
			method, template, _ := strings.Cut(tt.route, " ")
			err := b.Add(method, template, 1)
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("Add(%q, %q) = %v, want a *TemplateError", method, template, err)
			}
			if !strings.Contains(te.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to contain %q", te.Reason, tt.reason)
			}
			if te.Method != method || te.Template != template {
				t.Errorf("error names %q %q, want %q %q", te.Method, te.Template, method, template)
			}
			if got, want := err.Error(), "router: "+method+" "+template+": "+te.Reason; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
			if len(b.routes) != len(tt.before) {
				t.Errorf("refused route was kept: %d routes, want %d", len(b.routes), len(tt.before))
			}
		})
	}
}

func TestTemplateErrorText(t *testing.T) {
	var b Builder
	err := b.Add("GET", "/a/{b", 0)
	if got, want := fmt.Sprint(err), `router: GET /a/{b: unclosed "{"`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestAddAccepts(t *testing.T) {
	tests := []struct {
		name   string
		routes []string
	}{
		{name: "root", routes: []string{"GET /"}},
		{name: "literal", routes: []string{"GET /pets"}},
		{name: "trailing slash", routes: []string{"GET /pets/"}},
		{name: "param", routes: []string{"GET /pets/{id}"}},
		{name: "greedy", routes: []string{"GET /files/{proxy+}"}},
		{name: "greedy at root", routes: []string{"ANY /{proxy+}"}},
		{name: "every name character", routes: []string{"GET /{aZ09_.,:-}"}},
		{name: "16 params", routes: []string{"GET " + manyParams(16, false)}},
		{name: "15 params and a greedy", routes: []string{"GET " + manyParams(16, true)}},
		{name: "custom methods", routes: []string{"X-CUSTOM /a", "PROPFIND /a", "M_1 /a"}},
		{name: "same template every method", routes: []string{"GET /a", "POST /a", "ANY /a", "HEAD /a"}},
		{name: "same shape other methods", routes: []string{"GET /pets/{id}", "DELETE /pets/{id}/"}},
		{name: "param and greedy siblings", routes: []string{"GET /files/{id}", "GET /files/{proxy+}"}},
		{name: "param and greedy siblings, other names", routes: []string{"GET /files/{id}/meta", "ANY /files/{proxy+}"}},
		{name: "names differ below different parents", routes: []string{"GET /a/{x}", "GET /b/{y}", "GET /{z}/c"}},
		{name: "literal and param siblings", routes: []string{"GET /pets/mine", "GET /pets/{id}"}},
		{name: "escaped literal", routes: []string{"GET /a%2Fb/%7Bx%7D"}},
		{name: "punctuation literal", routes: []string{"GET /a-b.c~d/_/@x:y/!$&'()*+,;="}},
		{name: "non-ASCII literal", routes: []string{"GET /café"}},
		{name: "dot segments", routes: []string{"GET /./.."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Builder
			for _, r := range tt.routes {
				m, p, _ := strings.Cut(r, " ")
				if err := b.Add(m, p, 0); err != nil {
					t.Errorf("Add(%q) = %v, want nil", r, err)
				}
			}
			if _, err := b.Build(); err != nil {
				t.Errorf("Build() = %v, want nil", err)
			}
		})
	}
}

// lookupCase is one row of a Lookup table. Empty want fields are not
// checked, except params and allow, which are always checked.
type lookupCase struct {
	name, method, path string
	result             Result
	value              int
	matched            string // Match.Method
	template           string
	params             string // as paramString renders them
	allow              string
}

func runLookups(t *testing.T, rt *Router, tests []lookupCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Params{N: 3} // Lookup must reset it
			m := rt.Lookup(tt.method, tt.path, &p)
			if m.Result != tt.result {
				t.Fatalf("Lookup(%q, %q) = %+v, want %v", tt.method, tt.path, m, tt.result)
			}
			if m.Result == Found && m.Value != tt.value {
				t.Errorf("Value = %d, want %d", m.Value, tt.value)
			}
			if m.Result != Found && (m.Value != 0 || m.Method != "") {
				t.Errorf("%v with Value %d, Method %q", m.Result, m.Value, m.Method)
			}
			if tt.matched != "" && m.Method != tt.matched {
				t.Errorf("Method = %q, want %q", m.Method, tt.matched)
			}
			if tt.template != "" && m.Template != tt.template {
				t.Errorf("Template = %q, want %q", m.Template, tt.template)
			}
			if m.Result == NotFound && m.Template != "" {
				t.Errorf("NotFound with Template %q", m.Template)
			}
			if m.Allow != tt.allow {
				t.Errorf("Allow = %q, want %q", m.Allow, tt.allow)
			}
			if got := paramString(&p); got != tt.params {
				t.Errorf("params = %q, want %q", got, tt.params)
			}
		})
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
		"GET /a/b/{y}/e",              // 10
		"ANY /{proxy+}",               // 11
		"PUT /only-put",               // 12
		"GET /docs/{path+}",           // 13
		"GET /docs/{section}/summary", // 14
		"GET /raw/a%2Fb",              // 15
		"GET /raw/{seg}",              // 16
		"GET /Case",                   // 17
		"GET /v1/users/{userId}/orders/{orderId}/items/{itemId}", // 18
		"GET /pets/{id}/toys/{rest+}",                            // 19
	)
	runLookups(t, rt, []lookupCase{
		{name: "root", method: "GET", path: "/", result: Found, value: 0, matched: "GET", template: "/"},
		{name: "empty path is root", method: "GET", path: "", result: Found, value: 0, template: "/"},
		{name: "double slash is root after trailing slash", method: "GET", path: "//", result: Found, value: 0, template: "/"},
		{name: "root, other method: greedy needs a segment", method: "POST", path: "/", result: MethodNotAllowed, template: "/", allow: "GET"},
		{name: "literal", method: "GET", path: "/pets", result: Found, value: 1, matched: "GET", template: "/pets"},
		{name: "trailing slash ignored", method: "GET", path: "/pets/", result: Found, value: 1, template: "/pets"},
		{name: "only one trailing slash ignored", method: "GET", path: "/pets//", result: Found, value: 11, template: "/{proxy+}", params: "proxy=pets/"},
		{name: "literal beats param", method: "GET", path: "/pets/mine", result: Found, value: 2, template: "/pets/mine"},
		{name: "param", method: "GET", path: "/pets/7", result: Found, value: 3, template: "/pets/{id}", params: "id=7"},
		{name: "param with trailing slash", method: "GET", path: "/pets/7/", result: Found, value: 3, params: "id=7"},
		{name: "param value stays escaped", method: "GET", path: "/pets/a%2Fb%20c", result: Found, value: 3, params: "id=a%2Fb%20c"},
		{name: "escaped slash is not a separator", method: "GET", path: "/pets/7%2Ftoys", result: Found, value: 3, params: "id=7%2Ftoys"},
		{name: "escaped literal matches escaped", method: "GET", path: "/raw/a%2Fb", result: Found, value: 15, template: "/raw/a%2Fb"},
		{name: "escaped literal is case-sensitive", method: "GET", path: "/raw/a%2fb", result: Found, value: 16, params: "seg=a%2fb"},
		{name: "escaped literal does not match real slash", method: "GET", path: "/raw/a/b", result: Found, value: 11, params: "proxy=raw/a/b"},
		{name: "nested", method: "GET", path: "/pets/7/toys", result: Found, value: 5, template: "/pets/{id}/toys", params: "id=7"},
		{name: "method route", method: "DELETE", path: "/pets/7", result: Found, value: 4, matched: "DELETE", params: "id=7"},
		{name: "greedy", method: "PATCH", path: "/files/a/b/c", result: Found, value: 6, matched: "ANY", template: "/files/{proxy+}", params: "proxy=a/b/c"},
		{name: "greedy one segment", method: "GET", path: "/files/a", result: Found, value: 6, params: "proxy=a"},
		{name: "greedy keeps inner trailing slash", method: "GET", path: "/files/a/b//", result: Found, value: 6, params: "proxy=a/b/"},
		{name: "greedy keeps empty segments", method: "GET", path: "/files//x", result: Found, value: 6, params: "proxy=/x"},
		{name: "greedy value stays escaped", method: "GET", path: "/files/a%20b/c%2Fd", result: Found, value: 6, params: "proxy=a%20b/c%2Fd"},
		{name: "greedy needs a segment", method: "GET", path: "/files", result: Found, value: 11, template: "/{proxy+}", params: "proxy=files"},
		{name: "method beats ANY", method: "POST", path: "/files/upload", result: Found, value: 7, matched: "POST"},
		{name: "ANY takes other methods", method: "GET", path: "/files/upload", result: Found, value: 6, matched: "ANY", params: "proxy=upload"},
		{name: "backtrack from literal to param", method: "GET", path: "/a/b/c", result: Found, value: 8, template: "/a/{x}/c", params: "x=b"},
		{name: "literal branch wins when it matches", method: "GET", path: "/a/b/d", result: Found, value: 9},
		{name: "backtrack two levels, params reset", method: "GET", path: "/a/b/z/c", result: Found, value: 11, params: "proxy=a/b/z/c"},
		{name: "deep literal branch", method: "GET", path: "/a/b/z/e", result: Found, value: 10, params: "y=z"},
		{name: "backtrack param to greedy", method: "GET", path: "/docs/intro/other", result: Found, value: 13, template: "/docs/{path+}", params: "path=intro/other"},
		{name: "param deeper beats greedy", method: "GET", path: "/docs/intro/summary", result: Found, value: 14, params: "section=intro"},
		{name: "greedy takes one segment when param resource lacks it", method: "GET", path: "/docs/intro", result: Found, value: 13, params: "path=intro"},
		{name: "param then greedy", method: "GET", path: "/pets/7/toys/a/b", result: Found, value: 19, template: "/pets/{id}/toys/{rest+}", params: "id=7,rest=a/b"},
		{name: "many params", method: "GET", path: "/v1/users/u1/orders/o2/items/i3", result: Found, value: 18, params: "userId=u1,orderId=o2,itemId=i3"},
		{name: "case-sensitive literal", method: "GET", path: "/case", result: Found, value: 11, params: "proxy=case"},
		{name: "case-sensitive literal exact", method: "GET", path: "/Case", result: Found, value: 17},
		{name: "method-aware fallback to greedy", method: "POST", path: "/pets/7", result: Found, value: 11, matched: "ANY", params: "proxy=pets/7"},
		{name: "greedy at root", method: "GET", path: "/x/y", result: Found, value: 11, params: "proxy=x/y"},
		{name: "param never matches empty segment", method: "GET", path: "/pets//toys", result: Found, value: 11, params: "proxy=pets//toys"},
		{name: "request method is case-sensitive", method: "get", path: "/pets", result: Found, value: 11, matched: "ANY", params: "proxy=pets"},
		{name: "relative path", method: "GET", path: "pets", result: NotFound},
		{name: "asterisk", method: "OPTIONS", path: "*", result: NotFound},
	})
}

func TestLookupNotFoundAndNotAllowed(t *testing.T) {
	rt := build(t,
		"GET /pets/{id}",     // 0
		"DELETE /pets/{id}",  // 1
		"PUT /pets",          // 2
		"GET /api/{proxy+}",  // 3
		"POST /x/y",          // 4
		"POST /m",            // 5
		"X-CUSTOM /m",        // 6
		"DELETE /m",          // 7
		"GET /m/{id}",        // 8
		"POST /m/{rest+}",    // 9
		"GET /g/{id}",        // 10
		"ANY /g/{id}/{all+}", // 11
	)
	runLookups(t, rt, []lookupCase{
		{name: "unknown literal", method: "GET", path: "/owners", result: NotFound},
		{name: "root not declared", method: "GET", path: "/", result: NotFound},
		{name: "empty path not declared", method: "GET", path: "", result: NotFound},
		{name: "wrong method on param", method: "POST", path: "/pets/1", result: MethodNotAllowed, template: "/pets/{id}", allow: "DELETE, GET"},
		{name: "wrong method on literal", method: "GET", path: "/pets", result: MethodNotAllowed, template: "/pets", allow: "PUT"},
		{name: "HEAD without GET", method: "HEAD", path: "/pets", result: MethodNotAllowed, template: "/pets", allow: "PUT"},
		{name: "allow sorted byte-wise", method: "PATCH", path: "/m", result: MethodNotAllowed, template: "/m", allow: "DELETE, POST, X-CUSTOM"},
		{name: "allow of the highest-precedence resource", method: "PUT", path: "/m/1", result: MethodNotAllowed, template: "/m/{id}", allow: "GET"},
		{name: "lower resource serves the method", method: "POST", path: "/m/1", result: Found, value: 9, params: "rest=1"},
		{name: "greedy resource alone", method: "PUT", path: "/m/1/2", result: MethodNotAllowed, template: "/m/{rest+}", allow: "POST"},
		{name: "greedy needs a segment", method: "GET", path: "/api", result: NotFound},
		{name: "greedy needs a segment, trailing slash", method: "GET", path: "/api/", result: NotFound},
		{name: "greedy does not take an empty segment", method: "GET", path: "/api//", result: NotFound},
		{name: "greedy takes one", method: "GET", path: "/api/v", result: Found, value: 3, params: "proxy=v"},
		{name: "param never empty", method: "GET", path: "/pets//", result: NotFound},
		{name: "intermediate node has no methods", method: "POST", path: "/x", result: NotFound},
		{name: "too deep", method: "POST", path: "/x/y/z", result: NotFound},
		{name: "ANY deeper does not serve shallower", method: "PUT", path: "/g/1", result: MethodNotAllowed, template: "/g/{id}", allow: "GET"},
		{name: "ANY deeper serves deeper", method: "PUT", path: "/g/1/2/3", result: Found, value: 11, matched: "ANY", params: "id=1,all=2/3"},
		{name: "relative path", method: "GET", path: "api/v", result: NotFound},
	})
}

func TestLookupMethods(t *testing.T) {
	rt := build(t,
		"GET /h",         // 0
		"HEAD /h",        // 1
		"GET /g",         // 2
		"GET /ga",        // 3
		"ANY /ga",        // 4
		"ANY /a",         // 5
		"POST /a",        // 6
		"GET /x/{id}",    // 7
		"ANY /x/{p+}",    // 8
		"ANY /y/{id}",    // 9
		"POST /y/{p+}",   // 10
		"X-CUSTOM /c",    // 11
		"DELETE /d/{id}", // 12
		"GET /d/{p+}",    // 13
	)
	runLookups(t, rt, []lookupCase{
		{name: "HEAD route preferred", method: "HEAD", path: "/h", result: Found, value: 1, matched: "HEAD"},
		{name: "GET on resource with HEAD", method: "GET", path: "/h", result: Found, value: 0, matched: "GET"},
		{name: "HEAD falls back to GET", method: "HEAD", path: "/g", result: Found, value: 2, matched: "GET", template: "/g"},
		{name: "HEAD prefers GET to ANY", method: "HEAD", path: "/ga", result: Found, value: 3, matched: "GET"},
		{name: "other method takes ANY", method: "PUT", path: "/ga", result: Found, value: 4, matched: "ANY"},
		{name: "declared beats ANY", method: "POST", path: "/a", result: Found, value: 6, matched: "POST"},
		{name: "ANY takes GET", method: "GET", path: "/a", result: Found, value: 5, matched: "ANY"},
		{name: "ANY takes HEAD", method: "HEAD", path: "/a", result: Found, value: 5, matched: "ANY"},
		{name: "ANY takes custom", method: "BREW", path: "/a", result: Found, value: 5, matched: "ANY"},
		{name: "param GET", method: "GET", path: "/x/1", result: Found, value: 7, matched: "GET", params: "id=1"},
		{name: "param HEAD by GET before greedy ANY", method: "HEAD", path: "/x/1", result: Found, value: 7, matched: "GET", params: "id=1"},
		{name: "falls through to greedy ANY", method: "DELETE", path: "/x/1", result: Found, value: 8, matched: "ANY", params: "p=1"},
		{name: "resource ANY beats greedy declared", method: "POST", path: "/y/1", result: Found, value: 9, matched: "ANY", params: "id=1"},
		{name: "custom method", method: "X-CUSTOM", path: "/c", result: Found, value: 11, matched: "X-CUSTOM"},
		{name: "custom method not allowed", method: "GET", path: "/c", result: MethodNotAllowed, template: "/c", allow: "X-CUSTOM"},
		{name: "HEAD falls back to GET on a lower resource", method: "HEAD", path: "/d/1", result: Found, value: 13, matched: "GET", params: "p=1"},
	})
}

func TestLookupRoot(t *testing.T) {
	rt := build(t, "GET /", "ANY /{proxy+}", "POST /{id}")
	runLookups(t, rt, []lookupCase{
		{name: "root", method: "GET", path: "/", result: Found, value: 0, template: "/"},
		{name: "root HEAD", method: "HEAD", path: "/", result: Found, value: 0, matched: "GET"},
		{name: "root other method", method: "POST", path: "/", result: MethodNotAllowed, template: "/", allow: "GET"},
		{name: "param at root", method: "POST", path: "/a", result: Found, value: 2, params: "id=a"},
		{name: "greedy at root after param", method: "GET", path: "/a", result: Found, value: 1, params: "proxy=a"},
		{name: "greedy at root, two segments", method: "POST", path: "/a/b", result: Found, value: 1, params: "proxy=a/b"},
	})
}

// TestLookupManyLiterals covers nodes that scan their literal children
// and nodes that look them up in a map.
func TestLookupManyLiterals(t *testing.T) {
	for _, n := range []int{1, mapThreshold - 1, mapThreshold, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var routes []string
			for i := 0; i < n; i++ {
				routes = append(routes, fmt.Sprintf("GET /r%d/{id}", i), fmt.Sprintf("GET /r%d", i))
			}
			routes = append(routes, "GET /{other}/{id}")
			rt := build(t, routes...)
			for i := 0; i < n; i++ {
				var p Params
				path := fmt.Sprintf("/r%d/x%d", i, i)
				m := rt.Lookup("GET", path, &p)
				if m.Result != Found || m.Value != 2*i || paramString(&p) != fmt.Sprintf("id=x%d", i) {
					t.Fatalf("Lookup(%q) = %+v, %q; want value %d, id=x%d", path, m, paramString(&p), 2*i, i)
				}
				path = fmt.Sprintf("/r%d", i)
				if m := rt.Lookup("GET", path, &p); m.Result != Found || m.Value != 2*i+1 {
					t.Fatalf("Lookup(%q) = %+v, want value %d", path, m, 2*i+1)
				}
			}
			var p Params
			if m := rt.Lookup("GET", "/zz/1", &p); m.Result != Found || m.Value != 2*n || paramString(&p) != "other=zz,id=1" {
				t.Fatalf("Lookup(/zz/1) = %+v, %q; want value %d", m, paramString(&p), 2*n)
			}
		})
	}
}

func TestLookupMaxParams(t *testing.T) {
	for _, greedy := range []bool{false, true} {
		t.Run(fmt.Sprintf("greedy=%v", greedy), func(t *testing.T) {
			rt := build(t, "GET "+manyParams(MaxParams, greedy))
			var path, want []string
			for i := 0; i < MaxParams; i++ {
				path = append(path, fmt.Sprint(i))
				want = append(want, fmt.Sprintf("p%d=%d", i, i))
			}
			if greedy {
				path = append(path, "x")
				want[MaxParams-1] += "/x"
			}
			var p Params
			m := rt.Lookup("GET", "/"+strings.Join(path, "/"), &p)
			if m.Result != Found || p.N != MaxParams {
				t.Fatalf("Lookup = %+v with %d params, want Found with %d", m, p.N, MaxParams)
			}
			if got := paramString(&p); got != strings.Join(want, ",") {
				t.Errorf("params = %q, want %q", got, strings.Join(want, ","))
			}
		})
	}
}

func TestMatchTemplateNormalised(t *testing.T) {
	rt := build(t, "GET /pets/", "GET /pets/{id}/", "GET /files/{proxy+}/")
	tests := []struct{ name, path, template string }{
		{name: "literal", path: "/pets", template: "/pets"},
		{name: "param", path: "/pets/1", template: "/pets/{id}"},
		{name: "greedy", path: "/files/a/b", template: "/files/{proxy+}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m := rt.Lookup("GET", tt.path, nil); m.Template != tt.template {
				t.Errorf("Template = %q, want %q", m.Template, tt.template)
			}
		})
	}
}

func TestEmptyRouters(t *testing.T) {
	built, err := (&Builder{}).Build()
	if err != nil {
		t.Fatalf("Build() with no routes = %v", err)
	}
	tests := []struct {
		name string
		rt   *Router
	}{
		{name: "built with no routes", rt: built},
		{name: "zero", rt: &Router{}},
		{name: "nil", rt: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"", "/", "/a", "/a/b"} {
				p := Params{N: 2}
				if m := tt.rt.Lookup("GET", path, &p); m != (Match{}) || p.N != 0 {
					t.Errorf("Lookup(%q) = %+v with %d params, want the zero Match", path, m, p.N)
				}
			}
		})
	}
}

func TestBuilderReuse(t *testing.T) {
	var b Builder
	if err := b.Add("GET", "/a", 1); err != nil {
		t.Fatal(err)
	}
	first, _ := b.Build()
	if err := b.Add("POST", "/a", 2); err != nil {
		t.Fatal(err)
	}
	if err := b.Add("GET", "/b", 3); err != nil {
		t.Fatal(err)
	}
	second, _ := b.Build()
	tests := []struct {
		name         string
		rt           *Router
		method, path string
		want         Match
	}{
		{name: "first keeps its routes", rt: first, method: "GET", path: "/a", want: Match{Result: Found, Value: 1, Method: "GET", Template: "/a"}},
		{name: "first ignores later method", rt: first, method: "POST", path: "/a", want: Match{Result: MethodNotAllowed, Template: "/a", Allow: "GET"}},
		{name: "first ignores later path", rt: first, method: "GET", path: "/b", want: Match{}},
		{name: "second has the later method", rt: second, method: "POST", path: "/a", want: Match{Result: Found, Value: 2, Method: "POST", Template: "/a"}},
		{name: "second has the later path", rt: second, method: "GET", path: "/b", want: Match{Result: Found, Value: 3, Method: "GET", Template: "/b"}},
		{name: "second allow", rt: second, method: "PUT", path: "/a", want: Match{Result: MethodNotAllowed, Template: "/a", Allow: "GET, POST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rt.Lookup(tt.method, tt.path, nil); got != tt.want {
				t.Errorf("Lookup(%q, %q) = %+v, want %+v", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestParams(t *testing.T) {
	rt := build(t, "GET /a/{x}/{y+}")
	var p Params
	rt.Lookup("GET", "/a/1/2/3", &p)
	tests := []struct {
		name, key, want string
		ok              bool
	}{
		{name: "param", key: "x", want: "1", ok: true},
		{name: "greedy", key: "y", want: "2/3", ok: true},
		{name: "greedy name has no plus", key: "y+", ok: false},
		{name: "unknown", key: "z", ok: false},
		{name: "empty", key: "", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := p.Get(tt.key); got != tt.want || ok != tt.ok {
				t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
			}
		})
	}
	p.Reset()
	if _, ok := p.Get("x"); ok || p.N != 0 {
		t.Errorf("after Reset: N = %d, Get(x) ok = %v; want 0, false", p.N, ok)
	}
	if m := rt.Lookup("GET", "/a/1/2", nil); m.Result != Found {
		t.Errorf("Lookup with nil Params = %+v, want Found", m)
	}
}

func TestResultString(t *testing.T) {
	tests := []struct {
		r    Result
		want string
	}{
		{NotFound, "NotFound"},
		{Found, "Found"},
		{MethodNotAllowed, "MethodNotAllowed"},
		{Result(9), "Result(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLookupConcurrent runs lookups on one Router from several goroutines,
// for the race detector.
func TestLookupConcurrent(t *testing.T) {
	rt := build(t, routes200()...)
	paths := benchPaths()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			var p Params
			for i := 0; i < 200; i++ {
				for _, c := range paths {
					if m := rt.Lookup(c.method, c.path, &p); m.Result != c.want {
						t.Errorf("Lookup(%q, %q) = %v, want %v", c.method, c.path, m.Result, c.want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestLookupAllocs(t *testing.T) {
	rt := build(t, routes200()...)
	tests := []struct{ name, method, path string }{
		{name: "literal", method: "GET", path: "/v1/users/search"},
		{name: "param", method: "GET", path: "/v2/orders/123/items"},
		{name: "greedy", method: "PATCH", path: "/assets/css/site.css"},
		{name: "not found", method: "GET", path: "/nothing/here"},
		{name: "method not allowed", method: "PATCH", path: "/v1/users"},
		{name: "backtracking", method: "GET", path: "/v1/users/search/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Params
			if n := testing.AllocsPerRun(100, func() { rt.Lookup(tt.method, tt.path, &p) }); n != 0 {
				t.Errorf("Lookup(%q, %q) allocates %v times, want 0", tt.method, tt.path, n)
			}
			if n := testing.AllocsPerRun(100, func() { rt.Lookup(tt.method, tt.path, nil) }); n != 0 {
				t.Errorf("Lookup(%q, %q, nil) allocates %v times, want 0", tt.method, tt.path, n)
			}
		})
	}
}
