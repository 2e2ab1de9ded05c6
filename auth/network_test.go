package auth

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/portico-gw/portico/reqctx"
)

func TestCIDRNetworks(t *testing.T) {
	f, err := CIDRNetworks(map[string][]string{
		"office": {"203.0.113.0/24", "2001:db8:1::/48"},
		"vpn":    {"10.8.0.0/16", "203.0.113.7"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		remote string
		rcIP   string
		want   []string
	}{
		{name: "office v4", remote: "203.0.113.9:1234", want: []string{"office"}},
		{name: "both", remote: "203.0.113.7:1234", want: []string{"office", "vpn"}},
		{name: "office v6", remote: "[2001:db8:1::9]:443", want: []string{"office"}},
		{name: "mapped v4", remote: "[::ffff:10.8.1.1]:1", want: []string{"vpn"}},
		{name: "elsewhere", remote: "198.51.100.1:1", want: nil},
		{name: "context source ip wins", remote: "198.51.100.1:1", rcIP: "10.8.0.1", want: []string{"vpn"}},
		{name: "garbage", remote: "nonsense", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.rcIP != "" {
				r = r.WithContext(reqctx.With(r.Context(), &reqctx.Context{Identity: reqctx.Identity{SourceIP: tt.rcIP}}))
			}
			if got := f(r); !slices.Equal(got, tt.want) {
				t.Fatalf("labels = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := CIDRNetworks(map[string][]string{"x": {"10.0.0.0/40"}}); err == nil {
		t.Fatal("bad CIDR accepted")
	}
	if _, err := CIDRNetworks(map[string][]string{"": {"10.0.0.0/8"}}); err == nil {
		t.Fatal("empty label accepted")
	}
}

func TestLabelNetworks(t *testing.T) {
	var got []string
	h := LabelNetworks(LabelNetworks(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = ContextNetworks(r)
	}), "inner"), "outer")
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if !slices.Equal(got, []string{"outer", "inner"}) {
		t.Fatalf("labels = %v, want [outer inner]", got)
	}
	joined := JoinNetworks(ContextNetworks, func(*http.Request) []string { return []string{"inner", "x"} })
	r := httptest.NewRequest("GET", "/", nil)
	LabelNetworks(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = joined(r) }), "inner").ServeHTTP(httptest.NewRecorder(), r)
	if !slices.Equal(got, []string{"inner", "x"}) {
		t.Fatalf("joined = %v, want [inner x]", got)
	}
}
