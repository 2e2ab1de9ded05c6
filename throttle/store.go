package throttle

import (
	"context"
	"errors"
	"time"
)

// Store keeps token buckets by name. The in-memory [MemoryStore] is the
// default; package redisstore has one that many processes share.
//
// Implementations are safe for concurrent use, and each Take is one atomic
// decision: no other Take on the same key sees the bucket between the check
// and the take.
type Store interface {
	// Take takes n tokens from the bucket named key, whose limit is l, at
	// time now, if the bucket holds them, and reports the decision. A key
	// never seen (or forgotten after it filled up) is a full bucket. The
	// limit is given on every call, so changing it takes effect at once.
	//
	// It returns an error wrapping [ErrInvalidLimit] if l is invalid or
	// n < 1, and one wrapping [ErrUnavailable] if the store cannot be
	// reached; in both cases nothing is taken.
	Take(ctx context.Context, key string, l Limit, n int, now time.Time) (Decision, error)
}

// QuotaStore counts requests against quotas and keeps a usage record per
// key per UTC day. The in-memory [MemoryQuotaStore] is the default;
// package redisstore has one that many processes share.
//
// Implementations are safe for concurrent use, and each Consume is one
// atomic decision: a quota is never over-admitted, however many processes
// consume it at once.
type QuotaStore interface {
	// Consume counts n requests of key in the quota window w, if the
	// window's count stays within w.Limit, and adds them to key's usage on
	// the UTC day of now. A zero w records usage without a limit. A
	// rejected Consume changes nothing.
	//
	// It returns an error wrapping [ErrInvalidLimit] if n < 1 or w is
	// malformed, and one wrapping [ErrUnavailable] if the store cannot be
	// reached.
	Consume(ctx context.Context, key string, w Window, n int64, now time.Time) (QuotaDecision, error)
	// Usage returns the requests recorded for key on each UTC day from the
	// day of from to the day of to, both included: one count per day, 0
	// for days with no record (or older than the store keeps). It returns
	// an error if to is before from or the range is over [MaxUsageDays].
	Usage(ctx context.Context, key string, from, to time.Time) ([]int64, error)
}

// MaxUsageDays is the longest range of days a usage report may cover.
const MaxUsageDays = 366

// ErrUnavailable is wrapped by the errors of a store that cannot be
// reached (a network store whose server is down). [Fallback] and
// [QuotaFallback] act on it.
var ErrUnavailable = errors.New("throttle: store unavailable")

// Window is one quota period of a key: the requests between Start
// (included) and End (excluded) count against Limit. [Quota.Window] computes
// it. The zero Window has no limit.
type Window struct {
	Start, End time.Time
	// Limit is how many requests the window admits; 0 admits none.
	Limit int64
}

// IsZero reports whether w is the zero Window (no limit).
func (w Window) IsZero() bool { return w.Start.IsZero() && w.End.IsZero() && w.Limit == 0 }

// QuotaDecision is a quota store's answer for one request.
type QuotaDecision struct {
	// Allowed reports whether the request was admitted (and counted).
	Allowed bool
	// Used is the window's count after the decision.
	Used int64
	// Remaining is Limit − Used, never below 0; -1 when unknown (a zero
	// window, or a fail-open [QuotaFallback] whose primary is down).
	Remaining int64
	// Reset is how long until the window ends; 0 for a zero window.
	Reset time.Duration
}

// dayNumber is the number of the UTC day of t since 1970-01-01.
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// DayRange returns the numbers of the UTC days of from and to (days since
// 1970-01-01), for stores implementing [QuotaStore.Usage]. It returns an
// error if to is before from or the range is over [MaxUsageDays] days.
func DayRange(from, to time.Time) (first, last int64, err error) {
	first, last = dayNumber(from), dayNumber(to)
	if last < first {
		return 0, 0, errors.New("throttle: usage range ends before it starts")
	}
	if last-first+1 > MaxUsageDays {
		return 0, 0, errors.New("throttle: usage range is over 366 days")
	}
	return first, last, nil
}

// DayNumber returns the number of the UTC day of t since 1970-01-01, the
// day a [QuotaStore] records a request under.
func DayNumber(t time.Time) int64 { return dayNumber(t) }

// checkConsume validates the arguments of a quota store's Consume.
func checkConsume(w Window, n int64) error {
	if n < 1 {
		return errorf("token count %d must be at least 1", n)
	}
	if w.IsZero() {
		return nil
	}
	if !w.End.After(w.Start) {
		return errorf("quota window ends at %v, not after its start %v", w.End, w.Start)
	}
	if w.Limit < 0 {
		return errorf("quota limit %d is negative", w.Limit)
	}
	return nil
}

// CheckConsume validates the arguments of [QuotaStore.Consume], for
// implementations: the error wraps [ErrInvalidLimit].
func CheckConsume(w Window, n int64) error { return checkConsume(w, n) }

// CheckTake validates the arguments of [Store.Take], for implementations:
// the error wraps [ErrInvalidLimit].
func CheckTake(l Limit, n int) error { return checkTake(l, n) }
