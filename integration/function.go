package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico/reqctx"
)

// PayloadFormat is the version of the event a function integration sends
// and of the response it expects back.
type PayloadFormat string

// The payload formats.
const (
	// PayloadAuto picks the format from the function's types, else from the
	// API type; see [WithPayloadFormat].
	PayloadAuto PayloadFormat = ""
	// PayloadV1 is the REST API proxy event, events.APIGatewayProxyRequest,
	// answered with events.APIGatewayProxyResponse.
	PayloadV1 PayloadFormat = "1.0"
	// PayloadV2 is the HTTP API event, events.APIGatewayV2HTTPRequest,
	// answered with events.APIGatewayV2HTTPResponse.
	PayloadV2 PayloadFormat = "2.0"
)

// FunctionOption configures a [FunctionHandler].
type FunctionOption func(*functionOptions)

type functionOptions struct {
	format PayloadFormat
	logger *slog.Logger
}

// WithPayloadFormat fixes the payload format. The default, [PayloadAuto],
// uses 1.0 for a function whose event (or else response) type is exactly
// the aws-lambda-go 1.0 type and 2.0 for the 2.0 types; for other types it
// follows the API: 1.0 for REST APIs, 2.0 for HTTP APIs, 1.0 outside a
// gateway. A format the function's event type cannot take, or a value other
// than "", "1.0" and "2.0", makes every request fail with 500
// API_CONFIGURATION_ERROR.
func WithPayloadFormat(f PayloadFormat) FunctionOption {
	return func(o *functionOptions) { o.format = f }
}

// WithLogger sets where function errors, panics and malformed responses
// are logged, with the request id. nil (the default) means slog.Default().
func WithLogger(l *slog.Logger) FunctionOption {
	return func(o *functionOptions) { o.logger = l }
}

// FunctionHandler is a function integration, the model gateway's Lambda
// proxy integration run in-process: each request becomes a payload 1.0 or
// 2.0 event, the function is called with it and the request's context, and
// its result becomes the response. Build one with [Function] or
// [RawFunction]; the zero value is not usable. A FunctionHandler is safe for
// concurrent use; the function is called concurrently for concurrent
// requests.
//
// Events and responses follow the model gateway. Behind a gateway the event
// is filled from the request's [reqctx.Context]; used on its own, from the
// request alone (a generated request id, the stage "$default", path
// parameters from the [http.ServeMux] pattern that matched). Empty maps are
// JSON null in 1.0 events. REST APIs send a request body base64-encoded only
// when its Content-Type matches one of the API's binary media types, and
// decode an isBase64Encoded response body only when the request's Accept or
// the response's Content-Type matches one; HTTP APIs send bodies as text only
// for text/*, JSON, XML and JavaScript types and always decode. A response
// without a Content-Type is sent as application/json.
//
// Failures are answered through [reqctx.WriteError]:
//   - the function returns an error or panics: 502 INTEGRATION_FAILURE, the
//     error or the panic and its stack logged with the request id;
//   - a malformed response (1.0 without statusCode, invalid JSON, bad base64,
//     a status outside 200–599, a header with CR or LF): 502
//     INTEGRATION_FAILURE, logged as "malformed function response";
//   - a request body over an [http.MaxBytesReader] limit: 413
//     REQUEST_TOO_LARGE;
//   - the request's context reaches its deadline before the function
//     returns: 504 INTEGRATION_TIMEOUT at once. When the context is
//     cancelled instead (the client went away) nothing is written.
//
// When the request's context can be cancelled the function runs on its own
// goroutine, so that ServeHTTP returns when the context ends even if the
// function ignores it. That goroutine is the function's: it ends when the
// function returns, and a result that comes too late is dropped.
type FunctionHandler struct {
	invoke func(ctx context.Context, ev *fnEvent) (fnResult, error)
	// inFormat is the format the function's event type requires ("" when
	// it takes any JSON); outFormat the one its response type suggests.
	inFormat, outFormat PayloadFormat
	opts                functionOptions
}

var _ http.Handler = (*FunctionHandler)(nil)

// fnResult is what a function returned: a typed response or JSON.
type fnResult struct {
	v1  *events.APIGatewayProxyResponse
	v2  *events.APIGatewayV2HTTPResponse
	raw []byte
}

