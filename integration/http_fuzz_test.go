package integration

import (
	"strings"
	"testing"
)

// FuzzTargetExpand checks that no path parameter value can change the
// target's host or put a dot segment in its path, and that expansion never
// panics.
func FuzzTargetExpand(f *testing.F) {
	for _, s := range []string{"7", "a/b", "..", ".", "%2F..%2F", "@evil.com", "a?b#c", "x/../../y", "", "ü/ß", "a//b", "\x00"} {
		f.Add("http://backend.internal:8080/pets/{id}/toys", s)
		f.Add("https://backend.internal/files/{proxy}", s)
		f.Add("http://backend.internal/{rest+}?x=1", s)
	}
	f.Fuzz(func(t *testing.T, target, value string) {
		tmpl, err := parseTarget(target, false)
		if err != nil {
			return
		}
		u, err := tmpl.expand(func(string) (string, bool) { return value, true }, "")
		if err != nil {
			return
		}
		if u.Host != tmpl.base.Host || u.Scheme != tmpl.base.Scheme {
			t.Fatalf("value %q changed the target to %s://%s", value, u.Scheme, u.Host)
		}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("value %q put a dot segment in %q", value, u.EscapedPath())
			}
		}
		if u.String() == "" {
			t.Fatal("empty URL")
		}
	})
}
