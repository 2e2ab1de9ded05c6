package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/cache"
	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/reqctx"
)

// backend is an integration that counts its calls and answers through fn
// (by default: 200, the call number, path and query).
type backend struct {
	calls atomic.Int64
	fn    func(w http.ResponseWriter, r *http.Request, n int64)
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := b.calls.Add(1)
	if b.fn != nil {
		b.fn(w, r, n)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "call %d %s?%s", n, r.URL.Path, r.URL.RawQuery)
}

type fixture struct {
	c     *cache.Cache
	store *cache.MemoryStore
	clk   *fakeclock.Clock
	be    *backend
	h     http.Handler
}

// newFixture builds a cache on a fresh memory store and a fake clock, with
// rule around be, mounted on a mux at pattern (so that r.Pattern and path
// values are set as in a gateway).
func newFixture(t *testing.T, pattern string, rule cache.Rule, be *backend, opts ...cache.Option) *fixture {
	t.Helper()
	store, err := cache.NewMemoryStore(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.New(t0)
	opts = append([]cache.Option{cache.WithClock(clk), cache.WithStatusHeader("X-Cache"), cache.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	c, err := cache.New(store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mw, err := c.Middleware(rule)
	if err != nil {
		t.Fatal(err)
	}
	if be == nil {
		be = &backend{}
	}
	mux := http.NewServeMux()
	mux.Handle(pattern, mw(be))
	return &fixture{c: c, store: store, clk: clk, be: be, h: mux}
}

// do serves one request; hdr holds header name/value pairs.
func (f *fixture) do(method, target string, hdr ...string) *httptest.ResponseRecorder {
	return serveReq(f.h, method, target, nil, hdr...)
}

func serveReq(h http.Handler, method, target string, rc *reqctx.Context, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	if rc != nil {
		req = req.WithContext(reqctx.With(req.Context(), rc))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func wantCache(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if got := rec.Header().Get("X-Cache"); got != want {
		t.Fatalf("X-Cache = %q, want %q (status %d, body %q)", got, want, rec.Code, rec.Body)
	}
}

func TestHitMissAndTTL(t *testing.T) {
	tests := []struct {
		name string
		rule cache.Rule
		opts []cache.Option
		ttl  time.Duration
	}{
		{"default TTL", cache.Rule{}, nil, cache.DefaultTTL},
		{"cache TTL", cache.Rule{}, []cache.Option{cache.WithTTL(time.Minute)}, time.Minute},
		{"rule TTL overrides", cache.Rule{TTL: 10 * time.Second}, []cache.Option{cache.WithTTL(time.Minute)}, 10 * time.Second},
		{"lifted maximum", cache.Rule{TTL: 2 * time.Hour}, []cache.Option{cache.WithMaxTTL(3 * time.Hour)}, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "GET /pets/{id}", tt.rule, nil, tt.opts...)
			first := f.do("GET", "/pets/1")
			wantCache(t, first, "Miss")
			second := f.do("GET", "/pets/1")
			wantCache(t, second, "Hit")
			if second.Body.String() != first.Body.String() || second.Code != 200 {
				t.Fatalf("hit = %d %q, want 200 %q", second.Code, second.Body, first.Body)
			}
			f.clk.Advance(tt.ttl - time.Second)
			wantCache(t, f.do("GET", "/pets/1"), "Hit")
			f.clk.Advance(time.Second)
			expired := f.do("GET", "/pets/1")
			wantCache(t, expired, "Miss")
			if got := f.be.calls.Load(); got != 2 {
				t.Fatalf("integration calls = %d, want 2", got)
			}
			if !strings.HasPrefix(expired.Body.String(), "call 2 ") {
				t.Fatalf("body after expiry = %q, want a fresh response", expired.Body)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	tests := []struct {
		name      string
		methods   []string
		method    string
		wantCalls int64 // after two identical requests
	}{
		{"GET cached by default", nil, "GET", 1},
		{"POST not cached by default", nil, "POST", 2},
		{"DELETE not cached by default", nil, "DELETE", 2},
		{"POST cached when the rule opts in", []string{"GET", "POST"}, "POST", 1},
		{"GET not cached when not listed", []string{"POST"}, "GET", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "/items", cache.Rule{Methods: tt.methods}, nil)
			f.do(tt.method, "/items")
			f.do(tt.method, "/items")
			if got := f.be.calls.Load(); got != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestHeadServedFromGetEntry(t *testing.T) {
	f := newFixture(t, "/items", cache.Rule{}, nil)
	wantCache(t, f.do("HEAD", "/items"), "Miss") // a HEAD miss does not fill
	wantCache(t, f.do("HEAD", "/items"), "Miss")
	get := f.do("GET", "/items")
	head := f.do("HEAD", "/items")
	wantCache(t, head, "Hit")
	if head.Body.Len() != 0 {
		t.Fatalf("HEAD hit wrote a body: %q", head.Body)
	}
	if got, want := head.Header().Get("Content-Length"), fmt.Sprint(get.Body.Len()); got != want {
		t.Fatalf("HEAD Content-Length = %q, want %q", got, want)
	}
	if got := f.be.calls.Load(); got != 3 {
		t.Fatalf("calls = %d, want 3", got)
	}
}

func TestStatuses(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		status   int
		cached   bool
	}{
		{"200 by default", nil, 200, true},
		{"204 by default", nil, 204, true},
		{"206 never by default", nil, 206, false},
		{"404 not by default", nil, 404, false},
		{"429 not by default", nil, 429, false},
		{"500 not by default", nil, 500, false},
		{"404 when listed", []int{200, 404}, 404, true},
		{"200 not when unlisted", []int{404}, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) {
				w.WriteHeader(tt.status)
				if tt.status != 204 {
					fmt.Fprintf(w, "call %d", n)
				}
			}}
			f := newFixture(t, "/x", cache.Rule{Statuses: tt.statuses}, be)
			f.do("GET", "/x")
			rec := f.do("GET", "/x")
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := be.calls.Load() == 1; got != tt.cached {
				t.Fatalf("cached = %v (calls %d), want %v", got, be.calls.Load(), tt.cached)
			}
		})
	}
}

func TestKeyParams(t *testing.T) {
	type req struct {
		target string
		hdr    []string
	}
	tests := []struct {
		name  string
		key   cache.KeyParams
		a, b  req
		share bool
	}{
		{"whole path by default: ids split", cache.KeyParams{}, req{"/pets/1", nil}, req{"/pets/2", nil}, false},
		{"whole path: escapes split", cache.KeyParams{}, req{"/pets/a%2Fb", nil}, req{"/pets/a", nil}, false},
		{"template only: every id shares", cache.KeyParams{Path: []string{}}, req{"/pets/1", nil}, req{"/pets/2", nil}, true},
		{"declared path parameter splits", cache.KeyParams{Path: []string{"id"}}, req{"/pets/1", nil}, req{"/pets/2", nil}, false},
		{"undeclared query shares", cache.KeyParams{}, req{"/pets/1?type=a&dept=A", nil}, req{"/pets/1?type=a&dept=B", nil}, true},
		{"declared query splits", cache.KeyParams{Query: []string{"dept"}}, req{"/pets/1?type=a&dept=A", nil}, req{"/pets/1?type=a&dept=B", nil}, false},
		{"declared query: same value shares", cache.KeyParams{Query: []string{"dept"}}, req{"/pets/1?dept=A&x=1", nil}, req{"/pets/1?x=2&dept=A", nil}, true},
		{"declared query: absent and empty differ", cache.KeyParams{Query: []string{"dept"}}, req{"/pets/1", nil}, req{"/pets/1?dept=", nil}, false},
		{"declared query: order of values counts", cache.KeyParams{Query: []string{"d"}}, req{"/pets/1?d=1&d=2", nil}, req{"/pets/1?d=2&d=1", nil}, false},
		{"undeclared header shares", cache.KeyParams{}, req{"/pets/1", []string{"Accept-Language", "en"}}, req{"/pets/1", []string{"Accept-Language", "fr"}}, true},
		{"declared header splits (any case)", cache.KeyParams{Headers: []string{"accept-language"}}, req{"/pets/1", []string{"Accept-Language", "en"}}, req{"/pets/1", []string{"Accept-Language", "fr"}}, false},
		{"declared header: same value shares", cache.KeyParams{Headers: []string{"Accept-Language"}}, req{"/pets/1", []string{"Accept-Language", "en", "X-Other", "1"}}, req{"/pets/1", []string{"Accept-Language", "en"}}, true},
		{"values do not run together", cache.KeyParams{Query: []string{"a", "b"}}, req{"/pets/1?a=xy&b=z", nil}, req{"/pets/1?a=x&b=yz", nil}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "GET /pets/{id}", cache.Rule{Key: tt.key}, nil)
			f.do("GET", tt.a.target, tt.a.hdr...)
			rec := f.do("GET", tt.b.target, tt.b.hdr...)
			if got := rec.Header().Get("X-Cache") == "Hit"; got != tt.share {
				t.Fatalf("second request shared the entry = %v, want %v (calls %d)", got, tt.share, f.be.calls.Load())
			}
		})
	}
}

func TestIdentityIsolation(t *testing.T) {
	type caller struct {
		auth      string
		apiKeyID  string
		principal string
	}
	tests := []struct {
		name     string
		identity cache.Identity
		public   bool
		a, b     caller
		share    bool
	}{
		{"anonymous callers share", 0, false, caller{}, caller{}, true},
		{"different Authorization headers split", 0, false, caller{auth: "Bearer a"}, caller{auth: "Bearer b"}, false},
		{"authenticated and anonymous split", 0, false, caller{auth: "Bearer a"}, caller{}, false},
		{"same Authorization header shares", 0, false, caller{auth: "Bearer a"}, caller{auth: "Bearer a"}, true},
		{"different API keys split", 0, false, caller{apiKeyID: "k1"}, caller{apiKeyID: "k2"}, false},
		{"different principals split", 0, false, caller{principal: "alice"}, caller{principal: "bob"}, false},
		{"public responses are shared", 0, true, caller{auth: "Bearer a"}, caller{auth: "Bearer b"}, true},
		{"public, keyed by API key: same key shares", cache.IdentityAPIKey, true, caller{apiKeyID: "k1", principal: "alice"}, caller{apiKeyID: "k1", principal: "bob"}, true},
		{"public, keyed by API key: keys split", cache.IdentityAPIKey, true, caller{apiKeyID: "k1"}, caller{apiKeyID: "k2"}, false},
		{"keyed by API key: tenants share across principals", cache.IdentityAPIKey, false, caller{apiKeyID: "k1", principal: "alice"}, caller{apiKeyID: "k1", principal: "bob"}, true},
		{"keyed by API key but none given: falls back to everything", cache.IdentityAPIKey, false, caller{auth: "Bearer a"}, caller{auth: "Bearer b"}, false},
		{"keyed by principal", cache.IdentityPrincipal, false, caller{principal: "alice", auth: "t1"}, caller{principal: "alice", auth: "t2"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "/me", cache.Rule{Identity: tt.identity, Public: tt.public}, nil)
			send := func(c caller) *httptest.ResponseRecorder {
				var hdr []string
				if c.auth != "" {
					hdr = []string{"Authorization", c.auth}
				}
				rc := &reqctx.Context{APIKeyID: c.apiKeyID}
				rc.Authorizer.PrincipalID = c.principal
				return serveReq(f.h, "GET", "/me", rc, hdr...)
			}
			send(tt.a)
			rec := send(tt.b)
			if got := rec.Header().Get("X-Cache") == "Hit"; got != tt.share {
				t.Fatalf("second caller served the first one's entry = %v, want %v", got, tt.share)
			}
		})
	}
}

// TestUnkeyedHeaderCannotPoison shows what the key protects: once a response
// is cached, a header left out of the key changes nothing for others — not
// by itself, and not combined with a refresh the caller may not make.
func TestUnkeyedHeaderCannotPoison(t *testing.T) {
	reflect := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) {
		host := r.Header.Get("X-Forwarded-Host")
		if host == "" {
			host = "api.example.com"
		}
		fmt.Fprintf(w, `<script src="https://%s/app.js">`, host)
	}}
	const clean = `<script src="https://api.example.com/app.js">`
	t.Run("unkeyed header after the entry is cached", func(t *testing.T) {
		f := newFixture(t, "/page", cache.Rule{}, reflect)
		if got := f.do("GET", "/page").Body.String(); got != clean {
			t.Fatalf("victim got %q", got)
		}
		for _, hdr := range [][]string{
			{"X-Forwarded-Host", "evil.example"},
			{"X-Forwarded-Host", "evil.example", "Cache-Control", "max-age=0"},
		} {
			if got := f.do("GET", "/page", hdr...).Body.String(); got != clean {
				t.Fatalf("attacker with %q got %q, want the cached response", hdr, got)
			}
		}
		if got := f.do("GET", "/page").Body.String(); got != clean {
			t.Fatalf("victim after the attack got %q, want %q", got, clean)
		}
		if got := reflect.calls.Load(); got != 1 {
			t.Fatalf("integration calls = %d, want 1", got)
		}
	})
	t.Run("keyed header even when the attacker is first", func(t *testing.T) {
		reflect.calls.Store(0)
		f := newFixture(t, "/page", cache.Rule{Key: cache.KeyParams{Headers: []string{"X-Forwarded-Host"}}}, reflect)
		f.do("GET", "/page", "X-Forwarded-Host", "evil.example")
		if got := f.do("GET", "/page").Body.String(); got != clean {
			t.Fatalf("victim got %q, want %q", got, clean)
		}
	})
}

func TestInvalidation(t *testing.T) {
	allow := func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" }
	tests := []struct {
		name        string
		inv         cache.Invalidation
		hdr         []string
		wantStatus  int
		wantFresh   bool // served and stored a new response
		wantWarning bool
	}{
		{"authorised caller refreshes", cache.Invalidation{Authorize: allow}, []string{"X-Admin", "yes"}, 200, true, false},
		{"unauthorised, default strategy: header", cache.Invalidation{Authorize: allow}, nil, 200, false, true},
		{"unauthorised, no Authorize: nobody may", cache.Invalidation{}, []string{"X-Admin", "yes"}, 200, false, true},
		{"unauthorised, SUCCEED_WITH_RESPONSE_HEADER", cache.Invalidation{Authorize: allow, Unauthorized: cache.SucceedWithResponseHeader}, nil, 200, false, true},
		{"unauthorised, SUCCEED_WITHOUT_RESPONSE_HEADER", cache.Invalidation{Authorize: allow, Unauthorized: cache.SucceedWithoutResponseHeader}, nil, 200, false, false},
		{"unauthorised, FAIL_WITH_403", cache.Invalidation{Authorize: allow, Unauthorized: cache.FailWith403}, nil, 403, false, false},
		{"insecure: anyone refreshes", cache.Invalidation{InsecureAllowAnyone: true}, nil, 200, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "/x", cache.Rule{}, nil, cache.WithInvalidation(tt.inv))
			f.do("GET", "/x")
			rec := f.do("GET", "/x", append([]string{"Cache-Control", "max-age=0"}, tt.hdr...)...)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%q)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == 403 {
				if got := rec.Header().Get("X-Amzn-Errortype"); got != "AccessDeniedException" {
					t.Fatalf("error type = %q, want AccessDeniedException", got)
				}
			}
			if got := rec.Header().Get("Warning") != ""; got != tt.wantWarning {
				t.Fatalf("Warning header present = %v, want %v (%q)", got, tt.wantWarning, rec.Header().Get("Warning"))
			}
			wantCalls := int64(1)
			if tt.wantFresh {
				wantCalls = 2
				if !strings.HasPrefix(rec.Body.String(), "call 2") {
					t.Fatalf("refresh served %q, want a fresh response", rec.Body)
				}
			}
			if got := f.be.calls.Load(); got != wantCalls {
				t.Fatalf("calls = %d, want %d", got, wantCalls)
			}
			// What everyone gets next: the refreshed entry, or the old one.
			after := f.do("GET", "/x")
			wantCache(t, after, "Hit")
			if want := fmt.Sprintf("call %d", wantCalls); !strings.HasPrefix(after.Body.String(), want) {
				t.Fatalf("next request got %q, want %q…", after.Body, want)
			}
			st := f.c.Stats()
			if tt.wantFresh && st.Invalidations != 1 || !tt.wantFresh && st.DeniedInvalidations != 1 {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}

func TestRefreshToUncacheableDeletesEntry(t *testing.T) {
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) {
		if n > 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintf(w, "call %d", n)
	}}
	f := newFixture(t, "/x", cache.Rule{}, be, cache.WithInvalidation(cache.Invalidation{InsecureAllowAnyone: true}))
	f.do("GET", "/x")
	if rec := f.do("GET", "/x", "Cache-Control", "no-cache, max-age=0"); rec.Code != 503 {
		t.Fatalf("refresh status = %d, want 503", rec.Code)
	}
	wantCache(t, f.do("GET", "/x"), "Miss")
}

