package throttle_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/throttle"
)

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })

func TestMiddleware(t *testing.T) {
	clk := fakeclock.New(t0)
	mw, err := throttle.Middleware(throttle.Limit{Rate: 1, Burst: 2}, throttle.KeyByIP, throttle.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	h := mw(okHandler)
	tests := []struct {
		name    string
		ip      string
		advance time.Duration
		status  int
		body    string
		header  map[string]string
	}{
		{"first", "192.0.2.1:1000", 0, 200, "ok", map[string]string{
			"RateLimit-Policy": `"default";q=2;w=2`, "RateLimit": `"default";r=1;t=1`, "Retry-After": ""}},
		{"second, other port", "192.0.2.1:1001", 0, 200, "ok", map[string]string{"RateLimit": `"default";r=0;t=1`}},
		{"third is throttled", "192.0.2.1:1002", 0, 429, `{"message":"Too Many Requests"}`, map[string]string{
			"Retry-After": "1", "RateLimit-Policy": `"default";q=2;w=2`, "RateLimit": `"default";r=0;t=1`,
			"X-Amzn-Errortype": "TooManyRequestsException"}},
		{"other address", "192.0.2.2:1000", 0, 200, "ok", nil},
		{"after a second", "192.0.2.1:1000", time.Second, 200, "ok", map[string]string{"RateLimit": `"default";r=0;t=1`}},
	}
	for _, tt := range tests {
		clk.Advance(tt.advance)
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = tt.ip
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("%s: %d %s, want %d %s", tt.name, rec.Code, rec.Body, tt.status, tt.body)
		}
		for k, want := range tt.header {
			if got := rec.Header().Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got, want)
			}
		}
	}
}

func TestMiddlewareKeys(t *testing.T) {
	l := throttle.Limit{Rate: 1, Burst: 1}
	withRC := func(r *http.Request, rc *reqctx.Context) *http.Request {
		return r.WithContext(reqctx.With(r.Context(), rc))
	}
	tests := []struct {
		name    string
		key     throttle.KeyFunc
		reqs    func() []*http.Request
		statues []int
	}{
		{"by header", throttle.KeyByHeader("x-client"), func() []*http.Request {
			a := httptest.NewRequest("GET", "/", nil)
			a.Header.Set("X-Client", "a")
			b := httptest.NewRequest("GET", "/", nil)
			b.Header.Set("X-Client", "b")
			return []*http.Request{a, b, a.Clone(a.Context())}
		}, []int{200, 200, 429}},
		{"by IP from the gateway context", throttle.KeyByIP, func() []*http.Request {
			a := withRC(httptest.NewRequest("GET", "/", nil), &reqctx.Context{Identity: reqctx.Identity{SourceIP: "198.51.100.7"}})
			b := withRC(httptest.NewRequest("GET", "/", nil), &reqctx.Context{Identity: reqctx.Identity{SourceIP: "198.51.100.8"}})
			return []*http.Request{a, b}
		}, []int{200, 200}},
		{"by principal", throttle.KeyByPrincipal, func() []*http.Request {
			alice := withRC(httptest.NewRequest("GET", "/", nil), &reqctx.Context{Authorizer: reqctx.Authorizer{PrincipalID: "alice"}})
			key := withRC(httptest.NewRequest("GET", "/", nil), &reqctx.Context{APIKeyID: "key-1"})
			alice2 := withRC(httptest.NewRequest("GET", "/", nil), &reqctx.Context{Authorizer: reqctx.Authorizer{PrincipalID: "alice"}})
			nobody := httptest.NewRequest("GET", "/", nil)
			return []*http.Request{alice, key, alice2, nobody}
		}, []int{200, 200, 429, 401}},
	}
	for _, tt := range tests {
		mw, err := throttle.Middleware(l, tt.key, throttle.WithClock(fakeclock.New(t0)))
		if err != nil {
			t.Fatal(err)
		}
		h := mw(okHandler)
		for i, req := range tt.reqs() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.statues[i] {
				t.Errorf("%s: request %d: status %d, want %d", tt.name, i, rec.Code, tt.statues[i])
			}
		}
	}
}

