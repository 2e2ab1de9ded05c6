package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/upstream"
	"github.com/portico-gw/portico/reqctx"
)

// Default timeouts of HTTP integrations (see [Timeouts]).
const (
	DefaultConnectTimeout        = upstream.DefaultConnectTimeout
	DefaultResponseHeaderTimeout = upstream.DefaultResponseHeaderTimeout
)

// Timeouts bound an HTTP integration's calls to its backend. Running out
// of any of them is answered with 504 INTEGRATION_TIMEOUT; the gateway's
// integration timeout (29 s by default) applies on top.
type Timeouts struct {
	// Connect bounds the TCP connect and TLS handshake to the backend; 0
	// means [DefaultConnectTimeout] (10 s), a negative value none.
	Connect time.Duration
	// ResponseHeader bounds the wait for the backend's response headers
	// once the request has been sent; 0 means
	// [DefaultResponseHeaderTimeout] (29 s, the model gateway's limit), a
	// negative value none.
	ResponseHeader time.Duration
	// Total bounds the whole exchange, response body (or upgraded
	// connection) included; 0 means none beyond the caller's context.
	// Cut short while the body streams, the response is aborted.
	Total time.Duration
}

// BackendTLS configures TLS to HTTPS backends. The zero value verifies
// backends against the system roots, presents no client certificate and
// offers HTTP/2.
type BackendTLS struct {
	// RootCAs verifies backend certificates; nil means the system roots.
	RootCAs *x509.CertPool
	// Certificates are presented to backends that ask for a client
	// certificate (mutual TLS).
	Certificates []tls.Certificate
	// ServerName overrides the name sent in SNI and verified in the
	// backend's certificate; "" means the target's host.
	ServerName string
	// InsecureSkipVerify turns off verification of backend certificates.
	// It is dangerous: anyone on the path can impersonate the backend.
	InsecureSkipVerify bool
	// DisableHTTP2 keeps TLS backends on HTTP/1.1.
	DisableHTTP2 bool
}

// HTTPProxy is the HTTP proxy integration (the model gateway's
// HTTP_PROXY): it sends the request to a backend and streams the response
// back; neither body is ever held in memory.
//
// Target is a URI template such as
// "https://${stageVariables.backend}/pets/{id}", or "http://10.0.0.1/{proxy}"
// for a greedy route. Stage variables are substituted once per deployment
// ([HTTPProxy.BindStage]); path parameters per request, each value escaped
// as one path segment, so that no parameter can walk the path ("..",
// "%2F") or reach the host or query. A parameter named proxy, or written
// {name+}, is greedy: its "/" separators are kept and each segment is
// escaped on its own; a "." or ".." segment is refused with 400
// BAD_REQUEST_PARAMETERS. The caller's query string is appended to the
// target's.
//
// The method, the query, the headers and the body pass through, streamed
// both ways; responses without a length (and text/event-stream) are flushed
// as they arrive. Hop-by-hop headers are dropped, and so are Expect,
// Max-Forwards, Content-MD5, Server and WWW-Authenticate, as the model
// gateway does. X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host are
// set; the incoming ones (and Forwarded) are kept only from TrustedProxies.
// The request id goes to the backend as X-Request-Id and x-amzn-RequestId.
// Protocol upgrades (WebSocket) pass through.
//
// Failures are answered with gateway responses through [reqctx.WriteError]:
// a connect, response-header or total timeout with 504 INTEGRATION_TIMEOUT;
// a refused or reset connection, or any other backend failure, with 502
// INTEGRATION_FAILURE; a [Pool] with no available target with 503
// SERVICE_UNAVAILABLE. A client that goes away cancels the backend request
// and gets no answer.
//
// Use an HTTPProxy by pointer and do not change its fields once it serves.
// It is safe for concurrent use.
type HTTPProxy struct {
	// Target is the URI template; required. With a Pool it is a path
	// template ("/pets/{id}") and the pool picks scheme and host.
	Target string
	// Pool, if set, spreads requests over several backends, with health
	// checks, outlier ejection, breakers and retries. The pool outlives
	// deployments; its owner closes it.
	Pool *Pool
	// Timeouts bound each backend call. Connect and ResponseHeader apply
	// to the transport built when Transport is nil.
	Timeouts Timeouts
	// TLS configures connections to HTTPS backends; nil means the zero
	// [BackendTLS]. Ignored when Transport is set.
	TLS *BackendTLS
	// Transport sends the requests; nil means a transport built once per
	// HTTPProxy from Timeouts and TLS (shared by every HTTPProxy with the
	// default ones) that pools up to 256 idle connections per backend,
	// speaks HTTP/2 to TLS backends that offer it, never compresses, and
	// ignores $HTTP_PROXY.
	Transport http.RoundTripper
	// TrustedProxies are the networks whose X-Forwarded-For,
	// X-Forwarded-Proto, X-Forwarded-Host and Forwarded headers are
	// believed (and extended); from any other peer they are replaced.
	TrustedProxies []netip.Prefix
	// ErrorLog, if set, receives every backend failure with the request
	// id. nil logs nothing here: the gateway logs the failures it answers.
	ErrorLog *slog.Logger

	once    sync.Once // binds the standalone handler
	unbound http.Handler
	bindErr error

	trMu    sync.Mutex // guards the fields below
	trBuilt bool
	tr      http.RoundTripper
	trClose func() // closes idle connections of a transport built here
}

