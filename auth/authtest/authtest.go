// Package authtest is the contract every [auth.KeyStore] and
// [auth.DecisionCache] must meet, as test suites that implementations run
// in their own tests:
//
//	func TestKeyStoreContract(t *testing.T) {
//		authtest.TestKeyStore(t, func(t *testing.T) auth.KeyStore {
//			return newMyStore(t)
//		})
//	}
//
// The suites pass time only through arguments (now, expires), so an
// implementation that keeps timers of its own (Redis PX) must also check
// expiry against the now it is given.
package authtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth"
)

// t0 is the suites' starting time.
var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func key(id, value string) auth.APIKey {
	return auth.APIKey{ID: id, Name: "key " + id + " ✓", Hash: auth.HashKey(value), Enabled: true, CreatedAt: t0, UpdatedAt: t0}
}

func sameKey(t *testing.T, got, want auth.APIKey) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Hash != want.Hash || got.Enabled != want.Enabled ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("key = %+v, want %+v", got, want)
	}
}

// TestKeyStore runs the [auth.KeyStore] contract. newStore returns a
// fresh, empty store for each subtest; it may skip the test (no server) and
// should arrange the store's cleanup with t.Cleanup.
func TestKeyStore(t *testing.T, newStore func(t *testing.T) auth.KeyStore) {
	t.Helper()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s auth.KeyStore)
	}{
		{"create then look up by id and hash", func(t *testing.T, s auth.KeyStore) {
			want := key("k1", "value-1-aaaaaaaaaaaaaaaa")
			if err := s.CreateKey(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := s.KeyByID(ctx, "k1")
			if err != nil {
				t.Fatal(err)
			}
			sameKey(t, got, want)
			got, err = s.KeyByHash(ctx, want.Hash)
			if err != nil {
				t.Fatal(err)
			}
			sameKey(t, got, want)
		}},
		{"disabled state survives", func(t *testing.T, s auth.KeyStore) {
			want := key("k1", "value-1-aaaaaaaaaaaaaaaa")
			want.Enabled = false
			if err := s.CreateKey(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, _ := s.KeyByHash(ctx, want.Hash)
			sameKey(t, got, want)
		}},
		{"not found", func(t *testing.T, s auth.KeyStore) {
			if _, err := s.KeyByID(ctx, "nope"); !errors.Is(err, auth.ErrKeyNotFound) {
				t.Errorf("KeyByID: %v", err)
			}
			if _, err := s.KeyByHash(ctx, auth.HashKey("nope")); !errors.Is(err, auth.ErrKeyNotFound) {
				t.Errorf("KeyByHash: %v", err)
			}
			if _, err := s.SetKeyEnabled(ctx, "nope", false, t0); !errors.Is(err, auth.ErrKeyNotFound) {
				t.Errorf("SetKeyEnabled: %v", err)
			}
			if _, err := s.SetKeyHash(ctx, "nope", auth.HashKey("x"), t0); !errors.Is(err, auth.ErrKeyNotFound) {
				t.Errorf("SetKeyHash: %v", err)
			}
			if err := s.DeleteKey(ctx, "nope"); !errors.Is(err, auth.ErrKeyNotFound) {
				t.Errorf("DeleteKey: %v", err)
			}
		}},
		{"duplicate id or value", func(t *testing.T, s auth.KeyStore) {
			if err := s.CreateKey(ctx, key("k1", "value-1-aaaaaaaaaaaaaaaa")); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateKey(ctx, key("k1", "value-2-bbbbbbbbbbbbbbbb")); !errors.Is(err, auth.ErrKeyExists) {
				t.Errorf("same id: %v, want ErrKeyExists", err)
			}
			if err := s.CreateKey(ctx, key("k2", "value-1-aaaaaaaaaaaaaaaa")); !errors.Is(err, auth.ErrKeyExists) {
				t.Errorf("same value: %v, want ErrKeyExists", err)
			}
			if _, err := s.KeyByID(ctx, "k2"); !errors.Is(err, auth.ErrKeyNotFound) {
				t.Errorf("refused key stored anyway: %v", err)
			}
			got, _ := s.KeyByHash(ctx, auth.HashKey("value-2-bbbbbbbbbbbbbbbb"))
			if got.ID != "" {
				t.Errorf("refused value indexed anyway: %+v", got)
			}
		}},
		{"enable and disable", func(t *testing.T, s auth.KeyStore) {
			want := key("k1", "value-1-aaaaaaaaaaaaaaaa")
			_ = s.CreateKey(ctx, want)
			later := t0.Add(time.Hour)
			got, err := s.SetKeyEnabled(ctx, "k1", false, later)
			want.Enabled, want.UpdatedAt = false, later
			if err != nil {
				t.Fatal(err)
			}
			sameKey(t, got, want)
			got, _ = s.KeyByHash(ctx, want.Hash)
			sameKey(t, got, want)
			got, _ = s.SetKeyEnabled(ctx, "k1", true, later)
			if !got.Enabled {
				t.Fatal("SetKeyEnabled(true) did not enable")
			}
		}},
		{"rotate", func(t *testing.T, s auth.KeyStore) {
			_ = s.CreateKey(ctx, key("k1", "value-1-aaaaaaaaaaaaaaaa"))
			_ = s.CreateKey(ctx, key("k2", "value-2-bbbbbbbbbbbbbbbb"))
			later := t0.Add(time.Hour)
			newHash := auth.HashKey("value-3-cccccccccccccccc")
			got, err := s.SetKeyHash(ctx, "k1", newHash, later)
			if err != nil || got.Hash != newHash || !got.UpdatedAt.Equal(later) || got.ID != "k1" {
				t.Fatalf("SetKeyHash = %+v, %v", got, err)
			}
			if _, err := s.KeyByHash(ctx, auth.HashKey("value-1-aaaaaaaaaaaaaaaa")); !errors.Is(err, auth.ErrKeyNotFound) {
				t.Fatalf("old value still found: %v", err)
			}
			if got, _ := s.KeyByHash(ctx, newHash); got.ID != "k1" {
				t.Fatalf("new value finds %+v", got)
			}
			if _, err := s.SetKeyHash(ctx, "k1", auth.HashKey("value-2-bbbbbbbbbbbbbbbb"), later); !errors.Is(err, auth.ErrKeyExists) {
				t.Fatalf("taking another key's value: %v, want ErrKeyExists", err)
			}
			if got, _ := s.KeyByHash(ctx, newHash); got.ID != "k1" {
				t.Fatalf("a refused rotation changed the key: %+v", got)
			}
			if got, _ := s.KeyByHash(ctx, auth.HashKey("value-2-bbbbbbbbbbbbbbbb")); got.ID != "k2" {
				t.Fatalf("a refused rotation changed the other key: %+v", got)
			}
			if _, err := s.SetKeyHash(ctx, "k1", newHash, later); err != nil {
				t.Fatalf("rotating to the same value: %v", err)
			}
		}},
		{"delete frees id and value", func(t *testing.T, s auth.KeyStore) {
			k := key("k1", "value-1-aaaaaaaaaaaaaaaa")
			_ = s.CreateKey(ctx, k)
			if err := s.DeleteKey(ctx, "k1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.KeyByHash(ctx, k.Hash); !errors.Is(err, auth.ErrKeyNotFound) {
				t.Fatalf("deleted key found by hash: %v", err)
			}
			if err := s.CreateKey(ctx, k); err != nil {
				t.Fatalf("re-creating after delete: %v", err)
			}
		}},
		{"concurrent creates of one value", func(t *testing.T, s auth.KeyStore) {
			var ok atomic.Int64
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					if s.CreateKey(ctx, key(fmt.Sprintf("k%d", i), "same-value-aaaaaaaaaaaaa")) == nil {
						ok.Add(1)
					}
				})
			}
			wg.Wait()
			if ok.Load() != 1 {
				t.Fatalf("%d concurrent creates of one value succeeded, want 1", ok.Load())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

// TestDecisionCache runs the [auth.DecisionCache] contract. newCache
// returns a fresh, empty cache for each subtest; it may skip the test and
// should arrange cleanup with t.Cleanup.
func TestDecisionCache(t *testing.T, newCache func(t *testing.T) auth.DecisionCache) {
	t.Helper()
	ctx := context.Background()
	get := func(t *testing.T, c auth.DecisionCache, key string, now time.Time) ([]byte, bool) {
		t.Helper()
		v, ok, err := c.GetDecision(ctx, key, now)
		if err != nil {
			t.Fatalf("GetDecision(%q): %v", key, err)
		}
		return v, ok
	}
	put := func(t *testing.T, c auth.DecisionCache, key string, v []byte, expires time.Time) {
		t.Helper()
		if err := c.PutDecision(ctx, key, v, t0, expires); err != nil {
			t.Fatalf("PutDecision(%q): %v", key, err)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, c auth.DecisionCache)
	}{
		{"miss on empty cache", func(t *testing.T, c auth.DecisionCache) {
			if v, ok := get(t, c, "k", t0); ok || v != nil {
				t.Fatalf("got %q, %v", v, ok)
			}
		}},
		{"put then get", func(t *testing.T, c auth.DecisionCache) {
			want := []byte(`{"p":"alice","m":"arn:…"}` + "\x00\xff")
			put(t, c, "k", want, t0.Add(time.Minute))
			if v, ok := get(t, c, "k", t0); !ok || !bytes.Equal(v, want) {
				t.Fatalf("got %q, %v; want %q", v, ok, want)
			}
		}},
		{"keeps its own copy", func(t *testing.T, c auth.DecisionCache) {
			v := []byte("abc")
			put(t, c, "k", v, t0.Add(time.Minute))
			v[0] = 'X'
			if got, _ := get(t, c, "k", t0); string(got) != "abc" {
				t.Fatalf("got %q after the caller changed its slice", got)
			}
		}},
		{"expires at expires", func(t *testing.T, c auth.DecisionCache) {
			put(t, c, "k", []byte("v"), t0.Add(time.Minute))
			if _, ok := get(t, c, "k", t0.Add(time.Minute-time.Millisecond)); !ok {
				t.Fatal("gone before it expired")
			}
			if _, ok := get(t, c, "k", t0.Add(time.Minute)); ok {
				t.Fatal("served at its expiry")
			}
		}},
		{"already expired is not stored", func(t *testing.T, c auth.DecisionCache) {
			put(t, c, "k", []byte("v"), t0)
			if _, ok := get(t, c, "k", t0); ok {
				t.Fatal("an entry expiring at now was served")
			}
		}},
		{"replace", func(t *testing.T, c auth.DecisionCache) {
			put(t, c, "k", []byte("one"), t0.Add(time.Minute))
			put(t, c, "k", []byte("two"), t0.Add(2*time.Minute))
			if v, ok := get(t, c, "k", t0.Add(90*time.Second)); !ok || string(v) != "two" {
				t.Fatalf("got %q, %v; want two", v, ok)
			}
		}},
		{"keys are separate", func(t *testing.T, c auth.DecisionCache) {
			put(t, c, "ns1:k", []byte("a"), t0.Add(time.Minute))
			put(t, c, "ns2:k", []byte("b"), t0.Add(time.Minute))
			if v, _ := get(t, c, "ns1:k", t0); string(v) != "a" {
				t.Fatalf("ns1:k = %q", v)
			}
			if v, _ := get(t, c, "ns2:k", t0); string(v) != "b" {
				t.Fatalf("ns2:k = %q", v)
			}
		}},
		{"concurrent use", func(t *testing.T, c auth.DecisionCache) {
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					k := fmt.Sprintf("k%d", i%3)
					for range 20 {
						if err := c.PutDecision(ctx, k, []byte(k), t0, t0.Add(time.Minute)); err != nil {
							t.Error(err)
							return
						}
						if v, ok, err := c.GetDecision(ctx, k, t0); err != nil || !ok || string(v) != k {
							t.Errorf("GetDecision(%s) = %q, %v, %v", k, v, ok, err)
							return
						}
					}
				})
			}
			wg.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newCache(t)) })
	}
}
