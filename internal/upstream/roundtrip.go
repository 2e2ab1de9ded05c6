package upstream

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/reqctx"
)

// RoundTripper sends each attempt of a request to a target its Pool picks,
// replacing the request URL's scheme and host with the target's, records
// the outcome, and retries as the pool's [RetryConfig] allows. The
// response body counts as a request in flight to its target until it is
// closed. It is safe for concurrent use.
type RoundTripper struct {
	Pool *Pool
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

var _ http.RoundTripper = (*RoundTripper)(nil)

// RetriedError is returned when every attempt of a request failed with a
// connection error: Err is the last attempt's.
type RetriedError struct {
	Attempts int
	Err      error
}

// Error says how many attempts were made and why the last one failed.
func (e *RetriedError) Error() string {
	return fmt.Sprintf("upstream: %d attempts failed, the last with: %v", e.Attempts, e.Err)
}

// Unwrap returns the last attempt's error.
func (e *RetriedError) Unwrap() error { return e.Err }

// RoundTrip implements [http.RoundTripper]. It returns [ErrNoTarget] if no
// target is available for the first attempt.
func (rt *RoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	p := rt.Pool
	base := rt.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var now time.Time
	if p.needNow {
		now = p.clock.Now()
	}
	var key uint64
	if p.balancer == ConsistentHash {
		key = p.HashKey(req.Header, sourceIP(req))
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	retries := p.retry != nil && replayable
	if retries {
		p.budget.deposit(now)
	}
	var triedBuf [4]Attempt
	tried := triedBuf[:0]
	a, err := p.Pick(key, tried, now)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		out, err := rt.attemptRequest(req, a, attempt)
		if err != nil {
			p.Done(a, Abandoned, now)
			closeBody(req)
			return nil, err
		}
		p.Begin(a)
		res, err := base.RoundTrip(out)
		if p.needNow {
			now = p.clock.Now()
		}
		if err != nil {
			p.End(a)
			if req.Context().Err() != nil {
				p.Done(a, Abandoned, now)
				return nil, err
			}
			p.Done(a, Failed, now)
			tried = append(tried, a)
			if retries && attempt < p.retry.Attempts && (isDialError(err) || idempotent(req)) {
				if next, ok := p.nextAttempt(key, tried, now); ok {
					a = next
					continue
				}
			}
			if attempt > 1 {
				return nil, &RetriedError{Attempts: attempt, Err: err}
			}
			return nil, err
		}
		if res.StatusCode >= 500 {
			p.Done(a, Failed, now)
		} else {
			p.Done(a, Succeeded, now)
		}
		if (res.StatusCode == http.StatusBadGateway || res.StatusCode == http.StatusServiceUnavailable) &&
			retries && attempt < p.retry.Attempts && idempotent(req) && req.Context().Err() == nil {
			tried = append(tried, a)
			if next, ok := p.nextAttempt(key, tried, now); ok {
				drain(res)
				p.End(a)
				a = next
				continue
			}
		}
		res.Body = trackBody(res, p, a)
		return res, nil
	}
}

// nextAttempt picks the target of a retry and spends the retry from the
// budget; ok is false if either fails.
func (p *Pool) nextAttempt(key uint64, tried []Attempt, now time.Time) (Attempt, bool) {
	next, err := p.Pick(key, tried, now)
	if err != nil {
		return Attempt{}, false
	}
	if !p.budget.withdraw(now) {
		p.Done(next, Abandoned, now) // give back a trial slot it may hold
		return Attempt{}, false
	}
	return next, true
}

// attemptRequest is req aimed at a's target: a shallow copy with its own
// URL (and a fresh body for a retry).
func (rt *RoundTripper) attemptRequest(req *http.Request, a Attempt, attempt int) (*http.Request, error) {
	out := req.WithContext(req.Context())
	u := *req.URL
	u.Scheme, u.Host = a.t.url.Scheme, a.t.url.Host
	out.URL = &u
	if attempt > 1 && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		out.Body = body
	}
	return out, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// drainLimit is the largest discarded answer read to the end so that its
// connection can be reused; a larger one (or one of unknown length, which
// could trickle) is closed with its connection.
const drainLimit = 4 << 10

// drain discards a response that is being retried.
func drain(res *http.Response) {
	if res.ContentLength >= 0 && res.ContentLength <= drainLimit {
		_, _ = io.CopyN(io.Discard, res.Body, res.ContentLength)
	}
	res.Body.Close()
}

// idempotent reports whether req may be sent twice (RFC 9110 §9.2.2, and
// the Idempotency-Key convention http.Transport follows).
func idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	_, k1 := req.Header["Idempotency-Key"]
	_, k2 := req.Header["X-Idempotency-Key"]
	return k1 || k2
}

// isDialError reports whether err happened while connecting, before
// anything of the request was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// sourceIP is the client address a request came from: the gateway's
// $context.identity.sourceIp, else the host of RemoteAddr.
func sourceIP(req *http.Request) string {
	if rc := reqctx.From(req.Context()); rc != nil && rc.Identity.SourceIP != "" {
		return rc.Identity.SourceIP
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

// trackBody wraps res.Body so that closing it ends the request in flight.
// An upgraded (101) response keeps a writable body.
func trackBody(res *http.Response, p *Pool, a Attempt) io.ReadCloser {
	if rwc, ok := res.Body.(io.ReadWriteCloser); ok && res.StatusCode == http.StatusSwitchingProtocols {
		return &trackedRWC{trackedBody: trackedBody{ReadCloser: rwc, p: p, a: a}, w: rwc}
	}
	return &trackedBody{ReadCloser: res.Body, p: p, a: a}
}

type trackedBody struct {
	io.ReadCloser
	p      *Pool
	a      Attempt
	closed atomic.Bool
}

func (b *trackedBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.p.End(b.a)
	}
	return b.ReadCloser.Close()
}

// trackedRWC is the body of an upgraded connection.
type trackedRWC struct {
	trackedBody
	w io.Writer
}

func (b *trackedRWC) Write(p []byte) (int, error) { return b.w.Write(p) }
