package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// authTestClient returns a client for the Redis named by PORTICO_TEST_REDIS
// (e.g. redis://127.0.0.1:6379/15) and a key prefix unique to the test; it
// skips the test when the variable is unset. Keys under the prefix are
// deleted when the test ends (never FLUSHALL), the client is closed, and
// the test fails if it leaked goroutines.
func authTestClient(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	addr := os.Getenv("PORTICO_TEST_REDIS")
	if addr == "" {
		t.Skip("PORTICO_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/15): skipping a test that needs Redis; .ci/run sets it")
	}
	opt, err := redis.ParseURL(addr)
	if err != nil {
		t.Fatalf("PORTICO_TEST_REDIS=%q: %v", addr, err)
	}
	before := goleak.IgnoreCurrent()
	c := redis.NewClient(opt)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("PORTICO_TEST_REDIS=%q is set but Redis does not answer: %v", addr, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "portico-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		c.Close()
		goleak.VerifyNone(t, before)
	})
	return c, prefix
}