var (
	_ Binder       = (*HTTPProxy)(nil)
	_ http.Handler = (*HTTPProxy)(nil)
)

// BindStage substitutes the stage's variables into the target, checks the
// configuration, and returns the handler that serves the stage. An
// undefined variable or a bad target or setting is an error naming it.
func (p *HTTPProxy) BindStage(vars map[string]string) (http.Handler, error) {
	return p.bind(vars, nil)
}

// ServeHTTP serves a request with the target bound to no stage variables,
// for use outside a gateway (which binds at deploy time). A target that
// does not bind is answered with 500 API_CONFIGURATION_ERROR.
func (p *HTTPProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.once.Do(func() { p.unbound, p.bindErr = p.bind(nil, nil) })
	if p.bindErr != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, p.bindErr))
		return
	}
	p.unbound.ServeHTTP(w, r)
}

// CloseIdleConnections closes the idle connections of the transport the
// proxy built (not of a Transport it was given, nor of the shared default
// one, which other proxies use).
func (p *HTTPProxy) CloseIdleConnections() {
	p.trMu.Lock()
	closeIdle := p.trClose
	p.trMu.Unlock()
	if closeIdle != nil {
		closeIdle()
	}
}

// sharedTransport is the transport of every HTTPProxy with default
// timeouts and TLS settings.
var sharedTransport = sync.OnceValues(func() (*upstream.Transport, error) {
	return upstream.NewTransport(upstream.TransportConfig{})
})

// transport returns the proxy's transport, building it on first use; every
// binding of the proxy shares it.
func (p *HTTPProxy) transport() (http.RoundTripper, error) {
	p.trMu.Lock()
	defer p.trMu.Unlock()
	if p.trBuilt {
		return p.tr, nil
	}
	switch {
	case p.Transport != nil:
		p.tr = p.Transport
	case p.TLS == nil && p.Timeouts.Connect == 0 && p.Timeouts.ResponseHeader == 0:
		t, err := sharedTransport()
		if err != nil {
			return nil, err
		}
		p.tr = t
	default:
		c := upstream.TransportConfig{ConnectTimeout: p.Timeouts.Connect, ResponseHeaderTimeout: p.Timeouts.ResponseHeader}
		if p.TLS != nil {
			c.RootCAs, c.Certificates, c.ServerName = p.TLS.RootCAs, p.TLS.Certificates, p.TLS.ServerName
			c.InsecureSkipVerify, c.DisableHTTP2 = p.TLS.InsecureSkipVerify, p.TLS.DisableHTTP2
		}
		t, err := upstream.NewTransport(c)
		if err != nil {
			return nil, err
		}
		p.tr, p.trClose = t, t.CloseIdleConnections
	}
	p.trBuilt = true
	return p.tr, nil
}

