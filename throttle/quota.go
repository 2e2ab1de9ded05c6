package throttle

import (
	"fmt"
	"time"
)

// Period is the length of a quota period. Periods start at midnight UTC.
type Period string

// The quota periods.
const (
	// Day periods start every day at 00:00 UTC.
	Day Period = "DAY"
	// Week periods start at 00:00 UTC on [Quota.WeekStart] (Sunday by
	// default).
	Week Period = "WEEK"
	// Month periods start at 00:00 UTC on the first day of each month.
	Month Period = "MONTH"
)

// Quota caps how many requests a key may make per period, as a usage plan's
// quota does: when it is used up, requests get 429 QUOTA_EXCEEDED until the
// next period starts. A Quota is plain data.
type Quota struct {
	// Limit is how many requests a key may make per period; 0 admits none.
	Limit int64
	// Offset is subtracted from Limit in the initial period only (the one
	// containing Start), for a plan that starts part-way through a period.
	// 0 ≤ Offset ≤ Limit.
	Offset int64
	// Period is DAY, WEEK or MONTH; required.
	Period Period
	// WeekStart is the day WEEK periods start on; the zero value is
	// Sunday. Ignored for other periods.
	WeekStart time.Weekday
	// Start is when the quota began: the initial period, where Offset
	// applies, is the one containing it. Zero means the time the plan is
	// added to a [Meter]; a Quota used on its own with a zero Start has no
	// initial period.
	Start time.Time
}

// Validate reports whether q is a usable quota. The error wraps
// [ErrInvalidLimit].
func (q Quota) Validate() error {
	switch q.Period {
	case Day, Week, Month:
	default:
		return errorf("quota period %q must be DAY, WEEK or MONTH", q.Period)
	}
	if q.Limit < 0 {
		return errorf("quota limit %d is negative", q.Limit)
	}
	if q.Offset < 0 || q.Offset > q.Limit {
		return errorf("quota offset %d must be between 0 and the limit %d", q.Offset, q.Limit)
	}
	if q.WeekStart < time.Sunday || q.WeekStart > time.Saturday {
		return errorf("quota week start %d is not a weekday", q.WeekStart)
	}
	return nil
}

// PeriodStart returns the start of the period containing t (in UTC).
func (q Quota) PeriodStart(t time.Time) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	switch q.Period {
	case Week:
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		back := (int(day.Weekday()) - int(q.WeekStart) + 7) % 7
		return day.AddDate(0, 0, -back)
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	default:
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
}

// periodEnd returns the end of the period that starts at start.
func (q Quota) periodEnd(start time.Time) time.Time {
	switch q.Period {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	default:
		return start.AddDate(0, 0, 1)
	}
}

// Window returns the period containing now with its limit: Limit, less
// Offset in the initial period.
func (q Quota) Window(now time.Time) Window {
	start := q.PeriodStart(now)
	w := Window{Start: start, End: q.periodEnd(start), Limit: q.Limit}
	if !q.Start.IsZero() && q.PeriodStart(q.Start).Equal(start) {
		w.Limit -= q.Offset
	}
	return w
}

// String formats q as "limit per PERIOD".
func (q Quota) String() string {
	s := fmt.Sprintf("%d per %s", q.Limit, q.Period)
	if q.Offset != 0 {
		s += fmt.Sprintf(" (offset %d)", q.Offset)
	}
	return s
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidLimit}, args...)...)
}
