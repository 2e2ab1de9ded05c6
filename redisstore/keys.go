package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/redis/go-redis/v9"
)

// KeyStore is an [auth.KeyStore] in Redis: gateway instances that use one
// KeyStore (same server, same prefix) share their API keys, so a key
// created, disabled or rotated on one is seen by all at once.
//
// Keys: prefix+"apikeys:{k}:id:ID" is a hash of a key's fields (name, the
// hex SHA-256 of its value, enabled, creation and update times);
// prefix+"apikeys:{k}:h:HASH" is a copy of it with the id, so that checking
// a request's key is one HGETALL. Every change is one script that updates
// both, so no instance sees them disagree; the {k} hash tag keeps them in
// one Cluster slot. Values are never stored, only their digests. A
// KeyStore is safe for concurrent use.
type KeyStore struct {
	rdb    redis.UniversalClient
	prefix string

	create, setEnabled, setHash, del *redis.Script
}

var _ auth.KeyStore = (*KeyStore)(nil)

// NewKeyStore returns a key store on rdb whose keys all start with prefix
// (e.g. "portico:"). It returns an error for a nil client. The store does
// not own rdb: closing it is the caller's business.
func NewKeyStore(rdb redis.UniversalClient, prefix string) (*KeyStore, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil Redis client")
	}
	return &KeyStore{
		rdb: rdb, prefix: prefix,
		create:     redis.NewScript(keyCreateScript),
		setEnabled: redis.NewScript(keySetEnabledScript),
		setHash:    redis.NewScript(keySetHashScript),
		del:        redis.NewScript(keyDeleteScript),
	}, nil
}

func (s *KeyStore) idKey(id string) string { return s.prefix + "apikeys:{k}:id:" + id }

func (s *KeyStore) hashKey(h auth.KeyHash) string { return s.prefix + "apikeys:{k}:h:" + h.String() }

