package throttle_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/portico-gw/portico/throttle"
)

func TestParseMethodKey(t *testing.T) {
	tests := []struct {
		in           string
		method, path string
		ok           bool
	}{
		{"*/*", "*", "*", true},
		{"/pets/{id}/GET", "GET", "/pets/{id}", true},
		{"pets/{id}/GET", "GET", "/pets/{id}", true},
		{"~1pets~1{id}/GET", "GET", "/pets/{id}", true},
		{"/pets/*", "*", "/pets", true},
		{"*/POST", "POST", "*", true},
		{"/*/POST", "POST", "*", true},
		{"//GET", "GET", "/", true},
		{"/GET", "GET", "/", true},
		{"/pets/ANY", "ANY", "/pets", true},
		{"/{proxy+}/ANY", "ANY", "/{proxy+}", true},
		{"GET /pets/{id}", "GET", "/pets/{id}", true},
		{"GET /pets/", "GET", "/pets", true},
		{"ANY /{proxy+}", "ANY", "/{proxy+}", true},
		{"$default", "ANY", "$default", true},
		{"GET *", "GET", "*", true},
		{"", "", "", false},
		{"GET", "", "", false},
		{"/pets/get", "", "", false},
		{"/pets/", "", "", false},
		{"get /pets", "", "", false},
		{"GET pets", "", "", false},
		{"* /pets", "", "", false},
		{"GET /a b", "", "", false},
		{"/pets\n/GET", "", "", false},
	}
	for _, tt := range tests {
		got, err := throttle.ParseMethodKey(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseMethodKey(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, throttle.ErrBadMethodKey) {
				t.Errorf("ParseMethodKey(%q) error %v does not wrap ErrBadMethodKey", tt.in, err)
			}
			continue
		}
		if want := (throttle.MethodKey{Method: tt.method, Path: tt.path}); got != want {
			t.Errorf("ParseMethodKey(%q) = %+v, want %+v", tt.in, got, want)
		}
	}
}

func FuzzParseMethodKey(f *testing.F) {
	for _, s := range []string{"*/*", "/pets/{id}/GET", "~1a~1b/POST", "GET /x", "$default", "/*/ANY", "a/", " ", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := throttle.ParseMethodKey(s)
		if err != nil {
			return
		}
		// A parsed key prints as a route key that parses to itself.
		again, err := throttle.ParseMethodKey(k.String())
		if k.Method != "*" && err != nil {
			t.Fatalf("ParseMethodKey(%q) = %+v, whose String %q does not parse: %v", s, k, k.String(), err)
		}
		if err == nil && again != k {
			t.Fatalf("ParseMethodKey(%q) = %+v; String %q parses to %+v", s, k, k.String(), again)
		}
		if k.Path != "*" && k.Path != "$default" && !strings.HasPrefix(k.Path, "/") {
			t.Fatalf("ParseMethodKey(%q) path %q does not start with /", s, k.Path)
		}
	})
}

func TestMethodLimitsLookup(t *testing.T) {
	l := func(r float64) throttle.Limit { return throttle.Limit{Rate: r, Burst: 1} }
	ml, err := throttle.ParseMethodLimits(map[string]throttle.Limit{
		"*/*":            l(1),
		"*/GET":          l(2),
		"/pets/*":        l(3),
		"/pets/{id}/GET": l(4),
		"DELETE /pets":   l(5),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		rate         float64
		exact        bool
	}{
		{"GET", "/pets/{id}", 4, true},
		{"PUT", "/pets", 3, true},
		{"DELETE", "/pets", 5, true},
		{"GET", "/owners", 2, false},
		{"POST", "/owners", 1, false},
		{"ANY", "$default", 1, false},
	}
	for _, tt := range tests {
		got, exact, ok := ml.Lookup(tt.method, tt.path)
		if !ok || got.Rate != tt.rate || exact != tt.exact {
			t.Errorf("Lookup(%s %s) = %v, exact %v, %v; want rate %v, exact %v", tt.method, tt.path, got, exact, ok, tt.rate, tt.exact)
		}
	}
	var empty throttle.MethodLimits
	if _, _, ok := empty.Lookup("GET", "/"); ok {
		t.Error("empty MethodLimits found a limit")
	}
}

func TestParseMethodLimitsErrors(t *testing.T) {
	tests := []struct {
		name string
		m    map[string]throttle.Limit
		want string
	}{
		{"bad key", map[string]throttle.Limit{"pets": {Rate: 1, Burst: 1}}, "bad method key"},
		{"bad limit", map[string]throttle.Limit{"*/*": {Rate: 1}}, "burst 0"},
		{"same method twice", map[string]throttle.Limit{"/pets/GET": {Rate: 1, Burst: 1}, "GET /pets": {Rate: 2, Burst: 1}}, `"/pets/GET" and "GET /pets" name the same methods`},
	}
	for _, tt := range tests {
		_, err := throttle.ParseMethodLimits(tt.m)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}
