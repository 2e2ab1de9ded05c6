package transform

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/portico-gw/portico/reqctx"
)

// PassthroughBehavior is what a [Mapping] does with a request whose
// Content-Type has no request template (the model gateway's
// passthroughBehavior).
type PassthroughBehavior string

// The passthrough behaviours.
const (
	// WhenNoMatch (the default, also "") passes such a request through
	// unchanged.
	WhenNoMatch PassthroughBehavior = "WHEN_NO_MATCH"
	// WhenNoTemplates passes it through only when the mapping has no
	// request templates at all; otherwise it is answered with 415
	// UNSUPPORTED_MEDIA_TYPE.
	WhenNoTemplates PassthroughBehavior = "WHEN_NO_TEMPLATES"
	// Never answers it with 415 UNSUPPORTED_MEDIA_TYPE.
	Never PassthroughBehavior = "NEVER"
)

// ContentHandling converts a payload between text and binary (the model
// gateway's contentHandling). "" passes payloads as they are.
type ContentHandling string

// The content handling strategies.
const (
	// ConvertToBinary base64-decodes a text payload (one whose content
	// type is not a binary media type). A payload that is not valid base64
	// is refused: 400 BAD_REQUEST_BODY for a request, 500
	// API_CONFIGURATION_ERROR for a response.
	ConvertToBinary ContentHandling = "CONVERT_TO_BINARY"
	// ConvertToText base64-encodes a binary payload (one whose content
	// type is a binary media type).
	ConvertToText ContentHandling = "CONVERT_TO_TEXT"
)

// Mapping transforms the request an integration sees and the response the
// client gets, as the model gateway's non-proxy integrations do. The zero
// Mapping changes nothing.
type Mapping struct {
	// Language is the language of every template of the mapping; "" means
	// VTL.
	Language Language
	// RequestParameters maps integration request parameters from the
	// method request, in either of the model gateway's syntaxes:
	// "integration.request.header.X": "method.request.querystring.q"
	// (sources: method.request.{path|querystring|multivaluequerystring|
	// header|multivalueheader}.NAME, method.request.body[.JSONPATH],
	// stageVariables.NAME, context.NAME, 'literal'; targets header,
	// querystring and path — a path parameter of the integration), or
	// "append:header.X" / "overwrite:querystring.q" / "remove:header.X" /
	// "overwrite:path": "text $request.header.Y ${context.requestId}"
	// (sources $request.{header|querystring|path|body}…, $context.NAME,
	// $stageVariables.NAME). A REST mapping whose source is absent is
	// skipped. Mapped values holding CR, LF or NUL are refused with 400
	// BAD_REQUEST_PARAMETERS.
	RequestParameters map[string]string
	// RequestTemplates maps a request Content-Type (without parameters; a
	// missing one reads as application/json) to the template that makes
	// the integration request's body.
	RequestTemplates map[string]string
	// PassthroughBehavior handles types without a template; "" means
	// WhenNoMatch.
	PassthroughBehavior PassthroughBehavior
	// ContentHandling converts the request payload before templates.
	ContentHandling ContentHandling
	// Responses are the integration responses. The first whose
	// SelectionPattern matches — the integration's error message when it
	// reports one (see [FunctionErrorHeader]), else its status code — maps
	// the response; the entry with an empty pattern is the default. With
	// entries but no match and no default the client gets 500
	// API_CONFIGURATION_ERROR; with no entries the integration's response
	// passes as it is. Gateway errors raised by the integration or its
	// timeout (504 INTEGRATION_TIMEOUT, 502 INTEGRATION_FAILURE) are sent
	// as they are, never mapped.
	Responses []Response
}

