package throttle

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Limit is a token bucket: it holds at most Burst tokens and gains Rate
// tokens per second; every request takes one token. A full bucket admits a
// burst of Burst requests at once, then Rate requests per second.
//
// The zero Limit blocks every request, as a rate of 0 does in the model
// gateway. A Limit is plain data, safe to copy and share.
type Limit struct {
	// Rate is the steady rate in requests per second (it may be
	// fractional: 0.5 is one request every two seconds). 0 blocks every
	// request; otherwise it must be finite and at most 1e9.
	Rate float64
	// Burst is the bucket size: how many requests a full bucket admits at
	// once. It must be at least 1 when Rate is positive; it is ignored when
	// Rate is 0.
	Burst int
}

// ErrInvalidLimit is wrapped by the errors [Limit.Validate] returns, and by
// the errors stores return for a bad limit or token count.
var ErrInvalidLimit = errors.New("throttle: invalid limit")

// maxWindow bounds Burst/Rate, the time a bucket takes to fill from empty,
// so that the arithmetic in nanoseconds cannot overflow.
const maxWindow = 100 * 365 * 24 * time.Hour

// Validate reports whether l is a usable limit. The error wraps
// [ErrInvalidLimit] and names the problem.
func (l Limit) Validate() error {
	switch {
	case math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) || l.Rate < 0:
		return fmt.Errorf("%w: rate %v must be a finite number ≥ 0", ErrInvalidLimit, l.Rate)
	case l.Rate == 0:
		return nil
	case l.Rate > 1e9:
		return fmt.Errorf("%w: rate %v is over 1e9 requests per second", ErrInvalidLimit, l.Rate)
	case l.Burst < 1:
		return fmt.Errorf("%w: burst %d must be at least 1 when the rate is positive (a rate of 0 blocks every request)", ErrInvalidLimit, l.Burst)
	case float64(l.Burst)/l.Rate > maxWindow.Seconds():
		return fmt.Errorf("%w: burst %d at rate %v takes over 100 years to refill", ErrInvalidLimit, l.Burst, l.Rate)
	}
	return nil
}

// Blocks reports whether l admits no request at all (a rate of 0).
func (l Limit) Blocks() bool { return l.Rate == 0 }

// Interval is the time the bucket takes to gain one token, rounded to the
// nanosecond; 0 for a blocking limit.
func (l Limit) Interval() time.Duration {
	if l.Rate <= 0 {
		return 0
	}
	iv := time.Duration(math.Round(1e9 / l.Rate))
	if iv < 1 {
		iv = 1
	}
	return iv
}

// Window is the time an empty bucket takes to fill: Burst × [Limit.Interval].
func (l Limit) Window() time.Duration { return time.Duration(l.Burst) * l.Interval() }

// String formats l as "rate/s burst b".
func (l Limit) String() string {
	return fmt.Sprintf("%g/s burst %d", l.Rate, l.Burst)
}

// Never is the [Decision.RetryAfter] of a request that no wait can admit:
// its limit blocks every request, or it asks for more tokens than the
// bucket holds.
const Never = time.Duration(math.MaxInt64)

// Decision is a store's answer for one request.
type Decision struct {
	// Allowed reports whether the request was admitted (and its tokens
	// taken).
	Allowed bool
	// Remaining is how many whole tokens the bucket holds after the
	// decision.
	Remaining int
	// RetryAfter is 0 when Allowed; otherwise how long until the bucket
	// holds the tokens asked for, or [Never].
	RetryAfter time.Duration
	// Reset is how long until the bucket is full again.
	Reset time.Duration
}

// take applies the generic cell rate algorithm (GCRA), the token bucket in
// one number: tat, the theoretical arrival time, is when the bucket will be
// full again (in Unix nanoseconds; a tat at or before now is a full bucket).
// It returns the new tat and the decision for n tokens at now. The caller
// has validated l and n ≥ 1.
func (l Limit) take(tat, now int64, n int) (int64, Decision) {
	if l.Rate == 0 {
		return tat, Decision{RetryAfter: Never}
	}
	iv := int64(l.Interval())
	tau := int64(l.Burst) * iv
	base := max(tat, now)
	if n > l.Burst {
		return tat, Decision{
			Remaining:  int(max(tau-(base-now), 0) / iv),
			RetryAfter: Never,
			Reset:      time.Duration(base - now),
		}
	}
	next := base + int64(n)*iv
	if allowAt := next - tau; now < allowAt {
		return tat, Decision{
			Remaining:  int(max(tau-(base-now), 0) / iv),
			RetryAfter: time.Duration(allowAt - now),
			Reset:      time.Duration(base - now),
		}
	}
	return next, Decision{
		Allowed:   true,
		Remaining: int((tau - (next - now)) / iv),
		Reset:     time.Duration(next - now),
	}
}

// checkTake validates the arguments of a store's Take.
func checkTake(l Limit, n int) error {
	if n < 1 {
		return fmt.Errorf("%w: token count %d must be at least 1", ErrInvalidLimit, n)
	}
	return l.Validate()
}
