package portico

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/throttle"
)

// StageThrottle holds a stage's throttle settings: server-side limits, each
// route having its own bucket shared by all its callers. A route's own
// [RouteThrottle] comes first, then the most specific entry of Methods,
// then Default. The zero StageThrottle sets no limits (the account limit
// and usage plans still apply).
type StageThrottle struct {
	// Default is the limit of each route the other settings do not cover
	// (the model gateway's "*/*" method setting): every such route gets its
	// own bucket of this size. A request it refuses reports the level
	// "stage". nil means none.
	Default *throttle.Limit
	// Methods are limits of particular routes, keyed like the model
	// gateway's method settings — "/pets/{id}/GET", "~1pets/POST",
	// "/pets/*" (every method of /pets), "*/GET" (every GET) — or by route
	// key, "GET /pets/{id}"; see [throttle.ParseMethodKey]. The most
	// specific key matching a route wins; each route gets its own bucket.
	// A request refused by a key naming the route's path reports the level
	// "method"; by "*/*" or "*/VERB", the level "stage". "*/*" here means
	// the same as Default; giving both is an error.
	Methods map[string]throttle.Limit
}

// RouteThrottle is a route's own throttle setting.
type RouteThrottle struct {
	// Limit is the route's limit, one bucket for all its callers on each
	// stage; it takes precedence over the stage's settings. A request it
	// refuses reports the level "method". nil means the stage's settings.
	Limit *throttle.Limit
}

type throttleOptions struct {
	account  *throttle.Limit
	store    throttle.Store
	quotas   throttle.QuotaStore
	keyOfReq func(*http.Request) string
}

// WithAccountThrottle sets the account-level limit: one token bucket for
// every request of every stage of the gateway, applied after the stage,
// route and usage-plan limits. The default is the model gateway's: 10,000
// requests per second with bursts of 5,000 ([throttle.DefaultAccountRate],
// [throttle.DefaultAccountBurst]). An invalid limit (a negative rate, a
// positive rate with a burst below 1) makes the first [Gateway.Deploy] or
// usage-plan call fail.
func WithAccountThrottle(rate float64, burst int) Option {
	return func(o *options) { o.throttle.account = &throttle.Limit{Rate: rate, Burst: burst} }
}

// WithThrottleStore makes the gateway keep every token bucket — account,
// stage, route and usage plan — in s; the default is an in-memory
// [throttle.MemoryStore]. Gateways sharing a store (redisstore's
// ThrottleStore) enforce one limit together. Wrap a shared store in a
// [throttle.Fallback] to choose what happens while it is unreachable;
// without one, a store failure fails the request with 503
// SERVICE_UNAVAILABLE.
func WithThrottleStore(s throttle.Store) Option {
	return func(o *options) { o.throttle.store = s }
}

// WithQuotaStore makes the gateway count usage-plan quotas and usage
// records in q; the default is an in-memory [throttle.MemoryQuotaStore].
// Gateways sharing a store (redisstore's QuotaStore) share quotas and
// usage reports. A store failure fails the request with 503
// SERVICE_UNAVAILABLE unless q is a fail-open [throttle.QuotaFallback].
func WithQuotaStore(q throttle.QuotaStore) Option {
	return func(o *options) { o.throttle.quotas = q }
}

// WithMeteringKey sets how the meter step finds the id of the API key a
// request is metered under (its usage plan) when no earlier step has set
// reqctx's APIKeyID: f returns the id, or "" for none; the meter step then
// records it as the request's APIKeyID. f must only return the id of a key
// the request has proved it holds — the model gateway meters verified keys
// only — or one client could spend another's quota. f must be safe for
// concurrent use. Without it, only an authorizer's APIKeyID is metered.
func WithMeteringKey(f func(r *http.Request) string) Option {
	return func(o *options) { o.throttle.keyOfReq = f }
}

// throttleState is the gateway's meter, made on first use from the
// options.
type throttleState struct {
	once  sync.Once
	meter *throttle.Meter
	err   error
}

// meter returns the gateway's meter, making it on first use.
func (g *Gateway) meter() (*throttle.Meter, error) {
	g.throttle.once.Do(func() {
		o := g.opts.throttle
		g.throttle.meter, g.throttle.err = throttle.NewMeter(throttle.MeterConfig{
			Store:   o.store,
			Quotas:  o.quotas,
			Account: o.account,
			Clock:   g.clock,
		})
		if g.throttle.err != nil {
			g.throttle.err = fmt.Errorf("portico: WithAccountThrottle: %w", g.throttle.err)
		}
	})
	return g.throttle.meter, g.throttle.err
}

// AddUsagePlan adds a usage plan to the gateway. Requests carrying an API
// key in the plan (reqctx's APIKeyID, set by the authorize step) on one of
// its stages — [throttle.PlanStage] names them by API id and stage name —
// are throttled by the plan's limits and counted against its quota: 429
// THROTTLED when a limit refuses, 429 QUOTA_EXCEEDED when the quota is used
// up. A zero Quota.Start is set to now. It returns an error for an invalid
// plan or an id in use.
func (g *Gateway) AddUsagePlan(p throttle.UsagePlan) error {
	m, err := g.meter()
	if err != nil {
		return err
	}
	return m.AddPlan(p)
}