// Response is one integration response: how one kind of integration
// response becomes the method response.
type Response struct {
	// SelectionPattern is a regular expression matched against the whole
	// status code ("2\d{2}") or error message; "" marks the default.
	SelectionPattern string
	// StatusCode is the status sent; 0 keeps the integration's.
	StatusCode int
	// Parameters map method response headers (and, in the HTTP API syntax,
	// the status code): "method.response.header.X":
	// "integration.response.header.Y" (also multivalueheader,
	// integration.response.body[.JSONPATH], stageVariables.NAME,
	// context.NAME, 'literal'), or "overwrite:header.X" /
	// "append:header.X" / "remove:header.X" / "overwrite:statuscode":
	// "$response.header.Y $response.body.a ${context.requestId}". Values
	// holding CR, LF or NUL are refused with 502 INTEGRATION_FAILURE.
	Parameters map[string]string
	// Templates maps a response content type to the template that makes
	// the method response's body, chosen by the first type of the
	// request's Accept header (absent: application/json); with no exact
	// match the application/json template, else the first in sorted
	// order. The response then has that Content-Type unless a parameter
	// sets it. No templates pass the body through.
	Templates map[string]string
	// ContentHandling converts the response payload after templates.
	ContentHandling ContentHandling
}

// FunctionErrorHeader is the response header with which an integration
// reports an error (as the Lambda Invoke API does): its body, a JSON
// {"errorMessage": "...", "errorType": "..."} or plain text, carries the
// error message that [Response.SelectionPattern] is matched against. The
// header is not sent to the client.
const FunctionErrorHeader = "X-Amz-Function-Error"

// Mapper applies a [Mapping] around an integration. Build it with
// [NewMapper]; it is immutable and safe for concurrent use.
type Mapper struct {
	reqOps       []mapOp
	reqTemplates map[string]*Template
	passthrough  PassthroughBehavior
	handling     ContentHandling
	responses    []*compiledResponse // patterns, in order
	def          *compiledResponse
	binary       []string
	lim          Limits
	logger       *slog.Logger
	needBody     bool // the request body must be read
	rewrites     bool // the integration request changes
}

type compiledResponse struct {
	re        *regexp.Regexp
	status    int
	ops       []mapOp
	templates map[string]*Template
	first     string // the first template's content type, sorted
	handling  ContentHandling
}

// MapperOption configures [NewMapper].
type MapperOption func(*mapperOptions)

type mapperOptions struct {
	binary    []string
	lim       Limits
	stageVars map[string]string
	logger    *slog.Logger
}

// WithBinaryMediaTypes sets the binary media types ("image/png",
// "image/*", "*/*") that content handling and templates treat as binary.
func WithBinaryMediaTypes(types []string) MapperOption {
	return func(o *mapperOptions) { o.binary = append([]string(nil), types...) }
}

// WithLimits sets the template and body limits.
func WithLimits(l Limits) MapperOption { return func(o *mapperOptions) { o.lim = l } }

// WithStageVariables gives the stage variables the mapping will run with,
// so that a mapping referring to an undefined one is a configuration error.
// At request time the variables come from the request's [reqctx.Context].
func WithStageVariables(vars map[string]string) MapperOption {
	return func(o *mapperOptions) { o.stageVars = maps.Clone(vars) }
}

// WithMapperLogger sets where the mapper logs (default slog.Default()).
func WithMapperLogger(l *slog.Logger) MapperOption { return func(o *mapperOptions) { o.logger = l } }

