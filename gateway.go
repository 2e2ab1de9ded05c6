// Package portico is an embeddable API gateway: it gives a Go service what a
// managed API gateway gives a cloud API — APIs with routes, versions and
// stages, integrations with in-process functions and HTTP backends, and the
// gateway's typed error responses — in-process and testable in a unit test.
//
// An [API] is plain data: routes from method and path templates to
// integrations, which are [net/http.Handler]s. [Gateway.Deploy] compiles it
// into an immutable [Deployment] served by a named [Stage]; redeploying swaps
// the deployment atomically and [Stage.Rollback] brings back the previous
// one. The [Gateway] is the http.Handler that serves every stage:
//
//	api := portico.NewAPI("pets", portico.HTTP)
//	api.Handle("GET /pets/{id}", integration.Function(getPet))
//	gw, _ := portico.New()
//	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
//		log.Fatal(err)
//	}
//	http.ListenAndServe("127.0.0.1:8080", gw) // GET /prod/pets/7
//
// A stage is addressed at /{stage}/... (the model gateway's execute-api URL;
// with several APIs, the host {api-id}.execute-api.{anything} selects one),
// or at any host and base path with [Gateway.MapBasePath]. Versions of an
// API are APIs of the same name with different [API.Version], served side by
// side under /{stage}/{version}/... or chosen by a header ([Versioning]).
//
// Every request gets a request id (the x-amzn-RequestId response header and
// reqctx.From(r.Context()).RequestID), a body limit (10 MB by default;
// larger bodies get 413 REQUEST_TOO_LARGE) and an integration timeout (29 s
// by default, per route without upper limit; 504 INTEGRATION_TIMEOUT). A
// panicking integration gets 502 INTEGRATION_FAILURE and never takes the
// process down. Errors are gateway responses ([GatewayResponse]) with a type
// header and a JSON body, customisable per API.
package portico

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/internal/router"
	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/websocket"
)

// Defaults of the gateway's limits.
const (
	// DefaultMaxBodyBytes is the default request body limit (10 MB).
	DefaultMaxBodyBytes = 10 << 20
	// DefaultIntegrationTimeout is the default integration timeout.
	DefaultIntegrationTimeout = 29 * time.Second
)

// Option configures a [Gateway].
type Option func(*options)

type options struct {
	clock             clock.Clock
	logger            *slog.Logger
	maxBody           int64
	timeout           time.Duration
	notFound          reqctx.ResponseType
	defaultAPI        string
	noDefaultEndpoint bool
	accountID         string

	cache    cacheOptions
	throttle throttleOptions
	auth     authOptions
	ws       []websocket.Option
}

