package throttle_test

import (
	"errors"
	"testing"
	"time"

	"github.com/portico-gw/portico/throttle"
)

func date(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func TestQuotaWindow(t *testing.T) {
	utcMinus5 := time.FixedZone("UTC-5", -5*3600)
	tests := []struct {
		name       string
		q          throttle.Quota
		now        time.Time
		start, end time.Time
		limit      int64
	}{
		{"day",
			throttle.Quota{Limit: 100, Period: throttle.Day},
			date(2026, 3, 14, 9, 26), date(2026, 3, 14, 0, 0), date(2026, 3, 15, 0, 0), 100},
		{"day boundary belongs to the new day",
			throttle.Quota{Limit: 100, Period: throttle.Day},
			date(2026, 3, 15, 0, 0), date(2026, 3, 15, 0, 0), date(2026, 3, 16, 0, 0), 100},
		{"day in another zone is a UTC day",
			throttle.Quota{Limit: 100, Period: throttle.Day},
			time.Date(2026, 3, 14, 21, 0, 0, 0, utcMinus5), date(2026, 3, 15, 0, 0), date(2026, 3, 16, 0, 0), 100},
		{"week starts on Sunday by default",
			throttle.Quota{Limit: 100, Period: throttle.Week},
			date(2026, 3, 14, 23, 59), date(2026, 3, 8, 0, 0), date(2026, 3, 15, 0, 0), 100},
		{"week rolls over on Sunday",
			throttle.Quota{Limit: 100, Period: throttle.Week},
			date(2026, 3, 15, 0, 0), date(2026, 3, 15, 0, 0), date(2026, 3, 22, 0, 0), 100},
		{"week starting Monday",
			throttle.Quota{Limit: 100, Period: throttle.Week, WeekStart: time.Monday},
			date(2026, 3, 15, 12, 0), date(2026, 3, 9, 0, 0), date(2026, 3, 16, 0, 0), 100},
		{"week across a year end",
			throttle.Quota{Limit: 100, Period: throttle.Week},
			date(2026, 1, 1, 8, 0), date(2025, 12, 28, 0, 0), date(2026, 1, 4, 0, 0), 100},
		{"month",
			throttle.Quota{Limit: 100, Period: throttle.Month},
			date(2026, 3, 14, 9, 26), date(2026, 3, 1, 0, 0), date(2026, 4, 1, 0, 0), 100},
		{"month of 31 days rolls over on the 1st",
			throttle.Quota{Limit: 100, Period: throttle.Month},
			date(2026, 1, 31, 23, 59), date(2026, 1, 1, 0, 0), date(2026, 2, 1, 0, 0), 100},
		{"February",
			throttle.Quota{Limit: 100, Period: throttle.Month},
			date(2026, 2, 28, 12, 0), date(2026, 2, 1, 0, 0), date(2026, 3, 1, 0, 0), 100},
		{"leap February",
			throttle.Quota{Limit: 100, Period: throttle.Month},
			date(2028, 2, 29, 12, 0), date(2028, 2, 1, 0, 0), date(2028, 3, 1, 0, 0), 100},
		{"December into January",
			throttle.Quota{Limit: 100, Period: throttle.Month},
			date(2026, 12, 31, 23, 0), date(2026, 12, 1, 0, 0), date(2027, 1, 1, 0, 0), 100},
		{"offset in the initial period",
			throttle.Quota{Limit: 100, Offset: 30, Period: throttle.Month, Start: date(2026, 3, 20, 0, 0)},
			date(2026, 3, 25, 0, 0), date(2026, 3, 1, 0, 0), date(2026, 4, 1, 0, 0), 70},
		{"offset applies before Start within its period",
			throttle.Quota{Limit: 100, Offset: 30, Period: throttle.Month, Start: date(2026, 3, 20, 0, 0)},
			date(2026, 3, 2, 0, 0), date(2026, 3, 1, 0, 0), date(2026, 4, 1, 0, 0), 70},
		{"no offset after the initial period",
			throttle.Quota{Limit: 100, Offset: 30, Period: throttle.Month, Start: date(2026, 3, 20, 0, 0)},
			date(2026, 4, 1, 0, 0), date(2026, 4, 1, 0, 0), date(2026, 5, 1, 0, 0), 100},
		{"offset of a weekly quota",
			throttle.Quota{Limit: 10, Offset: 10, Period: throttle.Week, Start: date(2026, 3, 12, 0, 0)},
			date(2026, 3, 14, 0, 0), date(2026, 3, 8, 0, 0), date(2026, 3, 15, 0, 0), 0},
		{"no offset without a start",
			throttle.Quota{Limit: 100, Offset: 30, Period: throttle.Day},
			date(2026, 3, 14, 0, 0), date(2026, 3, 14, 0, 0), date(2026, 3, 15, 0, 0), 100},
	}
	for _, tt := range tests {
		if err := tt.q.Validate(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := tt.q.Window(tt.now)
		want := throttle.Window{Start: tt.start, End: tt.end, Limit: tt.limit}
		if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) || got.Limit != want.Limit {
			t.Errorf("%s: Window(%v) = %v–%v limit %d, want %v–%v limit %d", tt.name, tt.now,
				got.Start, got.End, got.Limit, want.Start, want.End, want.Limit)
		}
	}
}

func TestQuotaValidate(t *testing.T) {
	tests := []struct {
		name string
		q    throttle.Quota
		ok   bool
	}{
		{"day", throttle.Quota{Limit: 10, Period: throttle.Day}, true},
		{"zero limit", throttle.Quota{Period: throttle.Month}, true},
		{"offset equal to the limit", throttle.Quota{Limit: 10, Offset: 10, Period: throttle.Week}, true},
		{"no period", throttle.Quota{Limit: 10}, false},
		{"lower-case period", throttle.Quota{Limit: 10, Period: "day"}, false},
		{"negative limit", throttle.Quota{Limit: -1, Period: throttle.Day}, false},
		{"negative offset", throttle.Quota{Limit: 10, Offset: -1, Period: throttle.Day}, false},
		{"offset over the limit", throttle.Quota{Limit: 10, Offset: 11, Period: throttle.Day}, false},
		{"bad weekday", throttle.Quota{Limit: 10, Period: throttle.Week, WeekStart: 7}, false},
	}
	for _, tt := range tests {
		err := tt.q.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, throttle.ErrInvalidLimit) {
			t.Errorf("%s: error %v does not wrap ErrInvalidLimit", tt.name, err)
		}
	}
}

func TestDayRange(t *testing.T) {
	first, last, err := throttle.DayRange(date(1970, 1, 2, 5, 0), date(1970, 1, 4, 23, 59))
	if err != nil || first != 1 || last != 3 {
		t.Errorf("DayRange = %d, %d, %v; want 1, 3", first, last, err)
	}
	if got := throttle.DayNumber(time.Unix(-1, 0)); got != -1 {
		t.Errorf("DayNumber(1969-12-31 23:59:59) = %d, want -1", got)
	}
}
