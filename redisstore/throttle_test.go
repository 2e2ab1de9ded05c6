package redisstore

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/throttle"
	"github.com/portico-gw/portico/throttle/throttletest"
	"github.com/redis/go-redis/v9"
)

func newThrottleStore(t testing.TB) (*ThrottleStore, redis.UniversalClient, string) {
	t.Helper()
	c, prefix := testClient(t)
	s, err := NewThrottleStore(c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, prefix
}

func newQuotaStore(t testing.TB, opts ...QuotaOption) (*QuotaStore, redis.UniversalClient, string) {
	t.Helper()
	c, prefix := testClient(t)
	s, err := NewQuotaStore(c, prefix, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, prefix
}

func TestThrottleStoreContract(t *testing.T) {
	throttletest.RunStoreTests(t, func(t *testing.T) throttle.Store {
		s, _, _ := newThrottleStore(t)
		return s
	})
}

func TestQuotaStoreContract(t *testing.T) {
	throttletest.RunQuotaStoreTests(t, func(t *testing.T) throttle.QuotaStore {
		s, _, _ := newQuotaStore(t)
		return s
	})
}

// TestThrottleKeys checks the keys the stores write: under the prefix, with
// the caller's key in a hash tag (braces escaped), a quota key's counters in
// one tag, and expiries set.
func TestThrottleKeys(t *testing.T) {
	ctx := context.Background()
	ts, c, prefix := newThrottleStore(t)
	qs, err := NewQuotaStore(c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	now := throttletest.T0
	if _, err := ts.Take(ctx, "plan\x00p{1}\x00k%", throttle.Limit{Rate: 1, Burst: 10}, 1, now); err != nil {
		t.Fatal(err)
	}
	day := now.Truncate(24 * time.Hour)
	w := throttle.Window{Start: day, End: day.Add(24 * time.Hour), Limit: 5}
	if _, err := qs.Consume(ctx, "p\x00k", w, 1, now); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	dayN := throttle.DayNumber(now)
	want := []string{
		prefix + "quota:{p\x00k}:d:" + itoa(dayN),
		prefix + "quota:{p\x00k}:w:" + itoa(w.Start.Unix()) + "-" + itoa(w.End.Unix()),
		prefix + "throttle:{plan\x00p%7B1%7D\x00k%25}",
	}
	if strings.Join(keys, "\n") != strings.Join(want, "\n") {
		t.Errorf("keys\n got %q\nwant %q", keys, want)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 {
			t.Errorf("PTTL(%q) = %v, %v; want an expiry", k, ttl, err)
		}
	}
	// The bucket expires when it is full again: after 1 s for one token.
	if ttl, _ := c.PTTL(ctx, keys[2]).Result(); ttl > time.Second {
		t.Errorf("bucket PTTL = %v, want ≤ 1s", ttl)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestThrottleStoreDown checks that an unreachable Redis is reported as
// throttle.ErrUnavailable.
func TestThrottleStoreDown(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	ts, err := NewThrottleStore(c, "x:")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := NewQuotaStore(c, "x:")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := throttletest.T0
	if _, err := ts.Take(ctx, "k", throttle.Limit{Rate: 1, Burst: 1}, 1, now); !errors.Is(err, throttle.ErrUnavailable) {
		t.Errorf("Take: %v, want ErrUnavailable", err)
	}
	if _, err := qs.Consume(ctx, "k", throttle.Window{}, 1, now); !errors.Is(err, throttle.ErrUnavailable) {
		t.Errorf("Consume: %v, want ErrUnavailable", err)
	}
	if _, err := qs.Usage(ctx, "k", now, now); !errors.Is(err, throttle.ErrUnavailable) {
		t.Errorf("Usage: %v, want ErrUnavailable", err)
	}
	// Bad arguments are reported before any round trip.
	if _, err := ts.Take(ctx, "k", throttle.Limit{Rate: 1}, 1, now); !errors.Is(err, throttle.ErrInvalidLimit) {
		t.Errorf("Take with a bad limit: %v, want ErrInvalidLimit", err)
	}
	if d, err := ts.Take(ctx, "k", throttle.Limit{}, 1, now); err != nil || d.RetryAfter != throttle.Never {
		t.Errorf("Take with a blocking limit: %+v, %v; want Never without Redis", d, err)
	}
}

func TestNewThrottleStoresErrors(t *testing.T) {
	if _, err := NewThrottleStore(nil, "x:"); err == nil {
		t.Error("NewThrottleStore(nil): no error")
	}
	if _, err := NewQuotaStore(nil, "x:"); err == nil {
		t.Error("NewQuotaStore(nil): no error")
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := NewQuotaStore(c, "x:", WithUsageRetention(time.Hour)); err == nil {
		t.Error("NewQuotaStore with an hour's retention: no error")
	}
}

// BenchmarkThrottleStore measures decisions against the real Redis: one
// client at a time, and 16 concurrent clients sharing one connection pool,
// reporting decisions per second and the 99th-percentile latency.
func BenchmarkThrottleStore(b *testing.B) {
	ctx := context.Background()
	l := throttle.Limit{Rate: 1e6, Burst: 1 << 30}
	report := func(b *testing.B, lat [][]time.Duration, elapsed time.Duration) {
		var all []time.Duration
		for _, l := range lat {
			all = append(all, l...)
		}
		if len(all) == 0 {
			return
		}
		slices.Sort(all)
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "decisions/s")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	for _, clients := range []int{1, 16} {
		b.Run(map[int]string{1: "serial", 16: "16-clients"}[clients], func(b *testing.B) {
			s, _, _ := newThrottleStore(b)
			var (
				mu   sync.Mutex
				lat  [][]time.Duration
				next atomic.Int64
			)
			b.ReportAllocs()
			start := time.Now()
			if clients == 1 {
				var mine []time.Duration
				for b.Loop() {
					t := time.Now()
					if _, err := s.Take(ctx, "hot", l, 1, t); err != nil {
						b.Fatal(err)
					}
					mine = append(mine, time.Since(t))
				}
				lat = append(lat, mine)
			} else {
				b.SetParallelism(clients / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					key := "k" + itoa(next.Add(1)%4)
					var mine []time.Duration
					for pb.Next() {
						t := time.Now()
						if _, err := s.Take(ctx, key, l, 1, t); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t))
					}
					mu.Lock()
					lat = append(lat, mine)
					mu.Unlock()
				})
			}
			report(b, lat, time.Since(start))
		})
	}
}
