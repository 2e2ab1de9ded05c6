package integration

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/clock"
)

// Balancer names how a [Pool] picks a target.
type Balancer string

// The balancers.
const (
	// RoundRobin takes the available targets in turn (the default).
	RoundRobin Balancer = "round_robin"
	// LeastOutstanding takes the available target with the fewest requests
	// in flight.
	LeastOutstanding Balancer = "least_outstanding"
	// ConsistentHash maps a request key (a header, or the source IP) to a
	// target on a hash ring, so one key keeps its target while the set of
	// available targets is stable.
	ConsistentHash Balancer = "consistent_hash"
)

// HealthCheck configures active health checks: each target is probed with
// GET Path every Interval; a 2xx within Timeout is a success.
type HealthCheck struct {
	// Path is the path probed on each target; "" turns active checks off.
	Path string
	// Interval between probes; 0 means 10 s.
	Interval time.Duration
	// Timeout of one probe; 0 means 2 s.
	Timeout time.Duration
	// HealthyThreshold is how many successes in a row bring an unhealthy
	// target back; 0 means 2.
	HealthyThreshold int
	// UnhealthyThreshold is how many failures in a row take a target out;
	// 0 means 3.
	UnhealthyThreshold int
}

// CircuitBreaker configures passive outlier ejection per target: after
// Failures consecutive failures (connection errors and 5xx responses) the
// target's breaker opens and it takes no requests for OpenFor; then one
// trial request is let through (half-open): a success closes the breaker, a
// failure opens it again.
type CircuitBreaker struct {
	// Failures opens the breaker; 0 turns the breaker off.
	Failures int
	// OpenFor is how long an open breaker keeps the target out; 0 means 30 s.
	OpenFor time.Duration
}

// RetryPolicy retries idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE,
// TRACE) whose body can be replayed, on another target, after a connection
// failure or a 502/503 response, within a budget: retries may add at most
// Budget (a ratio) on top of the requests, plus MinPerSecond retries every
// second.
type RetryPolicy struct {
	// Attempts is the most tries of one request, the first included; 0 or 1
	// turns retries off.
	Attempts int
	// Budget is the ratio of retries to requests allowed; 0 means 0.2.
	Budget float64
	// MinPerSecond retries are allowed every second whatever the ratio;
	// 0 means 3.
	MinPerSecond int
}

// PoolConfig configures a [Pool].
type PoolConfig struct {
	// Targets are the base URLs of the backends ("http://10.0.0.1:8080");
	// at least one. Only scheme and host are used: the path comes from the
	// integration's target template.
	Targets []string
	// Balancer picks the target; "" means RoundRobin.
	Balancer Balancer
	// HashHeader is the request header ConsistentHash hashes; "" hashes the
	// source IP.
	HashHeader string
	// HealthCheck configures active health checks.
	HealthCheck HealthCheck
	// Breaker configures passive outlier ejection per target.
	Breaker CircuitBreaker
	// Retry configures retries of idempotent requests.
	Retry RetryPolicy
}

// PoolOption configures a Pool's dependencies.
type PoolOption func(*poolOptions)

type poolOptions struct {
	clock  clock.Clock
	client *http.Client
	logger *slog.Logger
}

// WithPoolClock sets the clock for health checks and breakers (default: real).
func WithPoolClock(c clock.Clock) PoolOption { return func(o *poolOptions) { o.clock = c } }

// WithHealthCheckClient sets the HTTP client health probes use.
func WithHealthCheckClient(c *http.Client) PoolOption { return func(o *poolOptions) { o.client = c } }

// WithPoolLogger sets where health changes are logged (default slog.Default()).
func WithPoolLogger(l *slog.Logger) PoolOption { return func(o *poolOptions) { o.logger = l } }

// Pool is a set of backend targets for an HTTP integration: it picks one per
// attempt, watches their health actively and passively, and decides on
// retries. Give it to [HTTPProxy.Pool] or [HTTP.Pool]. A Pool is safe for
// concurrent use; Close stops its health checks.
type Pool struct {
	cfg     PoolConfig
	opts    poolOptions
	targets []*poolTarget
	ring    []ringPoint
	next    atomic.Uint64

	budgetMu     sync.Mutex
	budgetTokens float64
	budgetSecond int64
	budgetMin    int

	stop   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
}

type ringPoint struct {
	hash   uint32
	target int
}

// poolTarget is one backend and its state.
type poolTarget struct {
	url         *url.URL
	outstanding atomic.Int64
	requests    atomic.Uint64
	failures    atomic.Uint64

	mu          sync.Mutex
	healthy     bool
	hcSuccesses int
	hcFailures  int
	consecFails int
	openUntil   time.Time
	halfOpen    bool // a trial request is in flight
}

// TargetStatus is the state of one target, from [Pool.Status].
type TargetStatus struct {
	URL string
	// Healthy is the active health state (true when checks are off).
	Healthy bool
	// Breaker is "closed", "open" or "half-open".
	Breaker string
	// Outstanding is the number of requests in flight.
	Outstanding int64
	// Requests and Failures count attempts sent to the target and those
	// that failed.
	Requests, Failures uint64
}

