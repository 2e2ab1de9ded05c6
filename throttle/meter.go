package throttle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/clock"
)

// Level names a throttle level: the level that rejected a request is
// reported in reqctx's ThrottledBy and as the policy name of the RateLimit
// headers.
type Level string

// The levels, from the most specific to the broadest. A request passes
// through at most one client level (the key's plan-method limit, else its
// plan limit), at most one server level (the route's method limit, else the
// stage default), and the account level; then the plan's quota.
const (
	LevelPlanMethod Level = "plan-method"
	LevelPlan       Level = "plan"
	LevelMethod     Level = "method"
	LevelStage      Level = "stage"
	LevelAccount    Level = "account"
	// LevelQuota is the usage plan's quota (429 QUOTA_EXCEEDED).
	LevelQuota Level = "quota"
)

// The model gateway's default account-level limit: 10,000 requests per
// second steady, bursts of 5,000.
const (
	DefaultAccountRate  = 10000
	DefaultAccountBurst = 5000
)

// MeterConfig configures a [Meter]. Its zero value gives in-memory stores,
// the default account limit and the real clock.
type MeterConfig struct {
	// Store keeps the token buckets of every level; nil means a new
	// [MemoryStore]. Give a shared store (package redisstore) to enforce
	// one limit across processes.
	Store Store
	// Quotas counts quotas and usage; nil means a new [MemoryQuotaStore].
	Quotas QuotaStore
	// Account is the account-level limit, one bucket for everything the
	// meter serves; nil means [DefaultAccountRate] per second with bursts
	// of [DefaultAccountBurst].
	Account *Limit
	// Clock is read when a plan is added (the default [Quota.Start]); nil
	// means the real clock.
	Clock clock.Clock
}

// Meter applies the throttle levels and usage plans of a gateway to
// requests: account, stage and method limits, usage plans with their
// per-method limits and quotas, and usage records. A gateway has one; it
// works as well on its own around any handler that knows its API, stage,
// route and API key.
//
// Plans and keys may be added and removed while the meter serves. A Meter
// is safe for concurrent use and starts no goroutines.
type Meter struct {
	store   Store
	quotas  QuotaStore
	account Limit
	clock   clock.Clock

	mu     sync.RWMutex // guards the fields below
	plans  map[string]*compiledPlan
	keys   map[string]map[string]bool // plan id → key ids
	lookup map[lookupKey]*binding     // (api, stage, key id) → binding
}

type lookupKey struct{ api, stage, key string }

// binding is a key's membership in a plan, with its bucket and quota keys
// made once.
type binding struct {
	plan     *compiledPlan
	keyID    string
	bucket   string // plan-level bucket key
	quotaKey string
}

// NewMeter returns a meter with no plans. It returns an error for an
// invalid account limit or a failure to make the default stores.
func NewMeter(cfg MeterConfig) (*Meter, error) {
	m := &Meter{
		store:   cfg.Store,
		quotas:  cfg.Quotas,
		account: Limit{Rate: DefaultAccountRate, Burst: DefaultAccountBurst},
		clock:   clock.OrReal(cfg.Clock),
		plans:   map[string]*compiledPlan{},
		keys:    map[string]map[string]bool{},
		lookup:  map[lookupKey]*binding{},
	}
	if cfg.Account != nil {
		if err := cfg.Account.Validate(); err != nil {
			return nil, fmt.Errorf("throttle: account limit: %w", err)
		}
		m.account = *cfg.Account
	}
	if m.store == nil {
		s, err := NewMemoryStore()
		if err != nil {
			return nil, err
		}
		m.store = s
	}
	if m.quotas == nil {
		q, err := NewMemoryQuotaStore()
		if err != nil {
			return nil, err
		}
		m.quotas = q
	}
	return m, nil
}

// AccountLimit returns the account-level limit.
func (m *Meter) AccountLimit() Limit { return m.account }

