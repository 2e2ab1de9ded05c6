package portico

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/internal/router"
	"github.com/portico-gw/portico/internal/stagevar"
	"github.com/portico-gw/portico/reqctx"
)

// StageConfig is the configuration of a stage: its name, variables and
// settings. Settings left zero take the gateway's defaults.
type StageConfig struct {
	// Name is the stage name ("dev", "prod"): 1–128 characters of
	// A-Z a-z 0-9 - _; required.
	Name string
	// Description is free text.
	Description string
	// Variables are the stage variables: at most 100, names of 1–64
	// characters of A-Z a-z 0-9 _, values of 1–512 characters of
	// A-Z a-z 0-9 - . _ ~ : / ? # & = ,. Integrations and templates refer to
	// them as ${stageVariables.NAME}; a reference to an undefined variable
	// fails the deploy.
	Variables map[string]string
	// IntegrationTimeout bounds every integration of the stage that sets no
	// [Route.Timeout]; 0 means the gateway's (29 s by default).
	IntegrationTimeout time.Duration
	// MaxBodyBytes limits request bodies; 0 means the gateway's (10 MB by
	// default). Larger bodies get 413 REQUEST_TOO_LARGE.
	MaxBodyBytes int64
	// Cache is the stage's response cache; the zero value is off.
	Cache StageCache
	// Throttle holds the stage's throttle settings.
	Throttle StageThrottle
	// Auth holds the stage's endpoint type and allowed source networks.
	Auth StageAuth
}

// maxHistory is how many deployments a stage remembers for rollback.
const maxHistory = 50

// Deployment is an immutable, compiled snapshot of an API on a stage. Every
// request is served by exactly one deployment from start to end, so a
// redeploy never changes a request in flight. Safe for concurrent use.
type Deployment struct {
	// ID identifies the deployment ($context.deploymentId).
	ID string
	// CreatedAt is when it was deployed.
	CreatedAt time.Time

	api          *API
	stage        StageConfig
	router       *router.Router
	routes       []compiledRoute
	defaultRoute *compiledRoute
	responses    *responseSet
	deprecation  []headerKV
	notFound     reqctx.ResponseType
	maxBody      int64
	ws           *wsDeployment // a WebSocket API's routes (websocket_api.go)
	cors         *corsPolicy   // the API's CORS policy; nil for none
	anyCORS      bool          // the API or one of its routes has a CORS policy
}

type headerKV struct{ name, value string }

// API returns a copy of the API definition the deployment was made from.
func (d *Deployment) API() *API { return d.api.clone() }

// Stage returns the stage configuration the deployment was made with.
func (d *Deployment) Stage() StageConfig {
	c := d.stage
	c.Variables = maps.Clone(c.Variables)
	return c
}

// RouteKeys returns the keys of the deployed routes, in definition order.
func (d *Deployment) RouteKeys() []string {
	keys := make([]string, 0, len(d.routes)+1)
	for _, r := range d.routes {
		keys = append(keys, r.key)
	}
	if d.defaultRoute != nil {
		keys = append(keys, DefaultRouteKey)
	}
	return keys
}

// compiledRoute is a route ready to serve: its whole pipeline composed once
// at deploy time.
type compiledRoute struct {
	key        string
	method     string
	template   string
	resourceID string
	operation  string
	handler    http.Handler
	cors       *corsPolicy // the route's CORS policy (its own or the API's)
}

// Stage is a named stage of one API version: it serves one deployment at a
// time and keeps the earlier ones for rollback. Safe for concurrent use.
type Stage struct {
	gw      *Gateway
	apiName string
	apiID   string
	version string
	name    string

	current atomic.Pointer[Deployment]

	mu      sync.Mutex // guards history
	history []*Deployment
}

// Name returns the stage name.
func (s *Stage) Name() string { return s.name }

// APIName returns the name of the API the stage belongs to.
func (s *Stage) APIName() string { return s.apiName }

// Version returns the API version the stage serves ("" if unversioned).
func (s *Stage) Version() string { return s.version }

// Deployment returns the deployment the stage serves now.
func (s *Stage) Deployment() *Deployment { return s.current.Load() }

// History returns the stage's deployments, oldest first; the last one is
// the current deployment unless the stage was rolled back.
func (s *Stage) History() []*Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Deployment(nil), s.history...)
}

// ErrNoPreviousDeployment is returned by [Stage.Rollback] when the stage has
// no deployment before the current one.
var ErrNoPreviousDeployment = errors.New("portico: no previous deployment to roll back to")

