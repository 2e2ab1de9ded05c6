package integration

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/internal/upstream"
)

// Balancer names how a [Pool] picks a target.
type Balancer string

// The balancers.
const (
	// RoundRobin takes the available targets in turn (the default).
	RoundRobin Balancer = Balancer(upstream.RoundRobin)
	// LeastOutstanding takes the available target with the fewest requests
	// in flight.
	LeastOutstanding Balancer = Balancer(upstream.LeastOutstanding)
	// ConsistentHash maps a request key (a header named by
	// [WithHashHeader], else the source IP) onto a hash ring of targets:
	// one key keeps its target while the available targets stay the same,
	// and only the keys of a target that goes away move.
	ConsistentHash Balancer = Balancer(upstream.ConsistentHash)
)

// HealthCheck configures active health checks: each target gets GET Path
// every Interval; a 2xx answer within Timeout is a success. Targets start
// healthy and are probed at once.
type HealthCheck struct {
	// Path is probed on each target, e.g. "/healthz"; required.
	Path string
	// Interval between probes of a target, timed on the pool's clock; 0
	// means 10 s.
	Interval time.Duration
	// Timeout of one probe, in real time (it bounds network I/O); 0 means
	// 2 s.
	Timeout time.Duration
	// HealthyThreshold is how many successes in a row bring an unhealthy
	// target back; 0 means 2.
	HealthyThreshold int
	// UnhealthyThreshold is how many failures in a row take a healthy
	// target out; 0 means 3.
	UnhealthyThreshold int
	// TLS configures probes of https targets; nil means the zero
	// [BackendTLS].
	TLS *BackendTLS
}

// OutlierDetection configures passive outlier ejection, judged on real
// traffic: a target whose attempts fail ConsecutiveFailures times in a row
// (a connection error or a 5xx answer) is ejected for BaseEjectionTime
// times the number of its recent ejections, at most MaxEjectionTime. At
// most MaxEjectedPercent of the targets, but always at least one, are
// ejected at once. Every BaseEjectionTime without an ejection forgets one.
type OutlierDetection struct {
	// ConsecutiveFailures ejects a target; 0 means 5.
	ConsecutiveFailures int
	// BaseEjectionTime is the first ejection's length; 0 means 30 s.
	BaseEjectionTime time.Duration
	// MaxEjectionTime caps an ejection; 0 means 300 s.
	MaxEjectionTime time.Duration
	// MaxEjectedPercent caps the share of ejected targets; 0 means 50.
	MaxEjectedPercent int
}

// CircuitBreaker configures a circuit breaker per target. It opens when at
// least MinRequests attempts ended within the last Window and FailureRatio
// of them failed (a connection error or a 5xx answer). Open, the target
// takes no requests for OpenFor; then HalfOpenRequests trial requests go
// through: a success closes the breaker, a failure opens it again.
// MaxRequests, if positive, caps the requests in flight to each target.
type CircuitBreaker struct {
	// Window is the rolling period judged; 0 means 10 s.
	Window time.Duration
	// MinRequests is the fewest attempts in the window to judge; 0 means 20.
	MinRequests int
	// FailureRatio opens the breaker; 0 means 0.5.
	FailureRatio float64
	// OpenFor is how long an open breaker keeps the target out; 0 means 30 s.
	OpenFor time.Duration
	// HalfOpenRequests is how many trials go through at once; 0 means 1.
	HalfOpenRequests int
	// MaxRequests caps the requests in flight to one target; 0 means no cap.
	MaxRequests int
}

// RetryPolicy configures retries, each on another target when there is
// one. A request is retried if its body can be replayed (it has none, or
// GetBody is set; a gateway request with a body has not) and either the
// connection could not be made (any method: nothing was sent), or the
// method is idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE, or the
// request has an Idempotency-Key header) and the attempt failed with a
// connection error or a 502 or 503 answer. Over any 10 s, retries are held
// to Budget per request plus MinPerSecond per second, so that retries
// cannot multiply the load on failing backends.
type RetryPolicy struct {
	// Attempts is the most tries of one request, the first included; 0
	// means 2.
	Attempts int
	// Budget is the ratio of retries to requests; 0 means 0.2.
	Budget float64
	// MinPerSecond retries are allowed whatever the ratio; 0 means 3.
	MinPerSecond int
}

// PoolOption configures a [Pool].
type PoolOption func(*poolOptions)

type poolOptions struct {
	cfg upstream.Config
	tls *BackendTLS
}

// WithBalancer sets how targets are picked; the default is [RoundRobin].
func WithBalancer(b Balancer) PoolOption {
	return func(o *poolOptions) { o.cfg.Balancer = upstream.Balancer(b) }
}

// WithHashHeader makes [ConsistentHash] hash the value of the named request
// header, falling back to the source IP when the header is absent. The
// default hashes the source IP.
func WithHashHeader(name string) PoolOption {
	return func(o *poolOptions) { o.cfg.HashHeader = name }
}

// WithHealthCheck turns on active health checks.
func WithHealthCheck(hc HealthCheck) PoolOption {
	return func(o *poolOptions) {
		o.cfg.Health = &upstream.HealthConfig{
			Path: hc.Path, Interval: hc.Interval, Timeout: hc.Timeout,
			HealthyThreshold: hc.HealthyThreshold, UnhealthyThreshold: hc.UnhealthyThreshold,
		}
		o.tls = hc.TLS
	}
}

// WithOutlierDetection turns on passive outlier ejection.
func WithOutlierDetection(od OutlierDetection) PoolOption {
	return func(o *poolOptions) { o.cfg.Outlier = (*upstream.OutlierConfig)(&od) }
}

