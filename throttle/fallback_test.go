package throttle_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/throttle"
)

// flaky is a store that can be taken down, counting the calls that reach
// it.
type flaky struct {
	s     *throttle.MemoryStore
	q     *throttle.MemoryQuotaStore
	down  atomic.Bool
	calls atomic.Int64
}

var errConnRefused = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

func newFlaky(t *testing.T) *flaky {
	return &flaky{s: newMemoryStore(t), q: newMemoryQuotaStore(t)}
}

func (f *flaky) Take(ctx context.Context, key string, l throttle.Limit, n int, now time.Time) (throttle.Decision, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return throttle.Decision{}, errConnRefused
	}
	return f.s.Take(ctx, key, l, n, now)
}

func (f *flaky) Consume(ctx context.Context, key string, w throttle.Window, n int64, now time.Time) (throttle.QuotaDecision, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return throttle.QuotaDecision{}, errConnRefused
	}
	return f.q.Consume(ctx, key, w, n, now)
}

func (f *flaky) Usage(ctx context.Context, key string, from, to time.Time) ([]int64, error) {
	if f.down.Load() {
		return nil, errConnRefused
	}
	return f.q.Usage(ctx, key, from, to)
}

func TestFallbackFailOpen(t *testing.T) {
	ctx := context.Background()
	p := newFlaky(t)
	var hooked atomic.Int64
	f, err := throttle.NewFallback(p, throttle.FailOpen, throttle.WithInstances(2),
		throttle.WithProbeInterval(time.Second), throttle.WithErrorHook(func(err error) {
			if !errors.Is(err, errConnRefused) {
				t.Errorf("hook got %v", err)
			}
			hooked.Add(1)
		}))
	if err != nil {
		t.Fatal(err)
	}
	l := throttle.Limit{Rate: 10, Burst: 4}
	take := func(at time.Duration) throttle.Decision {
		t.Helper()
		d, err := f.Take(ctx, "k", l, 1, t0.Add(at))
		if err != nil {
			t.Fatalf("Take at +%v: %v", at, err)
		}
		return d
	}
	if d := take(0); !d.Allowed || d.Remaining != 3 || f.Down() {
		t.Fatalf("primary up: %+v, down %v; want 3 left from the primary", d, f.Down())
	}
	p.down.Store(true)
	// The local share is 5 per second, burst 2.
	if d := take(0); !d.Allowed || d.Remaining != 1 || !f.Down() {
		t.Fatalf("first call after the outage: %+v, down %v; want the local share, 1 left", d, f.Down())
	}
	if d := take(0); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("second local call: %+v", d)
	}
	if d := take(0); d.Allowed || d.RetryAfter != 200*time.Millisecond {
		t.Fatalf("third local call: %+v; want refused, retry after 200ms (5/s)", d)
	}
	if got := p.calls.Load(); got != 2 {
		t.Errorf("primary called %d times, want 2: no calls between probes", got)
	}
	// After the probe interval one call probes; the primary is still down.
	take(time.Second)
	if got := p.calls.Load(); got != 3 || hooked.Load() != 2 {
		t.Errorf("after the interval: %d primary calls and %d hook calls, want 3 and 2", p.calls.Load(), hooked.Load())
	}
	p.down.Store(false)
	take(1500 * time.Millisecond) // within the new interval: local
	if got := p.calls.Load(); got != 3 {
		t.Errorf("primary called during the interval")
	}
	if d := take(2 * time.Second); !d.Allowed || f.Down() || p.calls.Load() != 4 {
		t.Errorf("probe after recovery: %+v, down %v, %d calls; want the primary back", d, f.Down(), p.calls.Load())
	}
}

func TestFallbackFailClosed(t *testing.T) {
	ctx := context.Background()
	p := newFlaky(t)
	f, err := throttle.NewFallback(p, throttle.FailClosed)
	if err != nil {
		t.Fatal(err)
	}
	l := throttle.Limit{Rate: 10, Burst: 4}
	p.down.Store(true)
	for i, at := range []time.Duration{0, 500 * time.Millisecond} {
		_, err := f.Take(ctx, "k", l, 1, t0.Add(at))
		if !errors.Is(err, throttle.ErrUnavailable) {
			t.Errorf("call %d: error %v, want ErrUnavailable", i, err)
		}
	}
	p.down.Store(false)
	if d, err := f.Take(ctx, "k", l, 1, t0.Add(throttle.DefaultProbeInterval)); err != nil || !d.Allowed || f.Down() {
		t.Errorf("after recovery: %+v, %v, down %v", d, err, f.Down())
	}
}

