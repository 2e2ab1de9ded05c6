package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/clock"
)

// Balancer names how a [Pool] picks a target.
type Balancer string

// The balancers.
const (
	// RoundRobin takes the available targets in turn.
	RoundRobin Balancer = "round_robin"
	// LeastOutstanding takes the available target with the fewest requests
	// in flight, ties broken in turn.
	LeastOutstanding Balancer = "least_outstanding"
	// ConsistentHash maps a request key (a header, or the source IP) onto a
	// ring of targets, so that one key keeps its target while the set of
	// available targets stays the same, and only the keys of a target that
	// goes away move.
	ConsistentHash Balancer = "consistent_hash"
)

// Defaults for zero fields of the configurations.
const (
	DefaultHealthInterval          = 10 * time.Second
	DefaultHealthTimeout           = 2 * time.Second
	DefaultHealthyThreshold        = 2
	DefaultUnhealthyThreshold      = 3
	DefaultConsecutiveFailures     = 5
	DefaultBaseEjectionTime        = 30 * time.Second
	DefaultMaxEjectionTime         = 300 * time.Second
	DefaultMaxEjectedPercent       = 50
	DefaultBreakerWindow           = 10 * time.Second
	DefaultBreakerMinRequests      = 20
	DefaultBreakerFailureRatio     = 0.5
	DefaultBreakerOpenFor          = 30 * time.Second
	DefaultBreakerHalfOpenRequests = 1
	DefaultRetryAttempts           = 2
	DefaultRetryBudget             = 0.2
	DefaultRetryMinPerSecond       = 3
	maxTargets                     = 1024
)

// Config configures a [Pool]. A nil section turns its feature off.
type Config struct {
	// Targets are the backends' base URLs, "http(s)://host[:port]"; at
	// least one. Paths are not allowed: the integration supplies them.
	Targets []string
	// Balancer picks targets; "" means RoundRobin.
	Balancer Balancer
	// HashHeader is the request header ConsistentHash hashes; "" hashes
	// the source IP.
	HashHeader string
	// Health turns on active health checks.
	Health *HealthConfig
	// Outlier turns on passive outlier ejection.
	Outlier *OutlierConfig
	// Breaker turns on a circuit breaker per target.
	Breaker *BreakerConfig
	// Retry turns on retries of idempotent requests.
	Retry *RetryConfig
	// Clock schedules health checks and times ejections and breakers; nil
	// means the real clock.
	Clock clock.Clock
	// Logger receives state changes of targets; nil means slog.Default().
	Logger *slog.Logger
}

// HealthConfig configures active health checks: every Interval each target
// gets GET Path; a 2xx answer within Timeout is a success. A target starts
// healthy and is probed at once.
type HealthConfig struct {
	Path string
	// Interval between probes of a target, timed on the pool's clock.
	Interval time.Duration
	// Timeout of one probe, in real time (it bounds network I/O).
	Timeout time.Duration
	// HealthyThreshold successes in a row bring an unhealthy target back.
	HealthyThreshold int
	// UnhealthyThreshold failures in a row take a healthy target out.
	UnhealthyThreshold int
	// Transport sends the probes; nil means a [Transport] with defaults.
	Transport http.RoundTripper
}

// OutlierConfig configures passive outlier ejection: a target whose
// requests fail ConsecutiveFailures times in a row (a connection error or a
// 5xx answer) is ejected for BaseEjectionTime times the number of times it
// has been ejected recently, at most MaxEjectionTime; at most
// MaxEjectedPercent of the targets (but always at least one) are ejected at
// once. Each BaseEjectionTime without an ejection forgets one.
type OutlierConfig struct {
	ConsecutiveFailures int
	BaseEjectionTime    time.Duration
	MaxEjectionTime     time.Duration
	MaxEjectedPercent   int
}

