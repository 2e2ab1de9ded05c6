package transform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/transform/jsonpath"
)

// Validation is a route's request validation (the model gateway's request
// validator, request parameters and request models) and, optionally, its
// response validation. The zero Validation checks nothing.
type Validation struct {
	// RequestParameters declares the method request's parameters, as the
	// model gateway does: "method.request.querystring.q",
	// "method.request.header.X-Id", "method.request.path.id" (also
	// multivaluequerystring and multivalueheader). true marks a required
	// parameter.
	RequestParameters map[string]bool
	// ValidateParameters checks that every required parameter is present
	// and not blank; otherwise the request is answered with 400
	// BAD_REQUEST_PARAMETERS "Missing required request parameters: [a, b]".
	ValidateParameters bool
	// RequestModels maps a request Content-Type ("application/json") to
	// the name of the model its body must match; "$default" serves types
	// without an entry. A missing Content-Type reads as application/json.
	RequestModels map[string]string
	// ValidateBody checks the body against the model of its Content-Type
	// (a type without a model is not checked); otherwise the request is
	// answered with 400 BAD_REQUEST_BODY listing every violation with its
	// JSON pointer.
	ValidateBody bool
	// ResponseModels maps a status code and a response Content-Type to the
	// model the response body must match ("$default" as above).
	ResponseModels map[int]map[string]string
	// ResponseValidation says what to do with a response that does not
	// match its model; "" (ResponseValidationOff) checks nothing.
	ResponseValidation ResponseValidation
}

// ResponseValidation is what a [Validator] does with an invalid response.
type ResponseValidation string

// The response validation modes.
const (
	// ResponseValidationOff checks no responses.
	ResponseValidationOff ResponseValidation = ""
	// ResponseValidationLog logs an invalid response and sends it.
	ResponseValidationLog ResponseValidation = "LOG"
	// ResponseValidationReject answers an invalid response with 502
	// INTEGRATION_FAILURE (and logs it).
	ResponseValidationReject ResponseValidation = "REJECT"
)

// Violation is one validation failure.
type Violation struct {
	// In says where: "path", "querystring", "header" or "body".
	In string
	// Name is the missing parameter's name, for parameters.
	Name string
	// Pointer is the RFC 6901 JSON pointer of the failing value in the
	// body ("" for the whole body).
	Pointer string
	// Message describes the failure without quoting the value.
	Message string
}

// String renders the violation as "in.name" for a parameter and
// "/pointer: message" for the body.
func (v Violation) String() string {
	if v.In != "body" {
		return v.In + "." + v.Name
	}
	p := v.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + v.Message
}

// ValidationError is a request (or response) that failed validation. It is
// the cause of the BAD_REQUEST_PARAMETERS and BAD_REQUEST_BODY gateway
// errors a [Validator] reports.
type ValidationError struct {
	// Type is BAD_REQUEST_PARAMETERS or BAD_REQUEST_BODY.
	Type reqctx.ResponseType
	// Violations lists every failure, in a stable order.
	Violations []Violation
}

// Message is the client message: the model gateway's "Missing required
// request parameters: [a, b]" for parameters, "Invalid request body: " and
// the violations for bodies.
func (e *ValidationError) Message() string {
	if e.Type == reqctx.BadRequestParameters {
		names := make([]string, len(e.Violations))
		for i, v := range e.Violations {
			names[i] = v.Name
		}
		return "Missing required request parameters: [" + strings.Join(names, ", ") + "]"
	}
	return "Invalid request body: " + e.list()
}

func (e *ValidationError) list() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// Error implements error.
func (e *ValidationError) Error() string { return "transform: " + e.Message() }

// ErrResponseInvalid is the cause of the 502 a [Validator] answers with when
// a response does not match its model under [ResponseValidationReject].
var ErrResponseInvalid = errors.New("transform: integration response does not match its model")

