package portico

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/cache"
)

// DefaultCacheCapacity is the size of a stage's in-memory response cache
// when [StageCache.Capacity] is 0.
const DefaultCacheCapacity = 64 << 20

// StageCache is a stage's response cache: the model gateway's stage cache
// and its cache method settings. The zero value is off. When it is on, every
// route's GET responses are cached unless the route says otherwise
// ([RouteCache]); settings left zero take the defaults of package cache
// (300 s TTL, 3600 s maximum, 1 MiB entries).
//
// The cache of a stage lives across redeploys (flush it with
// [Stage.FlushCache] when a deploy changes responses). By default it is in
// the gateway's memory; [WithCacheStore] puts every stage's cache in a
// shared store, such as Redis, so that gateway instances share hits.
type StageCache struct {
	// Enabled turns the stage's cache on.
	Enabled bool
	// Capacity bounds the stage's in-memory cache in bytes; 0 means
	// [DefaultCacheCapacity]. Changing it on a redeploy resizes the cache,
	// evicting the least recently used entries. It does not apply to a
	// store given with [WithCacheStore] (size that store instead).
	Capacity int64
	// TTL is how long entries live unless a route says otherwise; 0 means
	// 300 s. To turn caching off for a route, use [RouteCache.Disabled]
	// (the model gateway's TTL 0).
	TTL time.Duration
	// MaxTTL is the largest TTL a route may set; 0 means 3600 s.
	MaxTTL time.Duration
	// MaxEntryBytes is the largest response body cached; 0 means 1 MiB.
	// Larger responses pass through, never buffered beyond the limit.
	MaxEntryBytes int64
	// StatusHeader names a response header saying "Hit" or "Miss", such as
	// "X-Cache"; "" adds none.
	StatusHeader string
	// EncryptionKey, if set, encrypts cached bodies with AES-GCM: 16, 24 or
	// 32 bytes (AES-128, -192, -256). The gateway keeps its own copy.
	EncryptionKey []byte
	// Invalidation says who may refresh an entry with Cache-Control:
	// max-age=0 and what the others get. The zero value lets nobody and
	// answers them with a Warning header; set Authorize to allow callers
	// (for instance those with an execute-api:InvalidateCache permission).
	Invalidation cache.Invalidation
}

// RouteCache overrides the stage's response cache for one route. The zero
// value caches the route's GET responses (2xx but 206) for the stage's TTL,
// keyed by method and the whole request path, when the stage cache is on.
// The embedded [cache.Rule] sets the TTL, the methods (other than GET only
// when listed), the statuses, the key parameters and how the caller's
// identity splits the cache; see package cache for the poisoning risk of
// inputs left out of the key.
type RouteCache struct {
	// Disabled turns caching off for the route.
	Disabled bool
	cache.Rule
}

type cacheOptions struct {
	store cache.Store
}

// WithCacheStore keeps every stage's response cache in store (such as
// redisstore.CacheStore) instead of the gateway's memory, so that gateway
// instances sharing the store share cached responses and flushes. Each stage
// has its own namespace in it ("{api id}/{version}/{stage}").
// [StageCache.Capacity] does not apply.
func WithCacheStore(store cache.Store) Option { return func(o *options) { o.cache.store = store } }

// cacheState holds the gateway's stage caches: their stores and counters
// outlive deployments. The zero value is ready.
type cacheState struct {
	mu     sync.Mutex // guards stages
	stages map[stageKey]*stageCache
}

type stageCache struct {
	ns       string
	store    cache.Store
	mem      *cache.MemoryStore // nil with a shared store
	counters cache.Counters
}

// ErrNoStageCache is returned by [Stage.FlushCache] for a stage that has never
// had its cache on.
var ErrNoStageCache = errors.New("portico: the stage has no response cache")