func TestFlush(t *testing.T) {
	store, _ := cache.NewMemoryStore(1 << 20)
	clk := fakeclock.New(t0)
	be := &backend{}
	mk := func(ns string) http.Handler {
		c, err := cache.New(store, cache.WithNamespace(ns), cache.WithClock(clk), cache.WithStatusHeader("X-Cache"))
		if err != nil {
			t.Fatal(err)
		}
		mw, _ := c.Middleware(cache.Rule{})
		return mw(be)
	}
	prod, dev := mk("pets/prod"), mk("pets/dev")
	serveReq(prod, "GET", "/a", nil)
	serveReq(dev, "GET", "/a", nil)
	c, _ := cache.New(store, cache.WithNamespace("pets/prod"))
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCache(t, serveReq(prod, "GET", "/a", nil), "Miss")
	wantCache(t, serveReq(dev, "GET", "/a", nil), "Hit")
}

func TestFlushDuringFetchDropsResponse(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) {
		if n == 1 {
			close(entered)
			<-release
		}
		fmt.Fprintf(w, "call %d", n)
	}}
	f := newFixture(t, "/x", cache.Rule{}, be)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.do("GET", "/x")
	}()
	<-entered
	if err := f.c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(release)
	<-done
	wantCache(t, f.do("GET", "/x"), "Miss")
}