// bind builds the handler for one stage; m adds the mapping of [HTTP].
func (p *HTTPProxy) bind(vars map[string]string, m *mapping) (*boundProxy, error) {
	raw, err := ExpandStageVariables(p.Target, vars)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", p.Target, err)
	}
	tmpl, err := parseTarget(raw, p.Pool != nil)
	if err != nil {
		return nil, err
	}
	if p.Timeouts.Total < 0 {
		return nil, fmt.Errorf("Timeouts.Total %v: must not be negative", p.Timeouts.Total)
	}
	for i, pfx := range p.TrustedProxies {
		if !pfx.IsValid() {
			return nil, fmt.Errorf("TrustedProxies[%d]: invalid prefix", i)
		}
	}
	if p.Pool != nil && p.Pool.p == nil {
		return nil, errors.New("the Pool was not made by NewPool")
	}
	rt, err := p.transport()
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	if p.Pool != nil {
		rt = &upstream.RoundTripper{Pool: p.Pool.p, Base: rt}
	}
	b := &boundProxy{tmpl: tmpl, total: p.Timeouts.Total, trusted: p.TrustedProxies, log: p.ErrorLog, mapping: m}
	b.rp = &httputil.ReverseProxy{
		Rewrite:        b.rewrite,
		Transport:      rt,
		BufferPool:     &b.bufs,
		ErrorHandler:   b.errorHandler,
		ModifyResponse: b.modifyResponse,
		ErrorLog:       log.New(io.Discard, "", 0),
	}
	if p.ErrorLog != nil {
		b.rp.ErrorLog = slog.NewLogLogger(p.ErrorLog.Handler(), slog.LevelWarn)
	}
	return b, nil
}

// boundProxy is an HTTP integration bound to one stage.
type boundProxy struct {
	tmpl    *targetTemplate
	rp      *httputil.ReverseProxy
	total   time.Duration
	trusted []netip.Prefix
	log     *slog.Logger // nil: don't log
	mapping *mapping     // nil for HTTPProxy
	bufs    bufferPool
}

// errTotalTimeout is the cause of a backend call cut by Timeouts.Total.
var errTotalTimeout = fmt.Errorf("integration: backend call exceeded Timeouts.Total: %w", context.DeadlineExceeded)

func (b *boundProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	var params map[string]string
	if rc != nil {
		params = rc.PathParams
	}
	u, err := b.tmpl.expand(params, r, r.URL.RawQuery)
	if err != nil {
		t := reqctx.APIConfigurationError
		if errors.Is(err, errBadParam) {
			t = reqctx.BadRequestParameters
		}
		b.fail(w, r, rc, reqctx.NewError(t, err))
		return
	}
	ctx := r.Context()
	if b.total > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, b.total, errTotalTimeout)
		defer cancel()
	}
	out := r.WithContext(ctx)
	out.URL = u
	if b.mapping != nil && b.mapping.request != nil {
		if err := b.mapping.mapRequest(w, out); err != nil {
			b.fail(w, r, rc, err)
			return
		}
	}
	start := time.Now()
	b.rp.ServeHTTP(w, out)
	if rc != nil {
		rc.IntegrationLatency = time.Since(start)
	}
}

// Headers the model gateway drops from requests to HTTP backends, besides
// the hop-by-hop ones the reverse proxy drops (canonical forms).
var droppedRequestHeaders = [...]string{"Expect", "Max-Forwards", "Content-Md5", "Server", "Www-Authenticate"}

