package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/internal/fakeclock"
)

// TestCacheGatewaysShareHits runs two gateways, each with its own Redis
// client and integration, on one Redis: a response one of them fetched is a
// hit on the other, a flush on one empties the stage for both, and entries
// expire on the gateways' (fake) clock.
func TestCacheGatewaysShareHits(t *testing.T) {
	_, prefix := testClient(t)
	clk := fakeclock.New(cacheT0)
	var calls [2]atomic.Int64
	var gws [2]*portico.Gateway
	var stages [2]*portico.Stage
	for i := range gws {
		rdb, _ := testClient(t)
		store, err := NewCacheStore(rdb, prefix)
		if err != nil {
			t.Fatal(err)
		}
		gw, err := portico.New(portico.WithClock(clk), portico.WithCacheStore(store), portico.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })
		api := portico.NewAPI("pets", portico.REST)
		api.HandleFunc("GET /pets/{id}", func(w http.ResponseWriter, r *http.Request) {
			calls[i].Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":%q,"gateway":%d}`, r.PathValue("id"), i)
		})
		st, err := gw.Deploy(api, portico.StageConfig{Name: "prod", Cache: portico.StageCache{Enabled: true, StatusHeader: "X-Cache", TTL: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		gws[i], stages[i] = gw, st
	}
	get := func(i int) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		gws[i].ServeHTTP(rec, httptest.NewRequest("GET", "/prod/pets/7", nil))
		return rec
	}
	steps := []struct {
		name     string
		gateway  int
		flush    int // flush through this gateway first (-1: none)
		advance  time.Duration
		want     string
		wantBody string
	}{
		{"gateway 0 fetches", 0, -1, 0, "Miss", `{"id":"7","gateway":0}`},
		{"gateway 1 is served gateway 0's response", 1, -1, 0, "Hit", `{"id":"7","gateway":0}`},
		{"flush through gateway 1 empties gateway 0", 0, 1, 0, "Miss", `{"id":"7","gateway":0}`},
		{"gateway 1 hits the refill", 1, -1, 59 * time.Second, "Hit", `{"id":"7","gateway":0}`},
		{"the TTL runs on the gateway clock", 1, -1, time.Second, "Miss", `{"id":"7","gateway":1}`},
	}
	for _, st := range steps {
		if st.flush >= 0 {
			if err := stages[st.flush].FlushCache(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(st.advance)
		rec := get(st.gateway)
		if got := rec.Header().Get("X-Cache"); got != st.want || rec.Body.String() != st.wantBody {
			t.Fatalf("%s: X-Cache %q body %q, want %q %q", st.name, got, rec.Body, st.want, st.wantBody)
		}
	}
	if calls[0].Load() != 2 || calls[1].Load() != 1 {
		t.Fatalf("integration calls %d and %d, want 2 and 1", calls[0].Load(), calls[1].Load())
	}
	if s0, s1 := stages[0].CacheStats(), stages[1].CacheStats(); s0.Misses != 2 || s1.Hits != 2 {
		t.Fatalf("stats %+v and %+v", s0, s1)
	}
}
