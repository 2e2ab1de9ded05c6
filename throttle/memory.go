package throttle

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"strings"
	"sync"
	"time"
)

// Defaults of [MemoryStore].
const (
	// DefaultMaxKeys is how many buckets a [MemoryStore] keeps at most by
	// default: about 1 M, some 40 MB.
	DefaultMaxKeys = 1 << 20
	// DefaultShards is the default number of shards of a [MemoryStore].
	DefaultShards = 64
)

// MemoryStore is the in-memory [Store]: token buckets in shards, one mutex
// per shard, so that decisions on different keys rarely contend. A bucket is
// one 64-bit number (see [Limit]) stored under a 64-bit hash of its key in
// an open-addressing table of 16-byte slots (no pointers for the garbage
// collector, one cache line per lookup). The hash is keyed with a random
// seed per store: two keys share a bucket only if their hashes collide,
// about once in 10^7 stores of a million keys, and callers cannot aim for a
// collision.
//
// It is bounded. A bucket that has filled up again is equivalent to no
// bucket, so the store forgets it at the next sweep of its shard (a shard is
// swept whenever it has doubled since the last sweep), which changes no
// decision. If more than about MaxKeys buckets are still refilling at once,
// a new key evicts a refilling bucket — the one closest to full of a small
// random sample — whose key then starts again from a full bucket.
//
// Its zero value is not usable; call [NewMemoryStore]. It is safe for
// concurrent use and starts no goroutines.
type MemoryStore struct {
	seed     maphash.Seed
	shards   []memShard
	mask     uint64
	perShard int
}

type memShard struct {
	mu      sync.Mutex // guards the fields below
	t       bucketTable
	sweepAt int
	_       [16]byte // keep shards on separate cache lines
}

// minSweep is the shard size below which a shard is never swept.
const minSweep = 64

// evictSample is how many buckets eviction compares.
const evictSample = 8

// MemoryOption configures a [MemoryStore] or a [MemoryQuotaStore].
type MemoryOption func(*memOptions)

type memOptions struct {
	maxKeys   int
	shards    int
	retention time.Duration
}

// WithMaxKeys bounds how many buckets a [MemoryStore] keeps (about n; see
// [MemoryStore]); the default is [DefaultMaxKeys]. n must be positive. A
// [MemoryQuotaStore] ignores it.
func WithMaxKeys(n int) MemoryOption { return func(o *memOptions) { o.maxKeys = n } }

// WithShards sets the number of shards, rounded up to a power of two; the
// default is [DefaultShards]. n must be between 1 and 65536.
func WithShards(n int) MemoryOption { return func(o *memOptions) { o.shards = n } }

// WithRetention sets how long a [MemoryQuotaStore] keeps daily usage
// records; the default is [DefaultRetention]. d must be at least a day. A
// [MemoryStore] ignores it.
func WithRetention(d time.Duration) MemoryOption { return func(o *memOptions) { o.retention = d } }

func buildMemOptions(opts []MemoryOption) (memOptions, error) {
	o := memOptions{maxKeys: DefaultMaxKeys, shards: DefaultShards, retention: DefaultRetention}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxKeys < 1 {
		return o, fmt.Errorf("throttle: WithMaxKeys(%d): must be positive", o.maxKeys)
	}
	if o.shards < 1 || o.shards > 1<<16 {
		return o, fmt.Errorf("throttle: WithShards(%d): must be between 1 and 65536", o.shards)
	}
	if o.retention < 24*time.Hour {
		return o, fmt.Errorf("throttle: WithRetention(%v): must be at least a day", o.retention)
	}
	o.shards = 1 << bits.Len(uint(o.shards-1))
	return o, nil
}

// NewMemoryStore returns an empty in-memory store. It returns an error for
// a bad option.
func NewMemoryStore(opts ...MemoryOption) (*MemoryStore, error) {
	o, err := buildMemOptions(opts)
	if err != nil {
		return nil, err
	}
	s := &MemoryStore{
		seed:   maphash.MakeSeed(),
		shards: make([]memShard, o.shards),
		mask:   uint64(o.shards - 1),
	}
	s.perShard = max(1, (o.maxKeys+o.shards-1)/o.shards)
	for i := range s.shards {
		s.shards[i].sweepAt = min(minSweep, s.perShard)
	}
	return s, nil
}

var _ Store = (*MemoryStore)(nil)

// Take implements [Store]. It never returns an error wrapping
// [ErrUnavailable], and ignores ctx.
func (s *MemoryStore) Take(_ context.Context, key string, l Limit, n int, now time.Time) (Decision, error) {
	if err := checkTake(l, n); err != nil {
		return Decision{}, err
	}
	h := slotKey(maphash.String(s.seed, key))
	sh := &s.shards[(h>>48)&s.mask]
	t := now.UnixNano()
	sh.mu.Lock()
	i, ok := sh.t.find(h)
	var tat int64
	if ok {
		tat = sh.t.slots[i].tat
	}
	next, d := l.take(tat, t, n)
	if d.Allowed {
		if ok {
			sh.t.slots[i].tat = next
		} else {
			sh.insertLocked(h, next, t, s.perShard)
		}
	}
	sh.mu.Unlock()
	return d, nil
}