// waitFor spins until cond holds, failing after a real-time bound (the
// goroutines it waits for are runnable: no sleeping involved).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func TestStampede(t *testing.T) {
	const n = 8
	tests := []struct {
		name      string
		status    int
		wantCalls int64
	}{
		{"cacheable response: one call", 200, 1},
		{"uncacheable response: the waiters call for themselves", 500, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			be := &backend{fn: func(w http.ResponseWriter, r *http.Request, k int64) {
				if k == 1 {
					<-release
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, "shared")
			}}
			f := newFixture(t, "/hot", cache.Rule{}, be)
			var wg sync.WaitGroup
			bodies := make(chan string, n)
			for range n {
				wg.Go(func() { bodies <- f.do("GET", "/hot").Body.String() })
			}
			waitFor(t, "the waiters", func() bool { return be.calls.Load() == 1 && f.c.Stats().Waiting == n-1 })
			close(release)
			wg.Wait()
			close(bodies)
			for b := range bodies {
				if b != "shared" {
					t.Errorf("body = %q, want shared", b)
				}
			}
			if got := be.calls.Load(); got != tt.wantCalls {
				t.Fatalf("integration calls = %d, want %d", got, tt.wantCalls)
			}
			st := f.c.Stats()
			if tt.status == 200 && (st.Coalesced != n-1 || st.Hits != n-1 || st.Misses != 1 || st.Waiting != 0) {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}

func TestStampedeLeaderPanics(t *testing.T) {
	release := make(chan struct{})
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request, k int64) {
		if k == 1 {
			<-release
			panic(http.ErrAbortHandler)
		}
		fmt.Fprint(w, "ok")
	}}
	f := newFixture(t, "/x", cache.Rule{}, be)
	leaderDone := make(chan any, 1)
	go func() {
		defer func() { leaderDone <- recover() }()
		f.do("GET", "/x")
	}()
	waitFor(t, "the leader", func() bool { return be.calls.Load() == 1 })
	follower := make(chan string, 1)
	go func() { follower <- f.do("GET", "/x").Body.String() }()
	waitFor(t, "the follower", func() bool { return f.c.Stats().Waiting == 1 })
	close(release)
	if p := <-leaderDone; p != http.ErrAbortHandler {
		t.Fatalf("leader panic = %v, want ErrAbortHandler", p)
	}
	if got := <-follower; got != "ok" {
		t.Fatalf("follower got %q, want its own response", got)
	}
}

