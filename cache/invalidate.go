package cache

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Strategy says what happens to a request that asks to invalidate its entry
// (Cache-Control: max-age=0) without being allowed to: the model gateway's
// unauthorizedCacheControlHeaderStrategy.
type Strategy string

// The strategies.
const (
	// FailWith403 answers 403 ACCESS_DENIED.
	FailWith403 Strategy = "FAIL_WITH_403"
	// SucceedWithResponseHeader ignores the header, serves the request as
	// usual (from the cache if it can) and adds a Warning header saying so.
	// It is what "" means.
	SucceedWithResponseHeader Strategy = "SUCCEED_WITH_RESPONSE_HEADER"
	// SucceedWithoutResponseHeader ignores the header silently.
	SucceedWithoutResponseHeader Strategy = "SUCCEED_WITHOUT_RESPONSE_HEADER"
)

// Invalidation says who may invalidate a cache entry by sending
// Cache-Control: max-age=0: such a request skips the lookup, fetches a fresh
// response and stores it in place of the old one. The zero value lets
// nobody, and answers the others by [SucceedWithResponseHeader].
type Invalidation struct {
	// Authorize reports whether r may invalidate its entry; it is called
	// only for requests that ask to. In a gateway it typically checks an
	// IAM-style execute-api:InvalidateCache permission on the request's
	// method ARN. nil allows no one (unless InsecureAllowAnyone).
	Authorize func(r *http.Request) bool
	// Unauthorized is the strategy for requests that may not invalidate;
	// "" means [SucceedWithResponseHeader].
	Unauthorized Strategy
	// InsecureAllowAnyone lets every request invalidate its entry, as the
	// model gateway does when requireAuthorizationForCacheControl is off.
	// Anyone can then turn every request into a miss and bypass the cache's
	// protection of the integration.
	InsecureAllowAnyone bool
}

// ErrInvalidationDenied is the cause of the 403 that [FailWith403] answers.
var ErrInvalidationDenied = errors.New("cache: the caller may not invalidate the cache (Cache-Control: max-age=0)")

// warningValue is the Warning header [SucceedWithResponseHeader] adds.
const warningValue = `199 portico "Cache-Control: max-age=0 ignored: the caller may not invalidate the cache"`

func (inv Invalidation) validate() error {
	switch inv.Unauthorized {
	case "", FailWith403, SucceedWithResponseHeader, SucceedWithoutResponseHeader:
		return nil
	}
	return fmt.Errorf("cache: unknown invalidation strategy %q (want %s, %s or %s)", inv.Unauthorized, FailWith403, SucceedWithResponseHeader, SucceedWithoutResponseHeader)
}

// asksRefresh reports whether the request's Cache-Control asks for a fresh
// response: a max-age=0 directive.
func asksRefresh(h http.Header) bool {
	for _, v := range h["Cache-Control"] {
		found := false
		eachDirective(v, func(name, arg string) bool {
			if strings.EqualFold(name, "max-age") && isZero(arg) {
				found = true
				return false
			}
			return true
		})
		if found {
			return true
		}
	}
	return false
}

// isZero reports whether a delta-seconds argument (maybe quoted) is zero.
func isZero(arg string) bool {
	if len(arg) >= 2 && arg[0] == '"' && arg[len(arg)-1] == '"' {
		arg = arg[1 : len(arg)-1]
	}
	if arg == "" {
		return false
	}
	for i := 0; i < len(arg); i++ {
		if arg[i] != '0' {
			return false
		}
	}
	return true
}

// eachDirective calls f with the name and argument of each directive of a
// Cache-Control-style list ("a, b=1, c=\"x, y\""), trimmed of spaces but
// not unquoted, until f returns false. Commas inside quoted strings do not
// split. It does not allocate.
func eachDirective(v string, f func(name, arg string) bool) {
	for v != "" {
		// Find the end of this directive, skipping quoted strings.
		end, inQuote := len(v), false
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '\\' && inQuote:
				i++
			case c == '"':
				inQuote = !inQuote
			case c == ',' && !inQuote:
				end = i
			}
			if end != len(v) {
				break
			}
		}
		d := v[:end]
		if end < len(v) {
			v = v[end+1:]
		} else {
			v = ""
		}
		name, arg, _ := strings.Cut(d, "=")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !f(name, strings.TrimSpace(arg)) {
			return
		}
	}
}

// headerHasToken reports whether a comma-separated header list contains
// token (case-insensitive), e.g. "no-store" in Cache-Control.
func headerHasToken(vs []string, token string) bool {
	for _, v := range vs {
		found := false
		eachDirective(v, func(name, _ string) bool {
			found = strings.EqualFold(name, token)
			return !found
		})
		if found {
			return true
		}
	}
	return false
}
