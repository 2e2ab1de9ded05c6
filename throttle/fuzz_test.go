package throttle_test

import (
	"context"
	"testing"
	"time"

	"github.com/portico-gw/portico/throttle"
)

// FuzzMemoryStore checks the store against a plain token bucket kept in
// nanoseconds of credit: for any sequence of requests the two agree on
// every decision and on the tokens left.
func FuzzMemoryStore(f *testing.F) {
	f.Add(byte(3), byte(5), []byte{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 100, 2, 255, 4})
	f.Add(byte(0), byte(1), []byte{1, 1, 1, 1})
	f.Add(byte(9), byte(20), []byte{0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 10, 1})
	rates := []float64{1, 2, 4, 5, 8, 10, 20, 25, 50, 100}
	f.Fuzz(func(t *testing.T, rateIdx, burst byte, ops []byte) {
		l := throttle.Limit{Rate: rates[int(rateIdx)%len(rates)], Burst: 1 + int(burst)%20}
		s, err := throttle.NewMemoryStore(throttle.WithShards(1))
		if err != nil {
			t.Fatal(err)
		}
		iv := int64(l.Interval())
		capacity := int64(l.Burst) * iv
		credit := capacity
		now := t0
		for i := 0; i+1 < len(ops); i += 2 {
			dt := time.Duration(ops[i]) * time.Millisecond
			n := 1 + int(ops[i+1])%4
			now = now.Add(dt)
			credit = min(capacity, credit+int64(dt))
			d, err := s.Take(context.Background(), "k", l, n, now)
			if err != nil {
				t.Fatal(err)
			}
			want := credit >= int64(n)*iv && n <= l.Burst
			if want {
				credit -= int64(n) * iv
			}
			if d.Allowed != want {
				t.Fatalf("op %d (+%v, n=%d): allowed %v, the bucket says %v (credit %d, interval %d)", i/2, dt, n, d.Allowed, want, credit, iv)
			}
			if got := int64(d.Remaining); got != credit/iv {
				t.Fatalf("op %d: remaining %d, the bucket has %d", i/2, got, credit/iv)
			}
			if !d.Allowed && d.RetryAfter != throttle.Never && (d.RetryAfter <= 0 || int64(d.RetryAfter) != int64(n)*iv-credit) {
				t.Fatalf("op %d: retry after %v, want %v", i/2, d.RetryAfter, time.Duration(int64(n)*iv-credit))
			}
			if d.Reset != time.Duration(capacity-credit) {
				t.Fatalf("op %d: reset %v, want %v", i/2, d.Reset, time.Duration(capacity-credit))
			}
		}
	})
}

// FuzzQuotaWindow checks that a quota window contains the time it was
// computed for, starts at midnight UTC on the right day, and ends where the
// next window starts.
func FuzzQuotaWindow(f *testing.F) {
	f.Add(int64(1773480413), byte(0), byte(0))
	f.Add(int64(1798761599), byte(2), byte(0)) // 2026-12-31 23:59:59
	f.Add(int64(1835395200), byte(1), byte(1)) // 2028-02-29
	f.Add(int64(-86401), byte(1), byte(6))
	periods := []throttle.Period{throttle.Day, throttle.Week, throttle.Month}
	f.Fuzz(func(t *testing.T, unix int64, p, weekStart byte) {
		unix %= 1 << 36 // ±2,000 years
		q := throttle.Quota{Limit: 10, Period: periods[int(p)%3], WeekStart: time.Weekday(int(weekStart) % 7)}
		now := time.Unix(unix, 0)
		w := q.Window(now)
		if now.Before(w.Start) || !now.Before(w.End) {
			t.Fatalf("%v window %v–%v does not contain %v", q.Period, w.Start, w.End, now)
		}
		if w.Start.Location() != time.UTC || w.Start.Hour() != 0 || w.Start.Minute() != 0 || w.Start.Second() != 0 {
			t.Fatalf("%v window starts at %v, not midnight UTC", q.Period, w.Start)
		}
		switch q.Period {
		case throttle.Week:
			if w.Start.Weekday() != q.WeekStart || w.End.Sub(w.Start) != 7*24*time.Hour {
				t.Fatalf("week window %v–%v, want a week from a %v", w.Start, w.End, q.WeekStart)
			}
		case throttle.Month:
			if w.Start.Day() != 1 || w.End.Day() != 1 {
				t.Fatalf("month window %v–%v, want 1st to 1st", w.Start, w.End)
			}
		default:
			if w.End.Sub(w.Start) != 24*time.Hour {
				t.Fatalf("day window %v–%v", w.Start, w.End)
			}
		}
		if next := q.Window(w.End); !next.Start.Equal(w.End) {
			t.Fatalf("window after %v–%v starts at %v", w.Start, w.End, next.Start)
		}
	})
}
