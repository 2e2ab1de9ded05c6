package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/reqctx"
)

// HTTPProxy is the HTTP proxy integration (the model's HTTP_PROXY): it
// passes the request to a backend and streams the response back, neither
// body ever held in memory.
//
// Target is a URI template: "https://${stageVariables.backend}/pets/{id}"
// or, for a greedy route, "http://10.0.0.1:8080/{proxy}". Stage variables are
// substituted once per deployment; path parameters per request, each value
// escaped as one segment (the greedy parameter as several), so that no
// parameter can walk the path ("..", "%2F") or change the host. The
// caller's query string is appended to the target's. Method, headers and
// body pass through; hop-by-hop headers are dropped; X-Forwarded-For,
// -Proto and -Host are set (an incoming X-Forwarded-For is kept only from
// TrustedProxies); X-Request-Id carries the gateway's request id. Protocol
// upgrades (WebSocket) pass through.
//
// Failures answer with gateway responses: a connect, response-header or
// total timeout 504 INTEGRATION_TIMEOUT, a refused or reset connection 502
// INTEGRATION_FAILURE, a pool with no available target 503
// SERVICE_UNAVAILABLE, a parameter value that would walk the path 400
// BAD_REQUEST_PARAMETERS. A client that goes away cancels the backend
// request.
//
// Use it by pointer; don't change its fields once it serves. It is safe for
// concurrent use.
type HTTPProxy struct {
	// Target is the URI template; required. With a Pool, its scheme and host
	// are replaced by the chosen target's, and the host may be left out
	// ("http:///pets/{id}").
	Target string
	// Pool, if set, spreads requests over several backends.
	Pool *Pool
	// Timeouts bound each backend call.
	Timeouts Timeouts
	// Transport configures the connections to the backend. Ignored when
	// RoundTripper is set.
	Transport TransportConfig
	// RoundTripper, if set, sends the requests instead of a transport built
	// from Transport.
	RoundTripper http.RoundTripper
	// TrustedProxies are the networks whose X-Forwarded-For and
	// X-Forwarded-Proto are believed and extended; from anyone else they are
	// replaced.
	TrustedProxies []netip.Prefix
	// Logger receives backend failures with the request id; nil means
	// slog.Default().
	Logger *slog.Logger

	once    sync.Once
	unbound *boundHTTP
	err     error
}

var _ Binder = (*HTTPProxy)(nil)

// BindStage substitutes the stage's variables into the target, checks it,
// and returns the handler that serves the stage. An undefined variable or a
// bad target is an error.
func (p *HTTPProxy) BindStage(vars map[string]string) (http.Handler, error) {
	return p.bind(vars, nil)
}

// ServeHTTP serves a request with the target bound to no stage variables
// (for use outside a gateway, which binds at deploy time). A target that
// does not bind answers 500 API_CONFIGURATION_ERROR.
func (p *HTTPProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.once.Do(func() { p.unbound, p.err = p.bind(nil, nil) })
	if p.err != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, p.err))
		return
	}
	p.unbound.ServeHTTP(w, r)
}