func TestStampedeWaiterGivesUp(t *testing.T) {
	release := make(chan struct{})
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request, k int64) {
		if k == 1 {
			<-release
		}
		fmt.Fprintf(w, "call %d ctx=%v", k, r.Context().Err())
	}}
	f := newFixture(t, "/x", cache.Rule{}, be)
	leader := make(chan struct{})
	go func() { defer close(leader); f.do("GET", "/x") }()
	waitFor(t, "the leader", func() bool { return be.calls.Load() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 1)
	go func() {
		req := httptest.NewRequest("GET", "/x", nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		got <- rec.Body.String()
	}()
	waitFor(t, "the waiter", func() bool { return f.c.Stats().Waiting == 1 })
	cancel()
	if body := <-got; body != "call 2 ctx=context canceled" {
		t.Fatalf("waiter got %q, want to be passed to the integration with its cancelled context", body)
	}
	close(release)
	<-leader
}

func TestSizeLimits(t *testing.T) {
	const max = 1000
	tests := []struct {
		name   string
		fn     func(w http.ResponseWriter)
		cached bool
	}{
		{"at the limit", func(w http.ResponseWriter) { w.Write(bytes.Repeat([]byte("a"), max)) }, true},
		{"over the limit in one write", func(w http.ResponseWriter) { w.Write(bytes.Repeat([]byte("a"), max+1)) }, false},
		{"over the limit in many writes", func(w http.ResponseWriter) {
			for range 11 {
				w.Write(bytes.Repeat([]byte("a"), 100))
			}
		}, false},
		{"declared over the limit", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "2000")
			w.Write(bytes.Repeat([]byte("a"), 2000))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) { tt.fn(w) }}
			f := newFixture(t, "/x", cache.Rule{}, be, cache.WithMaxEntryBytes(max))
			first := f.do("GET", "/x")
			second := f.do("GET", "/x")
			if first.Body.Len() != second.Body.Len() || first.Body.Len() < max {
				t.Fatalf("bodies of %d and %d bytes: the response must pass through whole", first.Body.Len(), second.Body.Len())
			}
			if got := be.calls.Load() == 1; got != tt.cached {
				t.Fatalf("cached = %v, want %v", got, tt.cached)
			}
		})
	}
}

