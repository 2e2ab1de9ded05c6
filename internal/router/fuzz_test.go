package router

import (
	"strings"
	"testing"
)

// concrete turns a template into a path it must match: parameters become
// "x", a greedy parameter "a/b".
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

func FuzzAdd(f *testing.F) {
	for _, s := range []string{"/", "/pets", "/pets/{id}", "/files/{proxy+}", "/a/{b}/c/{d+}", "/{a}/{a}", "/a{b}", "/{", "//", "/a/%2F/{x}", "/{a.b,c:d-e_f}"} {
		f.Add("GET", s)
		f.Add("ANY", s)
	}
	f.Add("get", "/x")
	f.Fuzz(func(t *testing.T, method, template string) {
		var b Builder
		if err := b.Add(method, template, 1); err != nil {
			if _, ok := err.(*TemplateError); !ok {
				t.Fatalf("Add error of type %T", err)
			}
			return
		}
		rt, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		m := method
		if m == "ANY" {
			m = "GET"
		}
		var p Params
		path := concrete(template)
		if got := rt.Lookup(m, path, &p); got.Result != Found || got.Value != 1 {
			t.Fatalf("%s %q added, but Lookup(%q) = %+v", method, template, path, got)
		}
	})
}

func FuzzLookup(f *testing.F) {
	var b Builder
	for i, r := range []string{"GET /", "GET /pets", "GET /pets/{id}", "ANY /files/{proxy+}", "GET /a/{x}/c", "GET /a/b/d", "ANY /{proxy+}", "POST /pets/{id}/toys/{toy}"} {
		m, p, _ := strings.Cut(r, " ")
		if err := b.Add(m, p, i); err != nil {
			f.Fatal(err)
		}
	}
	rt, err := b.Build()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"/", "", "/pets/1", "/files/a/b", "/a/b/c", "//", "/pets//toys/", "pets", "/%zz/{x}"} {
		f.Add("GET", s)
		f.Add("POST", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		var p Params
		m := rt.Lookup(method, path, &p)
		switch m.Result {
		case Found:
			for i := 0; i < p.N; i++ {
				if p.Values[i] == "" || !strings.Contains(path, p.Values[i]) {
					t.Fatalf("Lookup(%q) param %s=%q is not a non-empty part of the path", path, p.Keys[i], p.Values[i])
				}
			}
		case NotFound, MethodNotAllowed:
			if p.N != 0 {
				t.Fatalf("Lookup(%q) = %v with %d params", path, m.Result, p.N)
			}
		default:
			t.Fatalf("unknown result %d", m.Result)
		}
	})
}