// Validator checks requests (and responses) against a [Validation]. Build
// it with [NewValidator]; it is immutable and safe for concurrent use.
type Validator struct {
	params   []paramDecl
	bodies   map[string]*openapi3.Schema
	resp     map[int]map[string]*openapi3.Schema
	respMode ResponseValidation
	maxBody  int64
	logger   *slog.Logger
}

type paramDecl struct {
	in, name string
	multi    bool
}

// ValidatorOption configures [NewValidator].
type ValidatorOption func(*validatorOptions)

type validatorOptions struct {
	maxBody int64
	logger  *slog.Logger
}

// WithValidatorMaxBody bounds the bodies the validator reads (default 10
// MB); a larger body is answered with 413 REQUEST_TOO_LARGE.
func WithValidatorMaxBody(n int64) ValidatorOption {
	return func(o *validatorOptions) { o.maxBody = n }
}

// WithValidatorLogger sets where invalid responses are logged (default
// slog.Default()).
func WithValidatorLogger(l *slog.Logger) ValidatorOption {
	return func(o *validatorOptions) { o.logger = l }
}

// NewValidator compiles v against models (nil when v uses none). A
// malformed parameter declaration, a model that does not exist, a bad
// content type or an unknown response validation mode is an error.
func NewValidator(v Validation, models *Models, opts ...ValidatorOption) (*Validator, error) {
	o := validatorOptions{maxBody: DefaultMaxBodyBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBody <= 0 {
		return nil, fmt.Errorf("transform: validator body limit %d must be positive", o.maxBody)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	val := &Validator{maxBody: o.maxBody, logger: o.logger, respMode: v.ResponseValidation}
	switch v.ResponseValidation {
	case ResponseValidationOff, ResponseValidationLog, ResponseValidationReject:
	default:
		return nil, fmt.Errorf("transform: ResponseValidation %q: want %q, %q or empty", v.ResponseValidation, ResponseValidationLog, ResponseValidationReject)
	}
	for _, key := range sortedKeys(v.RequestParameters) {
		d, err := parseParamDecl(key)
		if err != nil {
			return nil, err
		}
		if v.RequestParameters[key] {
			val.params = append(val.params, d)
		}
	}
	schema := func(ct, model string) (*openapi3.Schema, error) {
		if ct != "$default" && !validMediaType(ct) {
			return nil, fmt.Errorf("transform: model content type %q is not type/subtype", ct)
		}
		if models == nil || !models.Has(model) {
			return nil, fmt.Errorf("transform: content type %q: no model named %q", ct, model)
		}
		return models.schemas[model], nil
	}
	if v.ValidateBody {
		val.bodies = map[string]*openapi3.Schema{}
		for ct, model := range v.RequestModels {
			s, err := schema(ct, model)
			if err != nil {
				return nil, err
			}
			val.bodies[mediaTypeOrDefault(ct)] = s
		}
	}
	if v.ResponseValidation != ResponseValidationOff {
		val.resp = map[int]map[string]*openapi3.Schema{}
		for status, m := range v.ResponseModels {
			if status < 100 || status > 599 {
				return nil, fmt.Errorf("transform: response model status %d is outside 100-599", status)
			}
			val.resp[status] = map[string]*openapi3.Schema{}
			for ct, model := range m {
				s, err := schema(ct, model)
				if err != nil {
					return nil, err
				}
				val.resp[status][mediaTypeOrDefault(ct)] = s
			}
		}
	}
	return val, nil
}

func mediaTypeOrDefault(ct string) string {
	if ct == "$default" {
		return ct
	}
	return mediaType(ct)
}

func parseParamDecl(key string) (paramDecl, error) {
	rest, ok := strings.CutPrefix(key, "method.request.")
	if ok {
		in, name, ok2 := strings.Cut(rest, ".")
		if ok2 && name != "" && validParamName(name) {
			switch in {
			case "path", "querystring", "header":
				return paramDecl{in: in, name: name}, nil
			case "multivaluequerystring":
				return paramDecl{in: "querystring", name: name, multi: true}, nil
			case "multivalueheader":
				return paramDecl{in: "header", name: name, multi: true}, nil
			}
		}
	}
	return paramDecl{}, fmt.Errorf("transform: request parameter %q: want method.request.{path|querystring|header|multivaluequerystring|multivalueheader}.NAME", key)
}

// validParamName is the model gateway's ^[a-zA-Z0-9._$-]+$.
func validParamName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '$' || c == '-') {
			return false
		}
	}
	return s != ""
}