func TestStreamingNotCached(t *testing.T) {
	tests := []struct {
		name          string
		contentLength bool
		cached        bool
	}{
		{"flushed without Content-Length: a stream", false, false},
		{"flushed with Content-Length", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) {
				if tt.contentLength {
					w.Header().Set("Content-Length", "12")
				}
				io.WriteString(w, "event: a\n")
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("Flush through the cache: %v", err)
				}
				io.WriteString(w, "\n\n\n")
			}}
			f := newFixture(t, "/events", cache.Rule{}, be)
			first := f.do("GET", "/events")
			if !first.Flushed {
				t.Fatal("the flush did not reach the client")
			}
			f.do("GET", "/events")
			if got := be.calls.Load() == 1; got != tt.cached {
				t.Fatalf("cached = %v, want %v", got, tt.cached)
			}
		})
	}
}

func TestUncacheableResponses(t *testing.T) {
	tests := []struct {
		name   string
		key    cache.KeyParams
		hdr    []string
		cached bool
	}{
		{"plain", cache.KeyParams{}, nil, true},
		{"Set-Cookie", cache.KeyParams{}, []string{"Set-Cookie", "session=abc"}, false},
		{"Cache-Control no-store", cache.KeyParams{}, []string{"Cache-Control", "max-age=60, no-store"}, false},
		{"Cache-Control private", cache.KeyParams{}, []string{"Cache-Control", "Private"}, false},
		{"Cache-Control public", cache.KeyParams{}, []string{"Cache-Control", "public, max-age=60"}, true},
		{"Vary on an unkeyed header", cache.KeyParams{}, []string{"Vary", "Accept-Encoding"}, false},
		{"Vary on a keyed header", cache.KeyParams{Headers: []string{"Accept-Encoding"}}, []string{"Vary", "accept-encoding"}, true},
		{"Vary: *", cache.KeyParams{Headers: []string{"Accept-Encoding"}}, []string{"Vary", "*"}, false},
		{"Vary on Authorization, keyed by identity", cache.KeyParams{}, []string{"Vary", "Authorization"}, false},
		{"Trailer", cache.KeyParams{}, []string{"Trailer", "X-Checksum"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) {
				for i := 0; i+1 < len(tt.hdr); i += 2 {
					w.Header().Add(tt.hdr[i], tt.hdr[i+1])
				}
				fmt.Fprint(w, "body")
			}}
			f := newFixture(t, "/x", cache.Rule{Key: tt.key}, be)
			f.do("GET", "/x")
			f.do("GET", "/x")
			if got := be.calls.Load() == 1; got != tt.cached {
				t.Fatalf("cached = %v, want %v", got, tt.cached)
			}
			if !tt.cached && f.c.Stats().Uncacheable != 2 {
				t.Fatalf("stats = %+v, want 2 uncacheable", f.c.Stats())
			}
		})
	}
}

