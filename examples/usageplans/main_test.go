package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/porticotest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestUsagePlans checks the responses the README shows: a free key
// throttled, then out of quota, a pro key served, and the usage report.
func TestUsagePlans(t *testing.T) {
	clk := porticotest.NewClock(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))
	gw, h, err := newServer(clk)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(context.Background())
	srv := httptest.NewServer(h)
	defer srv.Close()
	const free, pro = "demoFreeKey0123456789", "demoProKey01234567890"
	tests := []struct {
		key     string
		advance time.Duration
		status  int
		body    string
		header  map[string]string
	}{
		{"", 0, 403, `{"message":"Forbidden"}`, nil},
		{free, 0, 200, `{"pets":["Rex","Tom"],"key":"key-free-1"}`, map[string]string{
			"RateLimit-Policy": `"plan";q=2;w=2, "quota";q=5;w=86400`,
			"RateLimit":        `"plan";r=1;t=1, "quota";r=4;t=54000`,
		}},
		{free, 0, 200, `{"pets":["Rex","Tom"],"key":"key-free-1"}`, map[string]string{
			"RateLimit": `"plan";r=0;t=1, "quota";r=3;t=54000`,
		}},
		{free, 0, 429, `{"message":"Too Many Requests"}`, map[string]string{
			"Retry-After":      "1",
			"RateLimit-Policy": `"plan";q=2;w=2`,
			"RateLimit":        `"plan";r=0;t=1`,
			"X-Amzn-Errortype": "TooManyRequestsException",
		}},
		{free, time.Second, 200, "", nil},
		{free, time.Second, 200, "", nil},
		{free, time.Second, 200, "", map[string]string{"RateLimit": `"plan";r=0;t=1, "quota";r=0;t=53997`}},
		{free, time.Second, 429, `{"message":"Limit Exceeded"}`, map[string]string{
			"Retry-After":      "53996",
			"RateLimit-Policy": `"quota";q=5;w=86400`,
			"RateLimit":        `"quota";r=0;t=53996`,
			"X-Amzn-Errortype": "LimitExceededException",
		}},
		{pro, 0, 200, `{"pets":["Rex","Tom"],"key":"key-pro-1"}`, map[string]string{
			"RateLimit-Policy": `"plan";q=200;w=2, "quota";q=100000;w=2678400`,
			"RateLimit":        `"plan";r=199;t=1, "quota";r=99999;t=1522796`,
		}},
	}
	for i, tt := range tests {
		clk.Advance(tt.advance)
		req, _ := http.NewRequest("GET", srv.URL+"/prod/pets", nil)
		if tt.key != "" {
			req.Header.Set("X-Api-Key", tt.key)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || tt.body != "" && strings.TrimSpace(string(b)) != tt.body {
			t.Errorf("request %d: %d %s, want %d %s", i, res.StatusCode, b, tt.status, tt.body)
		}
		for k, want := range tt.header {
			if got := res.Header.Get(k); got != want {
				t.Errorf("request %d: %s = %q, want %q", i, k, got, want)
			}
		}
	}

	res, err := srv.Client().Get(srv.URL + "/admin/usage?plan=free&from=2026-03-13")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	want := `{"usagePlanId":"free","startDate":"2026-03-13","endDate":"2026-03-14","values":{"key-free-1":[[0,5],[5,0]]}}`
	if res.StatusCode != 200 || strings.TrimSpace(string(b)) != want {
		t.Errorf("usage: %d %s, want %s", res.StatusCode, b, want)
	}
	if res, err := srv.Client().Get(srv.URL + "/admin/usage?plan=nope"); err != nil || res.StatusCode != 400 {
		t.Errorf("usage of an unknown plan: %v %v, want 400", res.StatusCode, err)
	} else {
		res.Body.Close()
	}
}
