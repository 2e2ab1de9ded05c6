package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCacheExample walks through what the command's comment shows.
func TestCacheExample(t *testing.T) {
	gw, stage, err := newGateway(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(context.Background())
	srv := httptest.NewServer(newMux(gw, stage))
	defer srv.Close()
	type result struct {
		status int
		xcache string
		body   string
		warn   bool
	}
	do := func(method, path string, hdr ...string) result {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return result{res.StatusCode, res.Header.Get("X-Cache"), string(b), res.Header.Get("Warning") != ""}
	}
	first := do("GET", "/prod/pets/1?lang=en")
	steps := []struct {
		name       string
		method     string
		path       string
		hdr        []string
		wantCache  string
		sameAsHit  bool // body equals the first response
		wantWarn   bool
		wantStatus int
	}{
		{"hit", "GET", "/prod/pets/1?lang=en", nil, "Hit", true, false, 200},
		{"unkeyed parameter shares", "GET", "/prod/pets/1?lang=en&utm=mail", nil, "Hit", true, false, 200},
		{"keyed parameter splits", "GET", "/prod/pets/1?lang=fr", nil, "Miss", false, false, 200},
		{"refresh without the token", "GET", "/prod/pets/1?lang=en", []string{"Cache-Control", "max-age=0"}, "Hit", true, true, 200},
		{"refresh with the token", "GET", "/prod/pets/1?lang=en", []string{"Cache-Control", "max-age=0", "X-Admin-Token", "s3cret"}, "Miss", false, false, 200},
		{"uncached route", "GET", "/prod/pets/1/live", nil, "", false, false, 200},
		{"flush needs the token", "POST", "/admin/flush", nil, "", false, false, 403},
		{"flush", "POST", "/admin/flush", []string{"X-Admin-Token", "s3cret"}, "", false, false, 200},
		{"miss after the flush", "GET", "/prod/pets/1?lang=en", nil, "Miss", false, false, 200},
	}
	for _, st := range steps {
		got := do(st.method, st.path, st.hdr...)
		if got.status != st.wantStatus || got.xcache != st.wantCache || got.warn != st.wantWarn || (got.body == first.body) != st.sameAsHit {
			t.Fatalf("%s: got %+v, want status %d X-Cache %q warning %v same body %v", st.name, got, st.wantStatus, st.wantCache, st.wantWarn, st.sameAsHit)
		}
	}
	// The per-caller route never serves one caller's response to another.
	a := do("GET", "/prod/pets/1/secret", "Authorization", "Bearer alice")
	b := do("GET", "/prod/pets/1/secret", "Authorization", "Bearer bob")
	if b.xcache != "Miss" || a.body == b.body {
		t.Fatalf("bob got %+v after alice's %+v: responses must not be shared", b, a)
	}
	if s := stage.CacheStats(); s.Hits == 0 || s.Misses == 0 || !strings.Contains(first.body, `"greeting":"Hello"`) {
		t.Fatalf("stats %+v, first body %q", s, first.body)
	}
}