func TestReplayedHeaders(t *testing.T) {
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h["X-Multi"] = []string{"a", "b"}
		h.Set("Connection", "keep-alive")
		h.Set("X-Amzn-Trace-Id", "Root=1")
		h.Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.WriteHeader(201)
		fmt.Fprint(w, `{"n":1}`)
	}}
	f := newFixture(t, "/x", cache.Rule{Statuses: []int{201}}, be)
	// The outer layer (the gateway) sets per-request headers before the
	// cache step runs: they are not stored, and keep their new values.
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-Requestid", r.Header.Get("X-Test-Id"))
		f.h.ServeHTTP(w, r)
	})
	serveReq(outer, "GET", "/x", nil, "X-Test-Id", "req-1")
	hit := serveReq(outer, "GET", "/x", nil, "X-Test-Id", "req-2")
	wantCache(t, hit, "Hit")
	tests := []struct {
		header string
		want   []string
	}{
		{"X-Amzn-Requestid", []string{"req-2"}},
		{"Content-Type", []string{"application/json"}},
		{"X-Multi", []string{"a", "b"}},
		{"Content-Length", []string{"7"}},
		{"Connection", nil},
		{"X-Amzn-Trace-Id", nil},
		{"Date", nil},
	}
	for _, tt := range tests {
		if got := hit.Header()[tt.header]; fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("hit header %s = %q, want %q", tt.header, got, tt.want)
		}
	}
	if hit.Code != 201 || hit.Body.String() != `{"n":1}` {
		t.Fatalf("hit = %d %q", hit.Code, hit.Body)
	}
	// Appending to a replayed header must not change the stored entry.
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	w.Header()["X-Multi"] = append(w.Header()["X-Multi"], "c")
	if got := f.do("GET", "/x").Header()["X-Multi"]; len(got) != 2 {
		t.Fatalf("stored header changed by a caller's append: %q", got)
	}
}

