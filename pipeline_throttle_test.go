package portico

import (
	"context"
	"encoding/json"
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

func tlim(rate float64, burst int) *throttle.Limit { return &throttle.Limit{Rate: rate, Burst: burst} }

// meteringKeyHeader is the header the tests' WithMeteringKey reads: the
// stand-in for a verified API key.
const meteringKeyHeader = "X-Test-Key-Id"

func testKey(r *http.Request) string { return r.Header.Get(meteringKeyHeader) }

func petsAPI() *API {
	api := NewAPI("pets", REST)
	api.Handle("GET /pets", text("list"))
	api.Handle("GET /pets/{id}", text("get"))
	api.AddRoute(Route{Method: "POST", Path: "/pets", Integration: text("create"), Throttle: RouteThrottle{Limit: tlim(1, 3)}})
	api.Handle("DELETE /pets/{id}", text("delete"))
	return api
}

type throttleReq struct {
	method, path string
	key          string
	advance      time.Duration
	status       int
	policy       string // the RateLimit-Policy header, "" for none
	errType      string // the X-Amzn-Errortype header
}

func runThrottleReqs(t *testing.T, gw *Gateway, clk *fakeclock.Clock, reqs []throttleReq) {
	t.Helper()
	for i, rq := range reqs {
		clk.Advance(rq.advance)
		var hdr []string
		if rq.key != "" {
			hdr = []string{meteringKeyHeader, rq.key}
		}
		rec := serve(gw, rq.method, rq.path, nil, hdr...)
		if rec.Code != rq.status {
			t.Errorf("request %d %s %s key %q: status %d %s, want %d", i, rq.method, rq.path, rq.key, rec.Code, rec.Body, rq.status)
		}
		if got := rec.Header().Get("RateLimit-Policy"); got != rq.policy {
			t.Errorf("request %d %s %s key %q: RateLimit-Policy %q, want %q", i, rq.method, rq.path, rq.key, got, rq.policy)
		}
		if got := rec.Header().Get("X-Amzn-Errortype"); got != rq.errType {
			t.Errorf("request %d %s %s: X-Amzn-Errortype %q, want %q", i, rq.method, rq.path, got, rq.errType)
		}
		if rq.status == 429 && rec.Header().Get("Retry-After") == "" {
			t.Errorf("request %d %s %s: 429 without Retry-After", i, rq.method, rq.path)
		}
	}
}

const tooMany = "TooManyRequestsException"

// TestThrottleStageAndRoute checks the server-side levels through the
// gateway: the route's own limit, the stage's method settings in both key
// styles, the stage default, and the account.
func TestThrottleStageAndRoute(t *testing.T) {
	clk := fakeclock.New(t0)
	gw := newGateway(t, WithClock(clk), WithAccountThrottle(1, 9))
	mustDeploy(t, gw, petsAPI(), StageConfig{Name: "prod", Throttle: StageThrottle{
		Default: tlim(1, 1),
		Methods: map[string]throttle.Limit{
			"/pets/{id}/GET": {Rate: 1, Burst: 2},
			"DELETE *":       {Rate: 1, Burst: 1},
		},
	}})
	runThrottleReqs(t, gw, clk, []throttleReq{
		{"GET", "/prod/pets", "", 0, 200, "", ""},
		{"GET", "/prod/pets", "", 0, 429, `"stage";q=1;w=1`, tooMany},
		{"GET", "/prod/pets/1", "", 0, 200, "", ""},
		{"GET", "/prod/pets/2", "", 0, 200, "", ""},
		{"GET", "/prod/pets/3", "", 0, 429, `"method";q=2;w=2`, tooMany},
		{"POST", "/prod/pets", "", 0, 200, "", ""},
		{"POST", "/prod/pets", "", 0, 200, "", ""},
		{"POST", "/prod/pets", "", 0, 200, "", ""},
		{"POST", "/prod/pets", "", 0, 429, `"method";q=3;w=3`, tooMany},
		{"DELETE", "/prod/pets/1", "", 0, 200, "", ""},
		{"DELETE", "/prod/pets/1", "", 0, 429, `"stage";q=1;w=1`, tooMany},
		// 7 of the account's 9 tokens are spent (the refusals spent
		// none); a second later it has 3.
		{"GET", "/prod/pets", "", time.Second, 200, "", ""},
		{"GET", "/prod/pets/1", "", 0, 200, "", ""},
		{"POST", "/prod/pets", "", 0, 200, "", ""},
		{"DELETE", "/prod/pets/1", "", 0, 429, `"account";q=9;w=9`, tooMany},
	})
}

func TestThrottleDefaultAccountLimit(t *testing.T) {
	gw := newGateway(t)
	m, err := gw.meter()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.AccountLimit(), (throttle.Limit{Rate: 10000, Burst: 5000}); got != want {
		t.Errorf("default account limit %v, want %v", got, want)
	}
}

// TestThrottleThrottledBy checks that the refusing level is recorded in
// the request context.
func TestThrottleThrottledBy(t *testing.T) {
	clk := fakeclock.New(t0)
	gw := newGateway(t, WithClock(clk), WithAccountThrottle(1000, 1000), WithMeteringKey(testKey))
	st := mustDeploy(t, gw, petsAPI(), StageConfig{Name: "prod", Throttle: StageThrottle{Default: tlim(1, 2)}})
	if err := gw.AddUsagePlan(throttle.UsagePlan{ID: "p", Throttle: tlim(1, 1), Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}}); err != nil {
		t.Fatal(err)
	}
	if err := gw.AddUsagePlanKey("p", "k"); err != nil {
		t.Fatal(err)
	}
	d := st.Deployment()
	rt := d.api.Routes[0] // GET /pets
	mw, err := gw.meterStep(d, &rt)
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tests := []struct {
		key   string
		level string
	}{
		{"k", ""}, {"k", "plan"}, {"", ""}, {"", "stage"},
	}
	for i, tt := range tests {
		rc := &reqctx.Context{APIKeyID: tt.key}
		req := httptest.NewRequest("GET", "/pets", nil)
		h.ServeHTTP(httptest.NewRecorder(), req.WithContext(reqctx.With(req.Context(), rc)))
		if rc.ThrottledBy != tt.level {
			t.Errorf("request %d: ThrottledBy %q, want %q", i, rc.ThrottledBy, tt.level)
		}
	}
}

