package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/redis/go-redis/v9"
)

// DecisionCache is an [auth.DecisionCache] in Redis: custom authorizers of
// gateway instances that use one DecisionCache (same server, same prefix)
// share their cached results, so a caller authorized on one instance is not
// re-authorized on the next.
//
// Keys: prefix+"authz:"+KEY holds "EXPIRES\n" (Unix nanoseconds) followed
// by the value, written with PX so that Redis drops it once it expires.
// Expiry is checked against the now the authorizer passes in (so tests can
// use a fake clock); PX only reclaims memory. A DecisionCache is safe for
// concurrent use.
type DecisionCache struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ auth.DecisionCache = (*DecisionCache)(nil)

// NewDecisionCache returns a decision cache on rdb whose keys all start
// with prefix (e.g. "portico:"). It returns an error for a nil client. The
// cache does not own rdb.
func NewDecisionCache(rdb redis.UniversalClient, prefix string) (*DecisionCache, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil Redis client")
	}
	return &DecisionCache{rdb: rdb, prefix: prefix}, nil
}

// GetDecision implements [auth.DecisionCache] with one GET. An entry that
// does not decode is a miss.
func (c *DecisionCache) GetDecision(ctx context.Context, key string, now time.Time) ([]byte, bool, error) {
	b, err := c.rdb.Get(ctx, c.prefix+"authz:"+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: decision get: %w", err)
	}
	head, value, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return nil, false, nil
	}
	exp, err := strconv.ParseInt(string(head), 10, 64)
	if err != nil || now.UnixNano() >= exp {
		return nil, false, nil
	}
	return value, true, nil
}

// PutDecision implements [auth.DecisionCache] with one SET … PX. An entry
// that expires at or before now is not stored.
func (c *DecisionCache) PutDecision(ctx context.Context, key string, value []byte, now, expires time.Time) error {
	ttl := expires.Sub(now)
	if ttl <= 0 {
		return nil
	}
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	b := make([]byte, 0, 20+len(value))
	b = strconv.AppendInt(b, expires.UnixNano(), 10)
	b = append(b, '\n')
	b = append(b, value...)
	if err := c.rdb.Set(ctx, c.prefix+"authz:"+key, b, ttl).Err(); err != nil {
		return fmt.Errorf("redisstore: decision put: %w", err)
	}
	return nil
}
