package integration

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzTargetExpand checks that target expansion never panics, that no path
// parameter value can change the target's scheme or host or reach its
// query, and that no expanded path has a "." or ".." segment, escaped or
// not.
func FuzzTargetExpand(f *testing.F) {
	values := []string{"7", "a/b", "..", ".", "%2F..%2F", "%2e%2e", "@evil.com", "//evil.com/x", "a?b#c", "x/../../y", "", "ü/ß", "a//b", "\x00", `..\..`, "a/", "/a", "./"}
	for _, v := range values {
		f.Add("http://backend.internal:8080/pets/{id}/toys", v)
		f.Add("https://backend.internal/files/{proxy}", v)
		f.Add("http://backend.internal/{rest+}?x=1", v)
		f.Add("http://[::1]:80/a%2Fb/{id}/", v)
	}
	f.Fuzz(func(t *testing.T, target, value string) {
		tmpl, err := parseTarget(target, false)
		if err != nil {
			return
		}
		params := map[string]string{}
		for _, p := range tmpl.parts {
			if p.param != "" {
				params[p.param] = value
			}
		}
		u, err := tmpl.expand(params, nil, "q=1")
		if err != nil {
			return
		}
		if u.Scheme != tmpl.scheme || u.Host != tmpl.host {
			t.Fatalf("value %q changed the target to %s://%s", value, u.Scheme, u.Host)
		}
		want := "q=1"
		if tmpl.query != "" {
			want = tmpl.query + "&q=1"
		}
		if u.RawQuery != want {
			t.Fatalf("value %q changed the query to %q, want %q", value, u.RawQuery, want)
		}
		s := u.String()
		back, err := url.Parse(s)
		if err != nil {
			t.Fatalf("expanded %q does not parse: %v", s, err)
		}
		if back.Host != tmpl.host || back.Scheme != tmpl.scheme || back.RawQuery != u.RawQuery || back.Fragment != "" {
			t.Fatalf("value %q: %q parses back to %s://%s ?%s #%s", value, s, back.Scheme, back.Host, back.RawQuery, back.Fragment)
		}
		for seg := range strings.SplitSeq(back.EscapedPath(), "/") {
			dec, err := url.PathUnescape(seg)
			if err != nil {
				t.Fatalf("value %q: bad escape in %q", value, back.EscapedPath())
			}
			if seg == "." || seg == ".." || dec == "." || dec == ".." {
				t.Fatalf("value %q put a dot segment in %q", value, back.EscapedPath())
			}
		}
	})
}
