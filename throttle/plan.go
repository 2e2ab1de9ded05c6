package throttle

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// UsagePlan is a usage plan: the throttle and quota each API key in it gets
// on the API stages it covers, as in the model gateway. Keys join a plan
// with [Meter.AddKey]; a key may be in several plans as long as no two of
// them cover the same API stage. A UsagePlan is plain data.
type UsagePlan struct {
	// ID identifies the plan: 1–64 characters of A-Z a-z 0-9 - _ .;
	// required.
	ID string
	// Name and Description are free text.
	Name, Description string
	// Throttle limits each key's requests across all the plan's stages;
	// nil means no plan-level throttle.
	Throttle *Limit
	// Quota caps each key's requests per period across all the plan's
	// stages; nil means no quota (usage is still recorded).
	Quota *Quota
	// Stages are the API stages the plan covers. A plan without stages
	// meters nothing.
	Stages []PlanStage
}

// PlanStage is one API stage a usage plan covers.
type PlanStage struct {
	// API is the API id (the one in $context.apiId); required.
	API string
	// Stage is the stage name; required.
	Stage string
	// Methods are per-method throttles for the plan's keys on this stage,
	// each replacing the plan's Throttle for the methods it matches (one
	// bucket per key and route). Keys are method keys, see
	// [ParseMethodKey]: "/pets/{id}/GET", "GET /pets/{id}", "*/*". At most
	// 20 per stage, as in the model gateway.
	Methods map[string]Limit
}

// MaxPlanMethods is how many method throttles a plan stage may have.
const MaxPlanMethods = 20

// MethodKey selects routes by method and path template; "*" in either
// matches anything. It is the parsed form of the model gateway's
// "{path}/{VERB}" method-setting keys and of route keys.
type MethodKey struct {
	// Method is an HTTP method in upper case, "ANY" (a route declared for
	// any method) or "*".
	Method string
	// Path is a path template ("/pets/{id}"), "$default" or "*".
	Path string
}

// String formats k as a route key: "GET /pets/{id}", "* *", "$default".
func (k MethodKey) String() string {
	if k.Path == "$default" && k.Method == "ANY" {
		return "$default"
	}
	return k.Method + " " + k.Path
}

// ErrBadMethodKey is wrapped by the errors of [ParseMethodKey].
var ErrBadMethodKey = errors.New("throttle: bad method key")

// ParseMethodKey parses a method-setting key in any of the forms the model
// gateway and Portico use:
//
//   - "*/*": every method of every resource;
//   - "{path}/{VERB}": "/pets/{id}/GET", "pets/{id}/GET", or with the
//     model gateway's escaped slashes "~1pets~1{id}/GET"; the path or the
//     verb may be "*" ("*/GET", "/pets/*");
//   - a route key: "GET /pets/{id}", "ANY /{proxy+}", "$default".
//
// The verb is an upper-case method name, "ANY" or "*". It returns an error
// wrapping [ErrBadMethodKey] for anything else.
func ParseMethodKey(s string) (MethodKey, error) {
	bad := func(why string) (MethodKey, error) {
		return MethodKey{}, fmt.Errorf("%w %q: %s", ErrBadMethodKey, s, why)
	}
	if s == "$default" {
		return MethodKey{Method: "ANY", Path: "$default"}, nil
	}
	if strings.ContainsAny(s, "\x00\r\n\t") {
		return bad("control character")
	}
	if m, p, ok := strings.Cut(s, " "); ok {
		if !validVerb(m) || m == "*" {
			return bad("method must be upper case letters or ANY")
		}
		if p == "*" || p == "$default" {
			return MethodKey{Method: m, Path: p}, nil
		}
		if !strings.HasPrefix(p, "/") || strings.Contains(p, " ") {
			return bad("path must start with /")
		}
		return MethodKey{Method: m, Path: cleanPath(p)}, nil
	}
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return bad(`want "{path}/{VERB}", "*/*" or "VERB /path"`)
	}
	p, m := s[:i], s[i+1:]
	if !validVerb(m) {
		return bad("verb must be upper case letters, ANY or *")
	}
	p = strings.ReplaceAll(p, "~1", "/")
	if strings.Contains(p, " ") {
		return bad("path has a space")
	}
	switch p {
	case "*", "/*":
		return MethodKey{Method: m, Path: "*"}, nil
	case "", "/":
		return MethodKey{Method: m, Path: "/"}, nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return MethodKey{Method: m, Path: cleanPath(p)}, nil
}

// cleanPath drops trailing slashes, which route matching ignores.
func cleanPath(p string) string {
	if p = strings.TrimRight(p, "/"); p == "" {
		return "/"
	}
	return p
}

