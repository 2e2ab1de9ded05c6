package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/throttle"
	"github.com/redis/go-redis/v9"
)

// ThrottleStore is a [throttle.Store] in Redis: gateway instances that use
// one ThrottleStore (same server, same prefix) share their token buckets, so
// a limit holds across all of them. Each decision is one round trip: a
// script that reads, checks and updates the bucket atomically.
//
// A bucket is one key, prefix+"throttle:{KEY}", holding the bucket's
// theoretical arrival time (when it is full again) in Unix microseconds,
// written with PX so that Redis drops it as soon as it is full — a full
// bucket and no bucket are the same. The hash tag makes every bucket its own
// Cluster slot group; '{', '}' and '%' in KEY are escaped as %7B, %7D, %25.
//
// Time is the now the caller passes (Redis's clock is not read) and is kept
// in microseconds, so rates above 1,000,000 per second behave as 1,000,000.
// Redis errors are returned wrapping [throttle.ErrUnavailable], which
// [throttle.Fallback] acts on. A ThrottleStore is safe for concurrent use.
type ThrottleStore struct {
	rdb    redis.UniversalClient
	prefix string
	take   *redis.Script
}

var _ throttle.Store = (*ThrottleStore)(nil)

// NewThrottleStore returns a throttle store on rdb whose keys all start
// with prefix (e.g. "portico:"). It returns an error for a nil client. The
// store does not own rdb: closing it is the caller's business.
func NewThrottleStore(rdb redis.UniversalClient, prefix string) (*ThrottleStore, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil Redis client")
	}
	return &ThrottleStore{rdb: rdb, prefix: prefix, take: redis.NewScript(takeScript)}, nil
}

// takeScript is the generic cell rate algorithm (see throttle.Limit) in
// microseconds. KEYS: bucket. ARGV: now, interval, burst, n. Returns
// {allowed, remaining, retry after (-1: never), reset}.
const takeScript = `
local now = tonumber(ARGV[1])
local iv = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local tau = burst * iv
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local base = math.max(tat, now)
local left = math.floor(math.max(tau - (base - now), 0) / iv)
if n > burst then
  return {0, left, -1, base - now}
end
local nxt = base + n * iv
if now < nxt - tau then
  return {0, left, nxt - tau - now, base - now}
end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, math.floor((tau - (nxt - now)) / iv), 0, nxt - now}
`

// hashTag returns "{" + key + "}" with the characters that would end the
// tag early escaped.
func hashTag(key string) string {
	if strings.ContainsAny(key, "{}%") {
		key = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D").Replace(key)
	}
	return "{" + key + "}"
}

// Take implements [throttle.Store] with one script call.
func (s *ThrottleStore) Take(ctx context.Context, key string, l throttle.Limit, n int, now time.Time) (throttle.Decision, error) {
	if err := throttle.CheckTake(l, n); err != nil {
		return throttle.Decision{}, err
	}
	if l.Blocks() {
		return throttle.Decision{RetryAfter: throttle.Never}, nil
	}
	iv := max(int64(math.Round(1e6/l.Rate)), 1)
	res, err := s.take.Run(ctx, s.rdb, []string{s.prefix + "throttle:" + hashTag(key)}, now.UnixMicro(), iv, l.Burst, n).Int64Slice()
	if err != nil {
		return throttle.Decision{}, fmt.Errorf("redisstore: throttle: %w: %w", throttle.ErrUnavailable, err)
	}
	if len(res) != 4 {
		return throttle.Decision{}, fmt.Errorf("redisstore: throttle: script returned %d values, want 4", len(res))
	}
	d := throttle.Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		Reset:      time.Duration(res[3]) * time.Microsecond,
	}
	if res[2] < 0 {
		d.RetryAfter = throttle.Never
	}
	return d, nil
}

// QuotaStore is a [throttle.QuotaStore] in Redis: gateway instances that
// use one QuotaStore share their quota counts and usage records, and a quota
// is never over-admitted however many of them consume it at once. Each
// Consume is one script call; Usage is one MGET.
//
// Keys, with KEY's '{', '}' and '%' escaped as in [ThrottleStore]:
// prefix+"quota:{KEY}:w:START-END" counts the window from START to END
// (Unix seconds) and expires a day after the window ends;
// prefix+"quota:{KEY}:d:DAY" counts the requests of UTC day DAY (days since
// 1970-01-01) and expires after the retention. The hash tag keeps a key's
// counters in one Cluster slot, so the script may touch them together.
// Expiry is relative to the now the caller passes. Counts are exact up to
// 2^53.
//
// Redis errors are returned wrapping [throttle.ErrUnavailable]. A
// QuotaStore is safe for concurrent use.
type QuotaStore struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration
	consume   *redis.Script
}

