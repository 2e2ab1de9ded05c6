// Package cachetest is the contract every [cache.Store] must meet, as a test
// suite that store implementations run in their own tests:
//
//	func TestStoreContract(t *testing.T) {
//		cachetest.TestStore(t, func(t *testing.T) cache.Store {
//			return newMyStore(t)
//		})
//	}
//
// The suite drives time through the now arguments only, so a store that
// keeps its own timers (Redis PX) must also check expiry against now.
package cachetest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/cache"
)

// t0 is the suite's starting time.
var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// entry returns an entry with the given body expiring ttl after t0.
func entry(body string, ttl time.Duration) *cache.Entry {
	return &cache.Entry{
		Status:  http.StatusOK,
		Header:  http.Header{"Content-Type": {"application/json"}, "X-Multi": {"a", "b"}},
		Body:    []byte(body),
		Expires: t0.Add(ttl),
	}
}

// TestStore runs the store contract. newStore returns a fresh, empty store
// for each subtest; it may skip the test (no server) and should arrange the
// store's cleanup with t.Cleanup. Each subtest uses namespaces of its own.
func TestStore(t *testing.T, newStore func(t *testing.T) cache.Store) {
	t.Helper()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s cache.Store, ns string)
	}{
		{"miss on empty store", func(t *testing.T, s cache.Store, ns string) {
			e, _, err := s.Get(ctx, ns, "k", t0)
			if err != nil || e != nil {
				t.Fatalf("Get on empty store = %v, %v; want nil, nil", e, err)
			}
		}},
		{"set then get", func(t *testing.T, s cache.Store, ns string) {
			want := entry(`{"a":1}`, time.Minute)
			want.Status = 203
			set(t, s, ns, "k", want)
			got := mustGet(t, s, ns, "k", t0)
			sameEntry(t, got, want)
		}},
		{"encrypted flag and binary body survive", func(t *testing.T, s cache.Store, ns string) {
			want := entry("\x00\xff\n{}\r\n", time.Minute)
			want.Encrypted = true
			want.Header = nil
			set(t, s, ns, "k", want)
			sameEntry(t, mustGet(t, s, ns, "k", t0), want)
		}},
		{"expires at Expires", func(t *testing.T, s cache.Store, ns string) {
			set(t, s, ns, "k", entry("x", 10*time.Second))
			if e, _, err := s.Get(ctx, ns, "k", t0.Add(10*time.Second-time.Millisecond)); err != nil || e == nil {
				t.Fatalf("Get just before expiry = %v, %v; want the entry", e, err)
			}
			if e, _, err := s.Get(ctx, ns, "k", t0.Add(10*time.Second)); err != nil || e != nil {
				t.Fatalf("Get at expiry = %v, %v; want nil", e, err)
			}
		}},
		{"set replaces", func(t *testing.T, s cache.Store, ns string) {
			set(t, s, ns, "k", entry("old", time.Minute))
			set(t, s, ns, "k", entry("new", time.Minute))
			if got := string(mustGet(t, s, ns, "k", t0).Body); got != "new" {
				t.Fatalf("body after second Set = %q, want %q", got, "new")
			}
		}},
		{"keys and namespaces are separate", func(t *testing.T, s cache.Store, ns string) {
			other := ns + "-other"
			set(t, s, ns, "k1", entry("ns/k1", time.Minute))
			set(t, s, ns, "k2", entry("ns/k2", time.Minute))
			set(t, s, other, "k1", entry("other/k1", time.Minute))
			for _, c := range []struct{ ns, key, want string }{{ns, "k1", "ns/k1"}, {ns, "k2", "ns/k2"}, {other, "k1", "other/k1"}} {
				if got := string(mustGet(t, s, c.ns, c.key, t0).Body); got != c.want {
					t.Errorf("Get(%s, %s) body = %q, want %q", c.ns, c.key, got, c.want)
				}
			}
		}},
		{"odd keys", func(t *testing.T, s cache.Store, ns string) {
			for _, k := range []string{"a:b:c", "{tag}", "/pets/{id}", "ünï", "sp ace", "0"} {
				set(t, s, ns, k, entry(k, time.Minute))
			}
			for _, k := range []string{"a:b:c", "{tag}", "/pets/{id}", "ünï", "sp ace", "0"} {
				if got := string(mustGet(t, s, ns, k, t0).Body); got != k {
					t.Errorf("Get(%q) body = %q, want %q", k, got, k)
				}
			}
		}},
		{"delete", func(t *testing.T, s cache.Store, ns string) {
			set(t, s, ns, "k", entry("x", time.Minute))
			set(t, s, ns, "keep", entry("y", time.Minute))
			if err := s.Delete(ctx, ns, "k"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if err := s.Delete(ctx, ns, "never-set"); err != nil {
				t.Fatalf("Delete of a missing key: %v", err)
			}
			if e, _, _ := s.Get(ctx, ns, "k", t0); e != nil {
				t.Fatal("entry still there after Delete")
			}
			mustGet(t, s, ns, "keep", t0)
		}},
		{"flush empties one namespace", func(t *testing.T, s cache.Store, ns string) {
			other := ns + "-other"
			set(t, s, ns, "k1", entry("x", time.Minute))
			set(t, s, ns, "k2", entry("x", time.Minute))
			set(t, s, other, "k1", entry("x", time.Minute))
			_, before, _ := s.Get(ctx, ns, "k1", t0)
			if err := s.Flush(ctx, ns); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			for _, k := range []string{"k1", "k2"} {
				e, gen, err := s.Get(ctx, ns, k, t0)
				if err != nil || e != nil {
					t.Errorf("Get(%s) after Flush = %v, %v; want nil", k, e, err)
				}
				if gen == before {
					t.Errorf("generation after Flush = %d, unchanged", gen)
				}
			}
			mustGet(t, s, other, "k1", t0)
		}},
		{"set with a generation from before a flush is dropped", func(t *testing.T, s cache.Store, ns string) {
			_, gen, err := s.Get(ctx, ns, "k", t0)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Flush(ctx, ns); err != nil {
				t.Fatal(err)
			}
			if err := s.Set(ctx, ns, "k", gen, entry("stale", time.Minute), t0); err != nil {
				t.Fatalf("stale Set = %v, want nil", err)
			}
			e, gen2, err := s.Get(ctx, ns, "k", t0)
			if err != nil || e != nil {
				t.Fatalf("Get after stale Set = %v, %v; want nil", e, err)
			}
			if err := s.Set(ctx, ns, "k", gen2, entry("fresh", time.Minute), t0); err != nil {
				t.Fatal(err)
			}
			if got := string(mustGet(t, s, ns, "k", t0).Body); got != "fresh" {
				t.Fatalf("body = %q, want fresh", got)
			}
		}},
		{"entry of 512 KiB", func(t *testing.T, s cache.Store, ns string) {
			big := entry(string(bytes.Repeat([]byte("0123456789abcdef"), 32<<10)), time.Minute)
			set(t, s, ns, "big", big)
			sameEntry(t, mustGet(t, s, ns, "big", t0), big)
		}},
		{"concurrent use", func(t *testing.T, s cache.Store, ns string) {
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for w := range 8 {
				wg.Go(func() {
					for i := range 25 {
						k := fmt.Sprintf("k%d", (w+i)%10)
						_, gen, err := s.Get(ctx, ns, k, t0)
						if err == nil {
							err = s.Set(ctx, ns, k, gen, entry(k, time.Minute), t0)
						}
						if err == nil && i%10 == 9 {
							err = s.Delete(ctx, ns, k)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for i := range 10 {
				k := fmt.Sprintf("k%d", i)
				if e, _, err := s.Get(ctx, ns, k, t0); err != nil || e != nil && string(e.Body) != k {
					t.Errorf("Get(%s) = %v, %v", k, e, err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			tt.run(t, s, "contract-"+t.Name())
		})
	}
}

// set stores e under key with the namespace's current generation.
func set(t *testing.T, s cache.Store, ns, key string, e *cache.Entry) {
	t.Helper()
	ctx := context.Background()
	_, gen, err := s.Get(ctx, ns, key, t0)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", ns, key, err)
	}
	if err := s.Set(ctx, ns, key, gen, e, t0); err != nil {
		t.Fatalf("Set(%s, %s): %v", ns, key, err)
	}
}

func mustGet(t *testing.T, s cache.Store, ns, key string, now time.Time) *cache.Entry {
	t.Helper()
	e, _, err := s.Get(context.Background(), ns, key, now)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", ns, key, err)
	}
	if e == nil {
		t.Fatalf("Get(%s, %s) = nil, want an entry", ns, key)
	}
	return e
}

func sameEntry(t *testing.T, got, want *cache.Entry) {
	t.Helper()
	if got.Status != want.Status || !bytes.Equal(got.Body, want.Body) || got.Encrypted != want.Encrypted || !got.Expires.Equal(want.Expires) {
		t.Fatalf("entry = {%d %q enc=%v exp=%v}, want {%d %q enc=%v exp=%v}", got.Status, trunc(got.Body), got.Encrypted, got.Expires, want.Status, trunc(want.Body), want.Encrypted, want.Expires)
	}
	if len(got.Header) != len(want.Header) || len(want.Header) > 0 && !reflect.DeepEqual(got.Header, want.Header) {
		t.Fatalf("entry header = %v, want %v", got.Header, want.Header)
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