func TestEncryption(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	secret := "card=4111111111111111"
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request, n int64) { fmt.Fprintf(w, "%s n=%d", secret, n) }}
	f := newFixture(t, "/x", cache.Rule{}, be, cache.WithEncryptionKey(key), cache.WithNamespace("enc"))
	first := f.do("GET", "/x")
	hit := f.do("GET", "/x")
	wantCache(t, hit, "Hit")
	if hit.Body.String() != first.Body.String() {
		t.Fatalf("hit body = %q, want %q", hit.Body, first.Body)
	}
	if got, want := hit.Header().Get("Content-Length"), fmt.Sprint(first.Body.Len()); got != want {
		t.Fatalf("Content-Length = %s, want the plaintext length %s", got, want)
	}
	if f.store.Len() != 1 {
		t.Fatalf("store has %d entries, want 1", f.store.Len())
	}
	// The stored body is sealed: no plaintext in it.
	peek := &peekStore{Store: f.store}
	c2, _ := cache.New(peek, cache.WithNamespace("enc"), cache.WithClock(f.clk), cache.WithEncryptionKey(bytes.Repeat([]byte{8}, 32)), cache.WithStatusHeader("X-Cache"))
	mw, _ := c2.Middleware(cache.Rule{})
	other := mw(be)
	// Another key cannot open it: a miss, and the fresh response replaces it.
	wantCache(t, serveReq(other, "GET", "/x", nil), "Miss")
	if peek.seen == nil || !peek.seen.Encrypted || bytes.Contains(peek.seen.Body, []byte(secret)) {
		t.Fatalf("stored entry %+v is not sealed", peek.seen)
	}
}

// peekStore remembers the last entry it returned.
type peekStore struct {
	cache.Store
	seen *cache.Entry
}

func (p *peekStore) Get(ctx context.Context, ns, key string, now time.Time) (*cache.Entry, uint64, error) {
	e, gen, err := p.Store.Get(ctx, ns, key, now)
	if e != nil {
		p.seen = e
	}
	return e, gen, err
}

// failingStore fails every call.
type failingStore struct{}

var errDown = errors.New("store down")

func (failingStore) Get(context.Context, string, string, time.Time) (*cache.Entry, uint64, error) {
	return nil, 0, errDown
}
func (failingStore) Set(context.Context, string, string, uint64, *cache.Entry, time.Time) error {
	return errDown
}
func (failingStore) Delete(context.Context, string, string) error { return errDown }
func (failingStore) Flush(context.Context, string) error          { return errDown }

// setFailsStore reads from a memory store and fails writes.
type setFailsStore struct{ cache.Store }

func (setFailsStore) Set(context.Context, string, string, uint64, *cache.Entry, time.Time) error {
	return errDown
}

