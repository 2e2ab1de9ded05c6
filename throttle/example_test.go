package throttle_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/portico-gw/portico/throttle"
)

// Throttle any handler by client IP: two requests at once, then one a
// minute.
func ExampleMiddleware() {
	mw, err := throttle.Middleware(throttle.Limit{Rate: 1.0 / 60, Burst: 2}, throttle.KeyByIP)
	if err != nil {
		fmt.Println(err)
		return
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") }))
	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "192.0.2.1:5555"
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("RateLimit"), rec.Header().Get("Retry-After"), rec.Body)
	}
	// Output:
	// 200 "default";r=1;t=60  hello
	// 200 "default";r=0;t=60  hello
	// 429 "default";r=0;t=60 60 {"message":"Too Many Requests"}
}

// A usage plan with a throttle and a daily quota, one key in it, and the
// key's usage report.
func ExampleMeter() {
	ctx := context.Background()
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	m, err := throttle.NewMeter(throttle.MeterConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = m.AddPlan(throttle.UsagePlan{
		ID:       "free",
		Throttle: &throttle.Limit{Rate: 1, Burst: 2},
		Quota:    &throttle.Quota{Limit: 3, Period: throttle.Day, Start: day},
		Stages:   []throttle.PlanStage{{API: "pets", Stage: "prod"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.AddKey("free", "key-1"); err != nil {
		fmt.Println(err)
		return
	}
	route, err := throttle.NewTarget(throttle.TargetConfig{API: "pets", Stage: "prod", Method: "GET", Path: "/pets"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, at := range []time.Duration{0, 0, 0, 10 * time.Second, 20 * time.Second} {
		r, err := m.Decide(ctx, route, "key-1", day.Add(9*time.Hour+at))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("+%v allowed=%v level=%q\n", at, r.Allowed, r.Level)
	}
	u, err := m.Usage(ctx, "free", "key-1", day, day.AddDate(0, 0, 1))
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(u)
	fmt.Println(string(b))
	// Output:
	// +0s allowed=true level=""
	// +0s allowed=true level=""
	// +0s allowed=false level="plan"
	// +10s allowed=true level=""
	// +20s allowed=false level="quota"
	// {"usagePlanId":"free","startDate":"2026-03-14","endDate":"2026-03-15","values":{"key-1":[[3,0],[0,3]]}}
}

func ExampleQuota_Window() {
	q := throttle.Quota{Limit: 1000, Offset: 400, Period: throttle.Month, Start: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)}
	for _, now := range []time.Time{
		time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC),
	} {
		w := q.Window(now)
		fmt.Println(w.Start.Format(time.DateOnly), w.End.Format(time.DateOnly), w.Limit)
	}
	// Output:
	// 2026-03-01 2026-04-01 600
	// 2026-04-01 2026-05-01 1000
}

func ExampleParseMethodKey() {
	for _, s := range []string{"/pets/{id}/GET", "~1pets/POST", "*/*", "DELETE /pets/{id}"} {
		k, err := throttle.ParseMethodKey(s)
		fmt.Println(k, err)
	}
	// Output:
	// GET /pets/{id} <nil>
	// POST /pets <nil>
	// * * <nil>
	// DELETE /pets/{id} <nil>
}
