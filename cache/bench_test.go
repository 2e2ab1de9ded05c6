package cache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portico-gw/portico/cache"
	"github.com/portico-gw/portico/internal/fakeclock"
)

// discardWriter keeps nothing, so that benchmarks measure the cache, not a
// recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"7","name":"Rex","kind":"dog"}`)
})

func hitHandler(tb testing.TB, opts ...cache.Option) http.Handler {
	tb.Helper()
	store, err := cache.NewMemoryStore(64 << 20)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cache.New(store, append([]cache.Option{cache.WithClock(fakeclock.New(t0))}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	mw, err := c.Middleware(cache.Rule{Key: cache.KeyParams{Query: []string{"lang"}}})
	if err != nil {
		tb.Fatal(err)
	}
	h := mw(okHandler)
	h.ServeHTTP(&discardWriter{h: http.Header{}}, httptest.NewRequest("GET", "/pets/7?lang=en", nil))
	return h
}

// TestHitAllocations pins the allocations of a hit in the middleware: the
// cache key string, and nothing else (the stored header slices are shared).
func TestHitAllocations(t *testing.T) {
	tests := []struct {
		name string
		opts []cache.Option
		max  float64
	}{
		{"plain", nil, 1},
		{"encrypted", []cache.Option{cache.WithEncryptionKey(make([]byte, 32))}, 1},
		{"status header", []cache.Option{cache.WithStatusHeader("X-Cache")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hitHandler(t, tt.opts...)
			req := httptest.NewRequest("GET", "/pets/7?lang=en", nil)
			req.URL.Query() // the gateway hands the parsed query over in reqctx; here it is parsed per request
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.h.Get("Content-Length") == "" {
				t.Fatal("not a hit")
			}
			got := testing.AllocsPerRun(200, func() {
				clear(w.h)
				h.ServeHTTP(w, req)
			})
			// url.ParseQuery allocates outside a gateway; count it apart.
			q := testing.AllocsPerRun(200, func() { _ = req.URL.Query() })
			if got-q > tt.max {
				t.Fatalf("hit allocates %v (%v of them parsing the query), want at most %v beyond the query", got, q, tt.max)
			}
		})
	}
}

// BenchmarkMiddleware compares a handler called bare with the same handler
// behind the cache on a hit.
func BenchmarkMiddleware(b *testing.B) {
	req := httptest.NewRequest("GET", "/pets/7?lang=en", nil)
	b.Run("bare handler", func(b *testing.B) {
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			okHandler.ServeHTTP(w, req)
		}
	})
	for _, tc := range []struct {
		name string
		opts []cache.Option
	}{
		{"hit", nil},
		{"hit encrypted", []cache.Option{cache.WithEncryptionKey(make([]byte, 32))}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := hitHandler(b, tc.opts...)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
	b.Run("hit parallel", func(b *testing.B) {
		h := hitHandler(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	})
}

// BenchmarkMemoryStore measures the store alone.
func BenchmarkMemoryStore(b *testing.B) {
	ctx := context.Background()
	s, _ := cache.NewMemoryStore(256 << 20)
	e := &cache.Entry{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: make([]byte, 512), Expires: t0.Add(time.Hour)}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("%064x", i)
		_ = s.Set(ctx, "ns", keys[i], 0, e, t0)
	}
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if got, _, _ := s.Get(ctx, "ns", keys[i&1023], t0); got == nil {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("set", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = s.Set(ctx, "ns", keys[i&1023], 0, e, t0)
			i++
		}
	})
	b.Run("get parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _, _ = s.Get(ctx, "ns", keys[i&1023], t0)
				i++
			}
		})
	})
}