func validVerb(m string) bool {
	if m == "*" {
		return true
	}
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// MethodLimits is a set of limits by [MethodKey], looked up most specific
// first. Build it with [ParseMethodLimits]; its zero value is empty. It is
// immutable and safe for concurrent use.
type MethodLimits struct {
	m map[MethodKey]Limit
}

// ParseMethodLimits parses and validates the keys and limits of m (see
// [ParseMethodKey]). Two keys that parse to the same [MethodKey] are an
// error.
func ParseMethodLimits(m map[string]Limit) (MethodLimits, error) {
	if len(m) == 0 {
		return MethodLimits{}, nil
	}
	out := MethodLimits{m: make(map[MethodKey]Limit, len(m))}
	seen := make(map[MethodKey]string, len(m))
	for s, l := range m {
		k, err := ParseMethodKey(s)
		if err != nil {
			return MethodLimits{}, err
		}
		if err := l.Validate(); err != nil {
			return MethodLimits{}, fmt.Errorf("method %q: %w", s, err)
		}
		if other, dup := seen[k]; dup {
			a, b := other, s
			if b < a {
				a, b = b, a
			}
			return MethodLimits{}, fmt.Errorf("%w: %q and %q name the same methods", ErrBadMethodKey, a, b)
		}
		seen[k] = s
		out.m[k] = l
	}
	return out, nil
}

// Len returns how many limits there are.
func (ml MethodLimits) Len() int { return len(ml.m) }

// Get returns the limit stored under exactly k.
func (ml MethodLimits) Get(k MethodKey) (Limit, bool) {
	l, ok := ml.m[k]
	return l, ok
}

// Lookup returns the limit for a route of the given method ("GET", "ANY")
// and path template, trying the exact key, then "*" for the method, then
// "*" for the path, then "*/*". exact reports whether the match named the
// path (the model gateway's per-method setting rather than a stage-wide
// default).
func (ml MethodLimits) Lookup(method, path string) (l Limit, exact, ok bool) {
	if len(ml.m) == 0 {
		return Limit{}, false, false
	}
	if l, ok := ml.m[MethodKey{method, path}]; ok {
		return l, true, true
	}
	if l, ok := ml.m[MethodKey{"*", path}]; ok {
		return l, true, true
	}
	if l, ok := ml.m[MethodKey{method, "*"}]; ok {
		return l, false, true
	}
	if l, ok := ml.m[MethodKey{"*", "*"}]; ok {
		return l, false, true
	}
	return Limit{}, false, false
}

// validPlanID reports whether id has 1–64 characters of A-Z a-z 0-9 - _ .
func validPlanID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// validKeyID reports whether id is a usable API key id: 1–1024 bytes with
// no control characters.
func validKeyID(id string) bool {
	if id == "" || len(id) > 1024 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// stageRef names an API stage.
type stageRef struct{ api, stage string }

// compiledPlan is a validated, private copy of a plan.
type compiledPlan struct {
	spec     UsagePlan
	throttle Limit
	hasLimit bool
	quota    Quota
	hasQuota bool
	stages   map[stageRef]MethodLimits
	window   atomic.Pointer[Window] // the quota window last computed
}

// windowAt returns the plan's quota window containing now, computing it
// only when now has left the last one.
func (c *compiledPlan) windowAt(now time.Time) Window {
	if w := c.window.Load(); w != nil && !now.Before(w.Start) && now.Before(w.End) {
		return *w
	}
	w := c.quota.Window(now)
	c.window.Store(&w)
	return w
}

// compilePlan validates p and copies it.
func compilePlan(p UsagePlan) (*compiledPlan, error) {
	if !validPlanID(p.ID) {
		return nil, fmt.Errorf("throttle: usage plan id %q must have 1-64 characters of A-Z a-z 0-9 . - _", p.ID)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("throttle: usage plan %q: "+format, append([]any{p.ID}, args...)...)
	}
	c := &compiledPlan{stages: make(map[stageRef]MethodLimits, len(p.Stages))}
	if p.Throttle != nil {
		if err := p.Throttle.Validate(); err != nil {
			return nil, fail("Throttle: %w", err)
		}
		c.throttle, c.hasLimit = *p.Throttle, true
	}
	if p.Quota != nil {
		if err := p.Quota.Validate(); err != nil {
			return nil, fail("Quota: %w", err)
		}
		c.quota, c.hasQuota = *p.Quota, true
	}
	for i, s := range p.Stages {
		if s.API == "" || s.Stage == "" {
			return nil, fail("Stages[%d]: API and Stage are required", i)
		}
		ref := stageRef{s.API, s.Stage}
		if _, dup := c.stages[ref]; dup {
			return nil, fail("Stages[%d]: API %q stage %q is listed twice", i, s.API, s.Stage)
		}
		if len(s.Methods) > MaxPlanMethods {
			return nil, fail("Stages[%d]: %d method throttles, at most %d", i, len(s.Methods), MaxPlanMethods)
		}
		ml, err := ParseMethodLimits(s.Methods)
		if err != nil {
			return nil, fail("Stages[%d] (API %q stage %q) Methods: %w", i, s.API, s.Stage, err)
		}
		c.stages[ref] = ml
	}
	c.spec = clonePlan(p)
	return c, nil
}

// clonePlan returns a deep copy of p.
func clonePlan(p UsagePlan) UsagePlan {
	if p.Throttle != nil {
		l := *p.Throttle
		p.Throttle = &l
	}
	if p.Quota != nil {
		q := *p.Quota
		p.Quota = &q
	}
	stages := make([]PlanStage, len(p.Stages))
	for i, s := range p.Stages {
		if s.Methods != nil {
			m := make(map[string]Limit, len(s.Methods))
			for k, v := range s.Methods {
				m[k] = v
			}
			s.Methods = m
		}
		stages[i] = s
	}
	if p.Stages == nil {
		stages = nil
	}
	p.Stages = stages
	return p
}
