package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/portico-gw/portico/clock"
)

// API-key value limits: values are 20–128 characters of A-Z a-z 0-9, as in
// the model gateway.
const (
	MinAPIKeyLength = 20
	MaxAPIKeyLength = 128
)

// APIKeyHeader is the header an API key is read from when the key source is
// HEADER.
const APIKeyHeader = "X-Api-Key"

// KeyHash is the SHA-256 digest of an API key value. Stores keep only the
// digest, never the value.
type KeyHash [sha256.Size]byte

// HashKey returns the digest of an API key value. It does not allocate for
// values up to MaxAPIKeyLength bytes.
func HashKey(value string) KeyHash {
	var buf [MaxAPIKeyLength]byte
	if len(value) <= len(buf) {
		n := copy(buf[:], value)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(value))
}

// String returns the digest in hex.
func (h KeyHash) String() string { return hex.EncodeToString(h[:]) }

// APIKey is a stored API key: its id, name, state and the digest of its
// value.
type APIKey struct {
	// ID identifies the key ($context.identity.apiKeyId); usage plans refer
	// to keys by id.
	ID string
	// Name is the key's name (at most 1024 bytes).
	Name string
	// Hash is the SHA-256 digest of the key's value.
	Hash KeyHash
	// Enabled says whether the key is accepted.
	Enabled bool
	// CreatedAt and UpdatedAt are when the key was created and last changed.
	CreatedAt, UpdatedAt time.Time
}

// KeyStore keeps API keys. Every method is one atomic decision, so that
// gateway instances sharing a store (redisstore) never see a key half
// changed. Implementations are safe for concurrent use and return
// [ErrKeyNotFound] and [ErrKeyExists] (matched with errors.Is) as
// documented; other errors mean the store failed.
type KeyStore interface {
	// CreateKey stores a new key; ErrKeyExists if its id or hash is taken.
	CreateKey(ctx context.Context, k APIKey) error
	// KeyByID returns the key with id; ErrKeyNotFound if there is none.
	KeyByID(ctx context.Context, id string) (APIKey, error)
	// KeyByHash returns the key whose value has digest h; ErrKeyNotFound if
	// there is none. It is on every keyed request's path.
	KeyByHash(ctx context.Context, h KeyHash) (APIKey, error)
	// SetKeyEnabled enables or disables the key with id and returns it;
	// ErrKeyNotFound if there is none.
	SetKeyEnabled(ctx context.Context, id string, enabled bool, now time.Time) (APIKey, error)
	// SetKeyHash gives the key with id a new value digest (the old value
	// stops working at once) and returns it; ErrKeyNotFound if there is no
	// such key, ErrKeyExists if another key has that digest.
	SetKeyHash(ctx context.Context, id string, h KeyHash, now time.Time) (APIKey, error)
	// DeleteKey removes the key with id; ErrKeyNotFound if there is none.
	DeleteKey(ctx context.Context, id string) error
}

// MemoryKeyStore is the in-memory [KeyStore]. Its zero value is not
// usable; call [NewMemoryKeyStore]. Safe for concurrent use.
type MemoryKeyStore struct {
	mu     sync.RWMutex // guards the maps
	byID   map[string]APIKey
	byHash map[KeyHash]string
}

var _ KeyStore = (*MemoryKeyStore)(nil)

// NewMemoryKeyStore returns an empty store.
func NewMemoryKeyStore() *MemoryKeyStore {
	return &MemoryKeyStore{byID: map[string]APIKey{}, byHash: map[KeyHash]string{}}
}

// CreateKey implements [KeyStore].
func (s *MemoryKeyStore) CreateKey(_ context.Context, k APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[k.ID]; ok {
		return fmt.Errorf("%w: id %q", ErrKeyExists, k.ID)
	}
	if _, ok := s.byHash[k.Hash]; ok {
		return fmt.Errorf("%w: another key has this value", ErrKeyExists)
	}
	s.byID[k.ID] = k
	s.byHash[k.Hash] = k.ID
	return nil
}

// KeyByID implements [KeyStore].
func (s *MemoryKeyStore) KeyByID(_ context.Context, id string) (APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.byID[id]
	if !ok {
		return APIKey{}, ErrKeyNotFound
	}
	return k, nil
}

