package throttle

import (
	"net/http"
	"strconv"
	"time"

	"github.com/portico-gw/portico/reqctx"
)

// The headers throttled responses carry: Retry-After (RFC 9110) on
// refusals, and on refusals and admitted responses alike the
// RateLimit-Policy and RateLimit fields of the IETF draft "RateLimit header
// fields for HTTP" (draft-ietf-httpapi-ratelimit-headers), one list item per
// policy:
//
//	RateLimit-Policy: "plan";q=100;w=2, "quota";q=1000;w=86400
//	RateLimit: "plan";r=0;t=1, "quota";r=250;t=3600
//
// A token bucket is advertised as a quota of Burst requests (q) per window
// of the time an empty bucket takes to fill (w, in seconds); r is the whole
// tokens left, and t the seconds until the bucket is full, or, when r is 0,
// until the next request would be admitted. A usage-plan quota is its limit
// per period and the seconds until the period ends.
//
// The constants are the canonical forms of the names ([http.CanonicalHeaderKey]).
const (
	HeaderRateLimitPolicy = "Ratelimit-Policy"
	HeaderRateLimit       = "Ratelimit"
	HeaderRetryAfter      = "Retry-After"
)

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

func appendPolicy(b []byte, name Level, q int64, w time.Duration) []byte {
	if len(b) > 0 {
		b = append(b, ", "...)
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `";q=`...)
	b = strconv.AppendInt(b, q, 10)
	b = append(b, ";w="...)
	return strconv.AppendInt(b, max(ceilSeconds(w), 1), 10)
}

func appendState(b []byte, name Level, r int64, t time.Duration) []byte {
	if len(b) > 0 {
		b = append(b, ", "...)
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `";r=`...)
	b = strconv.AppendInt(b, r, 10)
	b = append(b, ";t="...)
	if t == Never {
		// No wait admits the request: t is 0 and Retry-After is left
		// out.
		t = 0
	}
	return strconv.AppendInt(b, ceilSeconds(t), 10)
}

// SetBucketHeaders sets the RateLimit-Policy and RateLimit headers on h for
// one token bucket, the policy being named name, and Retry-After if the
// decision refused the request (and some wait will admit it).
func SetBucketHeaders(h http.Header, name Level, l Limit, d Decision) {
	var pb, sb [96]byte
	h[HeaderRateLimitPolicy] = []string{string(appendPolicy(pb[:0], name, int64(l.Burst), l.Window()))}
	h[HeaderRateLimit] = []string{string(appendBucket(sb[:0], name, l, d))}
	if !d.Allowed && d.RetryAfter != Never {
		h[HeaderRetryAfter] = []string{strconv.FormatInt(max(ceilSeconds(d.RetryAfter), 1), 10)}
	}
}

func appendBucket(b []byte, name Level, l Limit, d Decision) []byte {
	t := d.Reset
	if d.Remaining == 0 {
		// Until the next token.
		if d.Allowed {
			t = max(d.Reset-time.Duration(l.Burst-1)*l.Interval(), 0)
		} else {
			t = d.RetryAfter
		}
	}
	return appendState(b, name, int64(d.Remaining), t)
}

// SetHeaders sets the RateLimit-Policy and RateLimit headers on h for the
// levels a client can act on — the level that refused the request, or, for
// an admitted one, its usage plan's throttle and quota — and Retry-After
// for a refused request that some wait will admit. It sets nothing for an
// admitted request without a plan.
func (r *Result) SetHeaders(h http.Header) {
	var pb, sb [192]byte
	p, s := pb[:0], sb[:0]
	retry := time.Duration(0)
	switch {
	case r.Level == LevelQuota:
		p = appendPolicy(p, LevelQuota, r.window.Limit, r.window.End.Sub(r.window.Start))
		s = appendState(s, LevelQuota, r.quota.Remaining, r.quota.Reset)
		retry = r.quota.Reset
	case r.Level != "":
		c := r.checks[r.n-1]
		p = appendPolicy(p, c.level, int64(c.limit.Burst), c.limit.Window())
		s = appendBucket(s, c.level, c.limit, c.d)
		retry = c.d.RetryAfter
	default:
		for _, c := range r.checks[:r.n] {
			if c.level == LevelPlan || c.level == LevelPlanMethod {
				p = appendPolicy(p, c.level, int64(c.limit.Burst), c.limit.Window())
				s = appendBucket(s, c.level, c.limit, c.d)
			}
		}
		if r.limitd && r.quota.Remaining >= 0 {
			p = appendPolicy(p, LevelQuota, r.window.Limit, r.window.End.Sub(r.window.Start))
			s = appendState(s, LevelQuota, r.quota.Remaining, r.quota.Reset)
		}
	}
	if len(p) == 0 {
		return
	}
	h[HeaderRateLimitPolicy] = []string{string(p)}
	h[HeaderRateLimit] = []string{string(s)}
	if r.Level != "" && retry != Never {
		h[HeaderRetryAfter] = []string{strconv.FormatInt(max(ceilSeconds(retry), 1), 10)}
	}
}

// RetryAfter returns how long a refused request should wait: until the
// refusing bucket holds a token, or until the quota period ends; [Never] if
// no wait will do; 0 for an admitted request.
func (r *Result) RetryAfter() time.Duration {
	switch {
	case r.Level == "":
		return 0
	case r.Level == LevelQuota:
		return r.quota.Reset
	default:
		return r.checks[r.n-1].d.RetryAfter
	}
}

// Decision returns the decision taken at level, if the request reached it.
func (r *Result) Decision(level Level) (Decision, bool) {
	for _, c := range r.checks[:r.n] {
		if c.level == level {
			return c.d, true
		}
	}
	return Decision{}, false
}

// Quota returns the quota decision, if the request's key has a plan and
// reached the quota.
func (r *Result) Quota() (QuotaDecision, bool) { return r.quota, r.quotad }

// GatewayError returns the error a gateway renders for a refused request:
// a [reqctx.Error] of type THROTTLED or QUOTA_EXCEEDED carrying the
// Retry-After and RateLimit headers; nil for an admitted request.
func (r *Result) GatewayError() *reqctx.Error {
	if r.Level == "" {
		return nil
	}
	t := reqctx.Throttled
	var cause error = &LimitError{Level: r.Level, RetryAfter: r.RetryAfter()}
	if r.Level == LevelQuota {
		t = reqctx.QuotaExceeded
	}
	e := reqctx.NewError(t, cause)
	e.Header = http.Header{}
	r.SetHeaders(e.Header)
	return e
}

// LimitError is the cause of a refused request: the level that refused
// it and how long to wait.
type LimitError struct {
	// Level is the refusing level.
	Level Level
	// RetryAfter is how long to wait, or [Never].
	RetryAfter time.Duration
}

// Error names the level that refused the request.
func (e *LimitError) Error() string {
	if e.RetryAfter == Never {
		return "throttle: refused at the " + string(e.Level) + " level (the limit admits no request)"
	}
	return "throttle: refused at the " + string(e.Level) + " level; retry after " + e.RetryAfter.String()
}