func TestFallbackIgnoresCallerErrors(t *testing.T) {
	p := newFlaky(t)
	f, err := throttle.NewFallback(p, throttle.FailClosed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Take(context.Background(), "k", throttle.Limit{Rate: 1}, 1, t0); !errors.Is(err, throttle.ErrInvalidLimit) || f.Down() {
		t.Errorf("bad limit: %v, down %v; want ErrInvalidLimit and the primary up", err, f.Down())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.down.Store(true) // the store fails as a canceled call would
	if _, err := f.Take(ctx, "k", throttle.Limit{Rate: 1, Burst: 1}, 1, t0); err == nil || f.Down() {
		t.Errorf("canceled call: %v, down %v; want the error and the primary up", err, f.Down())
	}
}

func TestFallbackOneProbeAtATime(t *testing.T) {
	ctx := context.Background()
	p := newFlaky(t)
	f, err := throttle.NewFallback(p, throttle.FailOpen)
	if err != nil {
		t.Fatal(err)
	}
	l := throttle.Limit{Rate: 1e6, Burst: 1e6}
	p.down.Store(true)
	if _, err := f.Take(ctx, "k", l, 1, t0); err != nil {
		t.Fatal(err)
	}
	before := p.calls.Load()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := f.Take(ctx, "k", l, 1, t0.Add(2*time.Second)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// Each failed probe pushes the next one a second later, so at one
	// instant only one call may probe.
	if got := p.calls.Load() - before; got != 1 {
		t.Errorf("%d probes at one instant, want 1", got)
	}
}

func TestQuotaFallback(t *testing.T) {
	ctx := context.Background()
	w := throttle.Window{Start: t0.Truncate(24 * time.Hour), End: t0.Truncate(24 * time.Hour).Add(24 * time.Hour), Limit: 1}
	tests := []struct {
		mode    throttle.FailureMode
		allowed bool
		unavail bool
	}{
		{throttle.FailOpen, true, false},
		{throttle.FailClosed, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			p := newFlaky(t)
			f, err := throttle.NewQuotaFallback(p, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			p.down.Store(true)
			for i := 0; i < 3; i++ {
				d, err := f.Consume(ctx, "k", w, 1, t0)
				if d.Allowed != tt.allowed || errors.Is(err, throttle.ErrUnavailable) != tt.unavail {
					t.Errorf("consume %d while down: %+v, %v", i, d, err)
				}
				if tt.allowed && d.Remaining != -1 {
					t.Errorf("fail-open decision Remaining = %d, want -1", d.Remaining)
				}
			}
			if _, err := f.Usage(ctx, "k", t0, t0); err == nil {
				t.Error("Usage while down: no error")
			}
			p.down.Store(false)
			d, err := f.Consume(ctx, "k", w, 1, t0.Add(time.Second))
			if err != nil || !d.Allowed || d.Used != 1 || f.Down() {
				t.Errorf("after recovery: %+v, %v, down %v; want the primary's count", d, err, f.Down())
			}
		})
	}
}

func TestFallbackOptions(t *testing.T) {
	p := newFlaky(t)
	tests := []struct {
		name string
		mode throttle.FailureMode
		opts []throttle.FallbackOption
	}{
		{"no mode", 0, nil},
		{"zero instances", throttle.FailOpen, []throttle.FallbackOption{throttle.WithInstances(0)}},
		{"zero probe interval", throttle.FailOpen, []throttle.FallbackOption{throttle.WithProbeInterval(0)}},
	}
	for _, tt := range tests {
		if _, err := throttle.NewFallback(p, tt.mode, tt.opts...); err == nil {
			t.Errorf("%s: NewFallback: no error", tt.name)
		}
		if _, err := throttle.NewQuotaFallback(p, tt.mode, tt.opts...); err == nil {
			t.Errorf("%s: NewQuotaFallback: no error", tt.name)
		}
	}
	if _, err := throttle.NewFallback(nil, throttle.FailOpen); err == nil {
		t.Error("NewFallback(nil): no error")
	}
	if _, err := throttle.NewQuotaFallback(nil, throttle.FailOpen); err == nil {
		t.Error("NewQuotaFallback(nil): no error")
	}
	if got := throttle.FailureMode(9).String(); got != "FailureMode(9)" {
		t.Errorf("String = %q", got)
	}
}
