package upstream

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/fakeclock"
)

// tick waits until every health loop of p is idle and armed, then moves
// the clock one interval on.
func tick(t *testing.T, clk *fakeclock.Clock, p *Pool) {
	t.Helper()
	if !clk.WaitForTimers(p.Len(), 5*time.Second) {
		t.Fatal("health loops did not re-arm")
	}
	clk.Advance(p.health.Interval)
}

// settle waits until every health loop of p has finished its probe.
func settle(t *testing.T, clk *fakeclock.Clock, p *Pool) {
	t.Helper()
	if !clk.WaitForTimers(p.Len(), 5*time.Second) {
		t.Fatal("health loops did not re-arm")
	}
}

func TestHealthChecksFlapping(t *testing.T) {
	clk := fakeclock.New(t0)
	a, b := newStub(t, "a"), newStub(t, "b")
	p := newPool(t, Config{Targets: urls(a, b), Health: &HealthConfig{Path: "/health", Interval: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2}, Clock: clk})
	rt := &RoundTripper{Pool: p}
	settle(t, clk, p) // the first probes go out at once
	if a.probes.Load() != 1 || b.probes.Load() != 1 {
		t.Fatalf("initial probes: %d %d", a.probes.Load(), b.probes.Load())
	}
	a.health.Store(500)
	tick(t, clk, p)
	settle(t, clk, p)
	if st := p.Status()[0]; !st.Healthy || st.LastProbeError != "status 500" {
		t.Fatalf("after one failed probe (threshold 2): %+v", st)
	}
	tick(t, clk, p)
	settle(t, clk, p)
	if st := p.Status()[0]; st.Healthy || st.Available {
		t.Fatalf("after two failed probes: %+v", st)
	}
	for range 4 {
		if _, body := get(t, rt); body != "b" {
			t.Fatalf("unhealthy target served: %q", body)
		}
	}
	a.health.Store(200) // back up: it takes two good probes
	tick(t, clk, p)
	settle(t, clk, p)
	if p.Status()[0].Healthy {
		t.Fatal("healthy after one good probe (threshold 2)")
	}
	tick(t, clk, p)
	settle(t, clk, p)
	if st := p.Status()[0]; !st.Healthy || st.LastProbeError != "" || !st.LastProbe.Equal(clk.Now()) {
		t.Fatalf("after two good probes: %+v", st)
	}
	// Both down: no target.
	a.health.Store(503)
	b.health.Store(503)
	tick(t, clk, p)
	tick(t, clk, p)
	settle(t, clk, p)
	if _, body := get(t, rt); !strings.Contains(body, ErrNoTarget.Error()) {
		t.Fatalf("all unhealthy: %q", body)
	}
}

func TestHealthCheckHangingTarget(t *testing.T) {
	clk := fakeclock.New(t0)
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hanging.Close()
	defer close(release)
	p := newPool(t, Config{Targets: []string{hanging.URL}, Health: &HealthConfig{Path: "/health", Timeout: 20 * time.Millisecond, UnhealthyThreshold: 1}, Clock: clk})
	settle(t, clk, p)
	if st := p.Status()[0]; st.Healthy || !strings.Contains(st.LastProbeError, "timeout") && !strings.Contains(st.LastProbeError, "deadline") {
		t.Fatalf("a probe that hangs past Timeout: %+v", st)
	}
}

func TestHealthCheckRefused(t *testing.T) {
	clk := fakeclock.New(t0)
	gone := httptest.NewServer(http.NotFoundHandler())
	addr := gone.URL
	gone.Close()
	p := newPool(t, Config{Targets: []string{addr}, Health: &HealthConfig{Path: "/health", UnhealthyThreshold: 1}, Clock: clk})
	settle(t, clk, p)
	if st := p.Status()[0]; st.Healthy || st.LastProbeError == "" {
		t.Fatalf("refused probe: %+v", st)
	}
}

// TestCloseStopsProbeInFlight: Close does not wait for a hanging probe's
// timeout.
func TestCloseStopsProbeInFlight(t *testing.T) {
	entered := make(chan struct{}, 1)
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
	}))
	defer hanging.Close()
	p, err := New(Config{Targets: []string{hanging.URL}, Health: &HealthConfig{Path: "/h", Timeout: time.Hour}, Clock: fakeclock.New(t0), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	p.Close()
	p.Close() // twice is fine
}
