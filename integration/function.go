package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico/reqctx"
)

// PayloadFormat is the version of the function event format.
type PayloadFormat string

// The payload formats.
const (
	// PayloadAuto picks 1.0 for REST APIs and 2.0 for HTTP APIs.
	PayloadAuto PayloadFormat = ""
	// PayloadV1 is the REST API proxy event (events.APIGatewayProxyRequest).
	PayloadV1 PayloadFormat = "1.0"
	// PayloadV2 is the HTTP API event (events.APIGatewayV2HTTPRequest).
	PayloadV2 PayloadFormat = "2.0"
)

// FunctionOption configures a [FunctionHandler].
type FunctionOption func(*functionOptions)

type functionOptions struct {
	format PayloadFormat
	logger *slog.Logger
}

// WithPayloadFormat fixes the payload format; the default, [PayloadAuto],
// follows the API type.
func WithPayloadFormat(f PayloadFormat) FunctionOption {
	return func(o *functionOptions) { o.format = f }
}

// WithLogger sets where panics, function errors and malformed responses are
// logged (default slog.Default()).
func WithLogger(l *slog.Logger) FunctionOption {
	return func(o *functionOptions) { o.logger = l }
}

// FunctionHandler is a function integration: it turns each request into the
// model gateway's proxy event, calls the function in-process, and turns its
// result into the response. It is safe for concurrent use.
//
// The function runs in the request's goroutine. A function error, a panic or
// a malformed response is answered with 502 INTEGRATION_FAILURE and logged
// with the request id. Behind a gateway, a function that runs past the
// integration timeout has its context cancelled and the client gets 504
// INTEGRATION_TIMEOUT at once; its result is dropped when it returns (used
// on its own, wrap the handler in [http.TimeoutHandler] for the same).
type FunctionHandler struct {
	invoke func(ctx context.Context, format PayloadFormat, v1 *events.APIGatewayProxyRequest, v2 *events.APIGatewayV2HTTPRequest) (rawResponse, error)
	opts   functionOptions
}

// rawResponse is a function's result: either a typed response or JSON.
type rawResponse struct {
	v1   *events.APIGatewayProxyResponse
	v2   *events.APIGatewayV2HTTPResponse
	json []byte
}

// Function adapts fn into an integration. In is the event type and Out the
// response type: events.APIGatewayProxyRequest and APIGatewayProxyResponse
// (payload 1.0), events.APIGatewayV2HTTPRequest and
// APIGatewayV2HTTPResponse (2.0), or any types JSON-compatible with them —
// a struct with only the fields a handler needs, map[string]any,
// json.RawMessage. The exact events types are passed without a JSON round
// trip.
func Function[In, Out any](fn func(context.Context, In) (Out, error), opts ...FunctionOption) *FunctionHandler {
	h := &FunctionHandler{opts: applyFunctionOptions(opts)}
	h.invoke = func(ctx context.Context, format PayloadFormat, v1 *events.APIGatewayProxyRequest, v2 *events.APIGatewayV2HTTPRequest) (rawResponse, error) {
		var in In
		var event any = v1
		if format == PayloadV2 {
			event = v2
		}
		switch p := any(&in).(type) {
		case *events.APIGatewayProxyRequest:
			if v1 == nil {
				return rawResponse{}, errors.New("function takes a payload 1.0 event but the route sends 2.0")
			}
			*p = *v1
		case *events.APIGatewayV2HTTPRequest:
			if v2 == nil {
				return rawResponse{}, errors.New("function takes a payload 2.0 event but the route sends 1.0")
			}
			*p = *v2
		default:
			b, err := json.Marshal(event)
			if err != nil {
				return rawResponse{}, fmt.Errorf("encoding event: %w", err)
			}
			if err := json.Unmarshal(b, &in); err != nil {
				return rawResponse{}, fmt.Errorf("function cannot take the event: %w", err)
			}
		}
		out, err := fn(ctx, in)
		if err != nil {
			return rawResponse{}, err
		}
		switch o := any(&out).(type) {
		case *events.APIGatewayProxyResponse:
			return rawResponse{v1: o}, nil
		case *events.APIGatewayV2HTTPResponse:
			return rawResponse{v2: o}, nil
		}
		b, err := json.Marshal(out)
		if err != nil {
			return rawResponse{}, fmt.Errorf("malformed function response: %w", err)
		}
		return rawResponse{json: b}, nil
	}
	return h
}