// NewMapper compiles m: parameter mappings, templates and selection
// patterns. Every problem — a malformed mapping key or value, a template
// error (with its line), an invalid pattern, two default responses, an
// unknown passthrough behaviour or content handling — is an error.
func NewMapper(m Mapping, opts ...MapperOption) (*Mapper, error) {
	var o mapperOptions
	for _, opt := range opts {
		opt(&o)
	}
	for _, t := range o.binary {
		if !validMediaType(mediaType(t)) {
			return nil, fmt.Errorf("transform: binary media type %q is not type/subtype", t)
		}
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	mp := &Mapper{binary: o.binary, lim: o.lim.withDefaults(), logger: o.logger, handling: m.ContentHandling}
	switch m.PassthroughBehavior {
	case "", WhenNoMatch:
		mp.passthrough = WhenNoMatch
	case WhenNoTemplates, Never:
		mp.passthrough = m.PassthroughBehavior
	default:
		return nil, fmt.Errorf("transform: PassthroughBehavior %q: want %s, %s or %s", m.PassthroughBehavior, WhenNoMatch, WhenNoTemplates, Never)
	}
	if err := checkHandling(m.ContentHandling); err != nil {
		return nil, err
	}
	var err error
	if mp.reqOps, err = compileParams(m.RequestParameters, requestSide, o.stageVars); err != nil {
		return nil, err
	}
	if mp.reqTemplates, _, err = compileTemplates(m.Language, m.RequestTemplates, mp.lim, "request template"); err != nil {
		return nil, err
	}
	for i, r := range m.Responses {
		cr, err := compileResponse(m.Language, r, mp.lim, o.stageVars)
		if err != nil {
			return nil, fmt.Errorf("transform: response %d (%q): %w", i, r.SelectionPattern, err)
		}
		if r.SelectionPattern == "" {
			if mp.def != nil {
				return nil, fmt.Errorf("transform: response %d: a second default response (empty SelectionPattern)", i)
			}
			mp.def = cr
			continue
		}
		mp.responses = append(mp.responses, cr)
	}
	mp.needBody = len(mp.reqTemplates) > 0 || m.ContentHandling != ""
	for _, op := range mp.reqOps {
		for _, p := range op.value {
			if p.src != nil && (p.src.kind == srcMethodBody || p.src.kind == srcMethodBodyPath) {
				mp.needBody = true
			}
		}
	}
	mp.rewrites = mp.needBody || len(mp.reqOps) > 0
	return mp, nil
}

func checkHandling(h ContentHandling) error {
	switch h {
	case "", ConvertToBinary, ConvertToText:
		return nil
	}
	return fmt.Errorf("transform: ContentHandling %q: want %s, %s or empty", h, ConvertToBinary, ConvertToText)
}

func compileTemplates(lang Language, src map[string]string, lim Limits, what string) (map[string]*Template, string, error) {
	if len(src) == 0 {
		return nil, "", nil
	}
	out := make(map[string]*Template, len(src))
	keys := sortedKeys(src)
	for _, ct := range keys {
		mt := mediaType(ct)
		if !validMediaType(mt) {
			return nil, "", fmt.Errorf("transform: %s content type %q is not type/subtype", what, ct)
		}
		t, err := ParseTemplate(lang, src[ct], lim)
		if err != nil {
			return nil, "", fmt.Errorf("%s for %s: %w", what, ct, err)
		}
		out[mt] = t
	}
	return out, mediaType(keys[0]), nil
}

func compileResponse(lang Language, r Response, lim Limits, stageVars map[string]string) (*compiledResponse, error) {
	cr := &compiledResponse{status: r.StatusCode, handling: r.ContentHandling}
	if r.StatusCode != 0 && (r.StatusCode < 100 || r.StatusCode > 599) {
		return nil, fmt.Errorf("status %d is outside 100-599", r.StatusCode)
	}
	if err := checkHandling(r.ContentHandling); err != nil {
		return nil, err
	}
	if r.SelectionPattern != "" {
		re, err := regexp.Compile(`^(?:` + r.SelectionPattern + `)$`)
		if err != nil {
			return nil, fmt.Errorf("selection pattern: %v", err)
		}
		cr.re = re
	}
	var err error
	if cr.ops, err = compileParams(r.Parameters, responseSide, stageVars); err != nil {
		return nil, err
	}
	if cr.templates, cr.first, err = compileTemplates(lang, r.Templates, lim, "response template"); err != nil {
		return nil, err
	}
	return cr, nil
}

// Handler returns next behind the mapper.
func (m *Mapper) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
}

