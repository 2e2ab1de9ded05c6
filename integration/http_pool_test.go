package integration

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/fakeclock"
)

var poolT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// poolBackend counts requests and answers with its name, or with the
// status it is told; /health answers its own status.
type poolBackend struct {
	srv     *httptest.Server
	hits    atomic.Int64
	status  atomic.Int32
	health  atomic.Int32
	block   chan struct{}
	entered chan struct{}
}

func newPoolBackend(t *testing.T, name string) *poolBackend {
	t.Helper()
	s := &poolBackend{}
	s.status.Store(200)
	s.health.Store(200)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			w.WriteHeader(int(s.health.Load()))
			return
		}
		s.hits.Add(1)
		if s.block != nil {
			s.entered <- struct{}{}
			<-s.block
		}
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(int(s.status.Load()))
		fmt.Fprint(w, name)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func poolURLs(bs ...*poolBackend) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.srv.URL
	}
	return out
}

func newTestPool(t *testing.T, targets []string, opts ...PoolOption) *Pool {
	t.Helper()
	p, err := NewPool(targets, append([]PoolOption{WithPoolLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// poolGet sends GET /pets/7 through h, with header pairs.
func poolGet(h http.Handler, hdr ...string) *httptest.ResponseRecorder {
	r, _ := proxyRequest("GET", "/pets/7", nil, map[string]string{"proxy": "pets/7"})
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return serveProxy(h, r)
}

func TestPoolRoundRobinThroughProxy(t *testing.T) {
	a, b, c := newPoolBackend(t, "a"), newPoolBackend(t, "b"), newPoolBackend(t, "c")
	p := newTestPool(t, poolURLs(a, b, c))
	h := bindProxy(t, &HTTPProxy{Target: "/api/{proxy}", Pool: p}, nil)
	var seq []string
	for range 6 {
		rec := poolGet(h)
		if rec.Header().Get("X-Path") != "/api/pets/7" {
			t.Fatalf("backend path %q", rec.Header().Get("X-Path"))
		}
		seq = append(seq, rec.Body.String())
	}
	if got := strings.Join(seq, ""); got != "abcabc" {
		t.Fatalf("round robin order %s", got)
	}
	st := p.Status()
	if len(st) != 3 || st[0].URL != a.srv.URL || st[0].Requests != 2 || !st[0].Healthy || !st[0].Available || st[0].Breaker != BreakerClosed || st[0].Outstanding != 0 {
		t.Fatalf("status %+v", st[0])
	}
}

func TestPoolLeastOutstandingThroughProxy(t *testing.T) {
	a, b := newPoolBackend(t, "a"), newPoolBackend(t, "b")
	for _, s := range []*poolBackend{a, b} {
		s.block, s.entered = make(chan struct{}), make(chan struct{}, 2)
	}
	p := newTestPool(t, poolURLs(a, b), WithBalancer(LeastOutstanding))
	h := bindProxy(t, &HTTPProxy{Target: "/{proxy}", Pool: p}, nil)
	done := make(chan string, 2)
	go func() { done <- poolGet(h).Body.String() }()
	select { // the first request is in flight on one target
	case <-a.entered:
	case <-b.entered:
	}
	go func() { done <- poolGet(h).Body.String() }()
	select { // the second goes to the other
	case <-a.entered:
	case <-b.entered:
	}
	if st := p.Status(); st[0].Outstanding != 1 || st[1].Outstanding != 1 {
		t.Fatalf("two requests in flight: %d and %d, want one each", st[0].Outstanding, st[1].Outstanding)
	}
	close(a.block)
	close(b.block)
	if got := []string{<-done, <-done}; got[0] == got[1] {
		t.Fatalf("answers %v", got)
	}
}

func TestPoolConsistentHashThroughProxy(t *testing.T) {
	bs := []*poolBackend{newPoolBackend(t, "a"), newPoolBackend(t, "b"), newPoolBackend(t, "c")}
	t.Run("header", func(t *testing.T) {
		p := newTestPool(t, poolURLs(bs...), WithBalancer(ConsistentHash), WithHashHeader("X-User"))
		h := bindProxy(t, &HTTPProxy{Target: "/{proxy}", Pool: p}, nil)
		seen := map[string]bool{}
		for i := range 30 {
			user := fmt.Sprintf("user-%d", i)
			first := poolGet(h, "X-User", user).Body.String()
			for range 3 {
				if got := poolGet(h, "X-User", user).Body.String(); got != first {
					t.Fatalf("%s moved from %s to %s", user, first, got)
				}
			}
			seen[first] = true
		}
		if len(seen) != 3 {
			t.Fatalf("30 users landed on %d targets", len(seen))
		}
	})
	t.Run("source IP", func(t *testing.T) {
		p := newTestPool(t, poolURLs(bs...), WithBalancer(ConsistentHash))
		h := bindProxy(t, &HTTPProxy{Target: "/{proxy}", Pool: p}, nil)
		seen := map[string]bool{}
		for i := range 30 {
			var first string
			for k := range 3 {
				r, rc := proxyRequest("GET", "/", nil, map[string]string{"proxy": "x"})
				rc.Identity.SourceIP = fmt.Sprintf("198.51.100.%d", i)
				got := serveProxy(h, r).Body.String()
				if k == 0 {
					first = got
				} else if got != first {
					t.Fatalf("client %d moved from %s to %s", i, first, got)
				}
			}
			seen[first] = true
		}
		if len(seen) != 3 {
			t.Fatalf("30 clients landed on %d targets", len(seen))
		}
	})
}

func TestPoolHealthChecksThroughProxy(t *testing.T) {
	clk := fakeclock.New(poolT0)
	a, b := newPoolBackend(t, "a"), newPoolBackend(t, "b")
	p := newTestPool(t, poolURLs(a, b), WithPoolClock(clk), WithHealthCheck(HealthCheck{Path: "/health", Interval: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2}))
	h := bindProxy(t, &HTTPProxy{Target: "/{proxy}", Pool: p}, nil)
	// settle waits for every health loop to finish its probe and re-arm.
	settle := func() {
		t.Helper()
		if !clk.WaitForTimers(2, 5*time.Second) {
			t.Fatal("health loops did not re-arm")
		}
	}
	tick := func() { settle(); clk.Advance(time.Second); settle() }
	settle()
	a.health.Store(500) // a flaps down...
	tick()
	if !p.Status()[0].Healthy {
		t.Fatal("unhealthy after one failed probe; the threshold is 2")
	}
	tick()
	if st := p.Status()[0]; st.Healthy || st.LastProbeError != "status 500" {
		t.Fatalf("after two failed probes: %+v", st)
	}
	for range 4 {
		if got := poolGet(h).Body.String(); got != "b" {
			t.Fatalf("unhealthy target served: %q", got)
		}
	}
	a.health.Store(200) // ...and back up
	tick()
	tick()
	if !p.Status()[0].Healthy {
		t.Fatal("not healthy after two good probes")
	}
	b.health.Store(500)
	a.health.Store(500)
	tick()
	tick()
	if rec := poolGet(h); rec.Code != 503 || rec.Header().Get("X-Amzn-Errortype") != "ServiceUnavailableException" {
		t.Fatalf("no healthy target: %d %v", rec.Code, rec.Header())
	}
}

func TestPoolHealthCheckTLS(t *testing.T) {
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	be.Config.ErrorLog = log.New(io.Discard, "", 0)
	be.StartTLS()
	defer be.Close()
	for _, tt := range []struct {
		name    string
		tls     *BackendTLS
		healthy bool
	}{
		{"system roots reject the test CA", nil, false},
		{"custom CA", &BackendTLS{RootCAs: certPool(be)}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := fakeclock.New(poolT0)
			p := newTestPool(t, []string{be.URL}, WithPoolClock(clk), WithHealthCheck(HealthCheck{Path: "/health", UnhealthyThreshold: 1, TLS: tt.tls}))
			if !clk.WaitForTimers(1, 5*time.Second) {
				t.Fatal("no probe")
			}
			if st := p.Status()[0]; st.Healthy != tt.healthy {
				t.Fatalf("%+v", st)
			}
		})
	}
}

func TestPoolOutlierEjectionThroughProxy(t *testing.T) {
	clk := fakeclock.New(poolT0)
	bad, good := newPoolBackend(t, "bad"), newPoolBackend(t, "good")
	bad.status.Store(500)
	p := newTestPool(t, poolURLs(bad, good), WithPoolClock(clk), WithOutlierDetection(OutlierDetection{ConsecutiveFailures: 2, BaseEjectionTime: 10 * time.Second}))
	h := bindProxy(t, &HTTPProxy{Target: "/{proxy}", Pool: p}, nil)
	var codes []int
	for range 6 {
		codes = append(codes, poolGet(h).Code)
	}
	if fmt.Sprint(codes) != "[500 200 500 200 200 200]" {
		t.Fatalf("statuses %v: bad should be ejected after its second 500", codes)
	}
	if st := p.Status()[0]; st.Available || !st.EjectedUntil.Equal(poolT0.Add(10*time.Second)) || st.Failures != 2 {
		t.Fatalf("bad's status %+v", st)
	}
	bad.status.Store(200)
	clk.Advance(10 * time.Second)
	if st := p.Status()[0]; !st.Available {
		t.Fatalf("still ejected after BaseEjectionTime: %+v", st)
	}
}

func TestPoolBreakerThroughProxy(t *testing.T) {
	clk := fakeclock.New(poolT0)
	bad, good := newPoolBackend(t, "bad"), newPoolBackend(t, "good")
	bad.status.Store(503)
	p := newTestPool(t, poolURLs(bad, good), WithPoolClock(clk),
		WithCircuitBreaker(CircuitBreaker{MinRequests: 2, FailureRatio: 0.5, OpenFor: 10 * time.Second}),
		WithRetries(RetryPolicy{Attempts: 2, MinPerSecond: 100}))
	h := bindProxy(t, &HTTPProxy{Target: "/{proxy}", Pool: p}, nil)
	// Every GET is answered by good: a 503 from bad is retried there.
	for i := range 4 {
		if rec := poolGet(h); rec.Code != 200 || rec.Body.String() != "good" {
			t.Fatalf("request %d: %d %q", i, rec.Code, rec.Body)
		}
	}
	if st := p.Status()[0]; st.Breaker != BreakerOpen {
		t.Fatalf("bad target's breaker %q after its failures", st.Breaker)
	}
	hits := bad.hits.Load()
	for range 4 {
		poolGet(h)
	}
	if bad.hits.Load() != hits {
		t.Fatal("an open breaker let requests through")
	}
	clk.Advance(10 * time.Second)
	if st := p.Status()[0]; st.Breaker != BreakerHalfOpen {
		t.Fatalf("breaker %q after OpenFor", st.Breaker)
	}
	bad.status.Store(200)
	for range 2 {
		poolGet(h)
	}
	if st := p.Status()[0]; st.Breaker != BreakerClosed {
		t.Fatalf("breaker %q after a good trial", st.Breaker)
	}
}

func TestPoolRetriesOnlyWhatIsSafe(t *testing.T) {
	bad, good := newPoolBackend(t, "bad"), newPoolBackend(t, "good")
	bad.status.Store(502)
	p := newTestPool(t, poolURLs(bad, good), WithRetries(RetryPolicy{Attempts: 3, MinPerSecond: 100}))
	h := bindProxy(t, &HTTPProxy{Target: "/{proxy}", Pool: p}, nil)
	statuses := map[string][]int{}
	for _, m := range []string{"GET", "PUT", "POST", "PATCH"} {
		for range 2 {
			r, _ := proxyRequest(m, "/", strings.NewReader("body"), map[string]string{"proxy": "x"})
			statuses[m] = append(statuses[m], serveProxy(h, r).Code)
		}
	}
	// A gateway request body cannot be replayed: with a body, nothing is
	// retried. Without one, GET is.
	for _, m := range []string{"PUT", "POST", "PATCH"} {
		if fmt.Sprint(statuses[m]) != "[502 200]" && fmt.Sprint(statuses[m]) != "[200 502]" {
			t.Errorf("%s with a body: %v, want one 502 unretried", m, statuses[m])
		}
	}
	for range 4 {
		if rec := poolGet(h); rec.Code != 200 {
			t.Fatalf("GET not retried: %d", rec.Code)
		}
	}
}

func TestNewPoolErrors(t *testing.T) {
	tests := []struct {
		name    string
		targets []string
		opts    []PoolOption
		want    string
	}{
		{"no targets", nil, nil, "no targets"},
		{"bad target", []string{"ftp://x"}, nil, "target 0"},
		{"target with a path", []string{"http://x/api"}, nil, "target 0"},
		{"balancer", []string{"http://x"}, []PoolOption{WithBalancer("random")}, "balancer"},
		{"health path", []string{"http://x"}, []PoolOption{WithHealthCheck(HealthCheck{Path: "health"})}, "HealthCheck.Path"},
		{"breaker ratio", []string{"http://x"}, []PoolOption{WithCircuitBreaker(CircuitBreaker{FailureRatio: 2})}, "CircuitBreaker"},
		{"outlier", []string{"http://x"}, []PoolOption{WithOutlierDetection(OutlierDetection{ConsecutiveFailures: -1})}, "OutlierDetection"},
		{"retries", []string{"http://x"}, []PoolOption{WithRetries(RetryPolicy{Attempts: -1})}, "RetryPolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPool(tt.targets, tt.opts...)
			if err == nil {
				p.Close()
				t.Fatal("NewPool succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "integration: NewPool: ") {
				t.Fatalf("NewPool: %v, want it to name %q", err, tt.want)
			}
		})
	}
}