// BreakerConfig configures a circuit breaker per target: it opens when at
// least MinRequests requests ended within Window and FailureRatio of them
// failed; open, the target takes no requests for OpenFor; then up to
// HalfOpenRequests trial requests go through: a success closes the breaker,
// a failure opens it again. MaxRequests, if positive, caps the requests in
// flight to one target (approximately, under contention).
type BreakerConfig struct {
	Window           time.Duration
	MinRequests      int
	FailureRatio     float64
	OpenFor          time.Duration
	HalfOpenRequests int
	MaxRequests      int
}

// RetryConfig configures retries. A request is retried, on another target
// when there is one, if its body can be replayed (none, or GetBody set)
// and either the connection to the target could not be made (any method:
// nothing was sent) or the method is idempotent (GET, HEAD, OPTIONS, TRACE,
// PUT, DELETE, or an Idempotency-Key header) and the attempt failed with a
// connection error or a 502 or 503 answer. Retries are limited to Attempts
// tries in all and by a budget: over 10 s, at most Budget retries per
// request plus MinPerSecond per second.
type RetryConfig struct {
	Attempts     int
	Budget       float64
	MinPerSecond int
}

// ErrNoTarget is returned when no target of a pool can take a request: all
// are unhealthy, ejected, behind open breakers or at their request cap.
var ErrNoTarget = errors.New("upstream: no available target")

// Pool is a set of targets and their state. It is safe for concurrent use.
// Close stops its health checks.
type Pool struct {
	targets    []*target
	balancer   Balancer
	hashHeader string
	ring       []ringPoint
	next       atomic.Uint64
	clock      clock.Clock
	logger     *slog.Logger
	health     *HealthConfig
	outlier    *OutlierConfig
	breaker    *BreakerConfig
	retry      *RetryConfig
	budget     *budget
	needNow    bool // some feature reads the clock per request

	ejectMu sync.Mutex // serialises ejection decisions

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// target is one backend and its state.
type target struct {
	index int
	url   *url.URL // scheme and host
	name  string   // url.String()

	outstanding atomic.Int64
	requests    atomic.Uint64
	failures    atomic.Uint64
	healthy     atomic.Bool
	// ejectedUntil is the end of the current ejection (Unix ns); 0 = none.
	ejectedUntil atomic.Int64
	// breakerOpen is true while the breaker is not closed: the fast path
	// checks it without the mutex.
	breakerOpen atomic.Bool

	mu sync.Mutex
	// health checks
	hcSuccesses, hcFailures int
	lastProbe               time.Time
	lastProbeErr            string
	// outlier ejection
	consecFailures int
	ejections      int       // recent ejections, for the ejection time
	lastEjectEnd   time.Time // end of the last ejection
	// circuit breaker
	br breaker
}

// New validates cfg, fills in defaults, and returns a pool whose health
// checks (if any) have started. An error names the bad field.
func New(cfg Config) (*Pool, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("no targets: at least one is required")
	}
	if len(cfg.Targets) > maxTargets {
		return nil, fmt.Errorf("%d targets: at most %d are allowed", len(cfg.Targets), maxTargets)
	}
	p := &Pool{balancer: cfg.Balancer, hashHeader: http.CanonicalHeaderKey(cfg.HashHeader), clock: clock.OrReal(cfg.Clock), logger: cfg.Logger}
	if p.logger == nil {
		p.logger = slog.Default()
	}
	switch p.balancer {
	case "":
		p.balancer = RoundRobin
	case RoundRobin, LeastOutstanding, ConsistentHash:
	default:
		return nil, fmt.Errorf("unknown balancer %q", cfg.Balancer)
	}
	hosts := make([]string, len(cfg.Targets))
	seen := make(map[string]bool, len(cfg.Targets))
	for i, raw := range cfg.Targets {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("target %d: %w", i, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("target %d %q: want http(s)://host[:port]", i, raw)
		}
		t := &target{index: i, url: &url.URL{Scheme: u.Scheme, Host: u.Host}}
		t.name = t.url.String()
		if seen[t.name] {
			return nil, fmt.Errorf("target %d %q: listed twice", i, raw)
		}
		seen[t.name] = true
		t.healthy.Store(true)
		p.targets = append(p.targets, t)
		hosts[i] = t.name
	}
	if p.balancer == ConsistentHash {
		p.ring = buildRing(hosts)
	}
	var err error
	if p.health, err = healthDefaults(cfg.Health); err != nil {
		return nil, err
	}
	if p.outlier, err = outlierDefaults(cfg.Outlier); err != nil {
		return nil, err
	}
	if p.breaker, err = breakerDefaults(cfg.Breaker); err != nil {
		return nil, err
	}
	if p.retry, err = retryDefaults(cfg.Retry); err != nil {
		return nil, err
	}
	if p.breaker != nil {
		for _, t := range p.targets {
			t.br = newBreaker(p.breaker)
		}
	}
	if p.retry != nil {
		p.budget = newBudget(p.retry.Budget, p.retry.MinPerSecond)
	}
	p.needNow = p.outlier != nil || p.breaker != nil || p.retry != nil
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if p.health != nil {
		p.startHealthChecks()
	}
	return p, nil
}