func TestThrottleUsagePlans(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 14, 23, 59, 50, 0, time.UTC))
	gw := newGateway(t, WithClock(clk), WithMeteringKey(testKey))
	mustDeploy(t, gw, petsAPI(), StageConfig{Name: "prod"})
	mustDeploy(t, gw, petsAPI(), StageConfig{Name: "dev"})
	plans := []throttle.UsagePlan{
		{ID: "free", Throttle: tlim(1, 2), Quota: &throttle.Quota{Limit: 3, Period: throttle.Day},
			Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}},
		{ID: "pro", Throttle: tlim(100, 100),
			Stages: []throttle.PlanStage{{API: "pets", Stage: "prod", Methods: map[string]throttle.Limit{"/pets/{id}/GET": {Rate: 1, Burst: 1}}}}},
		{ID: "dev", Throttle: tlim(1, 1), Stages: []throttle.PlanStage{{API: "pets", Stage: "dev"}}},
	}
	for _, p := range plans {
		if err := gw.AddUsagePlan(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, pk := range [][2]string{{"free", "alice"}, {"pro", "bob"}, {"dev", "alice"}} {
		if err := gw.AddUsagePlanKey(pk[0], pk[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.AddUsagePlanKey("pro", "alice"); err == nil {
		t.Error("a second plan for alice on prod: no error")
	}
	const (
		freeOK   = `"plan";q=2;w=2, "quota";q=3;w=86400`
		quotaErr = "LimitExceededException"
	)
	runThrottleReqs(t, gw, clk, []throttleReq{
		{"GET", "/prod/pets", "alice", 0, 200, freeOK, ""},
		{"GET", "/prod/pets/1", "alice", 0, 200, freeOK, ""},
		{"GET", "/prod/pets", "alice", 0, 429, `"plan";q=2;w=2`, tooMany},
		// alice's dev plan is separate.
		{"GET", "/dev/pets", "alice", 0, 200, `"plan";q=1;w=1`, ""},
		{"GET", "/dev/pets", "alice", 0, 429, `"plan";q=1;w=1`, tooMany},
		{"GET", "/prod/pets", "alice", time.Second, 200, freeOK, ""},
		{"GET", "/prod/pets", "alice", 2 * time.Second, 429, `"quota";q=3;w=86400`, quotaErr},
		// Midnight UTC starts a new day.
		{"GET", "/prod/pets", "alice", 7 * time.Second, 200, freeOK, ""},
		// bob's plan-method limit on GET /pets/{id} replaces his plan's.
		{"GET", "/prod/pets/1", "bob", 0, 200, `"plan-method";q=1;w=1`, ""},
		{"GET", "/prod/pets/2", "bob", 0, 429, `"plan-method";q=1;w=1`, tooMany},
		{"GET", "/prod/pets", "bob", 0, 200, `"plan";q=100;w=1`, ""},
		// Unknown keys and no key: no plan, no plan headers.
		{"GET", "/prod/pets", "carol", 0, 200, "", ""},
		{"GET", "/prod/pets", "", 0, 200, "", ""},
	})
	serve(gw, "GET", "/prod/pets", nil, meteringKeyHeader, "alice")
	rec := serve(gw, "GET", "/prod/pets", nil, meteringKeyHeader, "alice")
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "Too Many Requests") {
		t.Errorf("throttled body: %d %s", rec.Code, rec.Body)
	}

	u, err := gw.Usage(context.Background(), "free", "", time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(u)
	if want := `{"usagePlanId":"free","startDate":"2026-03-14","endDate":"2026-03-15","values":{"alice":[[3,0],[2,1]]}}`; string(b) != want {
		t.Errorf("usage\n got %s\nwant %s", b, want)
	}
	if err := gw.RemoveUsagePlanKey("free", "alice"); err != nil {
		t.Fatal(err)
	}
	if rec := serve(gw, "GET", "/prod/pets", nil, meteringKeyHeader, "alice"); rec.Code != 200 || rec.Header().Get("RateLimit-Policy") != "" {
		t.Errorf("after RemoveUsagePlanKey: %d, policy %q; want 200 without plan", rec.Code, rec.Header().Get("RateLimit-Policy"))
	}
	if p, ok := gw.UsagePlan("pro"); !ok || p.Throttle.Rate != 100 {
		t.Errorf("UsagePlan(pro) = %+v, %v", p, ok)
	}
	if err := gw.UpdateUsagePlan(throttle.UsagePlan{ID: "pro", Stages: plans[1].Stages}); err != nil {
		t.Fatal(err)
	}
	if err := gw.RemoveUsagePlan("dev"); err != nil {
		t.Fatal(err)
	}
}

// TestThrottleOneAPICannotStarveAnother floods one API and checks that
// another is served while the flooded one has a stage limit, and starved
// once only the account level binds.
func TestThrottleOneAPICannotStarveAnother(t *testing.T) {
	tests := []struct {
		name           string
		aStage         StageThrottle
		bMin, bMax     int
		aPolicyContain string
	}{
		{"stage limit on the flooded API", StageThrottle{Default: tlim(100, 100)}, 50, 50, `"stage"`},
		{"only the account binds", StageThrottle{}, 0, 10, `"account"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := fakeclock.New(t0)
			gw := newGateway(t, WithClock(clk), WithAccountThrottle(300, 300))
			a := NewAPI("a", HTTP)
			a.Handle("GET /x", text("a"))
			b := NewAPI("b", HTTP)
			b.Handle("GET /x", text("b"))
			mustDeploy(t, gw, a, StageConfig{Name: "prod", Throttle: tt.aStage})
			mustDeploy(t, gw, b, StageConfig{Name: "prod"})
			bServed := 0
			aPolicy := ""
			// Half a second: "a" sends 4 requests a millisecond, "b" one
			// every 10 ms.
			for ms := 0; ms < 500; ms++ {
				for i := 0; i < 4; i++ {
					if rec := serve(gw, "GET", "/prod/x", nil, "Host", "a.execute-api.local"); rec.Code == 429 {
						aPolicy = rec.Header().Get("RateLimit-Policy")
					}
				}
				if ms%10 == 0 {
					if rec := serve(gw, "GET", "/prod/x", nil, "Host", "b.execute-api.local"); rec.Code == 200 {
						bServed++
					}
				}
				clk.Advance(time.Millisecond)
			}
			if bServed < tt.bMin || bServed > tt.bMax {
				t.Errorf("b served %d of 50, want %d–%d", bServed, tt.bMin, tt.bMax)
			}
			if !strings.Contains(aPolicy, tt.aPolicyContain) {
				t.Errorf("a throttled with policy %q, want %s", aPolicy, tt.aPolicyContain)
			}
		})
	}
}

type downStore struct{}

var errDown = errors.New("connection refused")

func (downStore) Take(context.Context, string, throttle.Limit, int, time.Time) (throttle.Decision, error) {
	return throttle.Decision{}, errDown
}

func TestThrottleStoreDown(t *testing.T) {
	failOpen, err := throttle.NewFallback(downStore{}, throttle.FailOpen, throttle.WithInstances(2))
	if err != nil {
		t.Fatal(err)
	}
	failClosed, err := throttle.NewFallback(downStore{}, throttle.FailClosed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		store   throttle.Store
		status  []int
		errType string
	}{
		{"no fallback", downStore{}, []int{503, 503}, "ServiceUnavailableException"},
		{"fail closed", failClosed, []int{503, 503}, "ServiceUnavailableException"},
		// The local share of a 1/s, burst-2 stage limit on 2 instances.
		{"fail open", failOpen, []int{200, 429}, tooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := newGateway(t, WithClock(fakeclock.New(t0)), WithThrottleStore(tt.store))
			mustDeploy(t, gw, petsAPI(), StageConfig{Name: "prod", Throttle: StageThrottle{Default: tlim(1, 2)}})
			var rec *httptest.ResponseRecorder
			for i, want := range tt.status {
				if rec = serve(gw, "GET", "/prod/pets", nil); rec.Code != want {
					t.Errorf("request %d: %d %s, want %d", i, rec.Code, rec.Body, want)
				}
			}
			if got := rec.Header().Get("X-Amzn-Errortype"); got != tt.errType {
				t.Errorf("X-Amzn-Errortype %q, want %q", got, tt.errType)
			}
		})
	}
}

func TestThrottleConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		api   func() *API
		stage StageThrottle
		want  string
	}{
		{"bad route limit", func() *API {
			api := NewAPI("pets", REST)
			api.AddRoute(Route{Method: "GET", Path: "/pets", Integration: text("x"), Throttle: RouteThrottle{Limit: tlim(5, 0)}})
			return api
		}, StageThrottle{}, `route "GET /pets" Throttle: RouteThrottle.Limit: throttle: invalid limit: burst 0`},
		{"bad method key", petsAPI, StageThrottle{Methods: map[string]throttle.Limit{"pets": {Rate: 1, Burst: 1}}}, `StageThrottle.Methods: throttle: bad method key "pets"`},
		{"bad stage default", petsAPI, StageThrottle{Default: tlim(-1, 1)}, "StageThrottle.Default: throttle: invalid limit"},
		{"default twice", petsAPI, StageThrottle{Default: tlim(1, 1), Methods: map[string]throttle.Limit{"*/*": {Rate: 1, Burst: 1}}}, `Default and Methods["*/*"] are both set`},
	}
	for _, tt := range tests {
		gw := newGateway(t)
		_, err := gw.Deploy(tt.api(), StageConfig{Name: "prod", Throttle: tt.stage})
		var re *RouteError
		if err == nil || !errors.As(err, &re) || re.Field != "Throttle" || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Deploy error = %v, want a RouteError on Throttle containing %q", tt.name, err, tt.want)
		}
	}
	gw := newGateway(t, WithAccountThrottle(10, 0))
	if _, err := gw.Deploy(petsAPI(), StageConfig{Name: "prod"}); err == nil || !strings.Contains(err.Error(), "WithAccountThrottle") {
		t.Errorf("Deploy with a bad account limit: %v", err)
	}
	if err := gw.AddUsagePlan(throttle.UsagePlan{ID: "p"}); err == nil || !strings.Contains(err.Error(), "WithAccountThrottle") {
		t.Errorf("AddUsagePlan with a bad account limit: %v", err)
	}
	if _, ok := gw.UsagePlan("p"); ok {
		t.Error("UsagePlan with a bad account limit found a plan")
	}
}

// TestThrottleRedeployKeepsBuckets checks that a redeploy does not refill
// the buckets: they are keyed by API, stage and route, not deployment.
func TestThrottleRedeployKeepsBuckets(t *testing.T) {
	clk := fakeclock.New(t0)
	gw := newGateway(t, WithClock(clk))
	cfg := StageConfig{Name: "prod", Throttle: StageThrottle{Default: tlim(1, 1)}}
	mustDeploy(t, gw, petsAPI(), cfg)
	if rec := serve(gw, "GET", "/prod/pets", nil); rec.Code != 200 {
		t.Fatalf("first request: %d", rec.Code)
	}
	mustDeploy(t, gw, petsAPI(), cfg)
	if rec := serve(gw, "GET", "/prod/pets", nil); rec.Code != 429 {
		t.Errorf("after redeploy: %d, want 429 (the bucket is still empty)", rec.Code)
	}
}

func BenchmarkThrottleStep(b *testing.B) {
	gw, err := New(WithAccountThrottle(1e9, 1<<30), WithMeteringKey(testKey))
	if err != nil {
		b.Fatal(err)
	}
	api := NewAPI("pets", HTTP)
	api.HandleFunc("GET /pets", func(http.ResponseWriter, *http.Request) {})
	if _, err := gw.Deploy(api, StageConfig{Name: "prod", Throttle: StageThrottle{Default: tlim(1e9, 1<<30)}}); err != nil {
		b.Fatal(err)
	}
	if err := gw.AddUsagePlan(throttle.UsagePlan{ID: "p", Throttle: tlim(1e9, 1<<30), Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}}); err != nil {
		b.Fatal(err)
	}
	if err := gw.AddUsagePlanKey("p", "k"); err != nil {
		b.Fatal(err)
	}
	for _, key := range []string{"", "k"} {
		name := map[string]string{"": "no-key", "k": "plan-key"}[key]
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/prod/pets", nil)
			if key != "" {
				req.Header.Set(meteringKeyHeader, key)
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				gw.ServeHTTP(w, req)
			}
		})
	}
}