// insertLocked adds a bucket, sweeping full buckets when the shard has
// grown and evicting one when it is at capacity.
func (sh *memShard) insertLocked(key uint64, tat, now int64, capacity int) {
	if sh.t.n >= sh.sweepAt {
		live := 0
		for _, s := range sh.t.slots {
			if s.key != 0 && s.tat > now {
				live++
			}
		}
		sh.t.resize(sizeFor(live), func(tat int64) bool { return tat > now })
		sh.sweepAt = min(max(2*sh.t.n, minSweep), capacity)
	}
	if sh.t.n >= capacity {
		// Evict the bucket closest to full among a few, starting at a
		// place the new key's hash picks.
		mask := len(sh.t.slots) - 1
		victim, best, seen := -1, int64(0), 0
		for i, want := int(key>>20)&mask, min(evictSample, sh.t.n); seen < want; i = (i + 1) & mask {
			if s := sh.t.slots[i]; s.key != 0 {
				if victim < 0 || s.tat < best {
					victim, best = i, s.tat
				}
				seen++
			}
		}
		sh.t.deleteAt(victim)
	}
	sh.t.put(key, tat)
}

// Len returns how many buckets the store holds (full buckets not yet swept
// included).
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.t.n
		sh.mu.Unlock()
	}
	return n
}

// DefaultRetention is how long a [MemoryQuotaStore] keeps daily usage
// records by default.
const DefaultRetention = 90 * 24 * time.Hour

// MemoryQuotaStore is the in-memory [QuotaStore], sharded by key. For each
// key it keeps the count of the current quota window and one usage count per
// UTC day; it forgets ended windows, and days older than its retention
// (90 days by default, [WithRetention]), when a shard is swept. Its size is
// bounded by the number of keys (the API keys in usage plans) times the
// retention in days.
//
// Its zero value is not usable; call [NewMemoryQuotaStore]. It is safe for
// concurrent use and starts no goroutines.
type MemoryQuotaStore struct {
	seed      maphash.Seed
	shards    []quotaShard
	mask      uint64
	retention time.Duration
}

type quotaShard struct {
	mu      sync.Mutex // guards the fields below
	windows map[string]windowCount
	days    map[dayKey]int64
	sweepAt int
}

type windowCount struct {
	start, end int64 // Unix nanoseconds
	used       int64
}

type dayKey struct {
	key string
	day int64
}

// NewMemoryQuotaStore returns an empty in-memory quota store. It honours
// [WithShards] and [WithRetention], and returns an error for a bad option.
func NewMemoryQuotaStore(opts ...MemoryOption) (*MemoryQuotaStore, error) {
	o, err := buildMemOptions(opts)
	if err != nil {
		return nil, err
	}
	s := &MemoryQuotaStore{
		seed:      maphash.MakeSeed(),
		shards:    make([]quotaShard, o.shards),
		mask:      uint64(o.shards - 1),
		retention: o.retention,
	}
	for i := range s.shards {
		s.shards[i].windows = make(map[string]windowCount)
		s.shards[i].days = make(map[dayKey]int64)
		s.shards[i].sweepAt = minSweep
	}
	return s, nil
}

var _ QuotaStore = (*MemoryQuotaStore)(nil)

// Consume implements [QuotaStore]. It never returns an error wrapping
// [ErrUnavailable], and ignores ctx.
func (s *MemoryQuotaStore) Consume(_ context.Context, key string, w Window, n int64, now time.Time) (QuotaDecision, error) {
	if err := checkConsume(w, n); err != nil {
		return QuotaDecision{}, err
	}
	sh := &s.shards[maphash.String(s.seed, key)&s.mask]
	t := now.UnixNano()
	day := dayNumber(now)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.windows)+len(sh.days) >= sh.sweepAt {
		sh.sweepLocked(t, day-int64(s.retention/(24*time.Hour)))
	}
	dk := dayKey{key, day}
	if w.IsZero() {
		s.addDayLocked(sh, dk, n)
		return QuotaDecision{Allowed: true, Remaining: -1}, nil
	}
	start, end := w.Start.UnixNano(), w.End.UnixNano()
	wc, ok := sh.windows[key]
	if !ok || wc.start != start || wc.end != end {
		wc = windowCount{start: start, end: end}
	}
	d := QuotaDecision{Reset: time.Duration(max(end-t, 0))}
	if wc.used+n > w.Limit {
		d.Used = wc.used
		d.Remaining = max(w.Limit-wc.used, 0)
		return d, nil
	}
	wc.used += n
	if ok {
		sh.windows[key] = wc
	} else {
		sh.windows[strings.Clone(key)] = wc
	}
	s.addDayLocked(sh, dk, n)
	d.Allowed, d.Used, d.Remaining = true, wc.used, w.Limit-wc.used
	return d, nil
}

func (s *MemoryQuotaStore) addDayLocked(sh *quotaShard, dk dayKey, n int64) {
	if v, ok := sh.days[dk]; ok {
		sh.days[dk] = v + n
		return
	}
	dk.key = strings.Clone(dk.key)
	sh.days[dk] = n
}

// sweepLocked forgets windows that ended before now and days before
// oldest.
func (sh *quotaShard) sweepLocked(now, oldest int64) {
	for k, wc := range sh.windows {
		if wc.end <= now {
			delete(sh.windows, k)
		}
	}
	for k := range sh.days {
		if k.day < oldest {
			delete(sh.days, k)
		}
	}
	sh.sweepAt = max(2*(len(sh.windows)+len(sh.days)), minSweep)
}

// Usage implements [QuotaStore].
func (s *MemoryQuotaStore) Usage(_ context.Context, key string, from, to time.Time) ([]int64, error) {
	first, last, err := DayRange(from, to)
	if err != nil {
		return nil, err
	}
	out := make([]int64, last-first+1)
	sh := &s.shards[maphash.String(s.seed, key)&s.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for d := first; d <= last; d++ {
		out[d-first] = sh.days[dayKey{key, d}]
	}
	return out, nil
}