// WithClock makes the gateway read time from c; the default is the real
// clock. Tests pass porticotest's fake clock.
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets where the gateway logs failures; the default is
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithMaxBodyBytes sets the default request body limit (10 MB if unset).
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithIntegrationTimeout sets the default integration timeout (29 s if
// unset). Stages and routes may override it.
func WithIntegrationTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithMissingAuthenticationToken answers unknown paths and unknown methods
// the way the model gateway's REST APIs do — 403 MISSING_AUTHENTICATION_TOKEN
// {"message":"Missing Authentication Token"} — instead of 404
// RESOURCE_NOT_FOUND and 405 METHOD_NOT_ALLOWED, for clients that depend on it.
func WithMissingAuthenticationToken() Option {
	return func(o *options) { o.notFound = reqctx.MissingAuthenticationToken }
}

// WithDefaultAPI names the API that /{stage}/... serves on hosts that do not
// select one ({api-id}.execute-api.…). Without it, such a request is served
// by the only API that has a stage of that name.
func WithDefaultAPI(name string) Option { return func(o *options) { o.defaultAPI = name } }

// WithoutDefaultEndpoint turns off the /{stage}/... address, so that stages
// are reachable only through base-path mappings.
func WithoutDefaultEndpoint() Option { return func(o *options) { o.noDefaultEndpoint = true } }

// WithAccountID sets the account id used in ARNs and $context.accountId
// (default "000000000000").
func WithAccountID(id string) Option { return func(o *options) { o.accountID = id } }

// Gateway serves deployed API stages. It is an http.Handler; mount it on a
// server or under a path of an existing mux (with [http.StripPrefix]). A
// Gateway is safe for concurrent use: deploys, rollbacks and mappings may
// happen while it serves.
type Gateway struct {
	opts   options
	clock  clock.Clock
	logger *slog.Logger

	table atomic.Pointer[table]

	inflight atomic.Int64
	closing  atomic.Bool
	idle     chan struct{} // signalled when the last request leaves while closing

	cache    cacheState
	throttle throttleState
	auth     authState
	ws       wsState

	mu         sync.Mutex // guards the fields below
	stages     map[stageKey]*Stage
	apiIDs     map[string]string // api id → api name
	versioning map[string]Versioning
	mappings   []BasePathMapping
}

type stageKey struct{ api, version, stage string }

// New returns a gateway with no stages.
func New(opts ...Option) (*Gateway, error) {
	o := options{
		maxBody:   DefaultMaxBodyBytes,
		timeout:   DefaultIntegrationTimeout,
		notFound:  reqctx.ResourceNotFound,
		accountID: "000000000000",
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBody <= 0 {
		return nil, fmt.Errorf("portico: WithMaxBodyBytes(%d): must be positive", o.maxBody)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("portico: WithIntegrationTimeout(%v): must be positive", o.timeout)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	g := &Gateway{
		opts:       o,
		clock:      clock.OrReal(o.clock),
		logger:     o.logger,
		idle:       make(chan struct{}, 1),
		stages:     map[stageKey]*Stage{},
		apiIDs:     map[string]string{},
		versioning: map[string]Versioning{},
	}
	g.rebuildLocked()
	return g, nil
}

// ErrClosed is returned by [Gateway.Deploy] after [Gateway.Shutdown].
var ErrClosed = errors.New("portico: gateway is shut down")

// Deploy compiles api into a new deployment and makes the stage cfg.Name of
// that API version serve it, creating the stage on first use. Requests in
// flight finish on the deployment they started on. Every problem with the
// API or the stage — a malformed route, a duplicate, an undefined stage
// variable — is returned as an error naming the route and field, and leaves
// the stage as it was.
func (g *Gateway) Deploy(api *API, cfg StageConfig) (*Stage, error) {
	d, err := g.compile(api, cfg)
	if err != nil {
		return nil, err
	}
	if g.closing.Load() {
		return nil, ErrClosed
	}
	id := d.api.apiID()
	g.mu.Lock()
	defer g.mu.Unlock()
	if other, ok := g.apiIDs[id]; ok && other != d.api.Name {
		return nil, fmt.Errorf("portico: API %q: id %q is already used by API %q", d.api.Name, id, other)
	}
	key := stageKey{d.api.Name, d.api.Version, cfg.Name}
	st := g.stages[key]
	isNew := st == nil
	if isNew {
		st = &Stage{gw: g, apiName: d.api.Name, apiID: id, version: d.api.Version, name: cfg.Name}
	}
	st.mu.Lock()
	st.pushLocked(d)
	st.mu.Unlock()
	if isNew {
		g.stages[key] = st
		g.apiIDs[id] = d.api.Name
		g.rebuildLocked()
	}
	return st, nil
}

// Stage returns the stage of the given API name, version and stage name, or
// nil if none has been deployed.
func (g *Gateway) Stage(apiName, version, stage string) *Stage {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stages[stageKey{apiName, version, stage}]
}

// Stages returns every stage, ordered by API name, version and stage name.
func (g *Gateway) Stages() []*Stage {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*Stage, 0, len(g.stages))
	for _, s := range g.stages {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Stage) int {
		return strings.Compare(a.apiName+"\x00"+a.version+"\x00"+a.name, b.apiName+"\x00"+b.version+"\x00"+b.name)
	})
	return out
}

// Shutdown stops the gateway taking new requests (they get 503 with
// Connection: close) and waits until the requests in flight have finished
// or ctx is done, whichever is first. Shut the http.Server down first (it
// stops accepting connections); then the gateway.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.closing.Store(true)
	defer g.closeAuth()
	if err := g.closeWebSocket(ctx); err != nil {
		return fmt.Errorf("portico: shutdown: %w", err)
	}
	for g.inflight.Load() > 0 {
		select {
		case <-g.idle:
		case <-ctx.Done():
			return fmt.Errorf("portico: shutdown: %d requests still in flight: %w", g.inflight.Load(), ctx.Err())
		}
	}
	return nil
}