// Rollback makes the stage serve the deployment before the current one and
// returns it. Requests in flight finish on the deployment they started on.
func (s *Stage) Rollback() (*Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.current.Load()
	for i := len(s.history) - 1; i > 0; i-- {
		if s.history[i] == cur {
			prev := s.history[i-1]
			s.current.Store(prev)
			return prev, nil
		}
	}
	return nil, ErrNoPreviousDeployment
}

// RollbackTo makes the stage serve the deployment with the given id from
// its history.
func (s *Stage) RollbackTo(id string) (*Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.history {
		if d.ID == id {
			s.current.Store(d)
			return d, nil
		}
	}
	return nil, fmt.Errorf("portico: stage %q has no deployment %q", s.name, id)
}

func (s *Stage) pushLocked(d *Deployment) {
	s.history = append(s.history, d)
	if len(s.history) > maxHistory {
		s.history = append([]*Deployment(nil), s.history[len(s.history)-maxHistory:]...)
	}
	s.current.Store(d)
}

// newID returns a random 10-character id of [a-z0-9], for deployments and
// extended request ids.
func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [10]byte
	x := rand.Uint64()
	for i := range b {
		b[i] = alphabet[x%uint64(len(alphabet))]
		x /= uint64(len(alphabet))
	}
	return string(b[:])
}

// RouteError is a configuration error in one route, returned by
// [Gateway.Deploy].
type RouteError struct {
	API   string // API name
	Route string // route key
	Field string // the Route field at fault, if one is
	Err   error
}

// Error names the API, route and field, then the problem.
func (e *RouteError) Error() string {
	field := ""
	if e.Field != "" {
		field = " " + e.Field
	}
	return fmt.Sprintf("portico: API %q route %q%s: %v", e.API, e.Route, field, e.Err)
}

// Unwrap returns the underlying problem.
func (e *RouteError) Unwrap() error { return e.Err }

func validStageName(n string) bool { return validIdent(n, 128, "-_") }