// RawFunction adapts an untyped function — JSON event in, JSON response
// out, as a Lambda runtime's Invoke — into an integration.
func RawFunction(fn func(ctx context.Context, event []byte) ([]byte, error), opts ...FunctionOption) *FunctionHandler {
	h := &FunctionHandler{opts: applyFunctionOptions(opts)}
	h.invoke = func(ctx context.Context, format PayloadFormat, v1 *events.APIGatewayProxyRequest, v2 *events.APIGatewayV2HTTPRequest) (rawResponse, error) {
		var event any = v1
		if format == PayloadV2 {
			event = v2
		}
		b, err := json.Marshal(event)
		if err != nil {
			return rawResponse{}, fmt.Errorf("encoding event: %w", err)
		}
		out, err := fn(ctx, b)
		if err != nil {
			return rawResponse{}, err
		}
		return rawResponse{json: out}, nil
	}
	return h
}

func applyFunctionOptions(opts []FunctionOption) functionOptions {
	o := functionOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

// errFunctionPanic marks a recovered panic.
type errFunctionPanic struct {
	value any
	stack []byte
}

func (e *errFunctionPanic) Error() string { return fmt.Sprintf("function panicked: %v", e.value) }

type invokeResult struct {
	resp rawResponse
	err  error
}

// call runs the function in the request's goroutine, turning a panic into
// an error. The gateway's integration timeout answers the client if the
// function runs too long.
func (h *FunctionHandler) call(ctx context.Context, format PayloadFormat, v1 *events.APIGatewayProxyRequest, v2 *events.APIGatewayV2HTTPRequest) (res invokeResult) {
	defer func() {
		if p := recover(); p != nil {
			res = invokeResult{err: &errFunctionPanic{value: p, stack: debug.Stack()}}
		}
	}()
	res.resp, res.err = h.invoke(ctx, format, v1, v2)
	return res
}

// ServeHTTP invokes the function for the request.
func (h *FunctionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	if rc == nil {
		rc = standaloneContext(r)
	}
	start := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		reqctx.WriteError(w, r, err)
		return
	}
	format := h.opts.format
	if format == PayloadAuto {
		format = PayloadV1
		if rc.APIType == "HTTP" {
			format = PayloadV2
		}
	}
	var v1 *events.APIGatewayProxyRequest
	var v2 *events.APIGatewayV2HTTPRequest
	switch format {
	case PayloadV1:
		v1 = eventV1(r, rc, body)
	case PayloadV2:
		v2 = eventV2(r, rc, body)
	default:
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, fmt.Errorf("unknown payload format %q", format)))
		return
	}

	ctx := r.Context()
	res := h.call(ctx, format, v1, v2)
	if ctx.Err() != nil {
		// The request ended while the function ran: the gateway's
		// integration timeout, or the client went away.
		cause := context.Cause(ctx)
		h.opts.logger.Warn("portico: function outlived its request", "requestId", rc.RequestID, "cause", cause)
		if errors.Is(cause, context.DeadlineExceeded) {
			reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationTimeout, cause))
		}
		return
	}
	rc.IntegrationLatency = time.Since(start)
	if res.err != nil {
		var pe *errFunctionPanic
		if errors.As(res.err, &pe) {
			h.opts.logger.Error("portico: function panicked", "requestId", rc.RequestID, "panic", fmt.Sprint(pe.value), "stack", string(pe.stack))
		} else {
			h.opts.logger.Error("portico: function returned an error", "requestId", rc.RequestID, "err", res.err)
		}
		rc.IntegrationStatus = http.StatusBadGateway
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, res.err))
		return
	}
	var out *response
	if format == PayloadV1 {
		out, err = responseV1(res.resp)
	} else {
		out, err = responseV2(res.resp)
	}
	if err != nil {
		h.opts.logger.Error("portico: malformed function response", "requestId", rc.RequestID, "err", err)
		rc.IntegrationStatus = http.StatusBadGateway
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("malformed function response: %w", err)))
		return
	}
	rc.IntegrationStatus = out.status
	hdr := w.Header()
	for k, vs := range out.header {
		hdr[k] = vs
	}
	if hdr.Get("Content-Type") == "" {
		hdr.Set("Content-Type", "application/json")
	}
	hdr.Set("Content-Length", strconv.Itoa(len(out.body)))
	w.WriteHeader(out.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out.body)
	}
}

