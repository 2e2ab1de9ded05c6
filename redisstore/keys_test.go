package redisstore

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/auth/authtest"
)

func TestKeyStoreContract(t *testing.T) {
	authtest.TestKeyStore(t, func(t *testing.T) auth.KeyStore {
		c, prefix := authTestClient(t)
		s, err := NewKeyStore(c, prefix)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestDecisionCacheContract(t *testing.T) {
	authtest.TestDecisionCache(t, func(t *testing.T) auth.DecisionCache {
		c, prefix := authTestClient(t)
		s, err := NewDecisionCache(c, prefix)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestAuthStoresNilClient(t *testing.T) {
	if _, err := NewKeyStore(nil, "p:"); err == nil {
		t.Fatal("NewKeyStore(nil) accepted")
	}
	if _, err := NewDecisionCache(nil, "p:"); err == nil {
		t.Fatal("NewDecisionCache(nil) accepted")
	}
}

// TestKeyStoreSharedBetweenInstances manages keys on one "instance" and
// checks them on another that shares the Redis store.
func TestKeyStoreSharedBetweenInstances(t *testing.T) {
	ctx := context.Background()
	c, prefix := authTestClient(t)
	storeA, _ := NewKeyStore(c, prefix)
	storeB, _ := NewKeyStore(c, prefix)
	admin, _ := auth.NewKeys(storeA)
	gateway, _ := auth.NewKeys(storeB)
	k, value, err := admin.Create(ctx, "partner")
	if err != nil {
		t.Fatal(err)
	}
	h := gateway.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	call := func(v string) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("x-api-key", v)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	if got := call(value); got != 200 {
		t.Fatalf("key created on A, checked on B: %d", got)
	}
	_, _ = admin.Disable(ctx, k.ID)
	if got := call(value); got != 403 {
		t.Fatalf("key disabled on A, checked on B: %d", got)
	}
	_, _ = admin.Enable(ctx, k.ID)
	_, newValue, _ := admin.Rotate(ctx, k.ID)
	if call(value) != 403 || call(newValue) != 200 {
		t.Fatal("rotation on A not seen on B")
	}
	if err := admin.Delete(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if call(newValue) != 403 {
		t.Fatal("deletion on A not seen on B")
	}
	// Only digests are stored: the value appears in no key or field.
	keys, _ := c.Keys(ctx, prefix+"*").Result()
	for _, key := range keys {
		if strings.Contains(key, newValue) {
			t.Fatalf("key %q holds the API key value", key)
		}
		vals, _ := c.HGetAll(ctx, key).Result()
		for _, v := range vals {
			if strings.Contains(v, newValue) {
				t.Fatalf("%s holds the API key value", key)
			}
		}
	}
}

func TestKeyStoreRedisDown(t *testing.T) {
	c, prefix := authTestClient(t)
	s, _ := NewKeyStore(c, prefix)
	c.Close()
	_, err := s.KeyByHash(context.Background(), auth.HashKey("x"))
	if err == nil || errors.Is(err, auth.ErrKeyNotFound) {
		t.Fatalf("KeyByHash on a closed client = %v, want a store error (not ErrKeyNotFound)", err)
	}
}