// AddPlan adds a usage plan. It returns an error if the plan is invalid or
// a plan with its id exists. A zero Quota.Start is set to the time of the
// call.
func (m *Meter) AddPlan(p UsagePlan) error {
	c, err := m.compile(p)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.plans[p.ID]; ok {
		return fmt.Errorf("throttle: usage plan %q already exists", p.ID)
	}
	m.plans[p.ID] = c
	m.keys[p.ID] = map[string]bool{}
	return nil
}

// UpdatePlan replaces the plan with p's id by p, keeping its keys and, if
// p's quota has a zero Start, the old quota's Start. Buckets and counts
// carry over. It returns an error if the plan is invalid, does not exist,
// or would put one of its keys in two plans on one API stage.
func (m *Meter) UpdatePlan(p UsagePlan) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.plans[p.ID]
	if !ok {
		return fmt.Errorf("throttle: no usage plan %q", p.ID)
	}
	if p.Quota != nil && p.Quota.Start.IsZero() && old.hasQuota {
		q := *p.Quota
		q.Start = old.quota.Start
		p.Quota = &q
	}
	c, err := m.compile(p)
	if err != nil {
		return err
	}
	for key := range m.keys[p.ID] {
		for ref := range c.stages {
			if b := m.lookup[lookupKey{ref.api, ref.stage, key}]; b != nil && b.plan.spec.ID != p.ID {
				return fmt.Errorf("throttle: usage plan %q: key %q is already in plan %q for API %q stage %q", p.ID, key, b.plan.spec.ID, ref.api, ref.stage)
			}
		}
	}
	m.unbindPlanLocked(old)
	m.plans[p.ID] = c
	for key := range m.keys[p.ID] {
		m.bindLocked(c, key)
	}
	return nil
}

// RemovePlan removes a plan and its keys' membership. Usage records stay in
// the quota store. It returns an error if there is no such plan.
func (m *Meter) RemovePlan(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.plans[id]
	if !ok {
		return fmt.Errorf("throttle: no usage plan %q", id)
	}
	m.unbindPlanLocked(c)
	delete(m.plans, id)
	delete(m.keys, id)
	return nil
}

// Plan returns a copy of the plan with the given id.
func (m *Meter) Plan(id string) (UsagePlan, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.plans[id]
	if !ok {
		return UsagePlan{}, false
	}
	return clonePlan(c.spec), true
}