func (g *Gateway) leave() {
	if g.inflight.Add(-1) == 0 && g.closing.Load() {
		select {
		case g.idle <- struct{}{}:
		default:
		}
	}
}

// table is the gateway's routing state, rebuilt when stages or mappings are
// added and read without locks on every request.
type table struct {
	byID       map[string]*apiEntry
	byName     map[string]*apiEntry
	stageAPIs  map[string][]*apiEntry
	domains    map[string][]BasePathMapping // exact domain → longest base path first
	wildcards  map[string][]BasePathMapping // ".example.com" → …
	anyHost    []BasePathMapping
	defaultAPI *apiEntry
}

type apiEntry struct {
	id, name   string
	versioning Versioning
	stages     map[string]map[string]*Stage // stage → version → stage
}

func (g *Gateway) rebuildLocked() {
	t := &table{
		byID:      map[string]*apiEntry{},
		byName:    map[string]*apiEntry{},
		stageAPIs: map[string][]*apiEntry{},
		domains:   map[string][]BasePathMapping{},
		wildcards: map[string][]BasePathMapping{},
	}
	for k, st := range g.stages {
		a := t.byName[k.api]
		if a == nil {
			a = &apiEntry{id: st.apiID, name: k.api, versioning: g.versioning[k.api], stages: map[string]map[string]*Stage{}}
			t.byName[k.api] = a
			t.byID[a.id] = a
		}
		if a.stages[k.stage] == nil {
			a.stages[k.stage] = map[string]*Stage{}
			t.stageAPIs[k.stage] = append(t.stageAPIs[k.stage], a)
		}
		a.stages[k.stage][k.version] = st
	}
	t.defaultAPI = t.byName[g.opts.defaultAPI]
	for _, m := range g.mappings {
		switch {
		case m.Domain == "":
			t.anyHost = append(t.anyHost, m)
		case strings.HasPrefix(m.Domain, "*."):
			t.wildcards[m.Domain[1:]] = append(t.wildcards[m.Domain[1:]], m)
		default:
			t.domains[m.Domain] = append(t.domains[m.Domain], m)
		}
	}
	byLen := func(a, b BasePathMapping) int { return len(b.BasePath) - len(a.BasePath) }
	slices.SortStableFunc(t.anyHost, byLen)
	for _, ms := range t.domains {
		slices.SortStableFunc(ms, byLen)
	}
	for _, ms := range t.wildcards {
		slices.SortStableFunc(ms, byLen)
	}
	g.table.Store(t)
}

// matchMapping finds the mapping for an escaped path among ms (longest
// first) and returns it with the rest of the path.
func matchMapping(ms []BasePathMapping, path string) (BasePathMapping, string, bool) {
	for _, m := range ms {
		if m.BasePath == "" {
			return m, path, true
		}
		p := "/" + m.BasePath
		if rest, ok := strings.CutPrefix(path, p); ok && (rest == "" || rest[0] == '/') {
			return m, rest, true
		}
	}
	return BasePathMapping{}, "", false
}

func (t *table) mappingsFor(host string) ([]BasePathMapping, bool) {
	if ms, ok := t.domains[host]; ok {
		return ms, true
	}
	for i := strings.IndexByte(host, '.'); i >= 0; i = strings.IndexByte(host[i+1:], '.') + i + 1 {
		if ms, ok := t.wildcards[host[i:]]; ok {
			return ms, true
		}
		if strings.IndexByte(host[i+1:], '.') < 0 {
			break
		}
	}
	return nil, false
}

