package integration

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"

	"github.com/portico-gw/portico/reqctx"
)

// DefaultMaxMappedBytes bounds the request and response bodies the mapping
// hooks of [HTTP] may read: 10 MB, the model gateway's payload limit.
const DefaultMaxMappedBytes = 10 << 20

// IntegrationResponse maps backend status codes to the status the client
// gets, as the model gateway's integration responses do.
type IntegrationResponse struct {
	// Pattern is a regular expression matched against the whole status
	// code, e.g. `5\d{2}`; "" marks the default entry.
	Pattern string
	// StatusCode is the status sent to the client; 0 keeps the backend's.
	StatusCode int
}

// HTTP is the HTTP integration with mapping (the model gateway's HTTP
// type): the transport, target template, pool and failure handling of
// [HTTPProxy], plus hooks that map the request and the response, and
// integration responses that map the backend's status.
//
// Without hooks nothing is buffered. With MapRequest, the request body the
// hook sees is cut at MaxRequestBytes (reading further fails with an
// *http.MaxBytesError, answered with 413 REQUEST_TOO_LARGE); with
// MapResponse, the response body it sees is cut at MaxResponseBytes
// (answered with 502 INTEGRATION_FAILURE). The hooks hold at most that
// much in memory per request.
//
// Use an HTTP by pointer and do not change its fields once it serves. It is
// safe for concurrent use.
type HTTP struct {
	// HTTPProxy holds the target, pool, timeouts and transport.
	HTTPProxy
	// MapRequest rewrites the request sent to the backend: its URL is the
	// expanded target (whose scheme and host the hook cannot change) and
	// its header a copy of the caller's. A hook that replaces the body sets
	// ContentLength (-1 if unknown). nil sends the request as it is. An
	// error is answered with 500 API_CONFIGURATION_ERROR, or with the
	// gateway response of a *[reqctx.Error] it returns.
	MapRequest func(*http.Request) error
	// MapResponse rewrites the backend's response after its status has
	// been mapped; nil passes it on as it is. A hook that replaces the body
	// sets Content-Length, or sets ContentLength to -1 to have it removed.
	// An error is answered with 500 API_CONFIGURATION_ERROR, or with the
	// gateway response of a *[reqctx.Error] it returns.
	MapResponse func(*http.Response) error
	// Responses map backend status codes: the first entry whose Pattern
	// matches wins, else the default entry. With entries but no match and
	// no default the answer is 500 API_CONFIGURATION_ERROR, as in the
	// model gateway; with no entries the backend's status passes.
	Responses []IntegrationResponse
	// MaxRequestBytes bounds the request body MapRequest may read; 0 means
	// [DefaultMaxMappedBytes].
	MaxRequestBytes int64
	// MaxResponseBytes bounds the response body MapResponse may read; 0
	// means [DefaultMaxMappedBytes].
	MaxResponseBytes int64

	hOnce    sync.Once
	hUnbound http.Handler
	hErr     error
}

var (
	_ Binder       = (*HTTP)(nil)
	_ http.Handler = (*HTTP)(nil)
)

// BindStage binds the integration to a stage's variables. A bad target,
// pattern or limit is an error naming it.
func (h *HTTP) BindStage(vars map[string]string) (http.Handler, error) {
	m, err := h.compileMapping()
	if err != nil {
		return nil, err
	}
	return h.HTTPProxy.bind(vars, m)
}

// ServeHTTP serves a request outside a gateway, bound to no stage
// variables. A configuration that does not bind is answered with 500
// API_CONFIGURATION_ERROR.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.hOnce.Do(func() { h.hUnbound, h.hErr = h.BindStage(nil) })
	if h.hErr != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, h.hErr))
		return
	}
	h.hUnbound.ServeHTTP(w, r)
}

type mapping struct {
	request     func(*http.Request) error
	response    func(*http.Response) error
	responses   []compiledResponse
	hasDefault  bool
	maxRequest  int64
	maxResponse int64
}

type compiledResponse struct {
	re     *regexp.Regexp // nil: the default entry
	status int
}