// rewrite fills in the outgoing request. pr.In is the request ServeHTTP
// handed over, whose URL is already the target's.
func (b *boundProxy) rewrite(pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	out.Host = "" // the Host header is the target's
	h := out.Header
	for _, k := range droppedRequestHeaders {
		delete(h, k)
	}
	peer := remoteIP(in.RemoteAddr)
	trusted := len(b.trusted) > 0 && b.isTrusted(peer)
	// One allocation for all the single-valued headers set below; each
	// slice is capped so that an append elsewhere cannot spill into the
	// next.
	vals := make([]string, 4)
	vals[0] = peer
	if prior := in.Header["X-Forwarded-For"]; trusted && len(prior) > 0 {
		vals[0] = strings.Join(prior, ", ") + ", " + peer
	}
	h["X-Forwarded-For"] = vals[0:1:1]
	vals[1] = "http"
	if in.TLS != nil {
		vals[1] = "https"
	}
	if v := in.Header["X-Forwarded-Proto"]; trusted && len(v) > 0 {
		vals[1] = v[0]
	}
	h["X-Forwarded-Proto"] = vals[1:2:2]
	vals[2] = in.Host
	if v := in.Header["X-Forwarded-Host"]; trusted && len(v) > 0 {
		vals[2] = v[0]
	}
	h["X-Forwarded-Host"] = vals[2:3:3]
	if v := in.Header["Forwarded"]; trusted && len(v) > 0 {
		h["Forwarded"] = v
	}
	if rc := reqctx.From(in.Context()); rc != nil && rc.RequestID != "" {
		vals[3] = rc.RequestID
		h["X-Request-Id"] = vals[3:4:4]
		h["X-Amzn-Requestid"] = vals[3:4:4]
	}
}

// remoteIP is the host part of a RemoteAddr, without allocating.
func remoteIP(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		addr = addr[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}

func (b *boundProxy) isTrusted(ip string) bool {
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

func (b *boundProxy) modifyResponse(res *http.Response) error {
	if rc := reqctx.From(res.Request.Context()); rc != nil {
		rc.IntegrationStatus = res.StatusCode
	}
	if b.mapping != nil && res.StatusCode != http.StatusSwitchingProtocols {
		return b.mapping.mapResponse(res)
	}
	return nil
}

// errorHandler answers a failed backend call with the gateway response
// that fits. r is the outgoing request.
func (b *boundProxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	rc := reqctx.From(ctx)
	if rc != nil {
		rc.IntegrationStatus = 0
	}
	var t reqctx.ResponseType
	var re *reqctx.Error
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &re):
		b.fail(w, r, rc, re)
		return
	case errors.As(err, &mbe):
		t = reqctx.RequestTooLarge
	case errors.Is(err, upstream.ErrNoTarget):
		t = reqctx.ServiceUnavailable
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		t = reqctx.IntegrationTimeout
	case ctx.Err() != nil:
		// The client went away: nobody is left to answer.
		if b.log != nil {
			b.log.Debug("portico: client went away during the backend call", "requestId", requestID(rc), "err", err)
		}
		return
	case errors.As(err, &ne) && ne.Timeout():
		t = reqctx.IntegrationTimeout
	default:
		t = reqctx.IntegrationFailure
	}
	b.fail(w, r, rc, reqctx.NewError(t, err))
}

// fail logs err (if the proxy logs) and answers it.
func (b *boundProxy) fail(w http.ResponseWriter, r *http.Request, rc *reqctx.Context, err *reqctx.Error) {
	if b.log != nil {
		b.log.Warn("portico: HTTP integration failed", "requestId", requestID(rc), "type", err.Type, "err", err.Err)
	}
	reqctx.WriteError(w, r, err)
}

func requestID(rc *reqctx.Context) string {
	if rc == nil {
		return ""
	}
	return rc.RequestID
}

// bufferPool lends 32 KB buffers to the reverse proxy's body copies.
type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