// KeyByHash implements [KeyStore]. It does not allocate.
func (s *MemoryKeyStore) KeyByHash(_ context.Context, h KeyHash) (APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byHash[h]
	if !ok {
		return APIKey{}, ErrKeyNotFound
	}
	return s.byID[id], nil
}

// SetKeyEnabled implements [KeyStore].
func (s *MemoryKeyStore) SetKeyEnabled(_ context.Context, id string, enabled bool, now time.Time) (APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return APIKey{}, ErrKeyNotFound
	}
	k.Enabled = enabled
	k.UpdatedAt = now
	s.byID[id] = k
	return k, nil
}

// SetKeyHash implements [KeyStore].
func (s *MemoryKeyStore) SetKeyHash(_ context.Context, id string, h KeyHash, now time.Time) (APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return APIKey{}, ErrKeyNotFound
	}
	if other, ok := s.byHash[h]; ok && other != id {
		return APIKey{}, fmt.Errorf("%w: another key has this value", ErrKeyExists)
	}
	delete(s.byHash, k.Hash)
	k.Hash = h
	k.UpdatedAt = now
	s.byID[id] = k
	s.byHash[h] = id
	return k, nil
}

// DeleteKey implements [KeyStore].
func (s *MemoryKeyStore) DeleteKey(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return ErrKeyNotFound
	}
	delete(s.byID, id)
	delete(s.byHash, k.Hash)
	return nil
}

// Keys manages and checks API keys kept in a [KeyStore]: it generates and
// validates values, hashes them before they reach the store, and compares
// digests in constant time. Values are returned once, when created or
// rotated, and never logged. Safe for concurrent use.
type Keys struct {
	store  KeyStore
	clock  clock.Clock
	keyLen int
}

// NewKeys returns a key manager over store. Options: [WithClock],
// [WithKeyLength].
func NewKeys(store KeyStore, opts ...Option) (*Keys, error) {
	if store == nil {
		return nil, errors.New("auth: NewKeys: nil KeyStore")
	}
	o := options{keyLength: 40}
	if err := applyOptions("NewKeys", &o, optClock|optKeyLength, opts); err != nil {
		return nil, err
	}
	if o.keyLength < MinAPIKeyLength || o.keyLength > MaxAPIKeyLength {
		return nil, fmt.Errorf("auth: NewKeys: WithKeyLength(%d): want %d-%d", o.keyLength, MinAPIKeyLength, MaxAPIKeyLength)
	}
	return &Keys{store: store, clock: o.clock, keyLen: o.keyLength}, nil
}

// Store returns the store the keys are kept in.
func (k *Keys) Store() KeyStore { return k.store }

// Create makes a new enabled key with a generated value and returns it with
// the value, which is not kept anywhere: hand it to the key's owner.
func (k *Keys) Create(ctx context.Context, name string) (APIKey, string, error) {
	value := generateKeyValue(k.keyLen)
	key, err := k.Import(ctx, name, value)
	if err != nil {
		return APIKey{}, "", err
	}
	return key, value, nil
}

// Import makes a new enabled key with the given value: 20–128 characters of
// A-Z a-z 0-9. It fails with [ErrKeyExists] if a key has that value.
func (k *Keys) Import(ctx context.Context, name, value string) (APIKey, error) {
	if err := validKeyValue(value); err != nil {
		return APIKey{}, err
	}
	if len(name) > 1024 {
		return APIKey{}, fmt.Errorf("auth: API key name of %d bytes is over 1024", len(name))
	}
	now := k.clock.Now()
	key := APIKey{Name: name, Hash: HashKey(value), Enabled: true, CreatedAt: now, UpdatedAt: now}
	for attempt := 0; ; attempt++ {
		key.ID = newKeyID()
		err := k.store.CreateKey(ctx, key)
		if err == nil {
			return key, nil
		}
		// A clash of random ids is retried; a clash of values is not.
		if !errors.Is(err, ErrKeyExists) || attempt == 3 {
			return APIKey{}, err
		}
		if _, err := k.store.KeyByHash(ctx, key.Hash); err == nil {
			return APIKey{}, fmt.Errorf("%w: another key has this value", ErrKeyExists)
		}
	}
}