func (h *HTTP) compileMapping() (*mapping, error) {
	m := &mapping{request: h.MapRequest, response: h.MapResponse, maxRequest: h.MaxRequestBytes, maxResponse: h.MaxResponseBytes}
	if m.maxRequest < 0 {
		return nil, fmt.Errorf("MaxRequestBytes %d: must not be negative", m.maxRequest)
	}
	if m.maxResponse < 0 {
		return nil, fmt.Errorf("MaxResponseBytes %d: must not be negative", m.maxResponse)
	}
	if m.maxRequest == 0 {
		m.maxRequest = DefaultMaxMappedBytes
	}
	if m.maxResponse == 0 {
		m.maxResponse = DefaultMaxMappedBytes
	}
	for i, ir := range h.Responses {
		if ir.StatusCode != 0 && (ir.StatusCode < 100 || ir.StatusCode > 599) {
			return nil, fmt.Errorf("Responses[%d].StatusCode %d: want 100-599", i, ir.StatusCode)
		}
		c := compiledResponse{status: ir.StatusCode}
		if ir.Pattern == "" {
			if m.hasDefault {
				return nil, fmt.Errorf("a second default entry in Responses: Responses[%d]", i)
			}
			m.hasDefault = true
		} else {
			re, err := regexp.Compile(`^(?:` + ir.Pattern + `)$`)
			if err != nil {
				return nil, fmt.Errorf("Responses[%d].Pattern %q: %w", i, ir.Pattern, err)
			}
			c.re = re
		}
		m.responses = append(m.responses, c)
	}
	return m, nil
}

// mapRequest runs MapRequest on out, the request about to be proxied.
func (m *mapping) mapRequest(w http.ResponseWriter, out *http.Request) *reqctx.Error {
	target := *out.URL
	out.Header = out.Header.Clone()
	if out.Header == nil {
		out.Header = make(http.Header)
	}
	if out.Body != nil && out.Body != http.NoBody {
		out.Body = http.MaxBytesReader(w, out.Body, m.maxRequest)
	}
	if err := m.request(out); err != nil {
		return asMappingError("request mapping", err)
	}
	if out.URL == nil {
		out.URL = &target
	}
	out.URL.Scheme, out.URL.Host = target.Scheme, target.Host
	return nil
}

// selectStatus is the status the client gets for a backend status; ok is
// false when entries exist but none applies.
func (m *mapping) selectStatus(code int) (status int, ok bool) {
	if len(m.responses) == 0 {
		return code, true
	}
	s := strconv.Itoa(code)
	var def *compiledResponse
	for i := range m.responses {
		c := &m.responses[i]
		if c.re == nil {
			def = c
			continue
		}
		if c.re.MatchString(s) {
			return orStatus(c.status, code), true
		}
	}
	if def != nil {
		return orStatus(def.status, code), true
	}
	return 0, false
}

func orStatus(s, backend int) int {
	if s == 0 {
		return backend
	}
	return s
}

// mapResponse maps the status and runs MapResponse.
func (m *mapping) mapResponse(res *http.Response) error {
	status, ok := m.selectStatus(res.StatusCode)
	if !ok {
		return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("no integration response matches backend status %d and none is the default", res.StatusCode))
	}
	if status != res.StatusCode {
		res.StatusCode = status
		res.Status = strconv.Itoa(status) + " " + http.StatusText(status)
	}
	if m.response == nil {
		return nil
	}
	limited := &limitedBody{ReadCloser: res.Body, left: m.maxResponse}
	res.Body = limited
	if err := m.response(res); err != nil {
		if errors.Is(err, errResponseTooLarge) {
			return reqctx.NewError(reqctx.IntegrationFailure, err)
		}
		return asMappingError("response mapping", err)
	}
	if res.Body != limited && res.ContentLength < 0 {
		res.Header.Del("Content-Length")
	}
	return nil
}

func asMappingError(what string, err error) *reqctx.Error {
	if e, ok := errors.AsType[*reqctx.Error](err); ok {
		return e
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return reqctx.NewError(reqctx.RequestTooLarge, fmt.Errorf("%s: %w", what, err))
	}
	return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("%s: %w", what, err))
}

// errResponseTooLarge is returned by reads past MaxResponseBytes.
var errResponseTooLarge = errors.New("integration: backend response larger than MaxResponseBytes")

// limitedBody fails reads past its limit (unlike io.LimitReader, which
// would end the body silently).
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
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
