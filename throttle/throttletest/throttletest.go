// Package throttletest is the contract test suite of throttle's store
// interfaces. Every implementation of [throttle.Store] and
// [throttle.QuotaStore] runs it, so that the in-memory stores and the Redis
// ones decide alike:
//
//	func TestMemoryStoreContract(t *testing.T) {
//		throttletest.RunStoreTests(t, func(t *testing.T) throttle.Store {
//			s, err := throttle.NewMemoryStore()
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suites pass explicit times to the stores (multiples of a
// millisecond, in 2026), so they need no clock and never sleep.
package throttletest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/throttle"
)

// T0 is the time the suites start at.
var T0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// RunStoreTests runs the [throttle.Store] contract against the stores
// newStore returns; it calls newStore once per subtest, and each store must
// start empty.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) throttle.Store) {
	ctx := context.Background()
	l10 := throttle.Limit{Rate: 10, Burst: 5} // one token every 100 ms

	type step struct {
		at         time.Duration // since T0
		key        string
		limit      throttle.Limit
		n          int
		allowed    bool
		remaining  int
		retryAfter time.Duration
		reset      time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"burst then refuse", []step{
			{0, "a", l10, 1, true, 4, 0, 100 * time.Millisecond},
			{0, "a", l10, 1, true, 3, 0, 200 * time.Millisecond},
			{0, "a", l10, 1, true, 2, 0, 300 * time.Millisecond},
			{0, "a", l10, 1, true, 1, 0, 400 * time.Millisecond},
			{0, "a", l10, 1, true, 0, 0, 500 * time.Millisecond},
			{0, "a", l10, 1, false, 0, 100 * time.Millisecond, 500 * time.Millisecond},
			{40 * time.Millisecond, "a", l10, 1, false, 0, 60 * time.Millisecond, 460 * time.Millisecond},
		}},
		{"steady refill", []step{
			{0, "a", l10, 5, true, 0, 0, 500 * time.Millisecond},
			{100 * time.Millisecond, "a", l10, 1, true, 0, 0, 500 * time.Millisecond},
			{150 * time.Millisecond, "a", l10, 1, false, 0, 50 * time.Millisecond, 450 * time.Millisecond},
			{200 * time.Millisecond, "a", l10, 1, true, 0, 0, 500 * time.Millisecond},
			{400 * time.Millisecond, "a", l10, 1, true, 1, 0, 400 * time.Millisecond},
		}},
		{"full again after the window", []step{
			{0, "a", l10, 5, true, 0, 0, 500 * time.Millisecond},
			{500 * time.Millisecond, "a", l10, 5, true, 0, 0, 500 * time.Millisecond},
			{10 * time.Second, "a", l10, 1, true, 4, 0, 100 * time.Millisecond},
		}},
		{"keys are independent", []step{
			{0, "a", l10, 5, true, 0, 0, 500 * time.Millisecond},
			{0, "b", l10, 1, true, 4, 0, 100 * time.Millisecond},
			{0, "a", l10, 1, false, 0, 100 * time.Millisecond, 500 * time.Millisecond},
		}},
		{"several tokens at once", []step{
			{0, "a", l10, 3, true, 2, 0, 300 * time.Millisecond},
			{0, "a", l10, 3, false, 2, 100 * time.Millisecond, 300 * time.Millisecond},
			{0, "a", l10, 2, true, 0, 0, 500 * time.Millisecond},
		}},
		{"more tokens than the burst never pass", []step{
			{0, "a", l10, 6, false, 5, throttle.Never, 0},
			{0, "a", l10, 5, true, 0, 0, 500 * time.Millisecond},
		}},
		{"rate 0 blocks", []step{
			{0, "a", throttle.Limit{}, 1, false, 0, throttle.Never, 0},
			{time.Hour, "a", throttle.Limit{Rate: 0, Burst: 100}, 1, false, 0, throttle.Never, 0},
		}},
		{"a new limit applies at once", []step{
			{0, "a", l10, 5, true, 0, 0, 500 * time.Millisecond},
			{0, "a", throttle.Limit{Rate: 10, Burst: 10}, 5, true, 0, 0, time.Second},
			{0, "a", throttle.Limit{Rate: 10, Burst: 10}, 1, false, 0, 100 * time.Millisecond, time.Second},
		}},
		{"fractional rate", []step{
			{0, "a", throttle.Limit{Rate: 0.5, Burst: 1}, 1, true, 0, 0, 2 * time.Second},
			{time.Second, "a", throttle.Limit{Rate: 0.5, Burst: 1}, 1, false, 0, time.Second, time.Second},
			{2 * time.Second, "a", throttle.Limit{Rate: 0.5, Burst: 1}, 1, true, 0, 0, 2 * time.Second},
		}},
		{"keys with separators and braces", []step{
			{0, "{plan}:k\x00 1", throttle.Limit{Rate: 1, Burst: 1}, 1, true, 0, 0, time.Second},
			{0, "{plan}:k\x00 1", throttle.Limit{Rate: 1, Burst: 1}, 1, false, 0, time.Second, time.Second},
			{0, "{plan}:k\x00 2", throttle.Limit{Rate: 1, Burst: 1}, 1, true, 0, 0, time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			for i, st := range tt.steps {
				got, err := s.Take(ctx, st.key, st.limit, st.n, T0.Add(st.at))
				if err != nil {
					t.Fatalf("step %d: Take(%q, %v, %d) at +%v: %v", i, st.key, st.limit, st.n, st.at, err)
				}
				want := throttle.Decision{Allowed: st.allowed, Remaining: st.remaining, RetryAfter: st.retryAfter, Reset: st.reset}
				if got != want {
					t.Errorf("step %d: Take(%q, %v, %d) at +%v = %+v, want %+v", i, st.key, st.limit, st.n, st.at, got, want)
				}
			}
		})
	}

	t.Run("bad arguments", func(t *testing.T) {
		s := newStore(t)
		for _, c := range []struct {
			l throttle.Limit
			n int
		}{
			{throttle.Limit{Rate: -1, Burst: 1}, 1},
			{throttle.Limit{Rate: 10, Burst: 0}, 1},
			{l10, 0},
		} {
			if _, err := s.Take(ctx, "a", c.l, c.n, T0); !errors.Is(err, throttle.ErrInvalidLimit) {
				t.Errorf("Take(%v, %d) error = %v, want ErrInvalidLimit", c.l, c.n, err)
			}
		}
		if d, err := s.Take(ctx, "a", l10, 5, T0); err != nil || !d.Allowed {
			t.Errorf("after bad calls, Take(5) = %+v, %v; want a full bucket", d, err)
		}
	})

	t.Run("accuracy over 10 s at 100 per second", func(t *testing.T) {
		s := newStore(t)
		l := throttle.Limit{Rate: 100, Burst: 50}
		admitted := 0
		// Offer 200 requests per second for 10 s.
		for at := time.Duration(0); at < 10*time.Second; at += 5 * time.Millisecond {
			d, err := s.Take(ctx, "acc", l, 1, T0.Add(at))
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				admitted++
			}
		}
		if want := 1000 + l.Burst; admitted < want-10 || admitted > want+10 {
			t.Errorf("admitted %d in 10 s, want %d ± 1%%", admitted, want)
		}
	})

	t.Run("concurrent takes admit exactly the burst", func(t *testing.T) {
		s := newStore(t)
		l := throttle.Limit{Rate: 1, Burst: 100}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					d, err := s.Take(ctx, "hot", l, 1, T0)
					if err != nil {
						errs <- err
						return
					}
					if d.Allowed {
						admitted.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := admitted.Load(); got != 100 {
			t.Errorf("320 concurrent takes admitted %d, want exactly the burst, 100", got)
		}
	})
}