// stage returns the cache of stage k, creating or resizing its memory store
// as cfg says, or the shared store.
func (s *cacheState) stage(k stageKey, ns string, capacity int64, shared cache.Store) (*stageCache, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.stages[k]
	if sc == nil {
		sc = &stageCache{ns: ns}
		if s.stages == nil {
			s.stages = map[stageKey]*stageCache{}
		}
		s.stages[k] = sc
	}
	switch {
	case shared != nil:
		sc.store = shared
	case sc.mem == nil:
		mem, err := cache.NewMemoryStore(capacity)
		if err != nil {
			return nil, err
		}
		sc.mem, sc.store = mem, mem
	case sc.mem.Capacity() != capacity:
		if err := sc.mem.Resize(capacity); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

func (s *cacheState) lookup(k stageKey) *stageCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stages[k]
}

// cacheStep serves a route's cached responses and stores new ones (pipeline
// step 7 and the store half of step 10). It is nil for a route whose stage
// cache is off or that opts out.
func (g *Gateway) cacheStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	sc, rc := d.stage.Cache, rt.Cache
	if !sc.Enabled || rc.Disabled {
		return nil, nil
	}
	if sc.Capacity < 0 {
		return nil, fmt.Errorf("stage cache: Capacity %d is negative", sc.Capacity)
	}
	if err := checkKeyPathParams(rt, rc.Key.Path); err != nil {
		return nil, err
	}
	capacity := sc.Capacity
	if capacity == 0 {
		capacity = DefaultCacheCapacity
	}
	ns := d.api.apiID() + "/" + d.api.Version + "/" + d.stage.Name
	opts := []cache.Option{
		cache.WithNamespace(ns),
		cache.WithClock(g.clock),
		cache.WithLogger(g.logger),
		cache.WithStatusHeader(sc.StatusHeader),
		cache.WithInvalidation(sc.Invalidation),
	}
	for _, o := range []struct {
		name  string
		value int64
		opt   cache.Option
	}{
		{"TTL", int64(sc.TTL), cache.WithTTL(sc.TTL)},
		{"MaxTTL", int64(sc.MaxTTL), cache.WithMaxTTL(sc.MaxTTL)},
		{"MaxEntryBytes", sc.MaxEntryBytes, cache.WithMaxEntryBytes(sc.MaxEntryBytes)},
	} {
		switch {
		case o.value < 0:
			return nil, fmt.Errorf("stage cache: %s is negative", o.name)
		case o.value > 0:
			opts = append(opts, o.opt)
		}
	}
	if len(sc.EncryptionKey) > 0 {
		opts = append(opts, cache.WithEncryptionKey(sc.EncryptionKey))
	}
	// Validate the settings before touching the stage's state, so a bad
	// deploy leaves the cache as it was.
	if _, err := cache.New(discardStore{}, opts...); err != nil {
		return nil, fmt.Errorf("stage cache: %w", err)
	}
	st, err := g.cache.stage(stageKey{d.api.Name, d.api.Version, d.stage.Name}, ns, capacity, g.opts.cache.store)
	if err != nil {
		return nil, fmt.Errorf("stage cache: %w", err)
	}
	c, err := cache.New(st.store, append(opts, cache.WithCounters(&st.counters))...)
	if err != nil {
		return nil, fmt.Errorf("stage cache: %w", err)
	}
	return c.Middleware(rc.Rule)
}

// checkKeyPathParams checks that every path parameter named in a route's
// cache key is one of the route's.
func checkKeyPathParams(rt *Route, names []string) error {
	if len(names) == 0 {
		return nil
	}
	params := map[string]bool{}
	if rt.Path == DefaultRouteKey {
		params["proxy"] = true
	}
	for seg := range strings.SplitSeq(rt.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params[strings.TrimSuffix(seg[1:len(seg)-1], "+")] = true
		}
	}
	for _, n := range names {
		if !params[n] {
			return fmt.Errorf("Key.Path: %q is not a path parameter of %s", n, rt.Path)
		}
	}
	return nil
}

// discardStore is a store that keeps nothing, used only to validate cache
// options.
type discardStore struct{}

func (discardStore) Get(context.Context, string, string, time.Time) (*cache.Entry, uint64, error) {
	return nil, 0, nil
}
func (discardStore) Set(context.Context, string, string, uint64, *cache.Entry, time.Time) error {
	return nil
}
func (discardStore) Delete(context.Context, string, string) error { return nil }
func (discardStore) Flush(context.Context, string) error          { return nil }

// FlushCache removes every entry of the stage's response cache (the model
// gateway's DELETE .../stages/{stage}/cache/data). With a shared store
// ([WithCacheStore]) it flushes the stage for every gateway instance.
// Responses being fetched while it runs are not stored. It returns
// [ErrNoStageCache] if the stage has never had its cache on, and the
// store's error if the flush fails.
func (s *Stage) FlushCache(ctx context.Context) error {
	sc := s.gw.cache.lookup(stageKey{s.apiName, s.version, s.name})
	if sc == nil {
		return ErrNoStageCache
	}
	if err := sc.store.Flush(ctx, sc.ns); err != nil {
		return fmt.Errorf("portico: stage %q: flush cache: %w", s.name, err)
	}
	return nil
}

// CacheStats returns the counts of the stage's response cache since the
// gateway started (CacheHitCount and CacheMissCount in the model gateway),
// across deployments; zero if the cache has never been on.
func (s *Stage) CacheStats() cache.Stats {
	sc := s.gw.cache.lookup(stageKey{s.apiName, s.version, s.name})
	if sc == nil {
		return cache.Stats{}
	}
	return sc.counters.Stats()
}