// Get returns the key with id; [ErrKeyNotFound] if there is none.
func (k *Keys) Get(ctx context.Context, id string) (APIKey, error) {
	return k.store.KeyByID(ctx, id)
}

// Enable makes the key with id accepted again.
func (k *Keys) Enable(ctx context.Context, id string) (APIKey, error) {
	return k.store.SetKeyEnabled(ctx, id, true, k.clock.Now())
}

// Disable makes the key with id refused (403) until it is enabled again.
func (k *Keys) Disable(ctx context.Context, id string) (APIKey, error) {
	return k.store.SetKeyEnabled(ctx, id, false, k.clock.Now())
}

// Rotate gives the key with id a new generated value, keeping its id (and
// so its usage plans); the old value stops working at once. It returns the
// new value.
func (k *Keys) Rotate(ctx context.Context, id string) (APIKey, string, error) {
	value := generateKeyValue(k.keyLen)
	key, err := k.RotateTo(ctx, id, value)
	if err != nil {
		return APIKey{}, "", err
	}
	return key, value, nil
}

// RotateTo gives the key with id the value given (see [Keys.Import]).
func (k *Keys) RotateTo(ctx context.Context, id, value string) (APIKey, error) {
	if err := validKeyValue(value); err != nil {
		return APIKey{}, err
	}
	return k.store.SetKeyHash(ctx, id, HashKey(value), k.clock.Now())
}

// Delete removes the key with id.
func (k *Keys) Delete(ctx context.Context, id string) error {
	return k.store.DeleteKey(ctx, id)
}

// Check returns the enabled key whose value is value: [ErrMissingAPIKey]
// for an empty value, [ErrUnknownAPIKey] if no key has it,
// [ErrAPIKeyDisabled] if its key is disabled, and the store's error if the
// store fails. It does not allocate on the in-memory store.
func (k *Keys) Check(ctx context.Context, value string) (APIKey, error) {
	if value == "" {
		return APIKey{}, ErrMissingAPIKey
	}
	if len(value) < MinAPIKeyLength || len(value) > MaxAPIKeyLength {
		return APIKey{}, ErrUnknownAPIKey
	}
	h := HashKey(value)
	key, err := k.store.KeyByHash(ctx, h)
	if err != nil {
		if errors.Is(err, ErrKeyNotFound) {
			return APIKey{}, ErrUnknownAPIKey
		}
		return APIKey{}, err
	}
	if subtle.ConstantTimeCompare(key.Hash[:], h[:]) != 1 {
		return APIKey{}, ErrUnknownAPIKey
	}
	if !key.Enabled {
		return APIKey{}, ErrAPIKeyDisabled
	}
	return key, nil
}

// Handler requires a valid API key in the x-api-key header before calling
// next: a missing, unknown or disabled key gets 403 INVALID_API_KEY
// {"message":"Forbidden"}. The key's id lands in the request context
// (reqctx APIKeyID and Identity.APIKeyID). It is (&Access{APIKeys: k}).Handler.
func (k *Keys) Handler(next http.Handler) http.Handler {
	return (&Access{APIKeys: k}).Handler(next)
}

func validKeyValue(v string) error {
	if len(v) < MinAPIKeyLength || len(v) > MaxAPIKeyLength {
		return fmt.Errorf("auth: API key value of %d characters: want %d-%d", len(v), MinAPIKeyLength, MaxAPIKeyLength)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("auth: API key value: character %d is not A-Z a-z 0-9", i)
		}
	}
	return nil
}

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// generateKeyValue returns n random characters of A-Z a-z 0-9 from the
// operating system's random source, without modulo bias.
func generateKeyValue(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails
		for _, b := range buf {
			if b < 248 && len(out) < n { // 248 = 4 × 62
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// newKeyID returns a random 10-character id of [a-z0-9].
func newKeyID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var buf [10]byte
	out := make([]byte, 0, len(buf))
	for len(out) < len(buf) {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b < 252 && len(out) < cap(out) { // 252 = 7 × 36
				out = append(out, alphabet[b%36])
			}
		}
	}
	return string(out)
}
