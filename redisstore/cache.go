// Package redisstore implements Portico's shared-state interfaces on Redis,
// so that many gateway instances share one set of limits, quotas, caches,
// keys and WebSocket connections. It is the only Portico package that
// imports the Redis client; it takes a redis.UniversalClient, so a single
// server, Sentinel or Cluster all work. Every key a store writes starts with
// the prefix it is given and uses a hash tag where an operation touches
// several keys, so Redis Cluster keeps them in one slot.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/cache"
	"github.com/redis/go-redis/v9"
)

// CacheStore is a [cache.Store] in Redis: gateway instances that use one
// CacheStore (same server, same prefix) share their response caches, so a
// response fetched by one is a hit on all.
//
// Keys: prefix+"cache:{NS}:gen" holds the namespace's generation, advanced
// by Flush (INCR: no KEYS or SCAN); prefix+"cache:{NS}:e:KEY" holds an entry
// as "GEN\n" followed by [cache.Entry.MarshalBinary], written with PX so
// that Redis drops it when it expires. An entry of an older generation is a
// miss and is left to expire. The hash tag puts a namespace (a stage) in one
// Cluster slot, so one stage's cache lives on one shard.
//
// Expiry is checked against the now the cache passes in (so tests can use a
// fake clock); PX only reclaims memory. A CacheStore is safe for concurrent
// use.
type CacheStore struct {
	rdb    redis.UniversalClient
	prefix string
	set    *redis.Script
}

var _ cache.Store = (*CacheStore)(nil)

// NewCacheStore returns a cache store on rdb whose keys all start with
// prefix (e.g. "portico:"). It returns an error for a nil client. The store
// does not own rdb: closing it is the caller's business.
func NewCacheStore(rdb redis.UniversalClient, prefix string) (*CacheStore, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil Redis client")
	}
	return &CacheStore{rdb: rdb, prefix: prefix, set: redis.NewScript(cacheSetScript)}, nil
}

func (s *CacheStore) keys(ns, key string) (gen, entry string, err error) {
	if ns == "" || key == "" {
		return "", "", errors.New("redisstore: empty cache namespace or key")
	}
	if strings.ContainsAny(ns, "{}") {
		return "", "", fmt.Errorf("redisstore: cache namespace %q contains '{' or '}'", ns)
	}
	base := s.prefix + "cache:{" + ns + "}:"
	return base + "gen", base + "e:" + key, nil
}

// Get implements [cache.Store] with one MGET of the generation and the
// entry. An entry that does not decode is a miss (it is overwritten by the
// next Set); Redis errors are returned.
func (s *CacheStore) Get(ctx context.Context, ns, key string, now time.Time) (*cache.Entry, uint64, error) {
	genKey, entryKey, err := s.keys(ns, key)
	if err != nil {
		return nil, 0, err
	}
	vals, err := s.rdb.MGet(ctx, genKey, entryKey).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: cache get: %w", err)
	}
	gen, err := parseGen(vals[0])
	if err != nil {
		return nil, 0, err
	}
	raw, ok := vals[1].(string)
	if !ok {
		return nil, gen, nil
	}
	head, body, ok := strings.Cut(raw, "\n")
	if !ok || head != strconv.FormatUint(gen, 10) {
		return nil, gen, nil // flushed since it was stored, or not ours
	}
	var e cache.Entry
	if err := e.UnmarshalBinary([]byte(body)); err != nil || !now.Before(e.Expires) {
		return nil, gen, nil
	}
	return &e, gen, nil
}

func parseGen(v any) (uint64, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case string:
		g, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("redisstore: cache generation %q is not a number", v)
		}
		return g, nil
	}
	return 0, fmt.Errorf("redisstore: cache generation of type %T", v)
}

// cacheSetScript stores an entry only if the namespace's generation is
// still the one the caller read. KEYS: gen, entry. ARGV: gen, value, px.
const cacheSetScript = `
local g = redis.call('GET', KEYS[1]) or '0'
if g ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`

// Set implements [cache.Store]: one script that checks the generation and
// writes the entry with PX until e.Expires. An entry already expired at now
// is not written.
func (s *CacheStore) Set(ctx context.Context, ns, key string, gen uint64, e *cache.Entry, now time.Time) error {
	genKey, entryKey, err := s.keys(ns, key)
	if err != nil {
		return err
	}
	if e == nil {
		return errors.New("redisstore: nil cache entry")
	}
	ttl := e.Expires.Sub(now)
	if ttl <= 0 {
		return nil
	}
	g := strconv.FormatUint(gen, 10)
	val := make([]byte, 0, len(g)+1+64+len(e.Body)+64*len(e.Header))
	val = append(append(val, g...), '\n')
	if val, err = e.AppendBinary(val); err != nil {
		return err
	}
	px := max(ttl.Milliseconds(), 1)
	if err := s.set.Run(ctx, s.rdb, []string{genKey, entryKey}, g, val, px).Err(); err != nil {
		return fmt.Errorf("redisstore: cache set: %w", err)
	}
	return nil
}

// Delete implements [cache.Store].
func (s *CacheStore) Delete(ctx context.Context, ns, key string) error {
	_, entryKey, err := s.keys(ns, key)
	if err != nil {
		return err
	}
	if err := s.rdb.Del(ctx, entryKey).Err(); err != nil {
		return fmt.Errorf("redisstore: cache delete: %w", err)
	}
	return nil
}

// Flush implements [cache.Store] by advancing the namespace's generation:
// O(1), whatever the number of entries, which then expire on their own.
func (s *CacheStore) Flush(ctx context.Context, ns string) error {
	genKey, _, err := s.keys(ns, "-")
	if err != nil {
		return err
	}
	if err := s.rdb.Incr(ctx, genKey).Err(); err != nil {
		return fmt.Errorf("redisstore: cache flush: %w", err)
	}
	return nil
}
