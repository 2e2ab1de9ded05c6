package throttle_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/throttle"
	"github.com/portico-gw/portico/throttle/throttletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = throttletest.T0

func newMemoryStore(t testing.TB, opts ...throttle.MemoryOption) *throttle.MemoryStore {
	t.Helper()
	s, err := throttle.NewMemoryStore(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newMemoryQuotaStore(t testing.TB, opts ...throttle.MemoryOption) *throttle.MemoryQuotaStore {
	t.Helper()
	s, err := throttle.NewMemoryQuotaStore(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMemoryStoreContract(t *testing.T) {
	throttletest.RunStoreTests(t, func(t *testing.T) throttle.Store { return newMemoryStore(t) })
}

func TestMemoryStoreContractOneShard(t *testing.T) {
	throttletest.RunStoreTests(t, func(t *testing.T) throttle.Store {
		return newMemoryStore(t, throttle.WithShards(1), throttle.WithMaxKeys(8))
	})
}

func TestMemoryQuotaStoreContract(t *testing.T) {
	throttletest.RunQuotaStoreTests(t, func(t *testing.T) throttle.QuotaStore { return newMemoryQuotaStore(t) })
}

func TestFallbackContract(t *testing.T) {
	throttletest.RunStoreTests(t, func(t *testing.T) throttle.Store {
		f, err := throttle.NewFallback(newMemoryStore(t), throttle.FailClosed)
		if err != nil {
			t.Fatal(err)
		}
		return f
	})
	throttletest.RunQuotaStoreTests(t, func(t *testing.T) throttle.QuotaStore {
		f, err := throttle.NewQuotaFallback(newMemoryQuotaStore(t), throttle.FailOpen)
		if err != nil {
			t.Fatal(err)
		}
		return f
	})
}

func TestMemoryOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  throttle.MemoryOption
	}{
		{"zero max keys", throttle.WithMaxKeys(0)},
		{"zero shards", throttle.WithShards(0)},
		{"too many shards", throttle.WithShards(1<<16 + 1)},
		{"retention under a day", throttle.WithRetention(time.Hour)},
	}
	for _, tt := range tests {
		if _, err := throttle.NewMemoryStore(tt.opt); err == nil {
			t.Errorf("%s: NewMemoryStore: no error", tt.name)
		}
		if _, err := throttle.NewMemoryQuotaStore(tt.opt); err == nil {
			t.Errorf("%s: NewMemoryQuotaStore: no error", tt.name)
		}
	}
}

// TestMemoryStoreForgetsFullBuckets checks that buckets that filled up
// again are swept, and that forgetting them changes no decision.
func TestMemoryStoreForgetsFullBuckets(t *testing.T) {
	ctx := context.Background()
	s := newMemoryStore(t, throttle.WithShards(1))
	l := throttle.Limit{Rate: 10, Burst: 2}
	for i := 0; i < 1000; i++ {
		if _, err := s.Take(ctx, "k"+strconv.Itoa(i), l, 1, t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != 1000 {
		t.Fatalf("Len = %d after 1000 keys, want 1000", got)
	}
	// One interval later every bucket is full again; new keys trigger
	// sweeps that forget them.
	later := t0.Add(100 * time.Millisecond)
	for i := 0; i < 100; i++ {
		if _, err := s.Take(ctx, "new"+strconv.Itoa(i), l, 1, later); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got > 200 {
		t.Errorf("Len = %d after the old buckets filled up, want them swept (≤ 200)", got)
	}
	d, err := s.Take(ctx, "k1", l, 2, later)
	if err != nil || !d.Allowed || d.Remaining != 0 {
		t.Errorf("Take(k1, 2) after its bucket was swept = %+v, %v; want a full bucket of 2", d, err)
	}
}

// TestMemoryStoreBounded checks that the store never holds much more than
// MaxKeys buckets, even when they are all refilling.
func TestMemoryStoreBounded(t *testing.T) {
	ctx := context.Background()
	const maxKeys = 1000
	s := newMemoryStore(t, throttle.WithMaxKeys(maxKeys), throttle.WithShards(8))
	l := throttle.Limit{Rate: 1, Burst: 10} // a bucket takes 10 s to fill
	for i := 0; i < 20*maxKeys; i++ {
		if _, err := s.Take(ctx, "k"+strconv.Itoa(i), l, 1, t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got > maxKeys+8 {
		t.Errorf("Len = %d with MaxKeys %d, want it bounded", got, maxKeys)
	}
	// The most recent key is still there.
	d, err := s.Take(ctx, "k"+strconv.Itoa(20*maxKeys-1), l, 1, t0)
	if err != nil || d.Remaining != 8 {
		t.Errorf("Take on the newest key = %+v, %v; want 8 left", d, err)
	}
}

func TestMemoryStoreCapacityOne(t *testing.T) {
	ctx := context.Background()
	s := newMemoryStore(t, throttle.WithMaxKeys(1), throttle.WithShards(1))
	for i := 0; i < 3; i++ {
		if _, err := s.Take(ctx, strconv.Itoa(i), throttle.Limit{Rate: 1, Burst: 5}, 1, t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len = %d with MaxKeys 1, want 1", got)
	}
}

// TestMemoryStoreRefusalsStoreNothing checks that refused requests for
// unknown keys create no bucket.
func TestMemoryStoreRefusalsStoreNothing(t *testing.T) {
	ctx := context.Background()
	s := newMemoryStore(t)
	for i := 0; i < 100; i++ {
		if _, err := s.Take(ctx, fmt.Sprint(i), throttle.Limit{}, 1, t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != 0 {
		t.Errorf("Len = %d after refusing unknown keys, want 0", got)
	}
}

func TestMemoryStoreTakeAllocs(t *testing.T) {
	ctx := context.Background()
	s := newMemoryStore(t)
	l := throttle.Limit{Rate: 1e6, Burst: 1000}
	now := t0
	if _, err := s.Take(ctx, "hot", l, 1, now); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Microsecond)
		if _, err := s.Take(ctx, "hot", l, 1, now); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Take on an existing key: %v allocs/op, want 0", allocs)
	}
}

func TestMemoryQuotaStoreRetention(t *testing.T) {
	ctx := context.Background()
	s := newMemoryQuotaStore(t, throttle.WithShards(1), throttle.WithRetention(48*time.Hour))
	day0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if _, err := s.Consume(ctx, "old", throttle.Window{}, 1, day0); err != nil {
		t.Fatal(err)
	}
	// Enough new records on day 5 to sweep the shard.
	for i := 0; i < 200; i++ {
		if _, err := s.Consume(ctx, "k"+strconv.Itoa(i), throttle.Window{}, 1, day0.AddDate(0, 0, 5)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Usage(ctx, "old", day0, day0)
	if err != nil || got[0] != 0 {
		t.Errorf("Usage of a day past retention = %v, %v; want [0]", got, err)
	}
	got, err = s.Usage(ctx, "k7", day0.AddDate(0, 0, 5), day0.AddDate(0, 0, 5))
	if err != nil || got[0] != 1 {
		t.Errorf("Usage of a recent day = %v, %v; want [1]", got, err)
	}
}

func BenchmarkMemoryStore(b *testing.B) {
	ctx := context.Background()
	l := throttle.Limit{Rate: 1e9, Burst: 1 << 30}
	b.Run("hot-key/serial", func(b *testing.B) {
		s := newMemoryStore(b)
		now := t0
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(time.Nanosecond)
			if _, err := s.Take(ctx, "hot", l, 1, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hot-key/parallel", func(b *testing.B) {
		s := newMemoryStore(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Take(ctx, "hot", l, 1, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	// 1 M keys, made on the fly in a stack buffer (as a server would from
	// a request) rather than read from a 16 MB slice, so that the numbers
	// are the store's own cache misses.
	const nkeys = 1 << 20
	const keyPrefix = "plan\x00pro\x00key-"
	key := func(buf *[32]byte, i int) []byte {
		return strconv.AppendInt(append(buf[:0], keyPrefix...), int64(i), 10)
	}
	warm := func(b *testing.B) *throttle.MemoryStore {
		s := newMemoryStore(b, throttle.WithMaxKeys(2*nkeys))
		var buf [32]byte
		for i := 0; i < nkeys; i++ {
			if _, err := s.Take(ctx, string(key(&buf, i)), l, 1, t0); err != nil {
				b.Fatal(err)
			}
		}
		if s.Len() != nkeys {
			b.Fatalf("Len = %d after warming, want %d", s.Len(), nkeys)
		}
		return s
	}
	b.Run("1M-keys/serial", func(b *testing.B) {
		s := warm(b)
		var buf [32]byte
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i = (i + 7919) & (nkeys - 1)
			if _, err := s.Take(ctx, string(key(&buf, i)), l, 1, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("1M-keys/parallel", func(b *testing.B) {
		s := warm(b)
		var seed atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var buf [32]byte
			i := int(seed.Add(104729))
			for pb.Next() {
				i = (i + 7919) & (nkeys - 1)
				if _, err := s.Take(ctx, string(key(&buf, i)), l, 1, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkMemoryLatency is the floor under the 1M-keys benchmarks: one
// dependent read at a random place in 48 MB, the size of the store's tables
// for 1 M keys. A decision for a key that is not in the CPU's caches cannot
// be faster than this on the machine at hand.
func BenchmarkMemoryLatency(b *testing.B) {
	s := make([]uint32, 48<<20/4)
	// One random cycle through all the elements (Sattolo's algorithm), so
	// that every read depends on the one before and none is prefetched.
	for i := range s {
		s[i] = uint32(i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := len(s) - 1; i > 0; i-- {
		j := r.IntN(i)
		s[i], s[j] = s[j], s[i]
	}
	j := uint32(0)
	b.ReportAllocs()
	for b.Loop() {
		j = s[j]
	}
	runtime.KeepAlive(j)
}

func BenchmarkMemoryQuotaStore(b *testing.B) {
	ctx := context.Background()
	s := newMemoryQuotaStore(b)
	w := throttle.Window{Start: t0.Truncate(24 * time.Hour), End: t0.Truncate(24 * time.Hour).Add(24 * time.Hour), Limit: 1 << 62}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Consume(ctx, "pro\x00key-1", w, 1, t0); err != nil {
			b.Fatal(err)
		}
	}
}