func (m *Mapper) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	ctx := r.Context()
	rc := reqctx.From(ctx)
	mt := mediaType(r.Header.Get("Content-Type"))
	if mt == "" {
		mt = "application/json"
	}
	tmpl := m.reqTemplates[mt]
	if tmpl == nil && (m.passthrough == Never || m.passthrough == WhenNoTemplates && len(m.reqTemplates) > 0) {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.UnsupportedMediaType, fmt.Errorf("no request template for content type %q (passthrough %s)", mt, m.passthrough)))
		return
	}
	in := &Input{Query: r.URL.Query(), Header: r.Header, Context: rc}
	if rc != nil {
		in.PathParams = rc.PathParams
	}
	out := r
	var restore func()
	if m.rewrites {
		var err error
		out, restore, err = m.mapRequest(r, rc, in, tmpl, mt)
		if err != nil {
			reqctx.WriteError(w, r, err)
			return
		}
	}
	if m.def == nil && len(m.responses) == 0 {
		next.ServeHTTP(w, out)
		if restore != nil {
			restore()
		}
		return
	}
	bw := newBufferWriter(w, m.lim.MaxBodyBytes, rc)
	next.ServeHTTP(bw, out)
	if restore != nil {
		restore()
	}
	if bw.passedThrough() {
		return // a gateway error (timeout, integration failure) is not mapped
	}
	if bw.err != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, bw.err))
		return
	}
	if err := m.mapResponse(w, r, rc, in, bw); err != nil {
		reqctx.WriteError(w, r, err)
	}
}

// mapRequest builds the integration request; restore undoes the path
// parameters it set in the request context.
func (m *Mapper) mapRequest(r *http.Request, rc *reqctx.Context, in *Input, tmpl *Template, mt string) (*http.Request, func(), error) {
	ctx := r.Context()
	var body []byte
	decoded := false
	if m.needBody {
		var err error
		if body, err = readAll(r, m.lim.MaxBodyBytes); err != nil {
			return nil, nil, err
		}
		if body, decoded, err = decodeBody(r.Header.Get("Content-Encoding"), body, m.lim.MaxBodyBytes); err != nil {
			return nil, nil, err
		}
		binary := MatchMediaType(mt, m.binary)
		switch {
		case m.handling == ConvertToText && binary:
			body = base64Encode(body)
		case m.handling == ConvertToBinary && !binary:
			dec, err := base64Decode(body)
			if err != nil {
				return nil, nil, reqctx.NewError(reqctx.BadRequestBody, fmt.Errorf("CONVERT_TO_BINARY: %w", err))
			}
			body = dec
		case binary && tmpl != nil && m.handling == "":
			// Templates see binary payloads base64-encoded.
			body = base64Encode(body)
		}
	}
	in.Body = body
	out := r.Clone(ctx)
	env := &mapEnv{
		pathParams: in.PathParams, query: in.Query, header: r.Header, reqBody: in,
		rc: rc, stageVars: in.stageVars(), reqPath: r.URL.Path,
	}
	var newParams map[string]string
	query := out.URL.Query()
	queryChanged := false
	for i := range m.reqOps {
		op := &m.reqOps[i]
		vals, ok, err := op.eval(env)
		if err != nil {
			return nil, nil, requestMappingError(op, err)
		}
		if !ok && op.action != actRemove {
			continue
		}
		for _, v := range vals {
			if hasCRLF(v) {
				return nil, nil, reqctx.NewError(reqctx.BadRequestParameters, fmt.Errorf("mapping %q: %w", op.key, errCRLF))
			}
		}
		switch op.target {
		case tgtHeader:
			applyHeader(out.Header, op, vals)
		case tgtQuery:
			applyQuery(query, op, vals)
			queryChanged = true
		case tgtPathParam:
			if newParams == nil {
				newParams = maps.Clone(in.PathParams)
				if newParams == nil {
					newParams = map[string]string{}
				}
			}
			newParams[op.name] = vals[0]
		case tgtPath:
			p := vals[0]
			if !strings.HasPrefix(p, "/") {
				p = "/" + p
			}
			out.URL.Path, out.URL.RawPath = p, ""
		}
	}
	if tmpl != nil {
		res, err := tmpl.Render(ctx, in)
		if err != nil {
			if errors.Is(err, ErrBodyNotJSON) {
				return nil, nil, reqctx.NewError(reqctx.BadRequestBody, err)
			}
			return nil, nil, reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("request template: %w", err))
		}
		body = res.Body
		ov := res.Overrides
		for k, v := range ov.Header {
			if !validHeaderName(k) || hasCRLF(v) || hopHeaders[http.CanonicalHeaderKey(k)] {
				return nil, nil, reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("request template: header override %q refused", k))
			}
			out.Header.Set(k, v)
		}
		for k, v := range ov.Query {
			if hasCRLF(v) {
				return nil, nil, reqctx.NewError(reqctx.BadRequestParameters, fmt.Errorf("request template: query override %q: %w", k, errCRLF))
			}
			query.Set(k, v)
			queryChanged = true
		}
		for k, v := range ov.Path {
			if hasCRLF(v) {
				return nil, nil, reqctx.NewError(reqctx.BadRequestParameters, fmt.Errorf("request template: path override %q: %w", k, errCRLF))
			}
			if newParams == nil {
				newParams = maps.Clone(in.PathParams)
				if newParams == nil {
					newParams = map[string]string{}
				}
			}
			newParams[k] = v
		}
	}
	if queryChanged {
		out.URL.RawQuery = query.Encode()
	}
	if m.needBody {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.Header.Del("Content-Length")
		if decoded {
			out.Header.Del("Content-Encoding")
		}
		if len(body) == 0 {
			out.Body = http.NoBody
		}
	}
	var restore func()
	if newParams != nil {
		for k, v := range newParams {
			out.SetPathValue(k, v)
		}
		if rc != nil {
			old := rc.PathParams
			rc.PathParams = newParams
			restore = func() { rc.PathParams = old }
		}
	}
	return out, restore, nil
}

