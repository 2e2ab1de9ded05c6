package cache_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/cache"
	"github.com/portico-gw/portico/cache/cachetest"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func TestMemoryStoreContract(t *testing.T) {
	cachetest.TestStore(t, func(t *testing.T) cache.Store {
		s, err := cache.NewMemoryStore(64 << 20)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewMemoryStoreErrors(t *testing.T) {
	for _, c := range []int64{0, -1} {
		if _, err := cache.NewMemoryStore(c); err == nil {
			t.Errorf("NewMemoryStore(%d): no error", c)
		}
	}
	s, _ := cache.NewMemoryStore(1 << 20)
	if err := s.Resize(0); err == nil {
		t.Error("Resize(0): no error")
	}
}

func TestMemoryStoreRejectsEmptyNames(t *testing.T) {
	s, _ := cache.NewMemoryStore(1 << 20)
	ctx := context.Background()
	e := sized(10, time.Minute)
	tests := []struct {
		name string
		err  error
	}{
		{"get empty ns", func() error { _, _, err := s.Get(ctx, "", "k", t0); return err }()},
		{"get empty key", func() error { _, _, err := s.Get(ctx, "ns", "", t0); return err }()},
		{"set empty key", s.Set(ctx, "ns", "", 0, e, t0)},
		{"set nil entry", s.Set(ctx, "ns", "k", 0, nil, t0)},
		{"delete empty ns", s.Delete(ctx, "", "k")},
		{"flush empty ns", s.Flush(ctx, "")},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// sized returns an entry whose body has n bytes.
func sized(n int, ttl time.Duration) *cache.Entry {
	return &cache.Entry{Status: 200, Body: []byte(strings.Repeat("x", n)), Expires: t0.Add(ttl)}
}

func put(t *testing.T, s *cache.MemoryStore, key string, e *cache.Entry, now time.Time) {
	t.Helper()
	_, gen, err := s.Get(context.Background(), "ns", key, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(context.Background(), "ns", key, gen, e, now); err != nil {
		t.Fatal(err)
	}
}

func has(s *cache.MemoryStore, key string, now time.Time) bool {
	e, _, _ := s.Get(context.Background(), "ns", key, now)
	return e != nil
}

func TestMemoryStoreEvictsLeastRecentlyUsed(t *testing.T) {
	// One shard (capacity under 16 MiB), room for three 1000-byte entries.
	one := sized(1000, time.Hour)
	per := one.Size() + int64(len("ns")+len("k0"))
	s, err := cache.NewMemoryStore(3*per + per/2)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"k0", "k1", "k2"} {
		put(t, s, k, sized(1000, time.Hour), t0)
	}
	if !has(s, "k0", t0) { // k0 becomes the most recently used
		t.Fatal("k0 missing before any eviction")
	}
	put(t, s, "k3", sized(1000, time.Hour), t0) // evicts k1, the least recently used
	want := map[string]bool{"k0": true, "k1": false, "k2": true, "k3": true}
	for k, w := range want {
		if got := has(s, k, t0); got != w {
			t.Errorf("after eviction, has(%s) = %v, want %v", k, got, w)
		}
	}
	if got, max := s.Bytes(), s.Capacity(); got > max {
		t.Errorf("Bytes() = %d over Capacity() = %d", got, max)
	}
	if got := s.Len(); got != 3 {
		t.Errorf("Len() = %d, want 3", got)
	}
}

func TestMemoryStoreResize(t *testing.T) {
	s, _ := cache.NewMemoryStore(1 << 20)
	for i := range 10 {
		put(t, s, fmt.Sprintf("k%d", i), sized(10_000, time.Hour), t0)
	}
	if s.Len() != 10 {
		t.Fatalf("Len() = %d, want 10", s.Len())
	}
	if err := s.Resize(25_000); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || s.Bytes() > 25_000 || s.Capacity() != 25_000 {
		t.Fatalf("after Resize: Len %d Bytes %d Capacity %d; want 2 entries within 25000", s.Len(), s.Bytes(), s.Capacity())
	}
	if !has(s, "k9", t0) || !has(s, "k8", t0) {
		t.Fatal("Resize did not keep the most recently used entries")
	}
}

func TestMemoryStoreDeclines(t *testing.T) {
	s, _ := cache.NewMemoryStore(4096)
	tests := []struct {
		name string
		e    *cache.Entry
	}{
		{"larger than the store", sized(8192, time.Hour)},
		{"already expired", sized(10, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put(t, s, "k", sized(10, time.Hour), t0)
			put(t, s, "k", tt.e, t0)
			if has(s, "k", t0) {
				t.Fatal("declined entry stored, or the old entry kept")
			}
		})
	}
}

func TestMemoryStoreReclaimsExpired(t *testing.T) {
	s, _ := cache.NewMemoryStore(1 << 20)
	put(t, s, "old", sized(10, time.Second), t0)
	put(t, s, "new", sized(10, time.Hour), t0.Add(2*time.Second))
	if got := s.Len(); got != 1 {
		t.Fatalf("Len() = %d after storing past an expired entry, want 1", got)
	}
}

func TestMemoryStoreShards(t *testing.T) {
	// A large store is sharded; every entry up to a shard's size still fits.
	s, _ := cache.NewMemoryStore(256 << 20)
	for i := range 200 {
		put(t, s, fmt.Sprintf("key-%d", i), &cache.Entry{Status: 200, Header: http.Header{"A": {"b"}}, Body: make([]byte, 1<<20), Expires: t0.Add(time.Hour)}, t0)
	}
	if s.Len() == 0 || s.Bytes() > s.Capacity() {
		t.Fatalf("Len %d Bytes %d Capacity %d", s.Len(), s.Bytes(), s.Capacity())
	}
}