// Function adapts fn into a function integration. In is the event type and
// Out the response type: events.APIGatewayProxyRequest and
// events.APIGatewayProxyResponse (payload 1.0),
// events.APIGatewayV2HTTPRequest and events.APIGatewayV2HTTPResponse (2.0),
// or any types JSON-compatible with them, such as a struct with only the
// fields a handler needs, map[string]any or json.RawMessage ([]byte is taken
// as JSON too). So a handler written for aws-lambda-go's lambda.Start runs
// unchanged. The exact events types are passed without a JSON round trip.
//
// The event fn receives is its own: fn may keep or change it.
func Function[In, Out any](fn func(context.Context, In) (Out, error), opts ...FunctionOption) *FunctionHandler {
	h := &FunctionHandler{opts: applyFunctionOptions(opts)}
	var in In
	switch any(&in).(type) {
	case *events.APIGatewayProxyRequest:
		h.inFormat = PayloadV1
	case *events.APIGatewayV2HTTPRequest:
		h.inFormat = PayloadV2
	}
	var out Out
	switch any(&out).(type) {
	case *events.APIGatewayProxyResponse:
		h.outFormat = PayloadV1
	case *events.APIGatewayV2HTTPResponse:
		h.outFormat = PayloadV2
	}
	h.invoke = func(ctx context.Context, ev *fnEvent) (fnResult, error) {
		var in In
		switch p := any(&in).(type) {
		case *events.APIGatewayProxyRequest:
			*p = *ev.v1 // ServeHTTP has checked the format
		case *events.APIGatewayV2HTTPRequest:
			*p = *ev.v2
		default:
			b, err := ev.marshal()
			if err != nil {
				return fnResult{}, fmt.Errorf("encoding the event: %w", err)
			}
			if err := json.Unmarshal(b, &in); err != nil {
				return fnResult{}, fmt.Errorf("the function cannot take the event: %w", err)
			}
		}
		out, err := fn(ctx, in)
		if err != nil {
			return fnResult{}, err
		}
		switch o := any(&out).(type) {
		case *events.APIGatewayProxyResponse:
			return fnResult{v1: o}, nil
		case *events.APIGatewayV2HTTPResponse:
			return fnResult{v2: o}, nil
		case *json.RawMessage:
			return fnResult{raw: *o}, nil
		case *[]byte:
			return fnResult{raw: *o}, nil
		}
		b, err := json.Marshal(out)
		if err != nil {
			return fnResult{}, &malformedError{fmt.Errorf("encoding the response: %w", err)}
		}
		return fnResult{raw: b}, nil
	}
	return h
}

// RawFunction adapts an untyped function into a function integration, the
// way a Lambda runtime invokes one: fn gets the JSON event and returns the
// JSON response. The format follows the API (see [WithPayloadFormat]).
func RawFunction(fn func(ctx context.Context, event []byte) ([]byte, error), opts ...FunctionOption) *FunctionHandler {
	h := &FunctionHandler{opts: applyFunctionOptions(opts)}
	h.invoke = func(ctx context.Context, ev *fnEvent) (fnResult, error) {
		b, err := ev.marshal()
		if err != nil {
			return fnResult{}, fmt.Errorf("encoding the event: %w", err)
		}
		out, err := fn(ctx, b)
		if err != nil {
			return fnResult{}, err
		}
		return fnResult{raw: out}, nil
	}
	return h
}

func applyFunctionOptions(opts []FunctionOption) functionOptions {
	var o functionOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

// malformedError marks a function response the gateway cannot use.
type malformedError struct{ err error }

func (e *malformedError) Error() string { return "malformed function response: " + e.err.Error() }
func (e *malformedError) Unwrap() error { return e.err }

// panicError is a recovered panic.
type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("function panicked: %v", e.value) }

// format picks the payload format for a request.
func (h *FunctionHandler) format(rc *reqctx.Context) PayloadFormat {
	switch {
	case h.opts.format != PayloadAuto:
		return h.opts.format
	case h.inFormat != "":
		return h.inFormat
	case h.outFormat != "":
		return h.outFormat
	case rc.APIType == "HTTP":
		return PayloadV2
	}
	return PayloadV1
}