// cutSegment splits "/a/b/c" into "a" and "/b/c".
func cutSegment(p string) (string, string) {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// ServeHTTP serves a request: it resolves the stage, matches the route and
// runs the route's pipeline.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.inflight.Add(1)
	defer g.leave()
	if g.closing.Load() {
		w.Header().Set("Connection", "close")
		reqctx.WriteDefaultError(w, r, reqctx.NewError(reqctx.ServiceUnavailable, ErrClosed))
		return
	}
	now := g.clock.Now()
	rc := &reqctx.Context{
		RequestID:         newRequestID(),
		ExtendedRequestID: newID(),
		RequestTime:       now,
		AccountID:         g.opts.accountID,
		Path:              r.URL.Path,
		RawPath:           r.URL.EscapedPath(),
		HTTPMethod:        r.Method,
		Protocol:          r.Proto,
		Identity:          reqctx.Identity{SourceIP: sourceIP(r.RemoteAddr), UserAgent: r.UserAgent()},
	}
	host := hostOnly(r.Host)
	rc.DomainName = host
	rc.DomainPrefix, _, _ = strings.Cut(host, ".")
	w.Header().Set("X-Amzn-Requestid", rc.RequestID)
	// One context for the whole pipeline, cancellable so that the
	// integration timeout can end it (see invoker).
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(context.Canceled)
	rc.SetCancel(cancel)
	r = r.WithContext(reqctx.With(ctx, rc))

	st, rest, notFoundMsg := g.resolve(r, rc, host)
	if st == nil {
		g.notFound(w, r, notFoundMsg)
		return
	}
	d := st.current.Load()
	rc.APIID = st.apiID
	rc.APIName = st.apiName
	rc.APIType = string(d.api.apiType())
	rc.Version = st.version
	rc.Stage = st.name
	rc.DeploymentID = d.ID
	rc.StageVariables = d.stage.Variables
	rc.BinaryMediaTypes = d.api.BinaryMediaTypes
	rc.SetErrorWriter(d.responses.write)
	if d.api.apiType() == HTTP {
		w.Header().Set("Apigw-Requestid", rc.RequestID)
	}
	for _, kv := range d.deprecation {
		w.Header().Set(kv.name, kv.value)
	}

	if r.ContentLength > d.maxBody {
		w.Header().Set("Connection", "close")
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.RequestTooLarge, fmt.Errorf("Content-Length %d over the limit of %d bytes", r.ContentLength, d.maxBody)))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, d.maxBody)
	}

	if d.ws != nil {
		g.serveWebSocket(w, r, d, rest)
		return
	}
	if rest == "" {
		rest = "/"
	}
	var cw *corsWriter
	origin := ""
	if d.anyCORS {
		if origin = r.Header.Get("Origin"); origin != "" {
			if isPreflight(r) {
				if p := d.preflightPolicy(r.Header.Get("Access-Control-Request-Method"), rest); p != nil {
					p.preflight(w, r)
					return
				}
			} else if d.cors != nil {
				cw = &corsWriter{ResponseWriter: w, p: d.cors, origin: origin}
				w = cw
			}
		}
	}
	var params router.Params
	m := d.router.Lookup(r.Method, rest, &params)
	var route *compiledRoute
	switch {
	case m.Result == router.Found:
		route = &d.routes[m.Value]
	case d.defaultRoute != nil:
		route = d.defaultRoute
		params.Reset()
	case m.Result == router.MethodNotAllowed && d.notFound != reqctx.MissingAuthenticationToken:
		e := reqctx.NewError(reqctx.MethodNotAllowed, nil)
		e.Header = http.Header{"Allow": {m.Allow}}
		reqctx.WriteError(w, r, e)
		return
	default:
		reqctx.WriteError(w, r, reqctx.NewError(d.notFound, nil))
		return
	}
	if origin != "" && route.cors != d.cors {
		// The route has a CORS policy of its own.
		switch p := route.cors; {
		case p == nil:
			if cw != nil {
				w = cw.ResponseWriter
			}
		case cw != nil:
			cw.p = p
		default:
			w = &corsWriter{ResponseWriter: w, p: p, origin: origin}
		}
	}
	rc.RouteKey = route.key
	rc.ResourcePath = route.template
	rc.ResourceID = route.resourceID
	if route == d.defaultRoute {
		rc.ResourcePath = rest
	}

	// The integration sees the path below the stage, base path and version.
	u := *r.URL
	r.URL = &u
	r.URL.RawPath = rest
	dec, err := url.PathUnescape(rest)
	if err != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.BadRequestParameters, fmt.Errorf("bad path escape: %w", err)))
		return
	}
	r.URL.Path = dec
	if dec == rest {
		r.URL.RawPath = ""
	}
	rc.RoutePath = dec
	if params.N > 0 {
		rc.PathParams = make(map[string]string, params.N)
		for i := 0; i < params.N; i++ {
			v, err := url.PathUnescape(params.Values[i])
			if err != nil {
				reqctx.WriteError(w, r, reqctx.NewError(reqctx.BadRequestParameters, fmt.Errorf("path parameter %s: %w", params.Keys[i], err)))
				return
			}
			rc.PathParams[params.Keys[i]] = v
			r.SetPathValue(params.Keys[i], v)
		}
	} else if route == d.defaultRoute {
		rc.PathParams = map[string]string{"proxy": strings.TrimPrefix(dec, "/")}
	}
	if r.URL.RawQuery != "" {
		rc.Query = r.URL.Query()
	}
	route.handler.ServeHTTP(w, r)
}

