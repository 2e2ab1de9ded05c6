package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/auth/authtest"
)

func TestMemoryKeyStoreContract(t *testing.T) {
	authtest.TestKeyStore(t, func(t *testing.T) auth.KeyStore { return auth.NewMemoryKeyStore() })
}

func TestMemoryDecisionCacheContract(t *testing.T) {
	authtest.TestDecisionCache(t, func(t *testing.T) auth.DecisionCache { return auth.NewMemoryDecisionCache(0) })
}

func TestMemoryDecisionCacheBounded(t *testing.T) {
	ctx := context.Background()
	c := auth.NewMemoryDecisionCache(10)
	for i := range 25 {
		_ = c.PutDecision(ctx, fmt.Sprint(i), []byte("v"), start, start.Add(time.Duration(i+1)*time.Second))
	}
	if c.Len() > 10 {
		t.Fatalf("Len() = %d, want at most 10", c.Len())
	}
	// Expired entries go first.
	_ = c.PutDecision(ctx, "fresh", []byte("v"), start.Add(time.Hour), start.Add(2*time.Hour))
	if _, ok, _ := c.GetDecision(ctx, "fresh", start.Add(time.Hour)); !ok {
		t.Fatal("newest entry missing")
	}
	if c.Len() != 1 {
		t.Fatalf("Len() after expiry sweep = %d, want 1", c.Len())
	}
}