func TestMiddlewareInGateway(t *testing.T) {
	var written error
	lim, err := throttle.New(throttle.Limit{Rate: 1, Burst: 1}, throttle.KeyByIP,
		throttle.WithName("per-ip"), throttle.WithClock(fakeclock.New(t0)),
		throttle.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			written = err
			w.WriteHeader(http.StatusTeapot)
		}))
	if err != nil {
		t.Fatal(err)
	}
	h := lim.Handler(okHandler)
	rc := &reqctx.Context{Identity: reqctx.Identity{SourceIP: "203.0.113.5"}}
	for i, want := range []int{200, 418} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil).WithContext(reqctx.With(t.Context(), rc)))
		if rec.Code != want {
			t.Errorf("request %d: status %d, want %d", i, rec.Code, want)
		}
	}
	if rc.ThrottledBy != "per-ip" {
		t.Errorf("ThrottledBy = %q, want per-ip", rc.ThrottledBy)
	}
	var e *reqctx.Error
	if !errors.As(written, &e) || e.Type != reqctx.Throttled || e.Header.Get("Retry-After") != "1" {
		t.Errorf("error handler got %v, want THROTTLED with Retry-After 1", written)
	}
	if le, ok := errors.AsType[*throttle.LimitError](written); !ok || le.Level != "per-ip" || le.RetryAfter != time.Second {
		t.Errorf("cause = %v, want a LimitError at per-ip, retry after 1s", written)
	}
}

func TestLimiterCheck(t *testing.T) {
	lim, err := throttle.New(throttle.Limit{Rate: 10, Burst: 1}, throttle.KeyByHeader("x-k"), throttle.WithClock(fakeclock.New(t0)))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	if d, err := lim.Check(r); err != nil || !d.Allowed {
		t.Fatalf("Check = %+v, %v; want allowed", d, err)
	}
	d, err := lim.Check(r)
	if e, ok := errors.AsType[*reqctx.Error](err); !ok || e.Type != reqctx.Throttled || d.RetryAfter != 100*time.Millisecond {
		t.Fatalf("Check = %+v, %v; want THROTTLED, retry after 100ms", d, err)
	}
}

func TestLimiterStoreDown(t *testing.T) {
	mw, err := throttle.Middleware(throttle.Limit{Rate: 1, Burst: 1}, throttle.KeyByIP, throttle.WithStore(failingStore{err: throttle.ErrUnavailable}))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	mw(okHandler).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "Service Unavailable") {
		t.Errorf("store down: %d %s, want 503", rec.Code, rec.Body)
	}
}

func TestNewLimiterErrors(t *testing.T) {
	tests := []struct {
		name string
		l    throttle.Limit
		key  throttle.KeyFunc
		opts []throttle.Option
	}{
		{"bad limit", throttle.Limit{Rate: 1}, throttle.KeyByIP, nil},
		{"nil key", throttle.Limit{Rate: 1, Burst: 1}, nil, nil},
		{"bad name", throttle.Limit{Rate: 1, Burst: 1}, throttle.KeyByIP, []throttle.Option{throttle.WithName("a b")}},
		{"nil error handler", throttle.Limit{Rate: 1, Burst: 1}, throttle.KeyByIP, []throttle.Option{throttle.WithErrorHandler(nil)}},
	}
	for _, tt := range tests {
		if _, err := throttle.New(tt.l, tt.key, tt.opts...); err == nil {
			t.Errorf("%s: New: no error", tt.name)
		}
		if _, err := throttle.Middleware(tt.l, tt.key, tt.opts...); err == nil {
			t.Errorf("%s: Middleware: no error", tt.name)
		}
	}
}

func BenchmarkMiddleware(b *testing.B) {
	mw, err := throttle.Middleware(throttle.Limit{Rate: 1e9, Burst: 1 << 30}, throttle.KeyByIP)
	if err != nil {
		b.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
