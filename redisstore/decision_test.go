package redisstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/internal/fakeclock"
)

// TestDecisionCacheSharedBetweenInstances: a caller authorized through one
// instance's custom authorizer is served from the shared cache by
// another's, until the result expires.
func TestDecisionCacheSharedBetweenInstances(t *testing.T) {
	c, prefix := authTestClient(t)
	clk := fakeclock.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	var calls atomic.Int64
	fn := func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		calls.Add(1)
		return &auth.AuthorizerResponse{PrincipalID: "u", PolicyDocument: auth.AllowPolicy("*"), Context: map[string]any{"n": 1}}, nil
	}
	instance := func() http.Handler {
		cache, err := NewDecisionCache(c, prefix)
		if err != nil {
			t.Fatal(err)
		}
		a, err := auth.NewTokenAuthorizer(fn, auth.WithDecisionCache(cache), auth.WithCacheNamespace("pets/token"),
			auth.WithClock(clk), auth.WithResultTTL(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return a.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	}
	a, b := instance(), instance()
	call := func(h http.Handler) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "tok")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	if call(a) != 200 || call(b) != 200 || calls.Load() != 1 {
		t.Fatalf("authorizer called %d times for one caller on two instances, want 1", calls.Load())
	}
	clk.Advance(time.Minute)
	if call(b) != 200 || calls.Load() != 2 {
		t.Fatalf("after the TTL: %d calls, want 2", calls.Load())
	}
	// Raw tokens never reach Redis: keys are digests.
	keys, _ := c.Keys(context.Background(), prefix+"*").Result()
	for _, k := range keys {
		if len(k) < len(prefix)+64 {
			t.Fatalf("cache key %q is not a digest", k)
		}
	}
}