func requestMappingError(op *mapOp, err error) error {
	if errors.Is(err, ErrBodyNotJSON) {
		return reqctx.NewError(reqctx.BadRequestBody, fmt.Errorf("mapping %q: %w", op.key, err))
	}
	return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("mapping %q: %w", op.key, err))
}

// selectResponse picks the integration response for a status code or an
// error message.
func (m *Mapper) selectResponse(selector string) *compiledResponse {
	for _, cr := range m.responses {
		if cr.re.MatchString(selector) {
			return cr
		}
	}
	return m.def
}

// errorMessage extracts the error message of an integration that set
// FunctionErrorHeader.
func errorMessage(body []byte) string {
	if v, err := ParseJSON(string(body)); err == nil {
		if obj, ok := v.(map[string]any); ok {
			if s, ok := obj["errorMessage"].(string); ok {
				return s
			}
		}
		if s, ok := v.(string); ok {
			return s
		}
	}
	return string(body)
}

func (m *Mapper) mapResponse(w http.ResponseWriter, r *http.Request, rc *reqctx.Context, reqIn *Input, bw *bufferWriter) error {
	status := bw.statusOr200()
	hdr := bw.header
	selector := strconv.Itoa(status)
	if hdr.Get(FunctionErrorHeader) != "" {
		selector = errorMessage(bw.body)
		hdr.Del(FunctionErrorHeader)
	}
	cr := m.selectResponse(selector)
	if cr == nil {
		return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("no integration response matches %q and there is no default", selector))
	}
	outStatus := status
	if cr.status != 0 {
		outStatus = cr.status
	}
	outHeader := hdr.Clone()
	outHeader.Del("Content-Length")
	body := bw.body
	respCT := hdr.Get("Content-Type")
	binary := MatchMediaType(respCT, m.binary)
	respIn := &Input{
		Body: body, PathParams: reqIn.PathParams, Query: reqIn.Query, Header: reqIn.Header,
		Context: rc, StageVariables: reqIn.StageVariables, Status: status,
	}
	env := &mapEnv{
		pathParams: reqIn.PathParams, query: reqIn.Query, header: reqIn.Header, reqBody: reqIn,
		respHeader: hdr, respBody: respIn, rc: rc, stageVars: reqIn.stageVars(), reqPath: r.URL.Path,
	}
	ctSet := false
	for i := range cr.ops {
		op := &cr.ops[i]
		vals, ok, err := op.eval(env)
		if err != nil {
			if errors.Is(err, ErrBodyNotJSON) {
				return reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("response mapping %q: %w", op.key, err))
			}
			return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("response mapping %q: %w", op.key, err))
		}
		if !ok && op.action != actRemove {
			continue
		}
		for _, v := range vals {
			if hasCRLF(v) {
				return reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("response mapping %q: %w", op.key, errCRLF))
			}
		}
		switch op.target {
		case tgtHeader:
			applyHeader(outHeader, op, vals)
			if http.CanonicalHeaderKey(op.name) == "Content-Type" {
				ctSet = true
			}
		case tgtStatus:
			n, err := parseStatus(vals[0])
			if err != nil {
				return reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("response mapping %q: %w", op.key, err))
			}
			outStatus = n
		}
	}
	if len(cr.templates) > 0 {
		accept := firstAccept(r.Header.Get("Accept"))
		if accept == "" || accept == "*/*" {
			accept = "application/json"
		}
		key := accept
		t := cr.templates[key]
		if t == nil {
			key = "application/json"
			if t = cr.templates[key]; t == nil {
				key = cr.first
				t = cr.templates[key]
			}
		}
		if binary {
			respIn.Body = base64Encode(body)
		}
		res, err := t.Render(r.Context(), respIn)
		if err != nil {
			if errors.Is(err, ErrBodyNotJSON) {
				return reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("response template: %w", err))
			}
			return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("response template: %w", err))
		}
		body = res.Body
		if !ctSet {
			outHeader.Set("Content-Type", key)
		}
		outHeader.Del("Content-Encoding")
		if res.Overrides.Status != 0 {
			outStatus = res.Overrides.Status
		}
		for k, v := range res.Overrides.Header {
			if !validHeaderName(k) || hasCRLF(v) || hopHeaders[http.CanonicalHeaderKey(k)] {
				return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("response template: header override %q refused", k))
			}
			outHeader.Set(k, v)
		}
	}
	outBinary := MatchMediaType(outHeader.Get("Content-Type"), m.binary)
	switch {
	case cr.handling == ConvertToText && outBinary:
		body = base64Encode(body)
	case cr.handling == ConvertToBinary:
		dec, err := base64Decode(body)
		if err != nil {
			return reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("CONVERT_TO_BINARY: %w", err))
		}
		body = dec
	}
	if r.Method == http.MethodHead {
		writeResponse(w, outHeader, outStatus, nil)
		return nil
	}
	writeResponse(w, outHeader, outStatus, body)
	return nil
}