func healthDefaults(in *HealthConfig) (*HealthConfig, error) {
	if in == nil {
		return nil, nil
	}
	c := *in
	if c.Path == "" || c.Path[0] != '/' {
		return nil, fmt.Errorf("HealthCheck.Path %q: must start with /", c.Path)
	}
	if u, err := url.Parse(c.Path); err != nil || u.Host != "" || u.Scheme != "" {
		return nil, fmt.Errorf("HealthCheck.Path %q: not a path", c.Path)
	}
	if c.Interval < 0 || c.Timeout < 0 || c.HealthyThreshold < 0 || c.UnhealthyThreshold < 0 {
		return nil, errors.New("HealthCheck: negative setting")
	}
	setDefault(&c.Interval, DefaultHealthInterval)
	setDefault(&c.Timeout, DefaultHealthTimeout)
	setDefault(&c.HealthyThreshold, DefaultHealthyThreshold)
	setDefault(&c.UnhealthyThreshold, DefaultUnhealthyThreshold)
	if c.Transport == nil {
		tr, err := NewTransport(TransportConfig{ConnectTimeout: c.Timeout, ResponseHeaderTimeout: c.Timeout, MaxIdleConnsPerHost: 2})
		if err != nil {
			return nil, err
		}
		c.Transport = tr
	}
	return &c, nil
}

func outlierDefaults(in *OutlierConfig) (*OutlierConfig, error) {
	if in == nil {
		return nil, nil
	}
	c := *in
	if c.ConsecutiveFailures < 0 || c.BaseEjectionTime < 0 || c.MaxEjectionTime < 0 || c.MaxEjectedPercent < 0 || c.MaxEjectedPercent > 100 {
		return nil, errors.New("OutlierDetection: setting out of range")
	}
	setDefault(&c.ConsecutiveFailures, DefaultConsecutiveFailures)
	setDefault(&c.BaseEjectionTime, DefaultBaseEjectionTime)
	setDefault(&c.MaxEjectionTime, DefaultMaxEjectionTime)
	setDefault(&c.MaxEjectedPercent, DefaultMaxEjectedPercent)
	if c.MaxEjectionTime < c.BaseEjectionTime {
		c.MaxEjectionTime = c.BaseEjectionTime
	}
	return &c, nil
}

func breakerDefaults(in *BreakerConfig) (*BreakerConfig, error) {
	if in == nil {
		return nil, nil
	}
	c := *in
	if c.Window < 0 || c.MinRequests < 0 || c.FailureRatio < 0 || c.FailureRatio > 1 || c.OpenFor < 0 || c.HalfOpenRequests < 0 || c.MaxRequests < 0 {
		return nil, errors.New("CircuitBreaker: setting out of range")
	}
	setDefault(&c.Window, DefaultBreakerWindow)
	setDefault(&c.MinRequests, DefaultBreakerMinRequests)
	setDefault(&c.FailureRatio, DefaultBreakerFailureRatio)
	setDefault(&c.OpenFor, DefaultBreakerOpenFor)
	setDefault(&c.HalfOpenRequests, DefaultBreakerHalfOpenRequests)
	return &c, nil
}