func unixNano(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// keyCreateScript stores a key under its id and its hash unless either is
// taken. KEYS: id key, hash key. ARGV: id, name, hash, enabled, created,
// updated. Returns 1, or 0 if taken.
const keyCreateScript = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local f = {'name', ARGV[2], 'hash', ARGV[3], 'enabled', ARGV[4], 'created', ARGV[5], 'updated', ARGV[6]}
redis.call('HSET', KEYS[1], unpack(f))
redis.call('HSET', KEYS[2], 'id', ARGV[1], unpack(f))
return 1
`

// keySetEnabledScript sets enabled and updated on both copies if the key
// still has the hash the caller read. KEYS: id key, hash key. ARGV: hash,
// enabled, updated. Returns 1, -1 if there is no such key, 0 if its hash
// changed meanwhile (the caller reads again).
const keySetEnabledScript = `
local h = redis.call('HGET', KEYS[1], 'hash')
if not h then return -1 end
if h ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'enabled', ARGV[2], 'updated', ARGV[3])
redis.call('HSET', KEYS[2], 'enabled', ARGV[2], 'updated', ARGV[3])
return 1
`

// keySetHashScript moves a key to a new hash. KEYS: id key, old hash key,
// new hash key. ARGV: id, old hash, new hash, updated. Returns 1, -1 if
// there is no such key, 0 if its hash changed meanwhile, -2 if another key
// has the new hash.
const keySetHashScript = `
local h = redis.call('HGET', KEYS[1], 'hash')
if not h then return -1 end
if h ~= ARGV[2] then return 0 end
if KEYS[3] ~= KEYS[2] and redis.call('EXISTS', KEYS[3]) == 1 then return -2 end
redis.call('HSET', KEYS[1], 'hash', ARGV[3], 'updated', ARGV[4])
local f = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[3], 'id', ARGV[1], unpack(f))
return 1
`

// keyDeleteScript removes both copies of a key. KEYS: id key, hash key.
// ARGV: hash. Returns 1, -1 if there is no such key, 0 if its hash changed
// meanwhile.
const keyDeleteScript = `
local h = redis.call('HGET', KEYS[1], 'hash')
if not h then return -1 end
if h ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`

// CreateKey implements [auth.KeyStore].
func (s *KeyStore) CreateKey(ctx context.Context, k auth.APIKey) error {
	if k.ID == "" {
		return errors.New("redisstore: API key without an id")
	}
	n, err := s.create.Run(ctx, s.rdb, []string{s.idKey(k.ID), s.hashKey(k.Hash)},
		k.ID, k.Name, k.Hash.String(), boolFlag(k.Enabled), unixNano(k.CreatedAt), unixNano(k.UpdatedAt)).Int()
	if err != nil {
		return fmt.Errorf("redisstore: create API key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: its id or value is taken", auth.ErrKeyExists)
	}
	return nil
}

// KeyByID implements [auth.KeyStore].
func (s *KeyStore) KeyByID(ctx context.Context, id string) (auth.APIKey, error) {
	m, err := s.rdb.HGetAll(ctx, s.idKey(id)).Result()
	if err != nil {
		return auth.APIKey{}, fmt.Errorf("redisstore: get API key: %w", err)
	}
	return parseAPIKey(id, m)
}

// KeyByHash implements [auth.KeyStore] with one HGETALL.
func (s *KeyStore) KeyByHash(ctx context.Context, h auth.KeyHash) (auth.APIKey, error) {
	m, err := s.rdb.HGetAll(ctx, s.hashKey(h)).Result()
	if err != nil {
		return auth.APIKey{}, fmt.Errorf("redisstore: get API key: %w", err)
	}
	return parseAPIKey(m["id"], m)
}

// SetKeyEnabled implements [auth.KeyStore].
func (s *KeyStore) SetKeyEnabled(ctx context.Context, id string, enabled bool, now time.Time) (auth.APIKey, error) {
	return s.change(ctx, id, func(k auth.APIKey) (int, error) {
		return s.setEnabled.Run(ctx, s.rdb, []string{s.idKey(id), s.hashKey(k.Hash)},
			k.Hash.String(), boolFlag(enabled), unixNano(now)).Int()
	})
}

// SetKeyHash implements [auth.KeyStore].
func (s *KeyStore) SetKeyHash(ctx context.Context, id string, h auth.KeyHash, now time.Time) (auth.APIKey, error) {
	return s.change(ctx, id, func(k auth.APIKey) (int, error) {
		return s.setHash.Run(ctx, s.rdb, []string{s.idKey(id), s.hashKey(k.Hash), s.hashKey(h)},
			id, k.Hash.String(), h.String(), unixNano(now)).Int()
	})
}

// DeleteKey implements [auth.KeyStore].
func (s *KeyStore) DeleteKey(ctx context.Context, id string) error {
	_, err := s.change(ctx, id, func(k auth.APIKey) (int, error) {
		return s.del.Run(ctx, s.rdb, []string{s.idKey(id), s.hashKey(k.Hash)}, k.Hash.String()).Int()
	})
	if errors.Is(err, errDeleted) {
		return nil
	}
	return err
}

var errDeleted = errors.New("deleted")

// change reads the key with id and runs script on it, reading again if the
// key's hash changed in between (another instance rotated it).
func (s *KeyStore) change(ctx context.Context, id string, script func(auth.APIKey) (int, error)) (auth.APIKey, error) {
	for range 8 {
		k, err := s.KeyByID(ctx, id)
		if err != nil {
			return auth.APIKey{}, err
		}
		n, err := script(k)
		if err != nil {
			return auth.APIKey{}, fmt.Errorf("redisstore: change API key: %w", err)
		}
		switch n {
		case 1:
			k, err := s.KeyByID(ctx, id)
			if errors.Is(err, auth.ErrKeyNotFound) {
				return auth.APIKey{}, errDeleted
			}
			return k, err
		case -1:
			return auth.APIKey{}, auth.ErrKeyNotFound
		case -2:
			return auth.APIKey{}, fmt.Errorf("%w: another key has this value", auth.ErrKeyExists)
		}
	}
	return auth.APIKey{}, errors.New("redisstore: change API key: it kept changing under concurrent updates")
}

func parseAPIKey(id string, m map[string]string) (auth.APIKey, error) {
	if len(m) == 0 {
		return auth.APIKey{}, auth.ErrKeyNotFound
	}
	k := auth.APIKey{ID: id, Name: m["name"], Enabled: m["enabled"] == "1"}
	b, err := hex.DecodeString(m["hash"])
	if err != nil || len(b) != len(k.Hash) || id == "" {
		return auth.APIKey{}, fmt.Errorf("redisstore: API key %q is corrupt", id)
	}
	copy(k.Hash[:], b)
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"created", &k.CreatedAt}, {"updated", &k.UpdatedAt}} {
		n, err := strconv.ParseInt(m[f.name], 10, 64)
		if err != nil {
			return auth.APIKey{}, fmt.Errorf("redisstore: API key %q: bad %s time", id, f.name)
		}
		*f.dst = time.Unix(0, n).UTC()
	}
	return k, nil
}
