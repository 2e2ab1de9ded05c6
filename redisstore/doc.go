// Package redisstore implements Portico's shared-state interfaces on Redis,
// so that many gateway instances share one set of limits, quotas, caches,
// keys and WebSocket connections. It is the only Portico package that
// imports the Redis client; it takes a redis.UniversalClient, so a single
// server, Sentinel or Cluster all work. Every key a store writes starts with
// the prefix it is given and uses a hash tag where a script touches several
// keys, so Redis Cluster keeps them in one slot.
package redisstore
