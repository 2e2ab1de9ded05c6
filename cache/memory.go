package cache

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryStore is a [Store] in the process's memory, bounded by a capacity in
// bytes (as counted by [Entry.Size] plus the key). When an entry does not
// fit, the least recently used entries are evicted; expired entries go first
// when they are found. An entry larger than a shard of the capacity (the
// capacity divided by up to 16 shards of at least 8 MiB each) is not stored.
//
// A MemoryStore is safe for concurrent use: entries are spread over shards,
// each with its own lock. Get returns the stored *Entry itself, without
// copying.
type MemoryStore struct {
	seed   maphash.Seed
	shards []memShard
	mask   uint64

	flushMu sync.Mutex                        // serialises writers of gens
	gens    atomic.Pointer[map[string]uint64] // copy on write; absent = 0
}

var _ Store = (*MemoryStore)(nil)

// minShardBytes is the smallest shard a store is split into: big enough for
// the default maximum entry (1 MiB) several times over.
const (
	minShardBytes = 8 << 20
	maxShards     = 16
)

type memShard struct {
	mu       sync.Mutex // guards the fields below
	items    map[memKey]*memNode
	lru      memNode // sentinel: lru.next is the most recently used
	bytes    int64
	capacity int64
	_        [64]byte // keep shards on separate cache lines
}

type memKey struct{ ns, key string }

type memNode struct {
	k          memKey
	e          *Entry
	gen        uint64
	size       int64
	prev, next *memNode
}

// NewMemoryStore returns an empty store holding at most capacity bytes. It
// returns an error if capacity is not positive.
func NewMemoryStore(capacity int64) (*MemoryStore, error) {
	if capacity <= 0 {
		return nil, fmt.Errorf("cache: memory store capacity %d must be positive", capacity)
	}
	n := 1
	for n < maxShards && capacity/int64(2*n) >= minShardBytes {
		n *= 2
	}
	s := &MemoryStore{seed: maphash.MakeSeed(), shards: make([]memShard, n), mask: uint64(n - 1)}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.items = map[memKey]*memNode{}
		sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
	}
	s.setCapacity(capacity)
	s.gens.Store(&map[string]uint64{})
	return s, nil
}

func (s *MemoryStore) setCapacity(capacity int64) {
	per := capacity / int64(len(s.shards))
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.capacity = per
		sh.evictLocked(time.Time{})
		sh.mu.Unlock()
	}
}

// Resize changes the capacity, evicting least recently used entries until
// the store fits. The number of shards stays as it was chosen by
// [NewMemoryStore]. It returns an error if capacity is not positive.
func (s *MemoryStore) Resize(capacity int64) error {
	if capacity <= 0 {
		return fmt.Errorf("cache: memory store capacity %d must be positive", capacity)
	}
	s.setCapacity(capacity)
	return nil
}

// Capacity returns the capacity in bytes.
func (s *MemoryStore) Capacity() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.capacity
		sh.mu.Unlock()
	}
	return n
}

// Len returns the number of entries stored, expired ones not yet evicted
// included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.items)
		sh.mu.Unlock()
	}
	return n
}

// Bytes returns the bytes the stored entries take, as counted against the
// capacity.
func (s *MemoryStore) Bytes() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.bytes
		sh.mu.Unlock()
	}
	return n
}

func (s *MemoryStore) shard(key string) *memShard {
	return &s.shards[maphash.String(s.seed, key)&s.mask]
}

func (s *MemoryStore) gen(ns string) uint64 { return (*s.gens.Load())[ns] }

// errEmpty is returned for an empty namespace or key.
var errEmpty = errors.New("cache: empty namespace or key")

// Get implements [Store]. It never fails for non-empty ns and key.
func (s *MemoryStore) Get(_ context.Context, ns, key string, now time.Time) (*Entry, uint64, error) {
	if ns == "" || key == "" {
		return nil, 0, errEmpty
	}
	gen := s.gen(ns)
	sh := s.shard(key)
	sh.mu.Lock()
	n := sh.items[memKey{ns, key}]
	if n == nil {
		sh.mu.Unlock()
		return nil, gen, nil
	}
	if n.gen != gen || !now.Before(n.e.Expires) {
		sh.removeLocked(n)
		sh.mu.Unlock()
		return nil, gen, nil
	}
	if sh.lru.next != n {
		sh.unlinkLocked(n)
		sh.pushFrontLocked(n)
	}
	e := n.e
	sh.mu.Unlock()
	return e, gen, nil
}

// Set implements [Store]. It keeps e itself, and declines entries that are
// expired at now or larger than a shard.
func (s *MemoryStore) Set(_ context.Context, ns, key string, gen uint64, e *Entry, now time.Time) error {
	if ns == "" || key == "" {
		return errEmpty
	}
	if e == nil {
		return errors.New("cache: nil entry")
	}
	size := e.Size() + int64(len(ns)+len(key))
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Checked under the shard lock: Flush advances the generation before it
	// sweeps the shards, so an entry either sees the new generation here or
	// is swept.
	if gen != s.gen(ns) {
		return nil
	}
	k := memKey{ns, key}
	if old := sh.items[k]; old != nil {
		sh.removeLocked(old)
	}
	if size > sh.capacity || !now.Before(e.Expires) {
		return nil
	}
	n := &memNode{k: k, e: e, gen: gen, size: size}
	sh.items[k] = n
	sh.pushFrontLocked(n)
	sh.bytes += size
	sh.evictLocked(now)
	return nil
}

// Delete implements [Store].
func (s *MemoryStore) Delete(_ context.Context, ns, key string) error {
	if ns == "" || key == "" {
		return errEmpty
	}
	sh := s.shard(key)
	sh.mu.Lock()
	if n := sh.items[memKey{ns, key}]; n != nil {
		sh.removeLocked(n)
	}
	sh.mu.Unlock()
	return nil
}

// Flush implements [Store]: it advances the generation of ns and removes its
// entries, taking each shard's lock in turn.
func (s *MemoryStore) Flush(_ context.Context, ns string) error {
	if ns == "" {
		return errEmpty
	}
	s.flushMu.Lock()
	old := *s.gens.Load()
	gens := make(map[string]uint64, len(old)+1)
	for k, v := range old {
		gens[k] = v
	}
	gens[ns]++
	s.gens.Store(&gens)
	s.flushMu.Unlock()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, n := range sh.items {
			if k.ns == ns {
				sh.removeLocked(n)
			}
		}
		sh.mu.Unlock()
	}
	return nil
}

func (sh *memShard) pushFrontLocked(n *memNode) {
	n.prev, n.next = &sh.lru, sh.lru.next
	n.prev.next, n.next.prev = n, n
}

func (sh *memShard) unlinkLocked(n *memNode) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (sh *memShard) removeLocked(n *memNode) {
	sh.unlinkLocked(n)
	delete(sh.items, n.k)
	sh.bytes -= n.size
}

// evictLocked drops entries from the least recently used end until the shard
// fits its capacity. Expired entries met on the way out go too (now zero:
// only capacity counts).
func (sh *memShard) evictLocked(now time.Time) {
	for sh.bytes > sh.capacity && sh.lru.prev != &sh.lru {
		sh.removeLocked(sh.lru.prev)
	}
	if now.IsZero() {
		return
	}
	for sh.lru.prev != &sh.lru && !now.Before(sh.lru.prev.e.Expires) {
		sh.removeLocked(sh.lru.prev)
	}
}