// Plans returns copies of every plan, ordered by id.
func (m *Meter) Plans() []UsagePlan {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]UsagePlan, 0, len(m.plans))
	for _, c := range m.plans {
		out = append(out, clonePlan(c.spec))
	}
	slices.SortFunc(out, func(a, b UsagePlan) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// AddKey puts the API key keyID in a plan. A key may be in several plans,
// but in at most one per API stage. It returns an error if there is no
// such plan, keyID is empty, over 1024 bytes or has control characters,
// the key is in the plan already, or another of its plans covers one of the
// plan's stages.
func (m *Meter) AddKey(planID, keyID string) error {
	if !validKeyID(keyID) {
		return fmt.Errorf("throttle: API key id %q must have 1-1024 bytes and no control characters", keyID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.plans[planID]
	if !ok {
		return fmt.Errorf("throttle: no usage plan %q", planID)
	}
	if m.keys[planID][keyID] {
		return fmt.Errorf("throttle: key %q is already in usage plan %q", keyID, planID)
	}
	for ref := range c.stages {
		if b := m.lookup[lookupKey{ref.api, ref.stage, keyID}]; b != nil {
			return fmt.Errorf("throttle: key %q is already in usage plan %q for API %q stage %q (one plan per key per stage)", keyID, b.plan.spec.ID, ref.api, ref.stage)
		}
	}
	m.keys[planID][keyID] = true
	m.bindLocked(c, keyID)
	return nil
}

// RemoveKey takes a key out of a plan. Its usage records stay in the quota
// store. It returns an error if the key is not in the plan.
func (m *Meter) RemoveKey(planID, keyID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.plans[planID]
	if !ok {
		return fmt.Errorf("throttle: no usage plan %q", planID)
	}
	if !m.keys[planID][keyID] {
		return fmt.Errorf("throttle: key %q is not in usage plan %q", keyID, planID)
	}
	delete(m.keys[planID], keyID)
	for ref := range c.stages {
		delete(m.lookup, lookupKey{ref.api, ref.stage, keyID})
	}
	return nil
}

// Keys returns the ids of the keys in a plan, sorted.
func (m *Meter) Keys(planID string) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ks, ok := m.keys[planID]
	if !ok {
		return nil, fmt.Errorf("throttle: no usage plan %q", planID)
	}
	out := make([]string, 0, len(ks))
	for k := range ks {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// PlanFor returns the id of the plan that meters keyID on an API stage, or
// "" if none does.
func (m *Meter) PlanFor(api, stage, keyID string) string {
	if b := m.bindingFor(api, stage, keyID); b != nil {
		return b.plan.spec.ID
	}
	return ""
}

func (m *Meter) compile(p UsagePlan) (*compiledPlan, error) {
	if p.Quota != nil && p.Quota.Start.IsZero() {
		q := *p.Quota
		q.Start = m.clock.Now()
		p.Quota = &q
	}
	return compilePlan(p)
}

func (m *Meter) bindLocked(c *compiledPlan, keyID string) {
	b := &binding{
		plan:     c,
		keyID:    keyID,
		bucket:   string(LevelPlan) + "\x00" + c.spec.ID + "\x00" + keyID,
		quotaKey: c.spec.ID + "\x00" + keyID,
	}
	for ref := range c.stages {
		m.lookup[lookupKey{ref.api, ref.stage, keyID}] = b
	}
}

func (m *Meter) unbindPlanLocked(c *compiledPlan) {
	for key := range m.keys[c.spec.ID] {
		for ref := range c.stages {
			if b := m.lookup[lookupKey{ref.api, ref.stage, key}]; b != nil && b.plan == c {
				delete(m.lookup, lookupKey{ref.api, ref.stage, key})
			}
		}
	}
}

func (m *Meter) bindingFor(api, stage, keyID string) *binding {
	if keyID == "" {
		return nil
	}
	m.mu.RLock()
	b := m.lookup[lookupKey{api, stage, keyID}]
	m.mu.RUnlock()
	return b
}

// TargetConfig describes a route of an API stage to meter, for
// [NewTarget].
type TargetConfig struct {
	// API is the API id; Stage the stage name; both required. Version is
	// the API version ("" if unversioned): versions served on one stage
	// have separate route buckets.
	API, Version, Stage string
	// Method is the route's method ("GET", "ANY"), Path its path template
	// ("/pets/{id}", or "$default" for the catch-all route). They key the
	// route's buckets and select plans' per-method limits.
	Method, Path string
	// Limit is the route's server-side limit, one bucket for every caller
	// of the route; nil means none (only the client and account levels
	// apply).
	Limit *Limit
	// Level is the level Limit is reported as: [LevelMethod] (a limit
	// set for this method) or [LevelStage] (the stage default); "" means
	// LevelMethod.
	Level Level
}

// Target is a route of an API stage, compiled once (at deploy time) for
// [Meter.Decide]. It is immutable and safe for concurrent use.
type Target struct {
	api, stage    string
	method, path  string
	id            string // api, version, stage and route: the route's identity in bucket keys
	limit         Limit
	hasLimit      bool
	level         Level
	bucket        string
	accountBucket string
}

// NewTarget compiles a route for [Meter.Decide]. It returns an error if
// the API or stage is missing, or the limit or level is invalid.
func NewTarget(cfg TargetConfig) (*Target, error) {
	if cfg.API == "" || cfg.Stage == "" {
		return nil, fmt.Errorf("throttle: target needs an API and a stage (got %q, %q)", cfg.API, cfg.Stage)
	}
	path := cfg.Path
	if path != "$default" && path != "" {
		path = cleanPath(path)
	}
	t := &Target{
		api: cfg.API, stage: cfg.Stage,
		method: cfg.Method, path: path,
		id:            cfg.API + "\x00" + cfg.Version + "\x00" + cfg.Stage + "\x00" + cfg.Method + " " + path,
		level:         cfg.Level,
		accountBucket: string(LevelAccount),
	}
	if t.level == "" {
		t.level = LevelMethod
	}
	if t.level != LevelMethod && t.level != LevelStage {
		return nil, fmt.Errorf("throttle: target level %q must be %q or %q", cfg.Level, LevelMethod, LevelStage)
	}
	if cfg.Limit != nil {
		if err := cfg.Limit.Validate(); err != nil {
			return nil, err
		}
		t.limit, t.hasLimit = *cfg.Limit, true
		t.bucket = "route\x00" + t.id
	}
	return t, nil
}

// Limit returns the target's server-side limit and level; ok is false if it
// has none.
func (t *Target) Limit() (l Limit, level Level, ok bool) { return t.limit, t.level, t.hasLimit }

// Result is the meter's decision for one request, made by [Meter.Decide].
type Result struct {
	// Allowed reports whether the request was admitted.
	Allowed bool
	// Level is the level that rejected the request, "" if it was admitted.
	Level Level
	// PlanID is the usage plan that metered the request's key, "" if none.
	PlanID string

	checks [3]check
	n      int
	quota  QuotaDecision
	window Window
	quotad bool // the plan's quota was consumed or refused
	limitd bool // the plan has a quota (window is its period)
}

// check is one level's decision.
type check struct {
	level Level
	limit Limit
	d     Decision
}

// Decide meters one request for target t made with the API key keyID (""
// for none) at now: it takes a token at each level that applies, from the
// most specific, and stops at the first that refuses; if all admit, it
// counts the request against the key's quota and usage record. A request
// refused at a level has spent the tokens of the more specific levels it
// passed.
//
// It returns an error (from a store: wrapping [ErrUnavailable] when a
// store is down) if a decision could not be made; nothing after the failed
// level was taken.
func (m *Meter) Decide(ctx context.Context, t *Target, keyID string, now time.Time) (Result, error) {
	var r Result
	b := m.bindingFor(t.api, t.stage, keyID)
	if b != nil {
		r.PlanID = b.plan.spec.ID
		ml := b.plan.stages[stageRef{t.api, t.stage}]
		if l, _, ok := ml.Lookup(t.method, t.path); ok {
			if ok, err := m.take(ctx, &r, LevelPlanMethod, "plan-method\x00"+b.plan.spec.ID+"\x00"+b.keyID+"\x00"+t.id, l, now); !ok {
				return r, err
			}
		} else if b.plan.hasLimit {
			if ok, err := m.take(ctx, &r, LevelPlan, b.bucket, b.plan.throttle, now); !ok {
				return r, err
			}
		}
	}
	if t.hasLimit {
		if ok, err := m.take(ctx, &r, t.level, t.bucket, t.limit, now); !ok {
			return r, err
		}
	}
	if ok, err := m.take(ctx, &r, LevelAccount, t.accountBucket, m.account, now); !ok {
		return r, err
	}
	if b != nil {
		var w Window
		if b.plan.hasQuota {
			w = b.plan.windowAt(now)
			r.window, r.limitd = w, true
		}
		qd, err := m.quotas.Consume(ctx, b.quotaKey, w, 1, now)
		if err != nil {
			return Result{PlanID: r.PlanID}, err
		}
		r.quota, r.quotad = qd, true
		if !qd.Allowed {
			r.Level = LevelQuota
			return r, nil
		}
	}
	r.Allowed = true
	return r, nil
}

// take takes a token at one level and records the decision in r. It
// reports whether the request may go on; on a store error it resets r to
// carry only the plan id.
func (m *Meter) take(ctx context.Context, r *Result, level Level, key string, l Limit, now time.Time) (bool, error) {
	d, err := m.store.Take(ctx, key, l, 1, now)
	if err != nil {
		*r = Result{PlanID: r.PlanID}
		return false, err
	}
	r.checks[r.n] = check{level: level, limit: l, d: d}
	r.n++
	if !d.Allowed {
		r.Level = level
		return false, nil
	}
	return true, nil
}