func (p *HTTPProxy) bind(vars map[string]string, m *mapping) (*boundHTTP, error) {
	raw, err := ExpandStageVariables(p.Target, vars)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	tmpl, err := parseTarget(raw, p.Pool != nil)
	if err != nil {
		return nil, err
	}
	if p.Timeouts.Connect < 0 || p.Timeouts.ResponseHeader < 0 || p.Timeouts.Total < 0 {
		return nil, errors.New("timeouts must not be negative")
	}
	for _, pfx := range p.TrustedProxies {
		if !pfx.IsValid() {
			return nil, errors.New("TrustedProxies: invalid prefix")
		}
	}
	logger := p.Logger
	if logger == nil {
		logger = slog.Default()
	}
	b := &boundHTTP{tmpl: tmpl, pool: p.Pool, total: p.Timeouts.Total, trusted: p.TrustedProxies, logger: logger, mapping: m}
	var rt http.RoundTripper = p.RoundTripper
	if rt == nil {
		rt = newTransport(p.Transport, p.Timeouts)
	}
	if p.Pool != nil {
		rt = &poolRoundTripper{pool: p.Pool, base: rt}
	}
	b.rp = &httputil.ReverseProxy{
		Rewrite:        b.rewrite,
		Transport:      rt,
		BufferPool:     copyBuffers,
		ErrorHandler:   b.errorHandler,
		ModifyResponse: b.modifyResponse,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return b, nil
}

// boundHTTP is an HTTP integration bound to one stage.
type boundHTTP struct {
	tmpl    *targetTemplate
	pool    *Pool
	rp      *httputil.ReverseProxy
	total   time.Duration
	trusted []netip.Prefix
	logger  *slog.Logger
	mapping *mapping
}

type proxyStateKey struct{}

// proxyState carries a request's target from ServeHTTP to Rewrite.
type proxyState struct {
	target *url.URL
	rc     *reqctx.Context
}

var errTotalTimeout = fmt.Errorf("integration: backend call exceeded its total timeout: %w", context.DeadlineExceeded)

func (b *boundHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	target, err := b.tmpl.expand(func(name string) (string, bool) {
		if rc != nil && rc.PathParams != nil {
			v, ok := rc.PathParams[name]
			return v, ok
		}
		v := r.PathValue(name)
		return v, v != ""
	}, "")
	if err != nil {
		t := reqctx.APIConfigurationError
		if errors.Is(err, errBadParam) {
			t = reqctx.BadRequestParameters
		}
		reqctx.WriteError(w, r, reqctx.NewError(t, err))
		return
	}
	ctx := context.WithValue(r.Context(), proxyStateKey{}, &proxyState{target: target, rc: rc})
	if b.total > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, b.total, errTotalTimeout)
		defer cancel()
	}
	out := r.WithContext(ctx)
	if b.mapping != nil && b.mapping.request != nil {
		out = out.Clone(ctx)
		if err := b.mapping.request(out); err != nil {
			reqctx.WriteError(w, r, asMappingError(err))
			return
		}
	}
	start := time.Now()
	b.rp.ServeHTTP(w, out)
	if rc != nil {
		rc.IntegrationLatency = time.Since(start)
	}
}

func asMappingError(err error) error {
	var e *reqctx.Error
	if errors.As(err, &e) {
		return e
	}
	return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("request mapping: %w", err))
}

// droppedRequestHeaders are not forwarded to backends (besides the
// hop-by-hop headers the reverse proxy drops).
var droppedRequestHeaders = []string{"Expect", "Max-Forwards", "Proxy-Authenticate", "Proxy-Authorization", "Server", "WWW-Authenticate", "Content-MD5"}

func (b *boundHTTP) rewrite(pr *httputil.ProxyRequest) {
	st, _ := pr.In.Context().Value(proxyStateKey{}).(*proxyState)
	u := *st.target
	if q := pr.In.URL.RawQuery; q != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
	}
	pr.Out.URL = &u
	pr.Out.Host = ""
	h := pr.Out.Header
	for _, k := range droppedRequestHeaders {
		h.Del(k)
	}
	peer := remoteIP(pr.In.RemoteAddr)
	trusted := b.isTrusted(peer)
	xff := peer
	if prior := pr.In.Header.Values("X-Forwarded-For"); trusted && len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + peer
	}
	h.Set("X-Forwarded-For", xff)
	proto := "http"
	if pr.In.TLS != nil {
		proto = "https"
	}
	if p := pr.In.Header.Get("X-Forwarded-Proto"); trusted && p != "" {
		proto = p
	}
	h.Set("X-Forwarded-Proto", proto)
	h.Set("X-Forwarded-Host", pr.In.Host)
	if st.rc != nil && st.rc.RequestID != "" {
		h.Set("X-Request-Id", st.rc.RequestID)
	}
}

func (b *boundHTTP) isTrusted(ip string) bool {
	if len(b.trusted) == 0 {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range b.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (b *boundHTTP) modifyResponse(res *http.Response) error {
	if st, _ := res.Request.Context().Value(proxyStateKey{}).(*proxyState); st != nil && st.rc != nil {
		st.rc.IntegrationStatus = res.StatusCode
	}
	if b.mapping != nil {
		return b.mapping.response(res)
	}
	return nil
}

func (b *boundHTTP) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	reqID := ""
	if rc := reqctx.From(ctx); rc != nil {
		reqID = rc.RequestID
		rc.IntegrationStatus = 0
	}
	cause := context.Cause(ctx)
	var mbe *http.MaxBytesError
	var ne net.Error
	var t reqctx.ResponseType
	switch {
	case errors.As(err, &mbe):
		t = reqctx.RequestTooLarge
	case errors.Is(err, errNoTarget):
		t = reqctx.ServiceUnavailable
	case ctx.Err() != nil && errors.Is(cause, context.DeadlineExceeded):
		t = reqctx.IntegrationTimeout
	case ctx.Err() != nil:
		// The client went away: nobody is left to answer.
		b.logger.Debug("portico: client gone during backend call", "requestId", reqID, "err", err)
		return
	case errors.As(err, &ne) && ne.Timeout():
		t = reqctx.IntegrationTimeout
	default:
		t = reqctx.IntegrationFailure
	}
	b.logger.Warn("portico: backend call failed", "requestId", reqID, "type", t, "err", err)
	reqctx.WriteError(w, r, reqctx.NewError(t, err))
}

// copyBuffers lends 32 KB buffers to the reverse proxy's copies.
var copyBuffers = &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte  { return *(p.pool.Get().(*[]byte)) }
func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }

// idempotent methods may be retried.
func idempotent(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// poolRoundTripper sends each attempt to a target the pool picks, records
// the outcome, and retries idempotent requests within the pool's budget.
type poolRoundTripper struct {
	pool *Pool
	base http.RoundTripper
}

func (t *poolRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.pool
	p.earnRetry()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	canRetry := p.cfg.Retry.Attempts > 1 && idempotent(req.Method) && replayable && req.Header.Get("Upgrade") == ""
	sourceIP := ""
	if rc := reqctx.From(req.Context()); rc != nil {
		sourceIP = rc.Identity.SourceIP
	}
	var tried []*poolTarget
	var lastErr error
	for attempt := 0; ; attempt++ {
		target, err := p.pick(req, sourceIP, tried)
		if err != nil {
			if lastErr != nil {
				return nil, lastErr
			}
			return nil, err
		}
		tried = append(tried, target)
		out := req
		if attempt > 0 {
			out = req.Clone(req.Context())
			if req.GetBody != nil {
				if out.Body, err = req.GetBody(); err != nil {
					return nil, err
				}
			}
		} else {
			u := *req.URL
			out = req.WithContext(req.Context())
			out.URL = &u
		}
		out.URL.Scheme, out.URL.Host = target.url.Scheme, target.url.Host
		target.outstanding.Add(1)
		res, err := t.base.RoundTrip(out)
		retry := canRetry && attempt+1 < p.cfg.Retry.Attempts && req.Context().Err() == nil
		if err != nil {
			target.outstanding.Add(-1)
			p.record(target, true)
			lastErr = err
			if retry && p.allowRetry() {
				continue
			}
			return nil, err
		}
		failed := res.StatusCode >= 500
		p.record(target, failed)
		if (res.StatusCode == http.StatusBadGateway || res.StatusCode == http.StatusServiceUnavailable) && retry && p.allowRetry() {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
			res.Body.Close()
			target.outstanding.Add(-1)
			lastErr = fmt.Errorf("backend %s answered %d", target.url.Host, res.StatusCode)
			continue
		}
		res.Body = &countedBody{ReadCloser: res.Body, t: target}
		return res, nil
	}
}

// countedBody releases its target's outstanding count when closed.
type countedBody struct {
	io.ReadCloser
	t    *poolTarget
	once sync.Once
}

func (b *countedBody) Close() error {
	b.once.Do(func() { b.t.outstanding.Add(-1) })
	return b.ReadCloser.Close()
}

// Write lets an upgraded (101) connection's body be written to, as the
// reverse proxy needs for protocol upgrades.
func (b *countedBody) Write(p []byte) (int, error) {
	if w, ok := b.ReadCloser.(io.Writer); ok {
		return w.Write(p)
	}
	return 0, errors.New("integration: backend body is not writable")
}

// IntegrationResponse maps backend status codes to the status the client
// gets, like the model's integration responses: Pattern is a regular
// expression matched against the whole status code ("5\\d\\d"); the first
// matching entry wins; an entry with an empty Pattern is the default.
type IntegrationResponse struct {
	// Pattern selects backend statuses; "" is the default entry.
	Pattern string
	// StatusCode is the status sent to the client; 0 keeps the backend's.
	StatusCode int
}

// HTTP is the HTTP integration with mapping (the model's HTTP type): the
// transport of [HTTPProxy], with hooks that map the request and the
// response, and integration responses that map the backend's status. The
// response body is held in memory only while MapResponse reads it, up to
// MaxResponseBytes.
type HTTP struct {
	// HTTPProxy holds the target, pool, timeouts and transport.
	HTTPProxy
	// MapRequest rewrites the request sent to the backend (a clone of the
	// caller's); nil leaves it as it is. An error is answered with 500
	// API_CONFIGURATION_ERROR, or with the gateway response of a
	// *reqctx.Error it returns.
	MapRequest func(*http.Request) error
	// MapResponse rewrites the backend's response; nil leaves it as it is.
	// Its body reads fail past MaxResponseBytes. An error is answered with
	// 502 INTEGRATION_FAILURE.
	MapResponse func(*http.Response) error
	// Responses map backend status codes; none keeps them.
	Responses []IntegrationResponse
	// MaxResponseBytes bounds the response body MapResponse may read; 0
	// means 10 MB.
	MaxResponseBytes int64

	hOnce    sync.Once
	hUnbound *boundHTTP
	hErr     error
}

var _ Binder = (*HTTP)(nil)

// BindStage binds the integration to a stage's variables; bad targets and
// patterns are errors.
func (h *HTTP) BindStage(vars map[string]string) (http.Handler, error) {
	m, err := h.compileMapping()
	if err != nil {
		return nil, err
	}
	return h.HTTPProxy.bind(vars, m)
}

// ServeHTTP serves a request outside a gateway, bound to no stage variables.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.hOnce.Do(func() {
		m, err := h.compileMapping()
		if err != nil {
			h.hErr = err
			return
		}
		h.hUnbound, h.hErr = h.HTTPProxy.bind(nil, m)
	})
	if h.hErr != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, h.hErr))
		return
	}
	h.hUnbound.ServeHTTP(w, r)
}