// UpdateUsagePlan replaces a usage plan, keeping its keys (and its quota's
// Start, if p's is zero); see [throttle.Meter.UpdatePlan].
func (g *Gateway) UpdateUsagePlan(p throttle.UsagePlan) error {
	m, err := g.meter()
	if err != nil {
		return err
	}
	return m.UpdatePlan(p)
}

// RemoveUsagePlan removes a usage plan; its usage records stay in the
// quota store.
func (g *Gateway) RemoveUsagePlan(id string) error {
	m, err := g.meter()
	if err != nil {
		return err
	}
	return m.RemovePlan(id)
}

// UsagePlan returns a copy of the usage plan with the given id.
func (g *Gateway) UsagePlan(id string) (throttle.UsagePlan, bool) {
	m, err := g.meter()
	if err != nil {
		return throttle.UsagePlan{}, false
	}
	return m.Plan(id)
}

// AddUsagePlanKey puts the API key with id keyID in a usage plan. A key may
// be in several plans for different stages, but in at most one plan per
// API stage; see [throttle.Meter.AddKey] for the errors.
func (g *Gateway) AddUsagePlanKey(planID, keyID string) error {
	m, err := g.meter()
	if err != nil {
		return err
	}
	return m.AddKey(planID, keyID)
}

// RemoveUsagePlanKey takes an API key out of a usage plan.
func (g *Gateway) RemoveUsagePlanKey(planID, keyID string) error {
	m, err := g.meter()
	if err != nil {
		return err
	}
	return m.RemoveKey(planID, keyID)
}

// Usage reports a usage plan's usage per UTC day from the day of from to
// the day of to (at most 366 days) for one key, or for all the plan's keys
// when keyID is "": the requests each key made and the quota it had left at
// the end of each day. [throttle.Usage] marshals to the model gateway's
// GetUsage JSON.
func (g *Gateway) Usage(ctx context.Context, planID, keyID string, from, to time.Time) (throttle.Usage, error) {
	m, err := g.meter()
	if err != nil {
		return throttle.Usage{}, err
	}
	return m.Usage(ctx, planID, keyID, from, to)
}

// errBothDefaults is reported when a stage sets its default limit twice.
var errBothDefaults = errors.New(`StageThrottle: Default and Methods["*/*"] are both set`)

// meterStep builds the meter step: every route has one, since the account
// limit and usage plans (which may be added at any time) apply to all. It
// compiles the route's server-side limit from rt.Throttle and the stage's
// settings.
func (g *Gateway) meterStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	m, err := g.meter()
	if err != nil {
		return nil, err
	}
	method, path := rt.Method, rt.Path
	if path == DefaultRouteKey {
		method = "ANY"
	}
	limit, level, err := routeLimit(d.stage.Throttle, rt.Throttle, method, path)
	if err != nil {
		return nil, err
	}
	target, err := throttle.NewTarget(throttle.TargetConfig{
		API:     d.api.apiID(),
		Version: d.api.Version,
		Stage:   d.stage.Name,
		Method:  method,
		Path:    path,
		Limit:   limit,
		Level:   level,
	})
	if err != nil {
		return nil, err
	}
	clk, keyOfReq := g.clock, g.opts.throttle.keyOfReq
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := reqctx.From(r.Context())
			var keyID string
			if rc != nil {
				keyID = rc.APIKeyID
			}
			if keyID == "" && keyOfReq != nil {
				if keyID = keyOfReq(r); keyID != "" && rc != nil {
					rc.APIKeyID = keyID
				}
			}
			res, err := m.Decide(r.Context(), target, keyID, clk.Now())
			if err != nil {
				reqctx.WriteError(w, r, reqctx.NewError(reqctx.ServiceUnavailable, fmt.Errorf("throttle: %w", err)))
				return
			}
			if !res.Allowed {
				if rc != nil {
					rc.ThrottledBy = string(res.Level)
				}
				reqctx.WriteError(w, r, res.GatewayError())
				return
			}
			res.SetHeaders(w.Header())
			next.ServeHTTP(w, r)
		})
	}, nil
}

// routeLimit resolves a route's server-side limit: the route's own, else
// the most specific stage method setting, else the stage default.
func routeLimit(st StageThrottle, rtt RouteThrottle, method, path string) (*throttle.Limit, throttle.Level, error) {
	if rtt.Limit != nil {
		l := *rtt.Limit
		if err := l.Validate(); err != nil {
			return nil, "", fmt.Errorf("RouteThrottle.Limit: %w", err)
		}
		return &l, throttle.LevelMethod, nil
	}
	ml, err := throttle.ParseMethodLimits(st.Methods)
	if err != nil {
		return nil, "", fmt.Errorf("StageThrottle.Methods: %w", err)
	}
	if st.Default != nil {
		if _, ok := ml.Get(throttle.MethodKey{Method: "*", Path: "*"}); ok {
			return nil, "", errBothDefaults
		}
		if err := st.Default.Validate(); err != nil {
			return nil, "", fmt.Errorf("StageThrottle.Default: %w", err)
		}
	}
	if l, exact, ok := ml.Lookup(method, path); ok {
		if exact {
			return &l, throttle.LevelMethod, nil
		}
		return &l, throttle.LevelStage, nil
	}
	if st.Default != nil {
		l := *st.Default
		return &l, throttle.LevelStage, nil
	}
	return nil, "", nil
}