var _ throttle.QuotaStore = (*QuotaStore)(nil)

// QuotaOption configures a [QuotaStore].
type QuotaOption func(*QuotaStore)

// WithUsageRetention sets how long a [QuotaStore] keeps daily usage
// records; the default is [throttle.DefaultRetention] (90 days). d must be
// at least a day.
func WithUsageRetention(d time.Duration) QuotaOption { return func(s *QuotaStore) { s.retention = d } }

// NewQuotaStore returns a quota store on rdb whose keys all start with
// prefix. It returns an error for a nil client or a bad option. The store
// does not own rdb.
func NewQuotaStore(rdb redis.UniversalClient, prefix string, opts ...QuotaOption) (*QuotaStore, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil Redis client")
	}
	s := &QuotaStore{rdb: rdb, prefix: prefix, retention: throttle.DefaultRetention, consume: redis.NewScript(consumeScript)}
	for _, opt := range opts {
		opt(s)
	}
	if s.retention < 24*time.Hour {
		return nil, fmt.Errorf("redisstore: WithUsageRetention(%v): must be at least a day", s.retention)
	}
	return s, nil
}

// consumeScript counts n requests in a window if it stays within the
// limit, and in the day's record. KEYS: window, day. ARGV: limit (-1: no
// window), n, window TTL ms, day TTL ms. Returns {allowed, used}.
const consumeScript = `
local limit = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local used = 0
if limit >= 0 then
  used = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
  if used + n > limit then
    return {0, used}
  end
  used = redis.call('INCRBY', KEYS[1], n)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
redis.call('INCRBY', KEYS[2], n)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {1, used}
`

func (s *QuotaStore) base(key string) string { return s.prefix + "quota:" + hashTag(key) }

// Consume implements [throttle.QuotaStore] with one script call.
func (s *QuotaStore) Consume(ctx context.Context, key string, w throttle.Window, n int64, now time.Time) (throttle.QuotaDecision, error) {
	if err := throttle.CheckConsume(w, n); err != nil {
		return throttle.QuotaDecision{}, err
	}
	base := s.base(key)
	day := throttle.DayNumber(now)
	dayEnd := time.Unix((day+1)*86400, 0)
	dayTTL := max((dayEnd.Sub(now) + s.retention).Milliseconds(), 1)
	winKey, limit, winTTL := base+":w:-", int64(-1), int64(1)
	if !w.IsZero() {
		winKey = base + ":w:" + strconv.FormatInt(w.Start.Unix(), 10) + "-" + strconv.FormatInt(w.End.Unix(), 10)
		limit = w.Limit
		winTTL = max((w.End.Sub(now) + 24*time.Hour).Milliseconds(), 1)
	}
	res, err := s.consume.Run(ctx, s.rdb, []string{winKey, base + ":d:" + strconv.FormatInt(day, 10)}, limit, n, winTTL, dayTTL).Int64Slice()
	if err != nil {
		return throttle.QuotaDecision{}, fmt.Errorf("redisstore: quota: %w: %w", throttle.ErrUnavailable, err)
	}
	if len(res) != 2 {
		return throttle.QuotaDecision{}, fmt.Errorf("redisstore: quota: script returned %d values, want 2", len(res))
	}
	if w.IsZero() {
		return throttle.QuotaDecision{Allowed: true, Remaining: -1}, nil
	}
	d := throttle.QuotaDecision{
		Allowed:   res[0] == 1,
		Used:      res[1],
		Remaining: max(w.Limit-res[1], 0),
		Reset:     max(w.End.Sub(now), 0),
	}
	return d, nil
}

// Usage implements [throttle.QuotaStore] with one MGET of the day records.
func (s *QuotaStore) Usage(ctx context.Context, key string, from, to time.Time) ([]int64, error) {
	first, last, err := throttle.DayRange(from, to)
	if err != nil {
		return nil, err
	}
	base := s.base(key) + ":d:"
	keys := make([]string, 0, last-first+1)
	for d := first; d <= last; d++ {
		keys = append(keys, base+strconv.FormatInt(d, 10))
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: usage: %w: %w", throttle.ErrUnavailable, err)
	}
	out := make([]int64, len(vals))
	for i, v := range vals {
		if v == nil {
			continue
		}
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("redisstore: usage record %s of type %T", keys[i], v)
		}
		if out[i], err = strconv.ParseInt(str, 10, 64); err != nil {
			return nil, fmt.Errorf("redisstore: usage record %s is %q, not a count", keys[i], str)
		}
	}
	return out, nil
}