func TestStoreFailuresServeUncached(t *testing.T) {
	mem, _ := cache.NewMemoryStore(1 << 20)
	tests := []struct {
		name  string
		store cache.Store
	}{
		{"get fails", failingStore{}},
		{"set fails", setFailsStore{mem}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c, err := cache.New(tt.store, cache.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			mw, _ := c.Middleware(cache.Rule{})
			be := &backend{}
			h := mw(be)
			for range 2 {
				if rec := serveReq(h, "GET", "/x", &reqctx.Context{RequestID: "rid-1"}); rec.Code != 200 {
					t.Fatalf("status = %d, want 200", rec.Code)
				}
			}
			if be.calls.Load() != 2 || c.Stats().Errors != 2 {
				t.Fatalf("calls %d, stats %+v; want 2 calls and 2 errors", be.calls.Load(), c.Stats())
			}
			if !strings.Contains(logs.String(), "rid-1") || !strings.Contains(logs.String(), "store down") {
				t.Fatalf("log %q lacks the request id or cause", logs.String())
			}
			if err := c.Flush(context.Background()); tt.name == "get fails" && !errors.Is(err, errDown) {
				t.Fatalf("Flush = %v, want the store's error", err)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	mem, _ := cache.NewMemoryStore(1 << 20)
	tests := []struct {
		name  string
		store cache.Store
		opts  []cache.Option
		want  string
	}{
		{"nil store", nil, nil, "nil store"},
		{"namespace with braces", mem, []cache.Option{cache.WithNamespace("a{b}")}, "namespace"},
		{"empty namespace", mem, []cache.Option{cache.WithNamespace("")}, "namespace"},
		{"negative TTL", mem, []cache.Option{cache.WithTTL(-time.Second)}, "TTL"},
		{"TTL over the maximum", mem, []cache.Option{cache.WithTTL(2 * time.Hour)}, "maximum TTL"},
		{"zero maximum TTL", mem, []cache.Option{cache.WithMaxTTL(0)}, "maximum TTL"},
		{"zero entry size", mem, []cache.Option{cache.WithMaxEntryBytes(0)}, "entry size"},
		{"short key", mem, []cache.Option{cache.WithEncryptionKey([]byte("short"))}, "16, 24 or 32"},
		{"nil key", mem, []cache.Option{cache.WithEncryptionKey(nil)}, "16, 24 or 32"},
		{"unknown strategy", mem, []cache.Option{cache.WithInvalidation(cache.Invalidation{Unauthorized: "IGNORE"})}, "strategy"},
		{"bad status header", mem, []cache.Option{cache.WithStatusHeader("X Cache")}, "status header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cache.New(tt.store, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestRuleErrors(t *testing.T) {
	mem, _ := cache.NewMemoryStore(1 << 20)
	c, _ := cache.New(mem)
	tests := []struct {
		name string
		rule cache.Rule
		want string
	}{
		{"negative TTL", cache.Rule{TTL: -1}, "negative"},
		{"TTL over the maximum", cache.Rule{TTL: 2 * time.Hour}, "maximum"},
		{"lower-case method", cache.Rule{Methods: []string{"get"}}, "method"},
		{"HEAD", cache.Rule{Methods: []string{"HEAD"}}, "HEAD"},
		{"informational status", cache.Rule{Statuses: []int{100}}, "status"},
		{"status out of range", cache.Rule{Statuses: []int{600}}, "status"},
		{"bad path parameter", cache.Rule{Key: cache.KeyParams{Path: []string{"{id}"}}}, "path parameter"},
		{"empty query name", cache.Rule{Key: cache.KeyParams{Query: []string{""}}}, "query"},
		{"bad header name", cache.Rule{Key: cache.KeyParams{Headers: []string{"Bad Header"}}}, "header"},
		{"unknown identity bit", cache.Rule{Identity: 0x80}, "Identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Middleware(tt.rule)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Middleware error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestStandaloneMiddleware(t *testing.T) {
	store, _ := cache.NewMemoryStore(1 << 20)
	mw, err := cache.Middleware(store, cache.Rule{TTL: time.Minute}, cache.WithStatusHeader("X-Cache"))
	if err != nil {
		t.Fatal(err)
	}
	be := &backend{}
	h := mw(be)
	serveReq(h, "GET", "/a", nil)
	wantCache(t, serveReq(h, "GET", "/a", nil), "Hit")
	if _, err := cache.Middleware(nil, cache.Rule{}); err == nil {
		t.Fatal("Middleware(nil store): no error")
	}
	if _, err := cache.Middleware(store, cache.Rule{TTL: -1}); err == nil {
		t.Fatal("Middleware with a bad rule: no error")
	}
}

func TestNamespaceAccessor(t *testing.T) {
	store, _ := cache.NewMemoryStore(1 << 20)
	c, _ := cache.New(store)
	if c.Namespace() != cache.DefaultNamespace {
		t.Fatalf("Namespace() = %q, want %q", c.Namespace(), cache.DefaultNamespace)
	}
}