// NewPool returns a pool of cfg.Targets and starts its health checks, if
// configured. Bad configuration is an error naming the field.
func NewPool(cfg PoolConfig, opts ...PoolOption) (*Pool, error) {
	o := poolOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	o.clock = clock.OrReal(o.clock)
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if len(cfg.Targets) == 0 {
		return nil, errors.New("pool: Targets: at least one target is required")
	}
	switch cfg.Balancer {
	case "":
		cfg.Balancer = RoundRobin
	case RoundRobin, LeastOutstanding, ConsistentHash:
	default:
		return nil, fmt.Errorf("pool: Balancer: unknown balancer %q", cfg.Balancer)
	}
	hc := &cfg.HealthCheck
	if hc.Interval < 0 || hc.Timeout < 0 || hc.HealthyThreshold < 0 || hc.UnhealthyThreshold < 0 {
		return nil, errors.New("pool: HealthCheck: negative setting")
	}
	if hc.Path != "" && hc.Path[0] != '/' {
		return nil, fmt.Errorf("pool: HealthCheck.Path %q must start with /", hc.Path)
	}
	setDefault(&hc.Interval, 10*time.Second)
	setDefault(&hc.Timeout, 2*time.Second)
	setDefault(&hc.HealthyThreshold, 2)
	setDefault(&hc.UnhealthyThreshold, 3)
	if cfg.Breaker.Failures < 0 || cfg.Breaker.OpenFor < 0 {
		return nil, errors.New("pool: Breaker: negative setting")
	}
	setDefault(&cfg.Breaker.OpenFor, 30*time.Second)
	if cfg.Retry.Attempts < 0 || cfg.Retry.Budget < 0 || cfg.Retry.MinPerSecond < 0 {
		return nil, errors.New("pool: Retry: negative setting")
	}
	setDefault(&cfg.Retry.Budget, 0.2)
	setDefault(&cfg.Retry.MinPerSecond, 3)
	if o.client == nil {
		o.client = &http.Client{Transport: newTransport(TransportConfig{}, Timeouts{})}
	}
	p := &Pool{cfg: cfg, opts: o, stop: make(chan struct{})}
	for i, raw := range cfg.Targets {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("pool: Targets[%d] %q: %w", i, raw, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("pool: Targets[%d] %q: want http(s)://host[:port]", i, raw)
		}
		p.targets = append(p.targets, &poolTarget{url: &url.URL{Scheme: u.Scheme, Host: u.Host}, healthy: true})
		for v := 0; v < 64; v++ {
			p.ring = append(p.ring, ringPoint{hash: hash32(u.Host + "#" + strconv.Itoa(v)), target: i})
		}
	}
	slices.SortFunc(p.ring, func(a, b ringPoint) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return 0
	})
	if hc.Path != "" {
		for _, t := range p.targets {
			p.wg.Add(1)
			go p.healthLoop(t)
		}
	}
	return p, nil
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// hash32 is FNV-1a with murmur3's finaliser, so that keys differing only in
// their last characters still spread over the whole ring.
func hash32(s string) uint32 {
	h := fnv.New32a()
	_, _ = io.WriteString(h, s)
	x := h.Sum32()
	x ^= x >> 16
	x *= 0x85ebca6b
	x ^= x >> 13
	x *= 0xc2b2ae35
	x ^= x >> 16
	return x
}

// Close stops the health checks and waits for them to finish. It is safe to
// call more than once.
func (p *Pool) Close() error {
	if p.closed.CompareAndSwap(false, true) {
		close(p.stop)
	}
	p.wg.Wait()
	return nil
}

// Status returns the state of every target, in configuration order.
func (p *Pool) Status() []TargetStatus {
	now := p.opts.clock.Now()
	out := make([]TargetStatus, len(p.targets))
	for i, t := range p.targets {
		t.mu.Lock()
		st := TargetStatus{URL: t.url.String(), Healthy: t.healthy, Breaker: t.breakerStateLocked(now)}
		t.mu.Unlock()
		st.Outstanding = t.outstanding.Load()
		st.Requests = t.requests.Load()
		st.Failures = t.failures.Load()
		out[i] = st
	}
	return out
}

func (t *poolTarget) breakerStateLocked(now time.Time) string {
	switch {
	case t.openUntil.IsZero():
		return "closed"
	case now.Before(t.openUntil):
		return "open"
	default:
		return "half-open"
	}
}

// available reports whether t may take a request now; it claims the
// half-open trial slot when the breaker allows one.
func (p *Pool) available(t *poolTarget, now time.Time, claim bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.healthy {
		return false
	}
	if t.openUntil.IsZero() {
		return true
	}
	if now.Before(t.openUntil) || t.halfOpen {
		return false
	}
	if claim {
		t.halfOpen = true
	}
	return true
}

