package redisstore

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/throttle"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// keyHeader carries the API key id in these tests, standing in for the
// authorize step.
const keyHeader = "X-Key-Id"

func newSharedGateway(t *testing.T, clk *fakeclock.Clock, ts throttle.Store, qs throttle.QuotaStore, stage portico.StageConfig) *portico.Gateway {
	t.Helper()
	gw, err := portico.New(
		portico.WithClock(clk),
		portico.WithLogger(slog.New(slog.DiscardHandler)),
		portico.WithThrottleStore(ts),
		portico.WithQuotaStore(qs),
		portico.WithMeteringKey(func(r *http.Request) string { return r.Header.Get(keyHeader) }),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })
	api := portico.NewAPI("pets", portico.HTTP)
	api.HandleFunc("GET /pets", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	if _, err := gw.Deploy(api, stage); err != nil {
		t.Fatal(err)
	}
	return gw
}

func get(gw http.Handler, path, key string) int {
	req := httptest.NewRequest("GET", path, nil)
	if key != "" {
		req.Header.Set(keyHeader, key)
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	return rec.Code
}

// TestThreeGatewaysShareOnePlan drives three gateways sharing one Redis
// together and checks that they enforce one usage-plan limit (within 2 %)
// and one quota (never over-admitted), and agree on the usage report.
func TestThreeGatewaysShareOnePlan(t *testing.T) {
	c, prefix := testClient(t)
	ts, err := NewThrottleStore(c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := NewQuotaStore(c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	clk := fakeclock.New(day.Add(9 * time.Hour))
	stage := []throttle.PlanStage{{API: "pets", Stage: "prod"}}
	var gws []*portico.Gateway
	for i := 0; i < 3; i++ {
		gw := newSharedGateway(t, clk, ts, qs, portico.StageConfig{Name: "prod"})
		for _, p := range []throttle.UsagePlan{
			{ID: "pro", Throttle: &throttle.Limit{Rate: 100, Burst: 100}, Stages: stage},
			{ID: "metered", Quota: &throttle.Quota{Limit: 500, Period: throttle.Day}, Stages: stage},
		} {
			if err := gw.AddUsagePlan(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := gw.AddUsagePlanKey("pro", "k"); err != nil {
			t.Fatal(err)
		}
		if err := gw.AddUsagePlanKey("metered", "q"); err != nil {
			t.Fatal(err)
		}
		gws = append(gws, gw)
	}

	// 10 simulated seconds; every 10 ms each gateway sends 3 requests at
	// once: 900 requests a second against a plan of 100 a second.
	var admitted atomic.Int64
	for step := 0; step < 1000; step++ {
		var wg sync.WaitGroup
		for _, gw := range gws {
			for i := 0; i < 3; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if code := get(gw, "/prod/pets", "k"); code == 200 {
						admitted.Add(1)
					} else if code != 429 {
						t.Errorf("status %d", code)
					}
				}()
			}
		}
		wg.Wait()
		clk.Advance(10 * time.Millisecond)
	}
	want := 100 + 100*10.0
	if got := float64(admitted.Load()); got < want*0.98 || got > want*1.02 {
		t.Errorf("three gateways admitted %v requests in 10 s, want %v ± 2%%", got, want)
	}
	t.Logf("three gateways admitted %d of 9000 requests against a plan of 100/s, burst 100", admitted.Load())

	// 900 requests against a quota of 500, all at once.
	var quotaOK atomic.Int64
	var wg sync.WaitGroup
	for _, gw := range gws {
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if get(gw, "/prod/pets", "q") == 200 {
						quotaOK.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	if got := quotaOK.Load(); got != 500 {
		t.Errorf("three gateways admitted %d requests against a quota of 500", got)
	}

	// Every gateway reports the same usage.
	for i, gw := range gws {
		u, err := gw.Usage(context.Background(), "metered", "q", day, day)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(u)
		if want := `{"usagePlanId":"metered","startDate":"2026-03-14","endDate":"2026-03-14","values":{"q":[[500,0]]}}`; string(b) != want {
			t.Errorf("gateway %d usage %s, want %s", i, b, want)
		}
	}
}

// redisServer is a redis-server process the test owns.
type redisServer struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin := os.Getenv("PORTICO_TEST_REDIS_SERVER")
	if bin == "" {
		bin, _ = exec.LookPath("redis-server")
	}
	if bin == "" {
		t.Skip("redis-server not found (set PORTICO_TEST_REDIS_SERVER to its path): skipping the test that stops and restarts its own Redis")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &redisServer{t: t, bin: bin, port: port, dir: t.TempDir()}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting %s: %v", s.bin, err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer within 10 s", s.addr())
		}
		time.Sleep(20 * time.Millisecond) // real time: waiting for a process
	}
}

func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// TestThrottleFailover stops and restarts a Redis the test started itself,
// and checks that a fail-open gateway keeps serving at its local share,
// a fail-closed one answers 503, and both go back to Redis on their own.
func TestThrottleFailover(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := startRedisServer(t)
	c := redis.NewClient(&redis.Options{
		Addr:        srv.addr(),
		MaxRetries:  -1,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond,
	})
	defer c.Close()
	ts, err := NewThrottleStore(c, "failover:")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := NewQuotaStore(c, "failover:")
	if err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.New(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))
	open, err := throttle.NewFallback(ts, throttle.FailOpen, throttle.WithInstances(2))
	if err != nil {
		t.Fatal(err)
	}
	closed, err := throttle.NewFallback(ts, throttle.FailClosed)
	if err != nil {
		t.Fatal(err)
	}
	qopen, err := throttle.NewQuotaFallback(qs, throttle.FailOpen)
	if err != nil {
		t.Fatal(err)
	}
	stage := portico.StageConfig{Name: "prod", Throttle: portico.StageThrottle{Default: &throttle.Limit{Rate: 10, Burst: 10}}}
	gwOpen := newSharedGateway(t, clk, open, qopen, stage)
	gwClosed := newSharedGateway(t, clk, closed, qopen, stage)
	count := func(gw http.Handler, n int) map[int]int {
		out := map[int]int{}
		for i := 0; i < n; i++ {
			out[get(gw, "/prod/pets", "")]++
		}
		return out
	}

	// Redis up: the two gateways share the stage's 10 tokens.
	if got := count(gwOpen, 6); got[200] != 6 {
		t.Fatalf("Redis up, fail-open gateway: %v, want 6 × 200", got)
	}
	if got := count(gwClosed, 6); got[200] != 4 || got[429] != 2 {
		t.Fatalf("Redis up, fail-closed gateway: %v, want 4 × 200 and 2 × 429 (one shared bucket)", got)
	}

	srv.stop()
	clk.Advance(time.Minute) // every bucket is full again
	if got := count(gwOpen, 8); got[200] != 5 || got[429] != 3 || !open.Down() {
		t.Errorf("Redis down, fail-open gateway: %v (down %v), want the local share: 5 × 200, 3 × 429", got, open.Down())
	}
	if got := count(gwClosed, 3); got[503] != 3 || !closed.Down() {
		t.Errorf("Redis down, fail-closed gateway: %v (down %v), want 3 × 503", got, closed.Down())
	}

	srv.start()
	// After a probe interval, one request probes Redis and brings it back.
	for i := 0; i < 3 && (open.Down() || closed.Down()); i++ {
		clk.Advance(throttle.DefaultProbeInterval)
		get(gwOpen, "/prod/pets", "")
		get(gwClosed, "/prod/pets", "")
	}
	if open.Down() || closed.Down() {
		t.Fatalf("after Redis came back: fail-open down %v, fail-closed down %v; want both recovered", open.Down(), closed.Down())
	}
	clk.Advance(time.Minute)
	if got := count(gwOpen, 6); got[200] != 6 {
		t.Errorf("Redis back, fail-open gateway: %v, want 6 × 200", got)
	}
	if got := count(gwClosed, 6); got[200] != 4 || got[429] != 2 {
		t.Errorf("Redis back, fail-closed gateway: %v, want the shared bucket again: 4 × 200, 2 × 429", got)
	}
	keys, err := c.Keys(context.Background(), "failover:*").Result()
	if err != nil || len(keys) == 0 {
		t.Errorf("keys in the restarted Redis: %v, %v; want the shared buckets", keys, err)
	}
}
