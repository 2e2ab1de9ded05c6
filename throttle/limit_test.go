package throttle_test

import (
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/portico-gw/portico/throttle"
)

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		name string
		l    throttle.Limit
		ok   bool
	}{
		{"zero blocks", throttle.Limit{}, true},
		{"rate 0 with burst", throttle.Limit{Rate: 0, Burst: 10}, true},
		{"typical", throttle.Limit{Rate: 100, Burst: 200}, true},
		{"fractional", throttle.Limit{Rate: 0.25, Burst: 1}, true},
		{"fastest", throttle.Limit{Rate: 1e9, Burst: 1}, true},
		{"negative rate", throttle.Limit{Rate: -1, Burst: 1}, false},
		{"NaN rate", throttle.Limit{Rate: math.NaN(), Burst: 1}, false},
		{"infinite rate", throttle.Limit{Rate: math.Inf(1), Burst: 1}, false},
		{"too fast", throttle.Limit{Rate: 2e9, Burst: 1}, false},
		{"no burst", throttle.Limit{Rate: 10}, false},
		{"negative burst", throttle.Limit{Rate: 10, Burst: -1}, false},
		{"century to refill", throttle.Limit{Rate: 1e-9, Burst: 10}, false},
	}
	for _, tt := range tests {
		err := tt.l.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v.Validate() = %v, want ok=%v", tt.name, tt.l, err, tt.ok)
		}
		if err != nil && !errors.Is(err, throttle.ErrInvalidLimit) {
			t.Errorf("%s: error %v does not wrap ErrInvalidLimit", tt.name, err)
		}
	}
}

func TestLimitInterval(t *testing.T) {
	tests := []struct {
		l        throttle.Limit
		interval time.Duration
		window   time.Duration
	}{
		{throttle.Limit{Rate: 100, Burst: 50}, 10 * time.Millisecond, 500 * time.Millisecond},
		{throttle.Limit{Rate: 3, Burst: 3}, 333333333, 999999999},
		{throttle.Limit{Rate: 0.5, Burst: 2}, 2 * time.Second, 4 * time.Second},
		{throttle.Limit{}, 0, 0},
	}
	for _, tt := range tests {
		if got := tt.l.Interval(); got != tt.interval {
			t.Errorf("%v.Interval() = %v, want %v", tt.l, got, tt.interval)
		}
		if got := tt.l.Window(); got != tt.window {
			t.Errorf("%v.Window() = %v, want %v", tt.l, got, tt.window)
		}
	}
}

func TestSetBucketHeaders(t *testing.T) {
	l := throttle.Limit{Rate: 10, Burst: 5}
	tests := []struct {
		name                 string
		d                    throttle.Decision
		policy, state, retry string
	}{
		{"allowed with tokens left",
			throttle.Decision{Allowed: true, Remaining: 3, Reset: 200 * time.Millisecond},
			`"default";q=5;w=1`, `"default";r=3;t=1`, ""},
		{"allowed, last token",
			throttle.Decision{Allowed: true, Remaining: 0, Reset: 2500 * time.Millisecond},
			`"default";q=5;w=1`, `"default";r=0;t=3`, ""},
		{"refused",
			throttle.Decision{RetryAfter: 1500 * time.Millisecond, Reset: 3 * time.Second},
			`"default";q=5;w=1`, `"default";r=0;t=2`, "2"},
		{"refused, short wait rounds up to a second",
			throttle.Decision{RetryAfter: time.Millisecond, Reset: 500 * time.Millisecond},
			`"default";q=5;w=1`, `"default";r=0;t=1`, "1"},
		{"refused forever",
			throttle.Decision{RetryAfter: throttle.Never},
			`"default";q=5;w=1`, `"default";r=0;t=0`, ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		throttle.SetBucketHeaders(h, "default", l, tt.d)
		if got := h.Get("RateLimit-Policy"); got != tt.policy {
			t.Errorf("%s: RateLimit-Policy = %q, want %q", tt.name, got, tt.policy)
		}
		if got := h.Get("RateLimit"); got != tt.state {
			t.Errorf("%s: RateLimit = %q, want %q", tt.name, got, tt.state)
		}
		if got := h.Get("Retry-After"); got != tt.retry {
			t.Errorf("%s: Retry-After = %q, want %q", tt.name, got, tt.retry)
		}
	}
}