// errNoTarget is returned when no target can take a request.
var errNoTarget = errors.New("pool: no healthy target")

// pick chooses a target for r, skipping those in exclude (already tried).
func (p *Pool) pick(r *http.Request, sourceIP string, exclude []*poolTarget) (*poolTarget, error) {
	now := p.opts.clock.Now()
	n := len(p.targets)
	usable := func(t *poolTarget) bool { return !slices.Contains(exclude, t) }
	switch p.cfg.Balancer {
	case LeastOutstanding:
		start := int(p.next.Add(1))
		var best *poolTarget
		for i := range n {
			t := p.targets[(start+i)%n]
			if !usable(t) || !p.available(t, now, false) {
				continue
			}
			if best == nil || t.outstanding.Load() < best.outstanding.Load() {
				best = t
			}
		}
		if best != nil && p.available(best, now, true) {
			return best, nil
		}
	case ConsistentHash:
		key := sourceIP
		if p.cfg.HashHeader != "" {
			key = r.Header.Get(p.cfg.HashHeader)
		}
		h := hash32(key)
		i, _ := slices.BinarySearchFunc(p.ring, h, func(pt ringPoint, h uint32) int {
			switch {
			case pt.hash < h:
				return -1
			case pt.hash > h:
				return 1
			}
			return 0
		})
		for k := range len(p.ring) {
			t := p.targets[p.ring[(i+k)%len(p.ring)].target]
			if usable(t) && p.available(t, now, true) {
				return t, nil
			}
		}
	default:
		start := int(p.next.Add(1) - 1)
		for i := range n {
			t := p.targets[(start+i)%n]
			if usable(t) && p.available(t, now, true) {
				return t, nil
			}
		}
	}
	return nil, errNoTarget
}

// record notes the outcome of an attempt on t for the breaker.
func (p *Pool) record(t *poolTarget, failed bool) {
	t.requests.Add(1)
	if failed {
		t.failures.Add(1)
	}
	if p.cfg.Breaker.Failures == 0 {
		return
	}
	now := p.opts.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	wasHalfOpen := t.halfOpen
	t.halfOpen = false
	if !failed {
		t.consecFails = 0
		t.openUntil = time.Time{}
		return
	}
	t.consecFails++
	if wasHalfOpen || t.consecFails >= p.cfg.Breaker.Failures {
		if t.openUntil.IsZero() || wasHalfOpen {
			p.opts.logger.Warn("portico: upstream breaker opened", "target", t.url.String(), "failures", t.consecFails)
		}
		t.openUntil = now.Add(p.cfg.Breaker.OpenFor)
	}
}

// allowRetry spends one retry from the budget if there is one.
func (p *Pool) allowRetry() bool {
	p.budgetMu.Lock()
	defer p.budgetMu.Unlock()
	sec := p.opts.clock.Now().Unix()
	if sec != p.budgetSecond {
		p.budgetSecond = sec
		p.budgetMin = p.cfg.Retry.MinPerSecond
	}
	if p.budgetMin > 0 {
		p.budgetMin--
		return true
	}
	if p.budgetTokens >= 1 {
		p.budgetTokens--
		return true
	}
	return false
}

// earnRetry credits the budget for one request.
func (p *Pool) earnRetry() {
	if p.cfg.Retry.Attempts < 2 {
		return
	}
	p.budgetMu.Lock()
	p.budgetTokens += p.cfg.Retry.Budget
	if max := 100 * p.cfg.Retry.Budget; p.budgetTokens > max && max >= 1 {
		p.budgetTokens = max
	}
	p.budgetMu.Unlock()
}

func (p *Pool) healthLoop(t *poolTarget) {
	defer p.wg.Done()
	probe := *t.url
	probe.Path = p.cfg.HealthCheck.Path
	target := probe.String()
	timer := p.opts.clock.NewTimer(p.cfg.HealthCheck.Interval)
	defer timer.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-timer.C():
		}
		ok := p.probe(target)
		p.markHealth(t, ok)
		timer.Reset(p.cfg.HealthCheck.Interval)
	}
}

func (p *Pool) probe(target string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.HealthCheck.Timeout)
	defer cancel()
	go func() { // stop a probe in flight when the pool closes
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false
	}
	res, err := p.opts.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return res.StatusCode >= 200 && res.StatusCode < 300
}

func (p *Pool) markHealth(t *poolTarget, ok bool) {
	hc := p.cfg.HealthCheck
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok {
		t.hcFailures = 0
		t.hcSuccesses++
		if !t.healthy && t.hcSuccesses >= hc.HealthyThreshold {
			t.healthy = true
			p.opts.logger.Info("portico: upstream healthy", "target", t.url.String())
		}
		return
	}
	t.hcSuccesses = 0
	t.hcFailures++
	if t.healthy && t.hcFailures >= hc.UnhealthyThreshold {
		t.healthy = false
		p.opts.logger.Warn("portico: upstream unhealthy", "target", t.url.String())
	}
}
