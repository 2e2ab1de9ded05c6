package cache

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// Defaults of a [Cache].
const (
	// DefaultTTL is how long entries live unless a [Rule] or [WithTTL]
	// says otherwise: the model gateway's 300 s.
	DefaultTTL = 300 * time.Second
	// DefaultMaxTTL is the largest TTL allowed unless [WithMaxTTL] lifts
	// it: the model gateway's 3600 s.
	DefaultMaxTTL = time.Hour
	// DefaultMaxEntryBytes is the largest body cached unless
	// [WithMaxEntryBytes] says otherwise: the model gateway's 1 MiB.
	DefaultMaxEntryBytes = 1 << 20
	// DefaultNamespace is the namespace of a cache made without
	// [WithNamespace].
	DefaultNamespace = "default"
)

// Option configures a [Cache].
type Option func(*options)

type options struct {
	ns           string
	clock        clock.Clock
	logger       *slog.Logger
	ttl          time.Duration
	maxTTL       time.Duration
	maxEntry     int64
	key          []byte
	keySet       bool
	inv          Invalidation
	statusHeader string
	counters     *Counters
}

// WithNamespace sets the namespace the cache's entries live in (one per
// stage in a gateway) and that [Cache.Flush] empties: up to 512 bytes, no
// '{' or '}'. The default is [DefaultNamespace]. Caches that share a store
// and a namespace share entries: two gateway instances on one Redis serve
// each other's hits.
func WithNamespace(ns string) Option { return func(o *options) { o.ns = ns } }

// WithClock makes the cache read time from c; nil or unset means the real
// clock.
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets where store failures are logged; the default is
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithTTL sets the TTL of rules that set none; the default is [DefaultTTL].
// It must be positive and at most the maximum TTL.
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithMaxTTL sets the largest TTL a rule may ask for; the default is
// [DefaultMaxTTL].
func WithMaxTTL(d time.Duration) Option { return func(o *options) { o.maxTTL = d } }

// WithMaxEntryBytes sets the largest response body that is cached; larger
// responses pass through without being buffered beyond the limit. The
// default is [DefaultMaxEntryBytes].
func WithMaxEntryBytes(n int64) Option { return func(o *options) { o.maxEntry = n } }

// WithEncryptionKey encrypts cached bodies with AES-GCM under key (16, 24 or
// 32 bytes: AES-128, -192 or -256), bound to their cache key. Headers are
// stored in the clear. Entries that do not open under the key (after a key
// change) are misses. The cache keeps its own copy of key.
func WithEncryptionKey(key []byte) Option {
	return func(o *options) { o.key, o.keySet = slices.Clone(key), true }
}

// WithInvalidation says who may invalidate entries with Cache-Control:
// max-age=0 and what happens to others; the default, the zero
// [Invalidation], lets nobody and answers with a Warning header.
func WithInvalidation(inv Invalidation) Option { return func(o *options) { o.inv = inv } }

// WithStatusHeader names a response header that says "Hit" or "Miss", such
// as "X-Cache"; the default is none.
func WithStatusHeader(name string) Option { return func(o *options) { o.statusHeader = name } }

// WithCounters makes the cache count into c, which several caches may share
// (a gateway shares one per stage across its routes and deployments); the
// default is counters of its own.
func WithCounters(c *Counters) Option { return func(o *options) { o.counters = c } }

// Cache is a response cache over a [Store] and one namespace. Its
// [Cache.Middleware] caches the responses of a handler by a [Rule]. A Cache
// is safe for concurrent use.
type Cache struct {
	store        Store
	ns           string
	clock        clock.Clock
	logger       *slog.Logger
	ttl          time.Duration
	maxTTL       time.Duration
	maxEntry     int64
	sealer       *sealer
	inv          Invalidation
	statusHeader string
	hitValue     []string
	missValue    []string
	warning      []string
	counters     *Counters
	flights      flights
	bufs         sync.Pool // *[]byte for opening sealed bodies
}