// compile validates api against cfg and builds a deployment.
func (g *Gateway) compile(api *API, cfg StageConfig) (*Deployment, error) {
	if err := api.validate(); err != nil {
		return nil, err
	}
	if !validStageName(cfg.Name) {
		return nil, fmt.Errorf("portico: API %q: stage name %q must have 1-128 characters of A-Z a-z 0-9 - _", api.Name, cfg.Name)
	}
	if err := stagevar.Validate(cfg.Variables); err != nil {
		return nil, fmt.Errorf("portico: API %q stage %q: %w", api.Name, cfg.Name, err)
	}
	if cfg.IntegrationTimeout < 0 {
		return nil, fmt.Errorf("portico: stage %q: IntegrationTimeout %v is negative", cfg.Name, cfg.IntegrationTimeout)
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("portico: stage %q: MaxBodyBytes %d is negative", cfg.Name, cfg.MaxBodyBytes)
	}
	api = api.clone()
	cfg.Variables = maps.Clone(cfg.Variables)
	d := &Deployment{
		ID:        newID(),
		CreatedAt: g.clock.Now(),
		api:       api,
		stage:     cfg,
		notFound:  g.opts.notFound,
		maxBody:   cfg.MaxBodyBytes,
	}
	if d.maxBody == 0 {
		d.maxBody = g.opts.maxBody
	}
	stageTimeout := cfg.IntegrationTimeout
	if stageTimeout == 0 {
		stageTimeout = g.opts.timeout
	}
	var err error
	if d.cors, err = compileCORS(api.CORS); err != nil {
		return nil, fmt.Errorf("portico: API %q: %w", api.Name, err)
	}
	d.anyCORS = d.cors != nil
	if d.responses, err = compileResponses(api.GatewayResponses, g.logger); err != nil {
		return nil, fmt.Errorf("portico: API %q: %w", api.Name, err)
	}
	for _, cr := range d.responses.byType {
		if err := checkStageVarRefs(cr, cfg.Variables); err != nil {
			return nil, fmt.Errorf("portico: API %q stage %q: gateway response: %w", api.Name, cfg.Name, err)
		}
	}
	if api.apiType() == WebSocket {
		if err := g.compileWebSocket(d, stageTimeout); err != nil {
			return nil, err
		}
		return d, nil
	}
	var b router.Builder
	for i, rt := range api.Routes {
		key := rt.Key()
		fail := func(field string, err error) error {
			return &RouteError{API: api.Name, Route: key, Field: field, Err: err}
		}
		if rt.Integration == nil {
			return nil, fail("Integration", errors.New("no integration"))
		}
		if rt.Timeout < 0 {
			return nil, fail("Timeout", fmt.Errorf("negative timeout %v", rt.Timeout))
		}
		h := rt.Integration
		if binder, ok := h.(integration.Binder); ok {
			if h, err = binder.BindStage(cfg.Variables); err != nil {
				return nil, fail("Integration", err)
			}
			if h == nil {
				return nil, fail("Integration", errors.New("BindStage returned no handler"))
			}
		}
		timeout := rt.Timeout
		if timeout == 0 {
			timeout = stageTimeout
		}
		c := compiledRoute{
			key:        key,
			method:     rt.Method,
			template:   rt.Path,
			resourceID: fmt.Sprintf("r%03d", i),
			operation:  rt.OperationName,
			cors:       d.cors,
		}
		if rt.CORS != nil {
			if c.cors, err = compileCORS(rt.CORS); err != nil {
				return nil, fail("CORS", err)
			}
			d.anyCORS = true
		}
		if c.handler, err = g.pipeline(d, &rt, &invoker{h: h, timeout: timeout, clock: g.clock, logger: g.logger}); err != nil {
			return nil, err
		}
		if rt.Path == DefaultRouteKey {
			if d.defaultRoute != nil {
				return nil, fail("Path", errors.New("duplicate $default route"))
			}
			c.method, c.template = "ANY", "/{proxy+}"
			d.defaultRoute = &c
			continue
		}
		if err := b.Add(rt.Method, rt.Path, len(d.routes)); err != nil {
			return nil, &RouteError{API: api.Name, Route: key, Field: "Path", Err: err}
		}
		d.routes = append(d.routes, c)
	}
	if d.router, err = b.Build(); err != nil {
		return nil, fmt.Errorf("portico: API %q: %w", api.Name, err)
	}
	if dep := api.Deprecation; dep != nil {
		since := dep.Since
		if since.IsZero() {
			since = d.CreatedAt
		}
		d.deprecation = append(d.deprecation, headerKV{"Deprecation", fmt.Sprintf("@%d", since.Unix())})
		if !dep.Sunset.IsZero() {
			d.deprecation = append(d.deprecation, headerKV{"Sunset", dep.Sunset.UTC().Format(http.TimeFormat)})
		}
		var links []string
		if dep.Successor != "" {
			links = append(links, fmt.Sprintf("<%s>; rel=\"successor-version\"", dep.Successor))
		}
		if dep.Documentation != "" {
			links = append(links, fmt.Sprintf("<%s>; rel=\"deprecation\"", dep.Documentation))
		}
		if len(links) > 0 {
			d.deprecation = append(d.deprecation, headerKV{"Link", strings.Join(links, ", ")})
		}
		for _, kv := range d.deprecation {
			if strings.ContainsAny(kv.value, "\r\n") {
				return nil, fmt.Errorf("portico: API %q: deprecation %s contains CR or LF", api.Name, kv.name)
			}
		}
	}
	return d, nil
}

func checkStageVarRefs(cr *compiledResponse, vars map[string]string) error {
	check := func(t respTemplate) error {
		for _, p := range t {
			if p.stageVar != "" {
				if _, ok := vars[p.stageVar]; !ok {
					return &stagevar.UndefinedError{Name: p.stageVar}
				}
			}
		}
		return nil
	}
	if err := check(cr.body); err != nil {
		return err
	}
	for _, h := range cr.headers {
		if err := check(h.value); err != nil {
			return err
		}
	}
	return nil
}

// step builds one pipeline step for a route at deploy time. It returns nil
// when the route does not need the step, so that the route pays nothing for
// it.
type step func(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error)

// pipeline composes the steps a route needs around its integration, in the
// order of the request flow (see ARCHITECTURE.md): guard, authorize, meter,
// validate, cache, map. Each step is built by a [step] in its own file
// (pipeline_*.go) as the features that need them land; a route that needs
// none of them runs its integration directly.
func (g *Gateway) pipeline(d *Deployment, rt *Route, h http.Handler) (http.Handler, error) {
	steps := []struct {
		field string
		build step
	}{
		{"Transform", g.compressStep},
		{"Auth", g.guardStep},
		{"Auth", g.authorizeStep},
		{"Throttle", g.meterStep},
		{"Transform", g.validateStep},
		{"Cache", g.cacheStep},
		{"Transform", g.mapStep},
	}
	mws := make([]func(http.Handler) http.Handler, 0, len(steps))
	for _, s := range steps {
		mw, err := s.build(d, rt)
		if err != nil {
			return nil, &RouteError{API: d.api.Name, Route: rt.Key(), Field: s.field, Err: err}
		}
		if mw != nil {
			mws = append(mws, mw)
		}
	}
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h, nil
}