func base64Encode(b []byte) []byte {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(b)))
	base64.StdEncoding.Encode(out, b)
	return out
}

func base64Decode(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	if err != nil {
		return nil, errors.New("payload is not valid base64")
	}
	return out[:n], nil
}

// decodeBody undoes a gzip, deflate, br or zstd Content-Encoding, so that templates
// and mappings see the payload; the result is bounded by max.
func decodeBody(encoding string, body []byte, max int64) ([]byte, bool, error) {
	var zr io.Reader
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		return body, false, nil
	case "gzip", "x-gzip":
		gr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, false, reqctx.NewError(reqctx.BadRequestBody, fmt.Errorf("gzip body: %w", err))
		}
		zr = gr
	case "deflate":
		zr = flate.NewReader(bytes.NewReader(body))
	case "br":
		zr = brotli.NewReader(bytes.NewReader(body))
	case "zstd":
		// Streaming: memory is bounded by the window (at most 8 MB, as
		// RFC 9659 lets HTTP decoders require), the output by max below.
		zd, err := zstd.NewReader(bytes.NewReader(body), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(8<<20))
		if err != nil {
			return nil, false, reqctx.NewError(reqctx.BadRequestBody, fmt.Errorf("zstd body: %w", err))
		}
		defer zd.Close()
		zr = zd
	default:
		return nil, false, reqctx.NewError(reqctx.UnsupportedMediaType, fmt.Errorf("Content-Encoding %q is not supported", encoding))
	}
	out, err := io.ReadAll(io.LimitReader(zr, max+1))
	if err != nil {
		return nil, false, reqctx.NewError(reqctx.BadRequestBody, fmt.Errorf("%s body: %w", encoding, err))
	}
	if int64(len(out)) > max {
		return nil, false, reqctx.NewError(reqctx.RequestTooLarge, fmt.Errorf("decoded body over the limit of %d bytes", max))
	}
	return out, true, nil
}