// CheckParameters reports the required parameters r lacks, as a
// *[ValidationError] of type BAD_REQUEST_PARAMETERS; nil if none is
// missing. Path parameters are read from r.PathValue.
func (v *Validator) CheckParameters(r *http.Request) error {
	var missing []Violation
	for _, p := range v.params {
		present := false
		switch p.in {
		case "path":
			present = strings.TrimSpace(r.PathValue(p.name)) != ""
			if rc := reqctx.From(r.Context()); !present && rc != nil {
				present = strings.TrimSpace(rc.PathParams[p.name]) != ""
			}
		case "querystring":
			for _, x := range r.URL.Query()[p.name] {
				if strings.TrimSpace(x) != "" {
					present = true
				}
			}
		case "header":
			for _, x := range r.Header.Values(p.name) {
				if strings.TrimSpace(x) != "" {
					present = true
				}
			}
		}
		if !present {
			missing = append(missing, Violation{In: p.in, Name: p.name, Message: "missing"})
		}
	}
	if missing == nil {
		return nil
	}
	return &ValidationError{Type: reqctx.BadRequestParameters, Violations: missing}
}

// CheckBody validates body, sent with contentType, against its model: a
// *[ValidationError] of type BAD_REQUEST_BODY lists every violation; nil if
// the body matches or its type has no model.
func (v *Validator) CheckBody(contentType string, body []byte) error {
	s := v.bodySchema(contentType)
	if s == nil {
		return nil
	}
	if vs := checkJSON(s, body, true); vs != nil {
		return &ValidationError{Type: reqctx.BadRequestBody, Violations: vs}
	}
	return nil
}

func (v *Validator) bodySchema(contentType string) *openapi3.Schema {
	if v.bodies == nil {
		return nil
	}
	ct := mediaType(contentType)
	if ct == "" {
		ct = "application/json"
	}
	if s, ok := v.bodies[ct]; ok {
		return s
	}
	return v.bodies["$default"]
}

// checkJSON validates a JSON body against s.
func checkJSON(s *openapi3.Schema, body []byte, request bool) []Violation {
	if len(bytes.TrimSpace(body)) == 0 {
		return []Violation{{In: "body", Message: "the body is empty; a JSON value is required"}}
	}
	doc, err := jsonpath.Decode(body)
	if err != nil {
		return []Violation{{In: "body", Message: "the body is not valid JSON"}}
	}
	opts := []openapi3.SchemaValidationOption{openapi3.MultiErrors()}
	if request {
		opts = append(opts, openapi3.VisitAsRequest())
	} else {
		opts = append(opts, openapi3.VisitAsResponse())
	}
	err = s.VisitJSON(doc, opts...)
	if err == nil {
		return nil
	}
	var vs []Violation
	collectViolations(err, &vs, 0)
	if len(vs) == 0 {
		vs = []Violation{{In: "body", Message: "the body does not match its model"}}
	}
	slices.SortStableFunc(vs, func(a, b Violation) int { return strings.Compare(a.Pointer, b.Pointer) })
	return slices.CompactFunc(vs, func(a, b Violation) bool { return a == b })
}

