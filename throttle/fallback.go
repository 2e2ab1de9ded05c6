package throttle

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// FailureMode says what a [Fallback] or [QuotaFallback] does while its
// primary store is unreachable.
type FailureMode int

// The failure modes.
const (
	// FailOpen keeps serving: a [Fallback] decides with its local store at
	// the limit divided by the number of instances sharing the primary; a
	// [QuotaFallback] admits requests without counting them (as the model
	// gateway serves a request whose usage-plan check failed).
	FailOpen FailureMode = iota + 1
	// FailClosed refuses: every decision fails with an error wrapping
	// [ErrUnavailable], which a gateway answers with 503
	// SERVICE_UNAVAILABLE.
	FailClosed
)

// String returns "fail-open" or "fail-closed".
func (m FailureMode) String() string {
	switch m {
	case FailOpen:
		return "fail-open"
	case FailClosed:
		return "fail-closed"
	}
	return fmt.Sprintf("FailureMode(%d)", int(m))
}

// DefaultProbeInterval is how long a fallback waits, by default, after its
// primary store failed before trying it again.
const DefaultProbeInterval = time.Second

// FallbackOption configures a [Fallback] or a [QuotaFallback].
type FallbackOption func(*fallbackOptions)

type fallbackOptions struct {
	instances int
	local     Store
	probe     time.Duration
	onError   func(error)
}

// WithInstances sets how many instances share the primary store, so that
// a fail-open [Fallback] gives each the limit divided by n (rate n times
// smaller, burst too, rounded up); the default is 1. n must be positive.
func WithInstances(n int) FallbackOption { return func(o *fallbackOptions) { o.instances = n } }

// WithLocalStore sets the store a fail-open [Fallback] decides with while
// the primary is down; the default is a new [MemoryStore].
func WithLocalStore(s Store) FallbackOption { return func(o *fallbackOptions) { o.local = s } }

// WithProbeInterval sets how long to wait after the primary failed before
// one request tries it again (the others keep falling back meanwhile); the
// default is [DefaultProbeInterval]. Recovery is automatic: the first probe
// that succeeds brings the primary back for everyone. d must be positive.
func WithProbeInterval(d time.Duration) FallbackOption {
	return func(o *fallbackOptions) { o.probe = d }
}

// WithErrorHook sets a function called with each failure of the primary
// (at most about once per probe interval while it stays down), to log or
// count them. It must be safe for concurrent use.
func WithErrorHook(f func(error)) FallbackOption { return func(o *fallbackOptions) { o.onError = f } }

func buildFallback(mode FailureMode, opts []FallbackOption) (fallbackOptions, error) {
	o := fallbackOptions{instances: 1, probe: DefaultProbeInterval}
	for _, opt := range opts {
		opt(&o)
	}
	if mode != FailOpen && mode != FailClosed {
		return o, fmt.Errorf("throttle: failure mode %d must be FailOpen or FailClosed", int(mode))
	}
	if o.instances < 1 {
		return o, fmt.Errorf("throttle: WithInstances(%d): must be positive", o.instances)
	}
	if o.probe <= 0 {
		return o, fmt.Errorf("throttle: WithProbeInterval(%v): must be positive", o.probe)
	}
	return o, nil
}

// breaker remembers that the primary is down and lets one caller probe it
// once the probe interval has passed.
type breaker struct {
	probe     int64
	onError   func(error)
	downUntil atomic.Int64 // Unix nanoseconds; 0 while the primary is up
	probing   atomic.Bool
}

// enter reports whether to call the primary, and whether the call is the
// probe (which the caller must end with leave).
func (b *breaker) enter(now int64) (call, probe bool) {
	until := b.downUntil.Load()
	if until == 0 {
		return true, false
	}
	if now < until || !b.probing.CompareAndSwap(false, true) {
		return false, false
	}
	// Another probe may have failed since the load above.
	if until = b.downUntil.Load(); until == 0 || now < until {
		b.probing.Store(false)
		return until == 0, false
	}
	return true, true
}

// leave records the outcome of a call to the primary: failed reports
// whether it failed in a way that means the primary is down.
func (b *breaker) leave(now int64, probe bool, failed bool, err error) {
	if failed {
		b.downUntil.Store(max(now+b.probe, 1))
		if b.onError != nil {
			b.onError(err)
		}
	} else if probe {
		b.downUntil.Store(0)
	}
	if probe {
		b.probing.Store(false)
	}
}

// isOutage reports whether err from the primary means it is unreachable,
// rather than a bad argument or the caller giving up.
func isOutage(ctx context.Context, err error) bool {
	return err != nil && !errors.Is(err, ErrInvalidLimit) && ctx.Err() == nil
}

// errPrimaryDown is the cause a fail-closed fallback reports between probes.
var errPrimaryDown = fmt.Errorf("%w: primary store is down; waiting to probe it again", ErrUnavailable)