// WithCircuitBreaker turns on a circuit breaker per target.
func WithCircuitBreaker(cb CircuitBreaker) PoolOption {
	return func(o *poolOptions) { o.cfg.Breaker = (*upstream.BreakerConfig)(&cb) }
}

// WithRetries turns on retries.
func WithRetries(rp RetryPolicy) PoolOption {
	return func(o *poolOptions) { o.cfg.Retry = (*upstream.RetryConfig)(&rp) }
}

// WithPoolClock sets the clock that schedules health checks and times
// ejections, breakers and the retry budget; the default is the real clock.
func WithPoolClock(c clock.Clock) PoolOption {
	return func(o *poolOptions) { o.cfg.Clock = c }
}

// WithPoolLogger sets where the pool logs targets' state changes; the
// default is slog.Default().
func WithPoolLogger(l *slog.Logger) PoolOption {
	return func(o *poolOptions) { o.cfg.Logger = l }
}

// Pool is a set of backend targets shared by HTTP integrations ([HTTPProxy]
// and [HTTP] with Pool set): it picks a target for every attempt, checks
// health actively and ejects failing targets passively, keeps a circuit
// breaker per target, and retries within a budget. Its state outlives
// deployments. Make one with [NewPool]; the zero Pool is not usable. A Pool
// is safe for concurrent use; Close stops its health checks.
//
//	pool, err := integration.NewPool(
//		[]string{"http://10.0.0.1:8080", "http://10.0.0.2:8080"},
//		integration.WithHealthCheck(integration.HealthCheck{Path: "/healthz"}),
//		integration.WithRetries(integration.RetryPolicy{}),
//	)
//	defer pool.Close()
//	api.Handle("ANY /{proxy+}", &integration.HTTPProxy{Target: "/{proxy}", Pool: pool})
type Pool struct {
	p *upstream.Pool
}

// NewPool returns a pool of targets, base URLs such as
// "http://10.0.0.1:8080" (no path: the integration's target supplies it),
// and starts its health checks if [WithHealthCheck] is given. Bad
// configuration is an error naming the field.
func NewPool(targets []string, opts ...PoolOption) (*Pool, error) {
	var o poolOptions
	for _, opt := range opts {
		opt(&o)
	}
	o.cfg.Targets = targets
	if o.cfg.Health != nil && o.tls != nil {
		tr, err := upstream.NewTransport(upstream.TransportConfig{
			ConnectTimeout: o.cfg.Health.Timeout, ResponseHeaderTimeout: o.cfg.Health.Timeout, MaxIdleConnsPerHost: 2,
			RootCAs: o.tls.RootCAs, Certificates: o.tls.Certificates, ServerName: o.tls.ServerName,
			InsecureSkipVerify: o.tls.InsecureSkipVerify, DisableHTTP2: o.tls.DisableHTTP2,
		})
		if err != nil {
			return nil, fmt.Errorf("integration: NewPool: HealthCheck.TLS: %w", err)
		}
		o.cfg.Health.Transport = tr
	}
	p, err := upstream.New(o.cfg)
	if err != nil {
		return nil, fmt.Errorf("integration: NewPool: %w", err)
	}
	return &Pool{p: p}, nil
}

// Close stops the health checks, aborting probes in flight, and waits for
// them to end. It is safe to call more than once. Integrations using the
// pool keep working; targets keep their last health state.
func (p *Pool) Close() error { return p.p.Close() }

// BreakerState is the state of a target's circuit breaker.
type BreakerState string

// Breaker states.
const (
	// BreakerClosed lets requests through.
	BreakerClosed BreakerState = BreakerState(upstream.BreakerClosed)
	// BreakerOpen keeps the target out until CircuitBreaker.OpenFor has
	// passed.
	BreakerOpen BreakerState = BreakerState(upstream.BreakerOpen)
	// BreakerHalfOpen lets trial requests through: a success closes the
	// breaker, a failure opens it again.
	BreakerHalfOpen BreakerState = BreakerState(upstream.BreakerHalfOpen)
)

// TargetStatus is the state of one target of a [Pool].
type TargetStatus struct {
	// URL is the target's base URL.
	URL string
	// Healthy is the active health state (true without health checks).
	Healthy bool
	// LastProbe is when the last health probe ended; LastProbeError says
	// why it failed ("" if it succeeded).
	LastProbe      time.Time
	LastProbeError string
	// EjectedUntil is when the current outlier ejection ends; zero if the
	// target is not ejected. Ejections counts its recent ejections.
	EjectedUntil time.Time
	Ejections    int
	// Breaker is the state of the target's circuit breaker
	// ([BreakerClosed] without one).
	Breaker BreakerState
	// Available is whether the target would take a request now.
	Available bool
	// Outstanding is the number of requests in flight to the target.
	Outstanding int64
	// Requests counts the attempts sent to the target, Failures those that
	// failed (a connection error or a 5xx answer).
	Requests, Failures uint64
}

// Status returns the state of every target, in the order given to
// [NewPool].
func (p *Pool) Status() []TargetStatus {
	in := p.p.Status()
	out := make([]TargetStatus, len(in))
	for i, s := range in {
		out[i] = TargetStatus{
			URL: s.URL, Healthy: s.Healthy, LastProbe: s.LastProbe, LastProbeError: s.LastProbeError,
			EjectedUntil: s.EjectedUntil, Ejections: s.Ejections, Breaker: BreakerState(s.Breaker),
			Available: s.Available, Outstanding: s.Outstanding, Requests: s.Requests, Failures: s.Failures,
		}
	}
	return out
}