func collectViolations(err error, out *[]Violation, depth int) {
	if depth > 32 || len(*out) >= 100 {
		return
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			collectViolations(e, out, depth+1)
		}
		return
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		*out = append(*out, Violation{In: "body", Message: "the body does not match its model"})
		return
	}
	if se.Origin != nil {
		var inner openapi3.MultiError
		if errors.As(se.Origin, &inner) && (se.SchemaField == "anyOf" || se.SchemaField == "allOf") {
			for _, e := range inner {
				collectViolations(e, out, depth+1)
			}
			return
		}
	}
	path := se.JSONPointer()
	reason := se.Reason
	if reason == "" {
		reason = fmt.Sprintf("does not match %q", se.SchemaField)
	}
	if strings.HasSuffix(reason, "is unsupported") {
		// "property \"x\" is unsupported": point at the property.
		if name, ok := quoted(reason); ok {
			path = append(path, name)
		}
	}
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(escapePointer(p))
	}
	*out = append(*out, Violation{In: "body", Pointer: b.String(), Message: reason})
}

func quoted(s string) (string, bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", false
	}
	rest := s[i:]
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return "", false
	}
	name, err := strconv.Unquote(q)
	return name, err == nil
}

// Handler returns h behind the validator: a request that fails is answered
// through [reqctx.WriteError] with its *[ValidationError] (which also fills
// $context.error.validationErrorString) and never reaches h. With response
// validation, h's response is buffered (up to the body limit) and checked
// before it is sent.
func (v *Validator) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(v.params) > 0 {
			if err := v.CheckParameters(r); err != nil {
				v.fail(w, r, err.(*ValidationError))
				return
			}
		}
		if s := v.bodySchema(r.Header.Get("Content-Type")); s != nil {
			body, err := readAll(r, v.maxBody)
			if err != nil {
				reqctx.WriteError(w, r, err)
				return
			}
			if vs := checkJSON(s, body, true); vs != nil {
				v.fail(w, r, &ValidationError{Type: reqctx.BadRequestBody, Violations: vs})
				return
			}
		}
		if v.resp == nil {
			h.ServeHTTP(w, r)
			return
		}
		v.serveChecked(w, r, h)
	})
}

func (v *Validator) fail(w http.ResponseWriter, r *http.Request, ve *ValidationError) {
	if rc := reqctx.From(r.Context()); rc != nil {
		rc.Error.ValidationErrorString = ve.list()
	}
	e := reqctx.NewError(ve.Type, ve)
	e.Message = ve.Message()
	reqctx.WriteError(w, r, e)
}

// serveChecked buffers h's response and checks it against its model.
func (v *Validator) serveChecked(w http.ResponseWriter, r *http.Request, h http.Handler) {
	bw := newBufferWriter(w, v.maxBody, reqctx.From(r.Context()))
	h.ServeHTTP(bw, r)
	if bw.passedThrough() {
		return // a gateway error is not checked against the models
	}
	if bw.err != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, bw.err))
		return
	}
	status := bw.statusOr200()
	var s *openapi3.Schema
	if m := v.resp[status]; m != nil {
		ct := mediaType(bw.header.Get("Content-Type"))
		if ct == "" {
			ct = "application/json"
		}
		if s = m[ct]; s == nil {
			s = m["$default"]
		}
	}
	if s != nil {
		if vs := checkJSON(s, bw.body, false); vs != nil {
			ve := &ValidationError{Type: reqctx.IntegrationFailure, Violations: vs}
			rid := ""
			if rc := reqctx.From(r.Context()); rc != nil {
				rid = rc.RequestID
			}
			v.logger.Warn("portico: response does not match its model", "requestId", rid, "status", status, "violations", ve.list())
			if v.respMode == ResponseValidationReject {
				reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("%w: %s", ErrResponseInvalid, ve.list())))
				return
			}
		}
	}
	bw.flushTo(w)
}

// readAll reads r's body up to max bytes and puts it back for the next
// handler. A larger body is a REQUEST_TOO_LARGE error.
func readAll(r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	_ = r.Body.Close()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, reqctx.NewError(reqctx.RequestTooLarge, err)
		}
		return nil, reqctx.NewError(reqctx.BadRequestBody, fmt.Errorf("reading the request body: %w", err))
	}
	if int64(len(body)) > max {
		return nil, reqctx.NewError(reqctx.RequestTooLarge, fmt.Errorf("request body over the limit of %d bytes", max))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return body, nil
}