// RunQuotaStoreTests runs the [throttle.QuotaStore] contract against the
// stores newStore returns; it calls newStore once per subtest, and each
// store must start empty.
func RunQuotaStoreTests(t *testing.T, newStore func(t *testing.T) throttle.QuotaStore) {
	ctx := context.Background()
	day0 := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	w1 := throttle.Window{Start: day0, End: day0.AddDate(0, 0, 1), Limit: 3}
	w2 := throttle.Window{Start: w1.End, End: w1.End.AddDate(0, 0, 1), Limit: 3}

	type step struct {
		at      time.Duration // since day0
		key     string
		w       throttle.Window
		n       int64
		allowed bool
		used    int64
		remain  int64
		reset   time.Duration
	}
	h := time.Hour
	tests := []struct {
		name  string
		steps []step
		usage map[string][]int64 // key → counts for day0 .. day0+len-1
	}{
		{"admits up to the limit", []step{
			{10 * h, "k", w1, 1, true, 1, 2, 14 * h},
			{11 * h, "k", w1, 1, true, 2, 1, 13 * h},
			{12 * h, "k", w1, 1, true, 3, 0, 12 * h},
			{13 * h, "k", w1, 1, false, 3, 0, 11 * h},
		}, map[string][]int64{"k": {3, 0}}},
		{"a new window starts from zero", []step{
			{1 * h, "k", w1, 3, true, 3, 0, 23 * h},
			{2 * h, "k", w1, 1, false, 3, 0, 22 * h},
			{25 * h, "k", w2, 1, true, 1, 2, 23 * h},
		}, map[string][]int64{"k": {3, 1}}},
		{"several at once, all or nothing", []step{
			{0, "k", w1, 2, true, 2, 1, 24 * h},
			{0, "k", w1, 2, false, 2, 1, 24 * h},
			{0, "k", w1, 1, true, 3, 0, 24 * h},
		}, map[string][]int64{"k": {3}}},
		{"limit 0 admits none", []step{
			{0, "k", throttle.Window{Start: day0, End: w1.End}, 1, false, 0, 0, 24 * h},
		}, map[string][]int64{"k": {0}}},
		{"a zero window only records", []step{
			{1 * h, "k", throttle.Window{}, 1, true, 0, -1, 0},
			{25 * h, "k", throttle.Window{}, 5, true, 0, -1, 0},
			{26 * h, "k", throttle.Window{}, 1, true, 0, -1, 0},
		}, map[string][]int64{"k": {1, 6, 0}}},
		{"keys are independent", []step{
			{0, "a", w1, 3, true, 3, 0, 24 * h},
			{0, "b", w1, 1, true, 1, 2, 24 * h},
			{0, "{b}:c\x00", w1, 2, true, 2, 1, 24 * h},
		}, map[string][]int64{"a": {3}, "b": {1}, "{b}:c\x00": {2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			for i, st := range tt.steps {
				got, err := s.Consume(ctx, st.key, st.w, st.n, day0.Add(st.at))
				if err != nil {
					t.Fatalf("step %d: Consume(%q, %d) at +%v: %v", i, st.key, st.n, st.at, err)
				}
				want := throttle.QuotaDecision{Allowed: st.allowed, Used: st.used, Remaining: st.remain, Reset: st.reset}
				if got != want {
					t.Errorf("step %d: Consume(%q, %d) at +%v = %+v, want %+v", i, st.key, st.n, st.at, got, want)
				}
			}
			for key, want := range tt.usage {
				got, err := s.Usage(ctx, key, day0.Add(3*h), day0.AddDate(0, 0, len(want)-1).Add(5*h))
				if err != nil {
					t.Fatalf("Usage(%q): %v", key, err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("Usage(%q) = %v, want %v", key, got, want)
				}
			}
		})
	}

	t.Run("bad arguments", func(t *testing.T) {
		s := newStore(t)
		for _, c := range []struct {
			name string
			w    throttle.Window
			n    int64
		}{
			{"n = 0", w1, 0},
			{"end before start", throttle.Window{Start: w1.End, End: w1.Start, Limit: 3}, 1},
			{"negative limit", throttle.Window{Start: w1.Start, End: w1.End, Limit: -1}, 1},
		} {
			if _, err := s.Consume(ctx, "k", c.w, c.n, day0); !errors.Is(err, throttle.ErrInvalidLimit) {
				t.Errorf("%s: Consume error = %v, want ErrInvalidLimit", c.name, err)
			}
		}
		if _, err := s.Usage(ctx, "k", day0, day0.Add(-time.Second)); err == nil {
			t.Error("Usage with to before from: no error")
		}
		if _, err := s.Usage(ctx, "k", day0, day0.AddDate(0, 0, throttle.MaxUsageDays)); err == nil {
			t.Error("Usage over 367 days: no error")
		}
		got, err := s.Usage(ctx, "k", day0, day0)
		if err != nil || len(got) != 1 || got[0] != 0 {
			t.Errorf("after bad calls, Usage = %v, %v; want [0]", got, err)
		}
	})

	t.Run("concurrent consumes never over-admit", func(t *testing.T) {
		s := newStore(t)
		w := throttle.Window{Start: day0, End: day0.AddDate(0, 1, 0), Limit: 137}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					d, err := s.Consume(ctx, "hot", w, 1, day0.Add(time.Hour))
					if err != nil {
						errs <- err
						return
					}
					if d.Allowed {
						admitted.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := admitted.Load(); got != 137 {
			t.Errorf("320 concurrent consumes admitted %d, want exactly the limit, 137", got)
		}
		u, err := s.Usage(ctx, "hot", day0, day0)
		if err != nil || len(u) != 1 || u[0] != 137 {
			t.Errorf("Usage = %v, %v; want [137]", u, err)
		}
	})
}