func unavailable(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Fallback is a [Store] that decides with a primary store (Redis) and,
// while the primary is unreachable, fails open — deciding with a local
// store at the limit divided by the number of instances — or closed —
// failing with [ErrUnavailable]. After a failure it keeps off the primary
// for the probe interval, then lets one request try it: recovery is
// automatic when the primary answers again. Errors wrapping
// [ErrInvalidLimit] and calls whose context is done do not count as
// outages.
//
// Its zero value is not usable; call [NewFallback]. It is safe for
// concurrent use and starts no goroutines.
type Fallback struct {
	primary   Store
	local     Store
	mode      FailureMode
	instances int
	b         breaker
}

var _ Store = (*Fallback)(nil)

// NewFallback returns a fallback over primary with the given failure mode.
// It returns an error for a nil primary, an unknown mode or a bad option.
func NewFallback(primary Store, mode FailureMode, opts ...FallbackOption) (*Fallback, error) {
	o, err := buildFallback(mode, opts)
	if err != nil {
		return nil, err
	}
	if primary == nil {
		return nil, errors.New("throttle: NewFallback: nil primary store")
	}
	if o.local == nil && mode == FailOpen {
		if o.local, err = NewMemoryStore(); err != nil {
			return nil, err
		}
	}
	f := &Fallback{primary: primary, local: o.local, mode: mode, instances: o.instances}
	f.b.probe, f.b.onError = int64(o.probe), o.onError
	return f, nil
}

// Take implements [Store].
func (f *Fallback) Take(ctx context.Context, key string, l Limit, n int, now time.Time) (Decision, error) {
	t := now.UnixNano()
	call, probe := f.b.enter(t)
	cause := errPrimaryDown
	if call {
		d, err := f.primary.Take(ctx, key, l, n, now)
		out := isOutage(ctx, err)
		f.b.leave(t, probe, out, err)
		if !out {
			return d, err
		}
		cause = unavailable(err)
	}
	if f.mode == FailClosed {
		return Decision{}, cause
	}
	return f.local.Take(ctx, key, f.share(l), n, now)
}

// share is one instance's part of l.
func (f *Fallback) share(l Limit) Limit {
	if f.instances == 1 || l.Rate == 0 {
		return l
	}
	return Limit{
		Rate:  l.Rate / float64(f.instances),
		Burst: int(math.Ceil(float64(l.Burst) / float64(f.instances))),
	}
}

// Down reports whether the primary is considered down (the last call to it
// failed).
func (f *Fallback) Down() bool { return f.b.downUntil.Load() != 0 }

// QuotaFallback is a [QuotaStore] over a primary quota store that, while
// the primary is unreachable, fails open — admitting requests without
// counting them, with a decision whose Remaining is -1 — or closed —
// failing with [ErrUnavailable]. It probes and recovers like [Fallback].
// Usage always asks the primary.
//
// Its zero value is not usable; call [NewQuotaFallback]. It is safe for
// concurrent use and starts no goroutines.
type QuotaFallback struct {
	primary QuotaStore
	mode    FailureMode
	b       breaker
}

var _ QuotaStore = (*QuotaFallback)(nil)

// NewQuotaFallback returns a quota fallback over primary with the given
// failure mode; of the options it honours [WithProbeInterval] and
// [WithErrorHook]. It returns an error for a nil primary, an unknown mode
// or a bad option.
func NewQuotaFallback(primary QuotaStore, mode FailureMode, opts ...FallbackOption) (*QuotaFallback, error) {
	o, err := buildFallback(mode, opts)
	if err != nil {
		return nil, err
	}
	if primary == nil {
		return nil, errors.New("throttle: NewQuotaFallback: nil primary store")
	}
	f := &QuotaFallback{primary: primary, mode: mode}
	f.b.probe, f.b.onError = int64(o.probe), o.onError
	return f, nil
}

// Consume implements [QuotaStore].
func (f *QuotaFallback) Consume(ctx context.Context, key string, w Window, n int64, now time.Time) (QuotaDecision, error) {
	t := now.UnixNano()
	call, probe := f.b.enter(t)
	cause := errPrimaryDown
	if call {
		d, err := f.primary.Consume(ctx, key, w, n, now)
		out := isOutage(ctx, err)
		f.b.leave(t, probe, out, err)
		if !out {
			return d, err
		}
		cause = unavailable(err)
	}
	if f.mode == FailClosed {
		return QuotaDecision{}, cause
	}
	if err := checkConsume(w, n); err != nil {
		return QuotaDecision{}, err
	}
	return QuotaDecision{Allowed: true, Remaining: -1}, nil
}

// Usage implements [QuotaStore] by asking the primary.
func (f *QuotaFallback) Usage(ctx context.Context, key string, from, to time.Time) ([]int64, error) {
	return f.primary.Usage(ctx, key, from, to)
}

// Down reports whether the primary is considered down.
func (f *QuotaFallback) Down() bool { return f.b.downUntil.Load() != 0 }
