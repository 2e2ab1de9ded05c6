// Package cache is Portico's response cache: the stage cache of the model
// gateway, usable on its own around any handler.
//
// A [Cache] keeps responses in a [Store] — a size-bounded [MemoryStore] in
// the process, or the Redis store of package redisstore shared by many
// gateway instances — under one namespace that [Cache.Flush] empties. Its
// [Cache.Middleware] caches one handler's responses by a [Rule]: which
// methods and statuses, for how long, and which request parameters and
// parts of the caller's identity split the cache:
//
//	store, err := cache.NewMemoryStore(64 << 20)
//	if err != nil { ... }
//	c, err := cache.New(store, cache.WithStatusHeader("X-Cache"))
//	if err != nil { ... }
//	mw, err := c.Middleware(cache.Rule{
//		TTL: time.Minute,
//		Key: cache.KeyParams{Query: []string{"lang"}},
//	})
//	if err != nil { ... }
//	http.Handle("GET /pets/{id}", mw(pets))
//
// What it does:
//
//   - Keys are the namespace, method and request path (or the route
//     template and the path parameters named in [KeyParams.Path]) plus the
//     query parameters and headers the rule names, hashed with SHA-256.
//     Parameters not named do not split the cache: see [KeyParams] for
//     the poisoning risk of inputs left out of the key.
//   - Responses to authenticated requests are never shared between callers
//     unless the rule says they are public ([Rule.Identity], [Rule.Public]).
//   - Only complete, successful responses are stored by default: not
//     streams flushed without a Content-Length, not bodies over the
//     maximum entry size (which pass through without being buffered beyond
//     it), not responses with Set-Cookie, Cache-Control no-store or
//     private, or a Vary header naming an unkeyed header. Hop-by-hop and
//     per-request headers are never replayed.
//   - Concurrent misses for one key make one call to the handler
//     (stampede protection, within one process).
//   - Cache-Control: max-age=0 refreshes an entry if [Invalidation]
//     allows the caller; otherwise its strategy applies.
//   - Bodies can be encrypted with AES-GCM ([WithEncryptionKey]).
//   - [Stats] count hits and misses for metrics; [WithStatusHeader] adds
//     an X-Cache-style header.
//
// Errors are reported as the gateway's typed errors (reqctx), never written
// by the cache itself; a failing store is logged and bypassed.
package cache