// standaloneContext builds a request context for a function used outside a
// gateway.
func standaloneContext(r *http.Request) *reqctx.Context {
	var id [16]byte
	_, _ = io.ReadFull(randReader, id[:])
	return &reqctx.Context{
		RequestID:    fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:]),
		RequestTime:  time.Now(),
		Path:         r.URL.Path,
		RawPath:      r.URL.EscapedPath(),
		RoutePath:    r.URL.Path,
		ResourcePath: r.URL.Path,
		HTTPMethod:   r.Method,
		RouteKey:     r.Method + " " + r.URL.Path,
		Protocol:     r.Proto,
		DomainName:   r.Host,
		Query:        r.URL.Query(),
		Identity:     reqctx.Identity{SourceIP: remoteIP(r.RemoteAddr), UserAgent: r.UserAgent()},
	}
}

// response is a function result ready to write.
type response struct {
	status int
	header http.Header
	body   []byte
}

func decodeBody(body string, b64 bool) ([]byte, error) {
	if !b64 {
		return []byte(body), nil
	}
	out, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("isBase64Encoded body: %w", err)
	}
	return out, nil
}

func responseV1(raw rawResponse) (*response, error) {
	res := raw.v1
	if res == nil {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(raw.json, &probe); err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
		if _, ok := probe["statusCode"]; !ok {
			return nil, errors.New("no statusCode")
		}
		res = new(events.APIGatewayProxyResponse)
		if err := json.Unmarshal(raw.json, res); err != nil {
			return nil, err
		}
	}
	if res.StatusCode < 100 || res.StatusCode > 599 {
		return nil, fmt.Errorf("statusCode %d out of range", res.StatusCode)
	}
	out := &response{status: res.StatusCode, header: http.Header{}}
	for k, v := range res.Headers {
		if _, multi := res.MultiValueHeaders[k]; !multi {
			out.header.Set(k, v)
		}
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			out.header.Add(k, v)
		}
	}
	if err := checkHeader(out.header); err != nil {
		return nil, err
	}
	var err error
	out.body, err = decodeBody(res.Body, res.IsBase64Encoded)
	return out, err
}

func responseV2(raw rawResponse) (*response, error) {
	res := raw.v2
	if res == nil {
		var probe any
		if err := json.Unmarshal(raw.json, &probe); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		obj, isObj := probe.(map[string]any)
		if _, ok := obj["statusCode"]; !isObj || !ok {
			// Valid JSON without a statusCode: the whole value is the body.
			return &response{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: raw.json}, nil
		}
		res = new(events.APIGatewayV2HTTPResponse)
		if err := json.Unmarshal(raw.json, res); err != nil {
			return nil, err
		}
	}
	if res.StatusCode < 100 || res.StatusCode > 599 {
		return nil, fmt.Errorf("statusCode %d out of range", res.StatusCode)
	}
	out := &response{status: res.StatusCode, header: http.Header{}}
	for k, v := range res.Headers {
		out.header.Set(k, v)
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			out.header.Add(k, v)
		}
	}
	for _, c := range res.Cookies {
		out.header.Add("Set-Cookie", c)
	}
	if err := checkHeader(out.header); err != nil {
		return nil, err
	}
	var err error
	out.body, err = decodeBody(res.Body, res.IsBase64Encoded)
	return out, err
}

// checkHeader rejects header names and values that would corrupt the
// response (CR, LF, NUL).
func checkHeader(h http.Header) error {
	for k, vs := range h {
		if k == "" || strings.ContainsAny(k, " \t\r\n:\x00") {
			return fmt.Errorf("bad header name %q", k)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("header %s: value contains CR, LF or NUL", k)
			}
		}
	}
	return nil
}
