package auth

import (
	"context"
	"sync"
	"time"
)

// DecisionCache stores custom-authorizer results between requests, keyed by
// a digest of the identity-source values (never the raw token). Values are
// opaque bytes. Implementations are safe for concurrent use; [Custom]
// authorizers treat an error as a miss (and log it), so a cache outage
// costs authorizer calls, never wrong answers.
//
// Time is passed in, so that an implementation never reads a clock of its
// own and fake clocks drive expiry in tests.
type DecisionCache interface {
	// GetDecision returns the value stored under key, if it has not expired
	// at now.
	GetDecision(ctx context.Context, key string, now time.Time) ([]byte, bool, error)
	// PutDecision stores value under key until expires (after now),
	// replacing any earlier value.
	PutDecision(ctx context.Context, key string, value []byte, now, expires time.Time) error
}

// MemoryDecisionCache is the in-memory [DecisionCache]: a map bounded to a
// number of entries. When full, it first drops expired entries, then
// arbitrary ones. Safe for concurrent use.
type MemoryDecisionCache struct {
	max int

	mu      sync.Mutex // guards entries
	entries map[string]decisionEntry
}

type decisionEntry struct {
	value   []byte
	expires time.Time
}

var _ DecisionCache = (*MemoryDecisionCache)(nil)

// DefaultDecisionCacheSize is the size of the cache a custom authorizer
// makes when it is given none.
const DefaultDecisionCacheSize = 10000

// NewMemoryDecisionCache returns a cache of at most maxEntries entries
// (DefaultDecisionCacheSize if maxEntries <= 0).
func NewMemoryDecisionCache(maxEntries int) *MemoryDecisionCache {
	if maxEntries <= 0 {
		maxEntries = DefaultDecisionCacheSize
	}
	return &MemoryDecisionCache{max: maxEntries, entries: map[string]decisionEntry{}}
}

// GetDecision implements [DecisionCache]. It never fails.
func (c *MemoryDecisionCache) GetDecision(_ context.Context, key string, now time.Time) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false, nil
	}
	if !now.Before(e.expires) {
		delete(c.entries, key)
		return nil, false, nil
	}
	return e.value, true, nil
}

// PutDecision implements [DecisionCache]. It stores a copy of value and
// never fails; an entry that expires at or before now is not stored.
func (c *MemoryDecisionCache) PutDecision(_ context.Context, key string, value []byte, now, expires time.Time) error {
	if !expires.After(now) {
		return nil
	}
	v := append([]byte(nil), value...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.evictLocked(now)
	}
	c.entries[key] = decisionEntry{value: v, expires: expires}
	return nil
}

// Len returns the number of entries, expired ones included.
func (c *MemoryDecisionCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *MemoryDecisionCache) evictLocked(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max {
			return
		}
		delete(c.entries, k)
	}
}
