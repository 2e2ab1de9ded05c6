package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/cache"
	"github.com/portico-gw/portico/cache/cachetest"
	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/redis/go-redis/v9"
)

var cacheT0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newCacheStore(t testing.TB) (*CacheStore, redis.UniversalClient, string) {
	t.Helper()
	rdb, prefix := testClient(t)
	s, err := NewCacheStore(rdb, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s, rdb, prefix
}

func TestCacheStoreContract(t *testing.T) {
	cachetest.TestStore(t, func(t *testing.T) cache.Store {
		s, _, _ := newCacheStore(t)
		return s
	})
}

func TestNewCacheStoreNilClient(t *testing.T) {
	if _, err := NewCacheStore(nil, "p:"); err == nil {
		t.Fatal("NewCacheStore(nil): no error")
	}
}

func TestCacheStoreKeys(t *testing.T) {
	s, rdb, prefix := newCacheStore(t)
	ctx := context.Background()
	e := &cache.Entry{Status: 200, Body: []byte("x"), Expires: cacheT0.Add(90 * time.Second)}
	if err := s.Set(ctx, "pets/v1/prod", "abc", 0, e, cacheT0); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx, "pets/v1/prod"); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{prefix + "cache:{pets/v1/prod}:e:abc": true, prefix + "cache:{pets/v1/prod}:gen": true}
	if len(keys) != len(want) {
		t.Fatalf("keys = %q, want %d keys", keys, len(want))
	}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("unexpected key %q", k)
		}
	}
	pttl, err := rdb.PTTL(ctx, prefix+"cache:{pets/v1/prod}:e:abc").Result()
	if err != nil || pttl <= 80*time.Second || pttl > 90*time.Second {
		t.Fatalf("entry PTTL = %v, %v; want about 90s", pttl, err)
	}
	if ttl, _ := rdb.PTTL(ctx, prefix+"cache:{pets/v1/prod}:gen").Result(); ttl != -1 {
		t.Fatalf("generation key PTTL = %v, want none (-1)", ttl)
	}
}

func TestCacheStoreBadInput(t *testing.T) {
	s, rdb, prefix := newCacheStore(t)
	ctx := context.Background()
	e := &cache.Entry{Status: 200, Expires: cacheT0.Add(time.Minute)}
	tests := []struct {
		name string
		err  error
	}{
		{"namespace with a brace", s.Set(ctx, "a{b", "k", 0, e, cacheT0)},
		{"empty key", s.Delete(ctx, "ns", "")},
		{"empty namespace", s.Flush(ctx, "")},
		{"nil entry", s.Set(ctx, "ns", "k", 0, nil, cacheT0)},
		{"bad status", s.Set(ctx, "ns", "k", 0, &cache.Entry{Status: 7, Expires: cacheT0.Add(time.Minute)}, cacheT0)},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	// An entry already expired is not written.
	if err := s.Set(ctx, "ns", "k", 0, &cache.Entry{Status: 200, Expires: cacheT0}, cacheT0); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, prefix+"cache:{ns}:e:k").Result(); n != 0 {
		t.Fatal("expired entry written")
	}
}

func TestCacheStoreCorruptValues(t *testing.T) {
	s, rdb, prefix := newCacheStore(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		key   string
		value string
		err   bool
	}{
		{"entry without generation", "cache:{ns}:e:k", "garbage", false},
		{"entry that does not decode", "cache:{ns}:e:k", "0\nPCgarbage", false},
		{"generation that is not a number", "cache:{ns}:gen", "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb.Del(ctx, prefix+"cache:{ns}:e:k", prefix+"cache:{ns}:gen")
			if err := rdb.Set(ctx, prefix+tt.key, tt.value, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			e, _, err := s.Get(ctx, "ns", "k", cacheT0)
			if e != nil || (err != nil) != tt.err {
				t.Fatalf("Get = %v, %v; want a miss (error %v)", e, err, tt.err)
			}
		})
	}
}

func TestCacheStoreRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	rdb.Close()
	s, _ := NewCacheStore(rdb, "p:")
	ctx := context.Background()
	if _, _, err := s.Get(ctx, "ns", "k", cacheT0); err == nil {
		t.Error("Get on a closed client: no error")
	}
	if err := s.Set(ctx, "ns", "k", 0, &cache.Entry{Status: 200, Expires: cacheT0.Add(time.Minute)}, cacheT0); err == nil {
		t.Error("Set on a closed client: no error")
	}
	if err := s.Delete(ctx, "ns", "k"); err == nil {
		t.Error("Delete on a closed client: no error")
	}
	if err := s.Flush(ctx, "ns"); err == nil {
		t.Error("Flush on a closed client: no error")
	}
}

// TestCacheSharedBetweenInstances runs two "gateway instances" — two caches
// with their own Redis clients and integrations — on one Redis: a response
// fetched by one is a hit on the other, and a flush on one empties both.
func TestCacheSharedBetweenInstances(t *testing.T) {
	_, prefix := testClient(t)
	clk := fakeclock.New(cacheT0)
	type instance struct {
		h     http.Handler
		c     *cache.Cache
		calls *atomic.Int64
	}
	mk := func(name string) instance {
		rdb, _ := testClient(t) // a client of its own; the shared prefix below
		s, _ := NewCacheStore(rdb, prefix)
		c, err := cache.New(s, cache.WithNamespace("pets/v1/prod"), cache.WithClock(clk), cache.WithStatusHeader("X-Cache"), cache.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		mw, err := c.Middleware(cache.Rule{})
		if err != nil {
			t.Fatal(err)
		}
		calls := new(atomic.Int64)
		return instance{h: mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"from":%q}`, name)
		})), c: c, calls: calls}
	}
	a, b := mk("a"), mk("b")
	get := func(in instance) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		in.h.ServeHTTP(rec, httptest.NewRequest("GET", "/pets/1", nil))
		return rec
	}
	steps := []struct {
		name      string
		in        instance
		wantCache string
		wantBody  string
	}{
		{"a fetches", a, "Miss", `{"from":"a"}`},
		{"b is served a's response", b, "Hit", `{"from":"a"}`},
		{"a hits too", a, "Hit", `{"from":"a"}`},
	}
	for _, st := range steps {
		rec := get(st.in)
		if got := rec.Header().Get("X-Cache"); got != st.wantCache || rec.Body.String() != st.wantBody {
			t.Fatalf("%s: X-Cache %q body %q; want %q %q", st.name, got, rec.Body, st.wantCache, st.wantBody)
		}
		if rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: headers not replayed: %v", st.name, rec.Header())
		}
	}
	if a.calls.Load() != 1 || b.calls.Load() != 0 {
		t.Fatalf("integration calls a=%d b=%d, want 1 and 0", a.calls.Load(), b.calls.Load())
	}
	if err := b.c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := get(a); rec.Header().Get("X-Cache") != "Miss" {
		t.Fatal("a still hits after b flushed the stage")
	}
	clk.Advance(cache.DefaultTTL)
	if rec := get(b); rec.Header().Get("X-Cache") != "Miss" || !strings.Contains(rec.Body.String(), `"b"`) {
		t.Fatalf("after the TTL b got %q %q, want a fresh miss", rec.Header().Get("X-Cache"), rec.Body)
	}
}

func BenchmarkCacheStore(b *testing.B) {
	s, _, _ := newCacheStore(b)
	ctx := context.Background()
	e := &cache.Entry{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: make([]byte, 512), Expires: cacheT0.Add(time.Hour)}
	if err := s.Set(ctx, "bench", "k", 0, e, cacheT0); err != nil {
		b.Fatal(err)
	}
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, _, err := s.Get(ctx, "bench", "k", cacheT0); err != nil || got == nil {
				b.Fatal("miss", err)
			}
		}
	})
	b.Run("set", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Set(ctx, "bench", "k", 0, e, cacheT0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := s.Get(ctx, "bench", "k", cacheT0); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
