package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/porticotest"
)

func TestProxyExample(t *testing.T) {
	a, err := startTarget("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := startTarget("b")
	if err != nil {
		t.Fatal(err)
	}
	defer a.srv.Close()
	defer b.srv.Close()
	clk := porticotest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	gw, pool, err := newGateway([]*target{a, b}, 2*time.Second, integration.WithPoolClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	defer gw.Shutdown(context.Background())
	servedBy := func() string {
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest("GET", "/prod/pets/7", nil))
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["id"] != "7" {
			t.Fatalf("%d %q", rec.Code, rec.Body)
		}
		return body["servedBy"]
	}
	if x, y := servedBy(), servedBy(); x == y {
		t.Fatalf("round robin served both by %s", x)
	}
	// The first probes go out at once; each loop then arms its timer.
	if !clk.WaitForTimers(2, 5*time.Second) {
		t.Fatal("health checks not armed")
	}
	a.healthy.Store(false)
	clk.Advance(2 * time.Second) // one probe per target; the threshold is 1
	if !clk.WaitForTimers(2, 5*time.Second) {
		t.Fatal("health checks not re-armed")
	}
	if st := pool.Status(); st[0].Healthy || !st[1].Healthy {
		t.Fatalf("after a's failed probe: %+v", st)
	}
	for range 4 {
		if got := servedBy(); got != "b" {
			t.Fatalf("unhealthy target a served a request")
		}
	}
}