// New returns a cache over store. It returns an error for a nil store or a
// bad option: a namespace with braces, a non-positive TTL or size, a TTL
// over the maximum, an encryption key of the wrong length, an unknown
// strategy or an invalid status header name.
func New(store Store, opts ...Option) (*Cache, error) {
	o := options{ns: DefaultNamespace, ttl: DefaultTTL, maxTTL: DefaultMaxTTL, maxEntry: DefaultMaxEntryBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if store == nil {
		return nil, fmt.Errorf("cache: nil store")
	}
	if o.ns == "" || len(o.ns) > 512 || strings.ContainsAny(o.ns, "{}") {
		return nil, fmt.Errorf("cache: namespace %q must have 1-512 bytes and no '{' or '}'", o.ns)
	}
	if o.maxTTL <= 0 {
		return nil, fmt.Errorf("cache: maximum TTL %v must be positive", o.maxTTL)
	}
	if o.ttl <= 0 || o.ttl > o.maxTTL {
		return nil, fmt.Errorf("cache: TTL %v must be positive and at most the maximum TTL %v", o.ttl, o.maxTTL)
	}
	if o.maxEntry <= 0 {
		return nil, fmt.Errorf("cache: maximum entry size %d must be positive", o.maxEntry)
	}
	if err := o.inv.validate(); err != nil {
		return nil, err
	}
	if o.statusHeader != "" && !validToken(o.statusHeader) {
		return nil, fmt.Errorf("cache: status header %q is not a valid header name", o.statusHeader)
	}
	c := &Cache{
		store:     store,
		ns:        o.ns,
		clock:     clock.OrReal(o.clock),
		logger:    o.logger,
		ttl:       o.ttl,
		maxTTL:    o.maxTTL,
		maxEntry:  o.maxEntry,
		inv:       o.inv,
		hitValue:  []string{"Hit"},
		missValue: []string{"Miss"},
		warning:   []string{warningValue},
		counters:  o.counters,
	}
	if o.statusHeader != "" {
		c.statusHeader = http.CanonicalHeaderKey(o.statusHeader)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.counters == nil {
		c.counters = new(Counters)
	}
	if o.keySet {
		var err error
		if c.sealer, err = newSealer(o.key); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Namespace returns the namespace the cache's entries live in.
func (c *Cache) Namespace() string { return c.ns }

// Flush removes every entry of the cache's namespace from its store, for
// every cache sharing them (other routes of the stage, other instances on a
// shared store). Responses being fetched while it runs are not stored.
func (c *Cache) Flush(ctx context.Context) error {
	if err := c.store.Flush(ctx, c.ns); err != nil {
		return fmt.Errorf("cache: flush %q: %w", c.ns, err)
	}
	return nil
}

// Stats returns the cache's counts (shared with other caches counting into
// the same [Counters]).
func (c *Cache) Stats() Stats { return c.counters.Stats() }

// Rule says which responses of one handler (a route) are cached and under
// what key. The zero value caches GET responses with a 2xx status other than
// 206 for the cache's TTL, keyed by the whole request path, and never shares
// a response to an authenticated request between callers.
type Rule struct {
	// TTL is how long entries live; 0 means the cache's TTL. It may not be
	// negative or over the cache's maximum TTL.
	TTL time.Duration
	// Methods are the methods cached; nil means GET. HEAD requests are
	// served from GET entries (and never fill them); list GET, not HEAD.
	// Other methods are cached only when listed, and their request body is
	// not part of the key.
	Methods []string
	// Statuses are the response statuses cached; nil means every 2xx
	// status except 206 Partial Content.
	Statuses []int
	// Key lists the request parameters that split the cache.
	Key KeyParams
	// Identity names the parts of the caller's identity added to the key.
	// A request is authenticated when it has an Authorization header, a
	// verified API key or an authorizer principal; unless Public is set,
	// an authenticated request for which the listed parts are all empty
	// (or none are listed) is keyed by all of them, so its response is
	// never served to another caller.
	Identity Identity
	// Public says the responses do not depend on who asked: authenticated
	// callers share entries, split only by the parts listed in Identity.
	Public bool
}

// Middleware returns the caching step for one rule: a lookup in front of the
// handler and a store behind it. It returns an error for a bad rule (a TTL
// out of range, a method or header name that is not a token, HEAD in
// Methods, a status outside 200–599, an unknown Identity bit).
//
// A hit replays the stored status, headers and body without calling the
// handler. Concurrent misses for one key make one call: the others wait for
// it and are served its response (or call the handler themselves if it was
// not cacheable). Store failures are logged and counted, and the request is
// served as if there were no cache.
func (c *Cache) Middleware(rule Rule) (func(http.Handler) http.Handler, error) {
	h, err := c.compile(rule)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		hh := *h
		hh.next = next
		return &hh
	}, nil
}

// Middleware returns a caching step over store with one rule: [New] and
// [Cache.Middleware] in one call, for use around any handler:
//
//	store, _ := cache.NewMemoryStore(64 << 20)
//	mw, err := cache.Middleware(store, cache.Rule{TTL: time.Minute})
//	if err != nil { ... }
//	http.Handle("GET /pets/{id}", mw(petsHandler))
func Middleware(store Store, rule Rule, opts ...Option) (func(http.Handler) http.Handler, error) {
	c, err := New(store, opts...)
	if err != nil {
		return nil, err
	}
	return c.Middleware(rule)
}

// statusSet is a set of status codes 0–1023.
type statusSet [16]uint64

func (s *statusSet) add(code int) { s[code>>6] |= 1 << (code & 63) }
func (s *statusSet) has(code int) bool {
	return code >= 0 && code < 1024 && s[code>>6]&(1<<(code&63)) != 0
}

// handler is the compiled caching step of one rule around one handler.
type handler struct {
	c        *Cache
	next     http.Handler
	ttl      time.Duration
	methods  []string
	statuses statusSet
	keyer    *keyer
}

func (c *Cache) compile(rule Rule) (*handler, error) {
	h := &handler{c: c, ttl: rule.TTL}
	switch {
	case h.ttl < 0:
		return nil, fmt.Errorf("cache: TTL %v is negative", h.ttl)
	case h.ttl == 0:
		h.ttl = c.ttl
	case h.ttl > c.maxTTL:
		return nil, fmt.Errorf("cache: TTL %v is over the maximum of %v", h.ttl, c.maxTTL)
	}
	h.methods = []string{http.MethodGet}
	if rule.Methods != nil {
		h.methods = nil
		for _, m := range rule.Methods {
			switch {
			case !validToken(m) || strings.ToUpper(m) != m:
				return nil, fmt.Errorf("cache: method %q is not an upper-case method name", m)
			case m == http.MethodHead:
				return nil, fmt.Errorf("cache: HEAD is served from GET entries; list GET instead")
			}
			h.methods = append(h.methods, m)
		}
	}
	if rule.Statuses == nil {
		for code := 200; code < 300; code++ {
			if code != http.StatusPartialContent {
				h.statuses.add(code)
			}
		}
	}
	for _, code := range rule.Statuses {
		if code < 200 || code > 599 {
			return nil, fmt.Errorf("cache: status %d cannot be cached (want 200-599)", code)
		}
		h.statuses.add(code)
	}
	var err error
	if h.keyer, err = newKeyer(c.ns, rule.Key, rule.Identity, rule.Public); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := h.c
	method := r.Method
	head := method == http.MethodHead
	if head {
		method = http.MethodGet
	}
	if !slices.Contains(h.methods, method) {
		h.next.ServeHTTP(w, r)
		return
	}
	refresh := false
	if len(r.Header["Cache-Control"]) > 0 && asksRefresh(r.Header) {
		if c.inv.InsecureAllowAnyone || c.inv.Authorize != nil && c.inv.Authorize(r) {
			refresh = true
		} else {
			c.counters.denied.Add(1)
			switch c.inv.Unauthorized {
			case FailWith403:
				reqctx.WriteError(w, r, reqctx.NewError(reqctx.AccessDenied, ErrInvalidationDenied))
				return
			case SucceedWithoutResponseHeader:
			default:
				w.Header()["Warning"] = c.warning
			}
		}
	}
	rc := reqctx.From(r.Context())
	key, digest := h.keyer.key(r, rc, method)
	ctx := r.Context()
	e, gen, err := c.store.Get(ctx, c.ns, key, c.clock.Now())
	if err != nil {
		c.storeFailed(rc, "get", err)
		c.miss(w)
		h.next.ServeHTTP(w, r)
		return
	}
	if e != nil && !refresh && h.serve(w, e, digest, head) {
		return
	}
	if head {
		c.miss(w)
		h.next.ServeHTTP(w, r)
		return
	}
	if refresh {
		c.counters.invalidations.Add(1)
		h.fetch(w, r, rc, key, digest, gen, nil)
		return
	}
	f, leader := c.flights.join(key)
	if leader {
		h.fetch(w, r, rc, key, digest, gen, f)
		return
	}
	c.counters.waiting.Add(1)
	select {
	case <-f.done:
		c.counters.waiting.Add(-1)
		if f.entry != nil {
			c.counters.coalesced.Add(1)
			c.counters.hits.Add(1)
			h.replay(w, f.entry, f.entry.Body, false)
			return
		}
	case <-ctx.Done():
		c.counters.waiting.Add(-1)
	}
	c.miss(w)
	h.next.ServeHTTP(w, r)
}

// serve replays a stored entry, opening its body if sealed. It reports false
// (a miss) for a body that does not open.
func (h *handler) serve(w http.ResponseWriter, e *Entry, digest [sha256.Size]byte, head bool) bool {
	c := h.c
	if !e.Encrypted {
		c.counters.hits.Add(1)
		h.replay(w, e, e.Body, head)
		return true
	}
	if c.sealer == nil {
		return false
	}
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	ad := digest // escapes into the AEAD: copied only on this path
	body, err := c.sealer.open((*bp)[:0], e.Body, ad[:])
	if err != nil {
		c.bufs.Put(bp)
		return false
	}
	c.counters.hits.Add(1)
	h.replay(w, e, body, head)
	*bp = body
	c.bufs.Put(bp)
	return true
}

func (h *handler) replay(w http.ResponseWriter, e *Entry, body []byte, head bool) {
	hdr := w.Header()
	for k, v := range e.Header {
		hdr[k] = v
	}
	if h.c.statusHeader != "" {
		hdr[h.c.statusHeader] = h.c.hitValue
	}
	w.WriteHeader(e.Status)
	if !head && len(body) > 0 {
		_, _ = w.Write(body)
	}
}

func (c *Cache) miss(w http.ResponseWriter) {
	c.counters.misses.Add(1)
	if c.statusHeader != "" {
		w.Header()[c.statusHeader] = c.missValue
	}
}

// fetch calls the handler, passing the response through, and stores it if it
// is cacheable. f is the flight it leads (nil for a refresh): its waiters are
// woken once the entry is stored, or with nil if there is none, even if the
// handler panics.
func (h *handler) fetch(w http.ResponseWriter, r *http.Request, rc *reqctx.Context, key string, digest [sha256.Size]byte, gen uint64, f *flight) {
	c := h.c
	var e *Entry
	if f != nil {
		defer func() { c.flights.finish(key, f, e) }()
	}
	c.miss(w)
	hdr := w.Header()
	pre := make([]string, 0, len(hdr))
	for k := range hdr {
		pre = append(pre, k)
	}
	cw := &captureWriter{w: w, h: h, pre: pre}
	h.next.ServeHTTP(cw, r)
	out := cw.entry()
	ctx := context.WithoutCancel(r.Context())
	if out == nil {
		c.counters.uncacheable.Add(1)
		if f == nil { // a refresh: the old entry must not outlive it
			if err := c.store.Delete(ctx, c.ns, key); err != nil {
				c.storeFailed(rc, "delete", err)
			}
		}
		return
	}
	now := c.clock.Now()
	out.Expires = now.Add(h.ttl)
	stored := out
	if c.sealer != nil {
		stored = &Entry{Status: out.Status, Header: out.Header, Body: c.sealer.seal(out.Body, digest[:]), Expires: out.Expires, Encrypted: true}
	}
	if err := c.store.Set(ctx, c.ns, key, gen, stored, now); err != nil {
		c.storeFailed(rc, "set", err)
	} else {
		c.counters.stored.Add(1)
	}
	e = out
}

func (c *Cache) storeFailed(rc *reqctx.Context, op string, err error) {
	c.counters.errors.Add(1)
	reqID := ""
	if rc != nil {
		reqID = rc.RequestID
	}
	c.logger.Warn("cache: store failed; serving without the cache", "op", op, "namespace", c.ns, "requestId", reqID, "err", err)
}

// Stats are a cache's counts since it was made, for metrics
// (CacheHitCount and CacheMissCount in the model gateway).
type Stats struct {
	// Hits are responses served from the cache, Coalesced included.
	Hits uint64
	// Misses are responses fetched from the handler because the cache had
	// none (or was asked to refresh, or failed).
	Misses uint64
	// Coalesced are requests that waited for another request's fetch of
	// the same key and were served its response.
	Coalesced uint64
	// Stored are responses written to the store.
	Stored uint64
	// Uncacheable are fetched responses that could not be stored (status,
	// size, streaming, Set-Cookie, no-store, private, unkeyed Vary).
	Uncacheable uint64
	// Invalidations are authorised Cache-Control: max-age=0 refreshes.
	Invalidations uint64
	// DeniedInvalidations are max-age=0 requests that were not allowed.
	DeniedInvalidations uint64
	// Errors are store failures.
	Errors uint64
	// Waiting is how many requests are waiting for another's fetch now.
	Waiting int64
}

// Counters accumulate [Stats]. The zero value is ready; a Counters is safe
// for concurrent use and may be shared by several caches ([WithCounters]).
type Counters struct {
	hits, misses, coalesced, stored, uncacheable atomic.Uint64
	invalidations, denied, errors                atomic.Uint64
	waiting                                      atomic.Int64
}

// Stats returns the counts so far.
func (c *Counters) Stats() Stats {
	return Stats{
		Hits:                c.hits.Load(),
		Misses:              c.misses.Load(),
		Coalesced:           c.coalesced.Load(),
		Stored:              c.stored.Load(),
		Uncacheable:         c.uncacheable.Load(),
		Invalidations:       c.invalidations.Load(),
		DeniedInvalidations: c.denied.Load(),
		Errors:              c.errors.Load(),
		Waiting:             c.waiting.Load(),
	}
}