// resolve finds the stage serving r and the escaped path below it. When it
// finds none it returns a message for the 404.
func (g *Gateway) resolve(r *http.Request, rc *reqctx.Context, host string) (*Stage, string, string) {
	t := g.table.Load()
	path := r.URL.EscapedPath()
	var (
		api          *apiEntry
		stageName    string
		version      string
		versionFixed bool
		rest         string
	)
	ms, hasDomain := t.mappingsFor(host)
	if !hasDomain && len(t.anyHost) > 0 {
		ms = t.anyHost
	}
	if m, p, ok := matchMapping(ms, path); ok {
		api = t.byName[m.API]
		stageName, version, versionFixed, rest = m.Stage, m.Version, m.Version != "", p
		rc.BasePathMatched = m.BasePath
		if api == nil {
			return nil, "", "No API is deployed at this path"
		}
	} else if hasDomain || g.opts.noDefaultEndpoint {
		return nil, "", "No API is mapped at this path"
	} else {
		var seg string
		seg, rest = cutSegment(path)
		if seg == "" {
			return nil, "", "Missing stage name in the path"
		}
		s, err := url.PathUnescape(seg)
		if err != nil {
			return nil, "", "Bad stage name"
		}
		stageName = s
		if id, _, ok := strings.Cut(host, ".execute-api."); ok {
			api = t.byID[id]
		}
		if api == nil {
			api = t.defaultAPI
		}
		if api == nil {
			switch cands := t.stageAPIs[stageName]; len(cands) {
			case 0:
				return nil, "", "No stage named " + stageName
			case 1:
				api = cands[0]
			default:
				return nil, "", "Several APIs have a stage named " + stageName + "; address one by host {api-id}.execute-api.… or a base-path mapping"
			}
		}
	}
	versions := api.stages[stageName]
	if versions == nil {
		return nil, "", "No stage named " + stageName
	}
	if !versionFixed {
		seg, after := cutSegment(rest)
		switch {
		case seg != "" && versions[seg] != nil:
			version, rest = seg, after
		case api.versioning.Header != "" && r.Header.Get(api.versioning.Header) != "":
			version = r.Header.Get(api.versioning.Header)
			if versions[version] == nil {
				return nil, "", "Unknown API version " + version
			}
		case api.versioning.Default != "" && versions[api.versioning.Default] != nil:
			version = api.versioning.Default
		}
	}
	st := versions[version]
	if st == nil {
		if version == "" {
			return nil, "", "No API version in the path"
		}
		return nil, "", "Unknown API version " + version
	}
	return st, rest, ""
}

func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	e := reqctx.NewError(g.opts.notFound, errors.New(msg))
	if g.opts.notFound == reqctx.ResourceNotFound {
		e.Message = msg
	}
	reqctx.WriteError(w, r, e)
}

func hostOnly(hostport string) string {
	h := hostport
	// Only a host with a port (or a bracketed IPv6 address) goes through
	// SplitHostPort, whose error for a bare host allocates.
	if strings.IndexByte(hostport, ':') >= 0 {
		if host, _, err := net.SplitHostPort(hostport); err == nil {
			h = host
		}
	}
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}

func sourceIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// newRequestID returns a random UUID (version 4). Request ids need to be
// unique, not secret: they come from the runtime's per-thread ChaCha8
// generator, which is seeded from the OS and needs no system call.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdigits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexdigits[c>>4], hexdigits[c&0xf]
		j += 2
	}
	return string(out[:])
}