type mapping struct {
	request   func(*http.Request) error
	responseF func(*http.Response) error
	responses []compiledResponse
	maxBytes  int64
}

type compiledResponse struct {
	re     *regexp.Regexp // nil: default
	status int
}

func (h *HTTP) compileMapping() (*mapping, error) {
	m := &mapping{request: h.MapRequest, responseF: h.MapResponse, maxBytes: h.MaxResponseBytes}
	if m.maxBytes < 0 {
		return nil, errors.New("integration: MaxResponseBytes must not be negative")
	}
	if m.maxBytes == 0 {
		m.maxBytes = 10 << 20
	}
	defaults := 0
	for i, ir := range h.Responses {
		if ir.StatusCode != 0 && (ir.StatusCode < 100 || ir.StatusCode > 599) {
			return nil, fmt.Errorf("integration responses[%d]: status %d out of range 100-599", i, ir.StatusCode)
		}
		c := compiledResponse{status: ir.StatusCode}
		if ir.Pattern == "" {
			defaults++
			if defaults > 1 {
				return nil, fmt.Errorf("integration responses[%d]: a second default entry", i)
			}
		} else {
			re, err := regexp.Compile("^(?:" + ir.Pattern + ")$")
			if err != nil {
				return nil, fmt.Errorf("integration responses[%d]: pattern %q: %w", i, ir.Pattern, err)
			}
			c.re = re
		}
		m.responses = append(m.responses, c)
	}
	return m, nil
}

func (m *mapping) response(res *http.Response) error {
	if len(m.responses) > 0 {
		code := strconv.Itoa(res.StatusCode)
		// The first matching pattern wins; the default applies only if no
		// pattern matched.
		var chosen *compiledResponse
		for i := range m.responses {
			if c := &m.responses[i]; c.re != nil && c.re.MatchString(code) {
				chosen = c
				break
			}
		}
		if chosen == nil {
			for i := range m.responses {
				if m.responses[i].re == nil {
					chosen = &m.responses[i]
				}
			}
		}
		if chosen != nil && chosen.status != 0 {
			res.StatusCode = chosen.status
			res.Status = strconv.Itoa(chosen.status) + " " + http.StatusText(chosen.status)
		}
	}
	if m.responseF == nil {
		return nil
	}
	res.Body = &limitedBody{ReadCloser: res.Body, left: m.maxBytes}
	if err := m.responseF(res); err != nil {
		return fmt.Errorf("response mapping: %w", err)
	}
	return nil
}

// errResponseTooLarge is returned by reads past MaxResponseBytes.
var errResponseTooLarge = errors.New("integration: backend response larger than MaxResponseBytes")

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Is there more? Then the limit is exceeded.
		var one [1]byte
		if n, _ := b.ReadCloser.Read(one[:]); n > 0 {
			return 0, errResponseTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