func retryDefaults(in *RetryConfig) (*RetryConfig, error) {
	if in == nil {
		return nil, nil
	}
	c := *in
	if c.Attempts < 0 || c.Budget < 0 || c.MinPerSecond < 0 {
		return nil, errors.New("RetryPolicy: negative setting")
	}
	setDefault(&c.Attempts, DefaultRetryAttempts)
	setDefault(&c.Budget, DefaultRetryBudget)
	setDefault(&c.MinPerSecond, DefaultRetryMinPerSecond)
	return &c, nil
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Close stops the health checks, aborting probes in flight, and waits for
// them. It is safe to call more than once. Requests still work after Close;
// targets keep their last health state.
func (p *Pool) Close() error {
	p.cancel()
	p.wg.Wait()
	if p.health != nil {
		if c, ok := p.health.Transport.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
	return nil
}

// Balancer returns the pool's balancer.
func (p *Pool) Balancer() Balancer { return p.balancer }

// Len returns the number of targets.
func (p *Pool) Len() int { return len(p.targets) }

// TargetStatus is the state of one target.
type TargetStatus struct {
	// URL is the target's base URL.
	URL string
	// Healthy is the active health state (true without health checks).
	Healthy bool
	// LastProbe is when the last health probe ended, LastProbeError why it
	// failed ("" if it succeeded).
	LastProbe      time.Time
	LastProbeError string
	// EjectedUntil is the end of the current outlier ejection; zero if the
	// target is not ejected. Ejections counts its recent ejections.
	EjectedUntil time.Time
	Ejections    int
	// Breaker is the state of the target's circuit breaker (closed without
	// a breaker).
	Breaker BreakerState
	// Available is whether the target would take a request now.
	Available bool
	// Outstanding is the number of requests in flight to the target.
	Outstanding int64
	// Requests counts attempts sent to the target, Failures those that
	// failed (a connection error or a 5xx answer).
	Requests, Failures uint64
}

// Status returns the state of every target, in configuration order.
func (p *Pool) Status() []TargetStatus {
	now := p.clock.Now()
	out := make([]TargetStatus, len(p.targets))
	for i, t := range p.targets {
		st := TargetStatus{
			URL:         t.name,
			Healthy:     t.healthy.Load(),
			Breaker:     BreakerClosed,
			Outstanding: t.outstanding.Load(),
			Requests:    t.requests.Load(),
			Failures:    t.failures.Load(),
		}
		if u := t.ejectedUntil.Load(); u != 0 && now.UnixNano() < u {
			st.EjectedUntil = time.Unix(0, u).In(now.Location())
		}
		t.mu.Lock()
		st.LastProbe, st.LastProbeError = t.lastProbe, t.lastProbeErr
		st.Ejections = p.recentEjectionsLocked(t, now)
		if p.breaker != nil {
			st.Breaker = t.br.stateAt(now)
		}
		t.mu.Unlock()
		st.Available = p.usable(t, now)
		out[i] = st
	}
	return out
}

// Attempt is a target picked for one try of a request. Report its outcome
// with [Pool.Done].
type Attempt struct {
	t     *target
	trial bool // a half-open breaker's trial
}

// URL returns the target's base URL (scheme and host). The caller must not
// modify it.
func (a Attempt) URL() *url.URL { return a.t.url }

// usable reports whether t may take a request at now, without claiming a
// half-open breaker's trial slot.
func (p *Pool) usable(t *target, now time.Time) bool {
	ok, _ := p.usableClaim(t, now, false)
	return ok
}

// usableClaim reports whether t may take a request at now. With claim, a
// half-open breaker's trial slot is taken (then trial is true).
func (p *Pool) usableClaim(t *target, now time.Time, claim bool) (ok, trial bool) {
	if !t.healthy.Load() {
		return false, false
	}
	if u := t.ejectedUntil.Load(); u != 0 && now.UnixNano() < u {
		return false, false
	}
	if p.breaker != nil {
		if m := p.breaker.MaxRequests; m > 0 && t.outstanding.Load() >= int64(m) {
			return false, false
		}
		if t.breakerOpen.Load() {
			t.mu.Lock()
			ok, trial = t.br.allow(now, claim)
			t.mu.Unlock()
			return ok, trial
		}
	}
	return true, false
}

// Pick chooses a target for a request, avoiding those in tried when it can.
// key is the request's hash key (see [Pool.HashKey]), used by
// ConsistentHash. now is the clock's time (it may be zero when
// [Pool.NeedsNow] is false). It returns [ErrNoTarget] if no target is
// available. It does not allocate.
func (p *Pool) Pick(key uint64, tried []Attempt, now time.Time) (Attempt, error) {
	if a, ok := p.pick(key, tried, now); ok {
		return a, nil
	}
	if len(tried) > 0 {
		// Every untried target is out: a tried one is better than none.
		if a, ok := p.pick(key, nil, now); ok {
			return a, nil
		}
	}
	return Attempt{}, ErrNoTarget
}

func wasTried(tried []Attempt, t *target) bool {
	for _, a := range tried {
		if a.t == t {
			return true
		}
	}
	return false
}

func (p *Pool) pick(key uint64, tried []Attempt, now time.Time) (Attempt, bool) {
	n := len(p.targets)
	switch p.balancer {
	case LeastOutstanding:
		start := int(p.next.Add(1) % uint64(n))
		var best *target
		var bestLoad int64
		for i := range n {
			t := p.targets[(start+i)%n]
			if wasTried(tried, t) || !p.usable(t, now) {
				continue
			}
			if load := t.outstanding.Load(); best == nil || load < bestLoad {
				best, bestLoad = t, load
			}
		}
		if best != nil {
			if ok, trial := p.usableClaim(best, now, true); ok {
				return Attempt{t: best, trial: trial}, true
			}
		}
		// The best one went out meanwhile (a breaker's trial slot was
		// taken): fall back to the first that will take the request.
		for i := range n {
			t := p.targets[(start+i)%n]
			if wasTried(tried, t) {
				continue
			}
			if ok, trial := p.usableClaim(t, now, true); ok {
				return Attempt{t: t, trial: trial}, true
			}
		}
	case ConsistentHash:
		i := ringIndex(p.ring, key)
		var checked [maxTargets / 64]uint64
		for k := 0; k < len(p.ring); k++ {
			t := p.targets[p.ring[(i+k)%len(p.ring)].target]
			w, bit := t.index/64, uint64(1)<<(t.index%64)
			if checked[w]&bit != 0 {
				continue
			}
			checked[w] |= bit
			if wasTried(tried, t) {
				continue
			}
			if ok, trial := p.usableClaim(t, now, true); ok {
				return Attempt{t: t, trial: trial}, true
			}
		}
	default:
		var start int
		if len(tried) > 0 {
			// A retry takes the next target after the one that failed,
			// leaving the turn of other requests alone.
			start = tried[len(tried)-1].t.index + 1
		} else {
			start = int((p.next.Add(1) - 1) % uint64(n))
		}
		for i := range n {
			t := p.targets[(start+i)%n]
			if wasTried(tried, t) {
				continue
			}
			if ok, trial := p.usableClaim(t, now, true); ok {
				return Attempt{t: t, trial: trial}, true
			}
		}
	}
	return Attempt{}, false
}

// NeedsNow reports whether [Pool.Pick] and [Pool.Done] need the current
// time; when false, callers may pass the zero time and skip reading the
// clock.
func (p *Pool) NeedsNow() bool { return p.needNow }

// Now reads the pool's clock.
func (p *Pool) Now() time.Time { return p.clock.Now() }

// HashKey returns the hash of the request's balancing key: the configured
// header's value, else sourceIP. It returns 0 unless the balancer is
// ConsistentHash.
func (p *Pool) HashKey(h http.Header, sourceIP string) uint64 {
	if p.balancer != ConsistentHash {
		return 0
	}
	if p.hashHeader != "" {
		if v := h[p.hashHeader]; len(v) > 0 {
			return hashString(v[0])
		}
	}
	return hashString(sourceIP)
}

// Outcome is how an attempt ended, for [Pool.Done].
type Outcome int

// Outcomes.
const (
	// Succeeded: the target answered with a status below 500.
	Succeeded Outcome = iota
	// Failed: a connection error or a 5xx answer.
	Failed
	// Abandoned: the caller gave up (its context ended); says nothing
	// about the target.
	Abandoned
)

// Begin counts a request in flight to a's target. Each Begin must be
// matched by one [Pool.End].
func (p *Pool) Begin(a Attempt) { a.t.outstanding.Add(1) }

// End counts the end of a request in flight to a's target.
func (p *Pool) End(a Attempt) { a.t.outstanding.Add(-1) }

// Done records the outcome of an attempt for the target's statistics,
// outlier detection and breaker.
func (p *Pool) Done(a Attempt, o Outcome, now time.Time) {
	t := a.t
	if o == Abandoned {
		if a.trial {
			t.mu.Lock()
			t.br.release(true)
			t.mu.Unlock()
		}
		return
	}
	failed := o == Failed
	t.requests.Add(1)
	if failed {
		t.failures.Add(1)
	}
	if p.outlier == nil && p.breaker == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.breaker != nil {
		if st := t.br.record(now, failed, a.trial); st != "" {
			t.breakerOpen.Store(st != BreakerClosed)
			if st == BreakerOpen {
				p.logger.Warn("portico: upstream circuit breaker opened", "target", t.name, "openFor", p.breaker.OpenFor)
			} else {
				p.logger.Info("portico: upstream circuit breaker closed", "target", t.name)
			}
		}
	}
	if p.outlier != nil {
		if !failed {
			t.consecFailures = 0
			return
		}
		t.consecFailures++
		if t.consecFailures >= p.outlier.ConsecutiveFailures {
			p.ejectLocked(t, now)
		}
	}
}

// recentEjectionsLocked is t's ejection count, less one for every
// BaseEjectionTime since its last ejection ended.
func (p *Pool) recentEjectionsLocked(t *target, now time.Time) int {
	if p.outlier == nil || t.ejections == 0 {
		return t.ejections
	}
	if !now.After(t.lastEjectEnd) {
		return t.ejections
	}
	forgotten := int(now.Sub(t.lastEjectEnd) / p.outlier.BaseEjectionTime)
	return max(0, t.ejections-forgotten)
}

// ejectLocked ejects t unless it is ejected already or too many targets
// are. t.mu is held.
func (p *Pool) ejectLocked(t *target, now time.Time) {
	ns := now.UnixNano()
	if u := t.ejectedUntil.Load(); u != 0 && ns < u {
		return
	}
	p.ejectMu.Lock()
	defer p.ejectMu.Unlock()
	ejected := 0
	for _, o := range p.targets {
		if u := o.ejectedUntil.Load(); u != 0 && ns < u {
			ejected++
		}
	}
	if limit := max(1, len(p.targets)*p.outlier.MaxEjectedPercent/100); ejected >= limit {
		return
	}
	t.ejections = p.recentEjectionsLocked(t, now) + 1
	d := time.Duration(t.ejections) * p.outlier.BaseEjectionTime
	if d > p.outlier.MaxEjectionTime || d <= 0 {
		d = p.outlier.MaxEjectionTime
	}
	until := now.Add(d)
	t.lastEjectEnd = until
	t.consecFailures = 0
	t.ejectedUntil.Store(until.UnixNano())
	p.logger.Warn("portico: upstream target ejected", "target", t.name, "for", d, "ejections", t.ejections)
}
