package throttle

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// KeyFunc names the bucket a request takes its token from: the client's IP
// address, an API key, a principal. A request whose KeyFunc fails is
// refused through the error handler; the error is logged, never sent, so a
// KeyFunc may return a [reqctx.Error] to choose the response (say, 401
// UNAUTHORIZED when a header is missing).
type KeyFunc func(r *http.Request) (string, error)

// KeyByIP keys requests by the caller's IP address: the source IP the
// gateway put in the request context, else the host of r.RemoteAddr. It
// never fails.
func KeyByIP(r *http.Request) (string, error) {
	if rc := reqctx.From(r.Context()); rc != nil && rc.Identity.SourceIP != "" {
		return rc.Identity.SourceIP, nil
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host, nil
	}
	return r.RemoteAddr, nil
}

// KeyByHeader keys requests by the value of a request header. Requests
// without the header share the bucket of the empty key.
func KeyByHeader(name string) KeyFunc {
	name = http.CanonicalHeaderKey(name)
	return func(r *http.Request) (string, error) { return r.Header.Get(name), nil }
}

// ErrNoPrincipal is returned by [KeyByPrincipal] for a request that no
// authorizer identified.
var ErrNoPrincipal = errors.New("throttle: request has no principal")

// KeyByPrincipal keys requests by the principal an authorizer identified
// (reqctx's Authorizer.PrincipalID), else by the verified API key id. A
// request with neither fails with a 401 UNAUTHORIZED [reqctx.Error]
// wrapping [ErrNoPrincipal].
func KeyByPrincipal(r *http.Request) (string, error) {
	if rc := reqctx.From(r.Context()); rc != nil {
		if rc.Authorizer.PrincipalID != "" {
			return rc.Authorizer.PrincipalID, nil
		}
		if rc.APIKeyID != "" {
			return rc.APIKeyID, nil
		}
	}
	return "", reqctx.NewError(reqctx.Unauthorized, ErrNoPrincipal)
}

// Option configures a [Limiter].
type Option func(*limiterOptions)

type limiterOptions struct {
	store   Store
	clock   clock.Clock
	name    string
	onError reqctx.ErrorWriter
}

// WithStore makes the limiter keep its buckets in s (a shared store from
// package redisstore, a [Fallback]); the default is a new [MemoryStore].
func WithStore(s Store) Option { return func(o *limiterOptions) { o.store = s } }

// WithClock makes the limiter read time from c; the default is the real
// clock.
func WithClock(c clock.Clock) Option { return func(o *limiterOptions) { o.clock = c } }

// WithName names the limiter's policy in the RateLimit headers and in
// reqctx's ThrottledBy, and separates its buckets from other limiters'
// in a shared store; the default is "default". 1–64 characters of
// A-Z a-z 0-9 - _ .
func WithName(name string) Option { return func(o *limiterOptions) { o.name = name } }

// WithErrorHandler sets what renders a refused or failed request; the
// default is reqctx.WriteError, which renders the gateway response (429
// THROTTLED with Retry-After, 503 SERVICE_UNAVAILABLE when the store is
// down). The error is a [reqctx.Error].
func WithErrorHandler(f reqctx.ErrorWriter) Option {
	return func(o *limiterOptions) { o.onError = f }
}

// Limiter throttles requests by key with one token-bucket limit: the
// standalone form of the gateway's throttle, usable around any handler.
// Its zero value is not usable; call [New]. A Limiter is safe for
// concurrent use.
type Limiter struct {
	limit   Limit
	key     KeyFunc
	store   Store
	clock   clock.Clock
	name    Level
	prefix  string
	onError reqctx.ErrorWriter
}

// New returns a limiter admitting, for each key, l's burst then l's rate.
// It returns an error for an invalid limit, a nil key function or a bad
// option.
func New(l Limit, key KeyFunc, opts ...Option) (*Limiter, error) {
	o := limiterOptions{name: "default", onError: reqctx.WriteError}
	for _, opt := range opts {
		opt(&o)
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("throttle: nil KeyFunc")
	}
	if !validPlanID(o.name) {
		return nil, fmt.Errorf("throttle: WithName(%q): must have 1-64 characters of A-Z a-z 0-9 . - _", o.name)
	}
	if o.onError == nil {
		return nil, errors.New("throttle: WithErrorHandler(nil)")
	}
	if o.store == nil {
		s, err := NewMemoryStore()
		if err != nil {
			return nil, err
		}
		o.store = s
	}
	return &Limiter{
		limit:   l,
		key:     key,
		store:   o.store,
		clock:   clock.OrReal(o.clock),
		name:    Level(o.name),
		prefix:  "limiter\x00" + o.name + "\x00",
		onError: o.onError,
	}, nil
}

// Middleware returns a middleware that throttles requests with a new
// [Limiter]: New(l, key, opts...).Handler. It returns New's errors.
func Middleware(l Limit, key KeyFunc, opts ...Option) (func(http.Handler) http.Handler, error) {
	lim, err := New(l, key, opts...)
	if err != nil {
		return nil, err
	}
	return lim.Handler, nil
}

// Check takes a token for r's key and returns the decision. A refused
// request gets a [reqctx.Error] of type THROTTLED whose Header holds
// Retry-After and the RateLimit headers; a failing key function or store
// gets its error (a store failure as a 503 SERVICE_UNAVAILABLE
// [reqctx.Error]). Check writes nothing.
func (lim *Limiter) Check(r *http.Request) (Decision, error) {
	key, err := lim.key(r)
	if err != nil {
		return Decision{}, err
	}
	d, err := lim.store.Take(r.Context(), lim.prefix+key, lim.limit, 1, lim.clock.Now())
	if err != nil {
		return Decision{}, reqctx.NewError(reqctx.ServiceUnavailable, err)
	}
	if !d.Allowed {
		e := reqctx.NewError(reqctx.Throttled, &LimitError{Level: lim.name, RetryAfter: d.RetryAfter})
		e.Header = http.Header{}
		SetBucketHeaders(e.Header, lim.name, lim.limit, d)
		return d, e
	}
	return d, nil
}

// Handler returns h throttled: an admitted request gets the RateLimit
// headers and goes on to h; a refused one is rendered by the error handler
// and, inside a gateway, names the limiter in reqctx's ThrottledBy.
func (lim *Limiter) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := lim.Check(r)
		if err != nil {
			if e, ok := errors.AsType[*reqctx.Error](err); ok && e.Type == reqctx.Throttled {
				if rc := reqctx.From(r.Context()); rc != nil {
					rc.ThrottledBy = string(lim.name)
				}
			}
			lim.onError(w, r, err)
			return
		}
		SetBucketHeaders(w.Header(), lim.name, lim.limit, d)
		h.ServeHTTP(w, r)
	})
}