// ServeHTTP calls the function for the request; see [FunctionHandler].
func (h *FunctionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	if rc == nil {
		rc = standaloneContext(r, time.Now())
	}
	format := h.format(rc)
	if format != PayloadV1 && format != PayloadV2 {
		h.configError(w, r, rc, fmt.Errorf("unknown payload format %q, want %q or %q", format, PayloadV1, PayloadV2))
		return
	}
	if h.inFormat != "" && h.inFormat != format {
		h.configError(w, r, rc, fmt.Errorf("the function takes payload %s events but the integration sends %s", h.inFormat, format))
		return
	}

	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); !ok {
				err = reqctx.NewError(reqctx.BadRequestBody, fmt.Errorf("reading the request body: %w", err))
			}
			reqctx.WriteError(w, r, err)
			return
		}
	}
	ev := &fnEvent{format: format, httpAPI: rc.APIType == "HTTP"}
	if format == PayloadV1 {
		ev.v1 = eventV1(r, rc, body)
	} else {
		ev.v2 = eventV2(r, rc, body)
	}

	ctx := r.Context()
	start := time.Now()
	res, err := h.call(ctx, ev, rc.RequestID)
	rc.IntegrationLatency = time.Since(start)
	if err == errRequestEnded {
		h.ended(w, r, rc)
		return
	}
	if err != nil {
		rc.IntegrationStatus = http.StatusBadGateway
		if _, ok := errors.AsType[*malformedError](err); ok {
			h.opts.logger.Error("portico: malformed function response", "requestId", rc.RequestID, "err", err)
		} else if _, ok := errors.AsType[*panicError](err); !ok { // panics are logged where they are recovered
			h.opts.logger.Error("portico: function returned an error", "requestId", rc.RequestID, "err", err)
		}
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, err))
		return
	}
	resp, err := buildResponse(res, format, r, rc)
	if err != nil {
		rc.IntegrationStatus = http.StatusBadGateway
		h.opts.logger.Error("portico: malformed function response", "requestId", rc.RequestID, "err", err)
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, &malformedError{err}))
		return
	}
	rc.IntegrationStatus = resp.status
	resp.write(w, r)
}

func (h *FunctionHandler) configError(w http.ResponseWriter, r *http.Request, rc *reqctx.Context, err error) {
	h.opts.logger.Error("portico: function integration misconfigured", "requestId", rc.RequestID, "err", err)
	reqctx.WriteError(w, r, reqctx.NewError(reqctx.APIConfigurationError, err))
}

// ended answers a request whose context ended before the function did: 504
// on a deadline, nothing when the client went away.
func (h *FunctionHandler) ended(w http.ResponseWriter, r *http.Request, rc *reqctx.Context) {
	ctx := r.Context()
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(cause, context.DeadlineExceeded) {
		h.opts.logger.Warn("portico: function timed out", "requestId", rc.RequestID, "cause", cause)
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationTimeout, cause))
		return
	}
	h.opts.logger.Debug("portico: request ended before the function returned", "requestId", rc.RequestID, "cause", cause)
}

// invocation is one call of the function. Its goroutine writes res and err
// and then closes done; the request goroutine reads them only after done.
type invocation struct {
	h     *FunctionHandler
	ctx   context.Context
	ev    *fnEvent
	reqID string
	done  chan struct{}
	res   fnResult
	err   error
}

// errRequestEnded reports that the request's context ended before the
// function returned.
var errRequestEnded = errors.New("request ended before the function returned")

// call runs the function. It returns errRequestEnded, dropping the result,
// when ctx ended before the function returned or before it started.
func (h *FunctionHandler) call(ctx context.Context, ev *fnEvent, reqID string) (fnResult, error) {
	c := &invocation{h: h, ctx: ctx, ev: ev, reqID: reqID}
	if ctx.Done() == nil { // ctx can never end: no need for a goroutine
		c.run()
		return c.res, c.err
	}
	if ctx.Err() != nil {
		return fnResult{}, errRequestEnded
	}
	c.done = make(chan struct{})
	go c.run()
	select {
	case <-c.done:
		if ctx.Err() != nil {
			// An answer at or after the deadline is too late, and an error
			// is most likely the function giving up on its context.
			return fnResult{}, errRequestEnded
		}
		return c.res, c.err
	case <-ctx.Done():
		return fnResult{}, errRequestEnded
	}
}

func (c *invocation) run() {
	defer func() {
		if p := recover(); p != nil {
			c.err = &panicError{value: p}
			c.h.opts.logger.Error("portico: function panicked", "requestId", c.reqID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
		if c.done != nil {
			close(c.done)
		}
	}()
	c.res, c.err = c.h.invoke(c.ctx, c.ev)
}

// response is a function result ready to write.
type fnResponse struct {
	status int
	header http.Header
	body   []byte
}

func (resp *fnResponse) write(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	for k, vs := range resp.header {
		hdr[k] = vs
	}
	if len(hdr["Content-Type"]) == 0 {
		hdr.Set("Content-Type", "application/json")
	}
	// Framing is the server's business, not the function's.
	delete(hdr, "Transfer-Encoding")
	delete(hdr, "Connection")
	bodyAllowed := resp.status != http.StatusNoContent && resp.status != http.StatusNotModified
	if bodyAllowed {
		hdr.Set("Content-Length", strconv.Itoa(len(resp.body)))
	} else {
		delete(hdr, "Content-Length")
	}
	w.WriteHeader(resp.status)
	if bodyAllowed && r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
}
