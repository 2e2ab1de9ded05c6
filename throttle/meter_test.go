package throttle_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/throttle"
)

func lim(rate float64, burst int) *throttle.Limit { return &throttle.Limit{Rate: rate, Burst: burst} }

func newMeter(t testing.TB, cfg throttle.MeterConfig) *throttle.Meter {
	t.Helper()
	m, err := throttle.NewMeter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newTarget(t testing.TB, cfg throttle.TargetConfig) *throttle.Target {
	t.Helper()
	if cfg.API == "" {
		cfg.API = "pets"
	}
	if cfg.Stage == "" {
		cfg.Stage = "prod"
	}
	if cfg.Method == "" {
		cfg.Method = "GET"
	}
	if cfg.Path == "" {
		cfg.Path = "/pets"
	}
	tg, err := throttle.NewTarget(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestMeterPrecedence(t *testing.T) {
	ctx := context.Background()
	get := throttle.TargetConfig{Method: "GET", Path: "/pets"}
	post := throttle.TargetConfig{Method: "POST", Path: "/pets"}
	type req struct {
		target throttle.TargetConfig
		key    string
		level  throttle.Level // "" = admitted
	}
	prodStage := []throttle.PlanStage{{API: "pets", Stage: "prod"}}
	tests := []struct {
		name    string
		account *throttle.Limit
		plan    *throttle.UsagePlan
		reqs    []req
	}{
		{"account binds", lim(1, 2), nil, []req{
			{get, "", ""}, {post, "", ""}, {get, "", throttle.LevelAccount},
		}},
		{"stage default binds before the account", lim(1, 3), nil, []req{
			{throttle.TargetConfig{Limit: lim(1, 1), Level: throttle.LevelStage}, "", ""},
			{throttle.TargetConfig{Limit: lim(1, 1), Level: throttle.LevelStage}, "", throttle.LevelStage},
			// The refusal spent no account token: two remain.
			{post, "", ""}, {post, "", ""}, {post, "", throttle.LevelAccount},
		}},
		{"method limits are per route", nil, nil, []req{
			{throttle.TargetConfig{Method: "GET", Limit: lim(1, 1)}, "", ""},
			{throttle.TargetConfig{Method: "POST", Limit: lim(1, 1)}, "", ""},
			{throttle.TargetConfig{Method: "GET", Limit: lim(1, 1)}, "", throttle.LevelMethod},
		}},
		{"plan binds per key", nil, &throttle.UsagePlan{ID: "p", Throttle: lim(1, 2), Stages: prodStage}, []req{
			{get, "k1", ""}, {post, "k1", ""}, {get, "k1", throttle.LevelPlan},
			{get, "k2", ""}, {get, "", ""}, {get, "unknown", ""},
		}},
		{"plan-method replaces the plan limit", nil, &throttle.UsagePlan{ID: "p", Throttle: lim(1, 1), Stages: []throttle.PlanStage{
			{API: "pets", Stage: "prod", Methods: map[string]throttle.Limit{"/pets/GET": {Rate: 1, Burst: 3}}},
		}}, []req{
			{get, "k1", ""}, {get, "k1", ""}, {get, "k1", ""}, {get, "k1", throttle.LevelPlanMethod},
			{post, "k1", ""}, {post, "k1", throttle.LevelPlan},
		}},
		{"server levels still bind under a plan", nil, &throttle.UsagePlan{ID: "p", Throttle: lim(100, 100), Stages: prodStage}, []req{
			{throttle.TargetConfig{Limit: lim(1, 1), Level: throttle.LevelStage}, "k1", ""},
			{throttle.TargetConfig{Limit: lim(1, 1), Level: throttle.LevelStage}, "k2", throttle.LevelStage},
		}},
		{"a plan covers only its stages", nil, &throttle.UsagePlan{ID: "p", Throttle: lim(1, 1), Stages: []throttle.PlanStage{{API: "pets", Stage: "dev"}}}, []req{
			{get, "k1", ""}, {get, "k1", ""},
			{throttle.TargetConfig{Stage: "dev"}, "k1", ""}, {throttle.TargetConfig{Stage: "dev"}, "k1", throttle.LevelPlan},
		}},
		{"quota after the throttles", nil, &throttle.UsagePlan{ID: "p", Throttle: lim(1, 3), Quota: &throttle.Quota{Limit: 2, Period: throttle.Day}, Stages: prodStage}, []req{
			{get, "k1", ""}, {get, "k1", ""}, {get, "k1", throttle.LevelQuota},
			// Throttled requests are not counted against the quota.
			{get, "k2", ""}, {get, "k2", ""}, {get, "k2", throttle.LevelQuota}, {get, "k2", throttle.LevelPlan},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMeter(t, throttle.MeterConfig{Account: tt.account, Clock: fakeclock.New(t0)})
			if tt.plan != nil {
				if err := m.AddPlan(*tt.plan); err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"k1", "k2"} {
					if err := m.AddKey(tt.plan.ID, k); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i, rq := range tt.reqs {
				r, err := m.Decide(ctx, newTarget(t, rq.target), rq.key, t0)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if r.Level != rq.level || r.Allowed != (rq.level == "") {
					t.Errorf("request %d (%s %s key %q): allowed %v level %q, want level %q", i, rq.target.Method, rq.target.Path, rq.key, r.Allowed, r.Level, rq.level)
				}
			}
		})
	}
}

// TestMeterOneAPICannotStarveAnother floods API "a" and checks that API "b"
// is served in full while "a" has a stage limit, and starved once nothing
// but the account level binds.
func TestMeterOneAPICannotStarveAnother(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		aLimit    *throttle.Limit
		wantBMin  int
		wantBMax  int
		wantLevel throttle.Level
	}{
		{"stage limit on the flooded API", lim(100, 100), 100, 100, throttle.LevelStage},
		{"only the account binds", nil, 0, 10, throttle.LevelAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMeter(t, throttle.MeterConfig{Account: lim(300, 300)})
			a := newTarget(t, throttle.TargetConfig{API: "a", Limit: tt.aLimit, Level: throttle.LevelStage})
			b := newTarget(t, throttle.TargetConfig{API: "b"})
			bServed := 0
			var aLevel throttle.Level
			// One second: "a" sends 5,000 requests, "b" 100.
			for ms := 0; ms < 1000; ms++ {
				now := t0.Add(time.Duration(ms) * time.Millisecond)
				for i := 0; i < 5; i++ {
					r, err := m.Decide(ctx, a, "", now)
					if err != nil {
						t.Fatal(err)
					}
					if !r.Allowed {
						aLevel = r.Level
					}
				}
				if ms%10 == 0 {
					r, err := m.Decide(ctx, b, "", now)
					if err != nil {
						t.Fatal(err)
					}
					if r.Allowed {
						bServed++
					}
				}
			}
			if bServed < tt.wantBMin || bServed > tt.wantBMax {
				t.Errorf("b served %d of 100, want %d–%d", bServed, tt.wantBMin, tt.wantBMax)
			}
			if aLevel != tt.wantLevel {
				t.Errorf("a throttled at level %q, want %q", aLevel, tt.wantLevel)
			}
		})
	}
}

func TestMeterPlans(t *testing.T) {
	clk := fakeclock.New(t0)
	m := newMeter(t, throttle.MeterConfig{Clock: clk})
	dev := throttle.PlanStage{API: "pets", Stage: "dev"}
	prod := throttle.PlanStage{API: "pets", Stage: "prod"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustFail := func(err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want it to contain %q", err, want)
		}
	}
	must(m.AddPlan(throttle.UsagePlan{ID: "free", Throttle: lim(1, 1), Quota: &throttle.Quota{Limit: 10, Period: throttle.Day}, Stages: []throttle.PlanStage{dev}}))
	must(m.AddPlan(throttle.UsagePlan{ID: "pro", Throttle: lim(100, 100), Stages: []throttle.PlanStage{prod}}))
	must(m.AddPlan(throttle.UsagePlan{ID: "all", Stages: []throttle.PlanStage{dev, prod}}))
	mustFail(m.AddPlan(throttle.UsagePlan{ID: "free"}), `usage plan "free" already exists`)

	// A key may be in several plans for different stages.
	must(m.AddKey("free", "k1"))
	must(m.AddKey("pro", "k1"))
	mustFail(m.AddKey("all", "k1"), `key "k1" is already in usage plan`)
	mustFail(m.AddKey("free", "k1"), `already in usage plan "free"`)
	mustFail(m.AddKey("nope", "k1"), `no usage plan "nope"`)
	mustFail(m.AddKey("free", ""), "key id")
	mustFail(m.AddKey("free", "a\nb"), "key id")
	if got := m.PlanFor("pets", "dev", "k1"); got != "free" {
		t.Errorf("PlanFor(dev, k1) = %q, want free", got)
	}
	if got := m.PlanFor("pets", "prod", "k1"); got != "pro" {
		t.Errorf("PlanFor(prod, k1) = %q, want pro", got)
	}
	if got := m.PlanFor("pets", "test", "k1"); got != "" {
		t.Errorf("PlanFor(test, k1) = %q, want none", got)
	}

	// Updating a plan may not put a key in two plans on a stage.
	mustFail(m.UpdatePlan(throttle.UsagePlan{ID: "free", Stages: []throttle.PlanStage{dev, prod}}), `key "k1" is already in plan "pro"`)
	must(m.UpdatePlan(throttle.UsagePlan{ID: "free", Throttle: lim(2, 2), Quota: &throttle.Quota{Limit: 20, Period: throttle.Day}, Stages: []throttle.PlanStage{dev}}))
	p, ok := m.Plan("free")
	if !ok || p.Throttle.Rate != 2 || !p.Quota.Start.Equal(t0) {
		t.Errorf("Plan(free) after update = %+v, %v; want rate 2 and the original quota start", p, ok)
	}
	// The copy is the caller's.
	p.Throttle.Rate = 99
	if p2, _ := m.Plan("free"); p2.Throttle.Rate != 2 {
		t.Error("changing a plan returned by Plan changed the meter's")
	}
	mustFail(m.UpdatePlan(throttle.UsagePlan{ID: "nope"}), `no usage plan "nope"`)

	keys, err := m.Keys("free")
	if err != nil || strings.Join(keys, ",") != "k1" {
		t.Errorf("Keys(free) = %v, %v", keys, err)
	}
	must(m.RemoveKey("free", "k1"))
	mustFail(m.RemoveKey("free", "k1"), "not in usage plan")
	if got := m.PlanFor("pets", "dev", "k1"); got != "" {
		t.Errorf("PlanFor(dev, k1) after RemoveKey = %q", got)
	}
	must(m.AddKey("all", "k2"))
	must(m.RemovePlan("all"))
	if got := m.PlanFor("pets", "dev", "k2"); got != "" {
		t.Errorf("PlanFor(dev, k2) after RemovePlan = %q", got)
	}
	mustFail(m.RemovePlan("all"), `no usage plan "all"`)
	var ids []string
	for _, p := range m.Plans() {
		ids = append(ids, p.ID)
	}
	if got := strings.Join(ids, ","); got != "free,pro" {
		t.Errorf("Plans() = %s, want free,pro", got)
	}
}

func TestMeterPlanErrors(t *testing.T) {
	tests := []struct {
		name string
		p    throttle.UsagePlan
		want string
	}{
		{"no id", throttle.UsagePlan{}, "usage plan id"},
		{"bad id", throttle.UsagePlan{ID: "a b"}, "usage plan id"},
		{"bad throttle", throttle.UsagePlan{ID: "p", Throttle: lim(10, 0)}, "Throttle:"},
		{"bad quota", throttle.UsagePlan{ID: "p", Quota: &throttle.Quota{Limit: 1, Period: "YEAR"}}, "Quota:"},
		{"stage without API", throttle.UsagePlan{ID: "p", Stages: []throttle.PlanStage{{Stage: "prod"}}}, "Stages[0]: API and Stage are required"},
		{"stage twice", throttle.UsagePlan{ID: "p", Stages: []throttle.PlanStage{{API: "a", Stage: "s"}, {API: "a", Stage: "s"}}}, "Stages[1]"},
		{"bad method", throttle.UsagePlan{ID: "p", Stages: []throttle.PlanStage{{API: "a", Stage: "s", Methods: map[string]throttle.Limit{"GET": {Rate: 1, Burst: 1}}}}}, "Methods"},
	}
	m := newMeter(t, throttle.MeterConfig{})
	for _, tt := range tests {
		err := m.AddPlan(tt.p)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: AddPlan error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	many := map[string]throttle.Limit{}
	for i := 0; i <= throttle.MaxPlanMethods; i++ {
		many["/r"+string(rune('a'+i))+"/GET"] = throttle.Limit{Rate: 1, Burst: 1}
	}
	if err := m.AddPlan(throttle.UsagePlan{ID: "p", Stages: []throttle.PlanStage{{API: "a", Stage: "s", Methods: many}}}); err == nil {
		t.Error("AddPlan with 21 method throttles: no error")
	}
	if _, err := throttle.NewMeter(throttle.MeterConfig{Account: lim(-1, 1)}); err == nil {
		t.Error("NewMeter with a bad account limit: no error")
	}
	if _, err := throttle.NewTarget(throttle.TargetConfig{API: "a", Method: "GET", Path: "/"}); err == nil {
		t.Error("NewTarget without a stage: no error")
	}
	if _, err := throttle.NewTarget(throttle.TargetConfig{API: "a", Stage: "s", Method: "GET", Path: "/", Limit: lim(1, 0)}); err == nil {
		t.Error("NewTarget with a bad limit: no error")
	}
	if _, err := throttle.NewTarget(throttle.TargetConfig{API: "a", Stage: "s", Method: "GET", Path: "/", Level: throttle.LevelPlan}); err == nil {
		t.Error("NewTarget with level plan: no error")
	}
}

func TestMeterUsage(t *testing.T) {
	ctx := context.Background()
	start := date(2026, 3, 14, 10, 0) // a Saturday
	m := newMeter(t, throttle.MeterConfig{Clock: fakeclock.New(start)})
	// 10 a week, 4 fewer in the week the plan starts; weeks start on
	// Sunday.
	if err := m.AddPlan(throttle.UsagePlan{ID: "pro", Quota: &throttle.Quota{Limit: 10, Offset: 4, Period: throttle.Week},
		Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"k1", "k2"} {
		if err := m.AddKey("pro", k); err != nil {
			t.Fatal(err)
		}
	}
	tg := newTarget(t, throttle.TargetConfig{})
	send := func(key string, at time.Time, n int) (admitted int) {
		for i := 0; i < n; i++ {
			r, err := m.Decide(ctx, tg, key, at)
			if err != nil {
				t.Fatal(err)
			}
			if r.Allowed {
				admitted++
			}
		}
		return admitted
	}
	// Friday 13th is before the plan's first period started but in the
	// same week: the offset applies.
	if got := send("k1", date(2026, 3, 13, 9, 0), 2); got != 2 {
		t.Fatalf("Friday: admitted %d, want 2", got)
	}
	if got := send("k1", date(2026, 3, 14, 9, 0), 10); got != 4 {
		t.Fatalf("Saturday: admitted %d, want the rest of 10-4-2 = 4", got)
	}
	// Sunday starts a new week with the full limit.
	if got := send("k1", date(2026, 3, 15, 0, 0), 3); got != 3 {
		t.Fatalf("Sunday: admitted %d, want 3", got)
	}
	if got := send("k2", date(2026, 3, 15, 12, 0), 1); got != 1 {
		t.Fatalf("k2 on Sunday: admitted %d, want 1", got)
	}

	u, err := m.Usage(ctx, "pro", "", date(2026, 3, 13, 23, 0), date(2026, 3, 16, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"usagePlanId":"pro","startDate":"2026-03-13","endDate":"2026-03-16","values":{"k1":[[2,4],[4,0],[3,7],[0,7]],"k2":[[0,6],[0,6],[1,9],[0,9]]}}`
	if string(b) != want {
		t.Errorf("usage report\n got %s\nwant %s", b, want)
	}
	one, err := m.Usage(ctx, "pro", "k2", date(2026, 3, 15, 0, 0), date(2026, 3, 15, 0, 0))
	if err != nil || len(one.Items) != 1 || one.Items["k2"][0] != (throttle.DayUsage{Day: date(2026, 3, 15, 0, 0), Used: 1, Remaining: 9}) {
		t.Errorf("Usage(pro, k2, Sunday) = %+v, %v", one, err)
	}
	for _, c := range []struct{ plan, key string }{{"nope", ""}, {"pro", "k3"}} {
		if _, err := m.Usage(ctx, c.plan, c.key, start, start); err == nil {
			t.Errorf("Usage(%q, %q): no error", c.plan, c.key)
		}
	}
	if _, err := m.Usage(ctx, "pro", "", start, start.Add(-48*time.Hour)); err == nil {
		t.Error("Usage with a reversed range: no error")
	}
}

func TestMeterUsageWithoutQuota(t *testing.T) {
	ctx := context.Background()
	m := newMeter(t, throttle.MeterConfig{})
	if err := m.AddPlan(throttle.UsagePlan{ID: "p", Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddKey("p", "k"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := m.Decide(ctx, newTarget(t, throttle.TargetConfig{}), "k", t0); err != nil {
			t.Fatal(err)
		}
	}
	u, err := m.Usage(ctx, "p", "k", t0, t0)
	if err != nil || u.Items["k"][0].Used != 3 || u.Items["k"][0].Remaining != -1 {
		t.Errorf("Usage = %+v, %v; want 3 used, -1 remaining", u, err)
	}
}

func TestMeterHeaders(t *testing.T) {
	ctx := context.Background()
	m := newMeter(t, throttle.MeterConfig{Account: lim(1000, 1000), Clock: fakeclock.New(t0)})
	if err := m.AddPlan(throttle.UsagePlan{ID: "p", Throttle: lim(1, 2), Quota: &throttle.Quota{Limit: 3, Period: throttle.Day},
		Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddKey("p", "k"); err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t, throttle.TargetConfig{})
	noon := date(2026, 3, 14, 12, 0)
	tests := []struct {
		name          string
		at            time.Time
		key           string
		policy, state string
		retry         string
		errType       reqctx.ResponseType
	}{
		{"admitted with a plan", noon, "k", `"plan";q=2;w=2, "quota";q=3;w=86400`, `"plan";r=1;t=1, "quota";r=2;t=43200`, "", ""},
		{"admitted without a plan", noon, "", "", "", "", ""},
		{"admitted, plan bucket empty", noon, "k", `"plan";q=2;w=2, "quota";q=3;w=86400`, `"plan";r=0;t=1, "quota";r=1;t=43200`, "", ""},
		{"throttled by the plan", noon, "k", `"plan";q=2;w=2`, `"plan";r=0;t=1`, "1", reqctx.Throttled},
		{"admitted after refill", noon.Add(time.Second), "k", `"plan";q=2;w=2, "quota";q=3;w=86400`, `"plan";r=0;t=1, "quota";r=0;t=43199`, "", ""},
		{"quota exceeded", noon.Add(10 * time.Second), "k", `"quota";q=3;w=86400`, `"quota";r=0;t=43190`, "43190", reqctx.QuotaExceeded},
	}
	for _, tt := range tests {
		r, err := m.Decide(ctx, tg, tt.key, tt.at)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		r.SetHeaders(h)
		if got := h.Get("RateLimit-Policy"); got != tt.policy {
			t.Errorf("%s: RateLimit-Policy = %q, want %q", tt.name, got, tt.policy)
		}
		if got := h.Get("RateLimit"); got != tt.state {
			t.Errorf("%s: RateLimit = %q, want %q", tt.name, got, tt.state)
		}
		if got := h.Get("Retry-After"); got != tt.retry {
			t.Errorf("%s: Retry-After = %q, want %q", tt.name, got, tt.retry)
		}
		e := r.GatewayError()
		switch {
		case tt.errType == "" && e != nil:
			t.Errorf("%s: GatewayError = %v, want nil", tt.name, e)
		case tt.errType != "" && (e == nil || e.Type != tt.errType):
			t.Errorf("%s: GatewayError = %v, want type %s", tt.name, e, tt.errType)
		case e != nil:
			if e.Header.Get("Retry-After") != tt.retry {
				t.Errorf("%s: GatewayError Retry-After = %q, want %q", tt.name, e.Header.Get("Retry-After"), tt.retry)
			}
			if le, ok := errors.AsType[*throttle.LimitError](e); !ok || le.Level != r.Level {
				t.Errorf("%s: cause = %v, want a LimitError at level %q", tt.name, e.Err, r.Level)
			}
		}
	}
}

type failingStore struct{ err error }

func (f failingStore) Take(context.Context, string, throttle.Limit, int, time.Time) (throttle.Decision, error) {
	return throttle.Decision{}, f.err
}

func (f failingStore) Consume(context.Context, string, throttle.Window, int64, time.Time) (throttle.QuotaDecision, error) {
	return throttle.QuotaDecision{}, f.err
}

func (f failingStore) Usage(context.Context, string, time.Time, time.Time) ([]int64, error) {
	return nil, f.err
}

func TestMeterStoreErrors(t *testing.T) {
	ctx := context.Background()
	down := failingStore{err: throttle.ErrUnavailable}
	tests := []struct {
		name string
		cfg  throttle.MeterConfig
		key  string
	}{
		{"bucket store down", throttle.MeterConfig{Store: down}, ""},
		{"quota store down", throttle.MeterConfig{Quotas: down}, "k"},
	}
	for _, tt := range tests {
		m := newMeter(t, tt.cfg)
		if err := m.AddPlan(throttle.UsagePlan{ID: "p", Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}}); err != nil {
			t.Fatal(err)
		}
		if err := m.AddKey("p", "k"); err != nil {
			t.Fatal(err)
		}
		r, err := m.Decide(ctx, newTarget(t, throttle.TargetConfig{}), tt.key, t0)
		if !errors.Is(err, throttle.ErrUnavailable) || r.Allowed {
			t.Errorf("%s: Decide = %+v, %v; want ErrUnavailable", tt.name, r, err)
		}
	}
	m := newMeter(t, throttle.MeterConfig{Quotas: down})
	_ = m.AddPlan(throttle.UsagePlan{ID: "p"})
	_ = m.AddKey("p", "k")
	if _, err := m.Usage(ctx, "p", "", t0, t0); !errors.Is(err, throttle.ErrUnavailable) {
		t.Errorf("Usage with the quota store down: %v", err)
	}
}

// TestMeterConcurrentQuota checks that concurrent requests never exceed a
// quota.
func TestMeterConcurrentQuota(t *testing.T) {
	ctx := context.Background()
	m := newMeter(t, throttle.MeterConfig{})
	if err := m.AddPlan(throttle.UsagePlan{ID: "p", Throttle: lim(1e6, 1e6), Quota: &throttle.Quota{Limit: 250, Period: throttle.Month},
		Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddKey("p", "k"); err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t, throttle.TargetConfig{Limit: lim(1e6, 1e6)})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				r, err := m.Decide(ctx, tg, "k", t0)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := admitted.Load(); got != 250 {
		t.Errorf("admitted %d of 800 concurrent requests, want the quota, 250", got)
	}
}

func BenchmarkMeterDecide(b *testing.B) {
	ctx := context.Background()
	m := newMeter(b, throttle.MeterConfig{Account: lim(1e9, 1e9)})
	if err := m.AddPlan(throttle.UsagePlan{ID: "p", Throttle: lim(1e9, 1e9), Quota: &throttle.Quota{Limit: 1 << 62, Period: throttle.Month},
		Stages: []throttle.PlanStage{{API: "pets", Stage: "prod"}}}); err != nil {
		b.Fatal(err)
	}
	if err := m.AddKey("p", "k"); err != nil {
		b.Fatal(err)
	}
	tg := newTarget(b, throttle.TargetConfig{Limit: lim(1e9, 1e9)})
	b.Run("no-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Decide(ctx, tg, "", t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plan-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Decide(ctx, tg, "k", t0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
