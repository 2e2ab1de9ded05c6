package upstream

import "time"

// BreakerState is the state of a target's circuit breaker.
type BreakerState string

// Breaker states.
const (
	// BreakerClosed lets requests through.
	BreakerClosed BreakerState = "closed"
	// BreakerOpen keeps the target out until its open time has passed.
	BreakerOpen BreakerState = "open"
	// BreakerHalfOpen lets a few trial requests through; a success closes
	// the breaker, a failure opens it again.
	BreakerHalfOpen BreakerState = "half-open"
)

// windowBuckets is how many buckets a rolling window has.
const windowBuckets = 10

// window counts outcomes over a rolling period, in windowBuckets buckets.
// It is not safe for concurrent use.
type window struct {
	width   int64 // nanoseconds per bucket
	buckets [windowBuckets]struct {
		epoch         int64 // bucket number since the Unix epoch; 0 = unused
		total, failed int64
	}
}

func newWindow(period time.Duration) window {
	w := int64(period) / windowBuckets
	if w <= 0 {
		w = 1
	}
	return window{width: w}
}

func (w *window) add(now time.Time, total, failed int64) {
	e := now.UnixNano()/w.width + 1
	b := &w.buckets[e%windowBuckets]
	if b.epoch != e {
		b.epoch, b.total, b.failed = e, 0, 0
	}
	b.total += total
	b.failed += failed
}

func (w *window) sums(now time.Time) (total, failed int64) {
	e := now.UnixNano()/w.width + 1
	for i := range w.buckets {
		b := &w.buckets[i]
		if b.epoch > e-windowBuckets && b.epoch <= e {
			total += b.total
			failed += b.failed
		}
	}
	return total, failed
}

func (w *window) reset() { w.buckets = [windowBuckets]struct{ epoch, total, failed int64 }{} }

// breaker is one target's circuit breaker: it opens when the failure ratio
// over the rolling window reaches the threshold (with enough requests to
// judge), stays open for OpenFor, then lets HalfOpenRequests trials through.
// Its methods take now and are not safe for concurrent use: the target's
// mutex guards it.
type breaker struct {
	cfg       *BreakerConfig
	state     BreakerState
	openUntil time.Time
	trials    int // half-open trials in flight
	win       window
}

func newBreaker(cfg *BreakerConfig) breaker {
	return breaker{cfg: cfg, state: BreakerClosed, win: newWindow(cfg.Window)}
}

// stateAt is the state at now, moving open to half-open once OpenFor has
// passed.
func (b *breaker) stateAt(now time.Time) BreakerState {
	if b.state == BreakerOpen && !now.Before(b.openUntil) {
		b.state, b.trials = BreakerHalfOpen, 0
	}
	return b.state
}

// allow reports whether a request may go to the target now. With claim, a
// half-open breaker counts the request as a trial (trial is then true).
func (b *breaker) allow(now time.Time, claim bool) (ok, trial bool) {
	switch b.stateAt(now) {
	case BreakerClosed:
		return true, false
	case BreakerHalfOpen:
		if b.trials >= b.cfg.HalfOpenRequests {
			return false, false
		}
		if claim {
			b.trials++
		}
		return true, claim
	}
	return false, false
}

// record notes an outcome. It returns the new state if the outcome changed
// it, else "".
func (b *breaker) record(now time.Time, failed, trial bool) BreakerState {
	var f int64
	if failed {
		f = 1
	}
	state := b.stateAt(now)
	if trial {
		b.trials--
	}
	switch {
	case state == BreakerHalfOpen && trial && failed:
		b.open(now)
		return BreakerOpen
	case state == BreakerHalfOpen && trial:
		b.state, b.trials = BreakerClosed, 0
		b.win.reset()
		return BreakerClosed
	case state != BreakerClosed:
		return "" // a request that started before the breaker opened
	}
	b.win.add(now, 1, f)
	if !failed {
		return ""
	}
	total, failures := b.win.sums(now)
	if total >= int64(b.cfg.MinRequests) && float64(failures) >= b.cfg.FailureRatio*float64(total) {
		b.open(now)
		return BreakerOpen
	}
	return ""
}

// release gives back a trial slot claimed for an attempt that was never
// made or whose outcome says nothing about the target.
func (b *breaker) release(trial bool) {
	if trial && b.trials > 0 {
		b.trials--
	}
}

func (b *breaker) open(now time.Time) {
	b.state = BreakerOpen
	b.openUntil = now.Add(b.cfg.OpenFor)
	b.trials = 0
	b.win.reset()
}
