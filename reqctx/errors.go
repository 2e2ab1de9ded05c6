package reqctx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// ResponseType names a gateway response: the kind of error the gateway
// raised ($context.error.responseType). Each type has a default status code,
// message and x-amzn-ErrorType header value; APIs may customise each one.
type ResponseType string

// The gateway response types. The first group is the model gateway's; the
// last group is Portico's own.
const (
	AccessDenied                 ResponseType = "ACCESS_DENIED"
	APIConfigurationError        ResponseType = "API_CONFIGURATION_ERROR"
	AuthorizerConfigurationError ResponseType = "AUTHORIZER_CONFIGURATION_ERROR"
	AuthorizerFailure            ResponseType = "AUTHORIZER_FAILURE"
	BadRequestParameters         ResponseType = "BAD_REQUEST_PARAMETERS"
	BadRequestBody               ResponseType = "BAD_REQUEST_BODY"
	Default4XX                   ResponseType = "DEFAULT_4XX"
	Default5XX                   ResponseType = "DEFAULT_5XX"
	ExpiredToken                 ResponseType = "EXPIRED_TOKEN"
	IntegrationFailure           ResponseType = "INTEGRATION_FAILURE"
	IntegrationTimeout           ResponseType = "INTEGRATION_TIMEOUT"
	InvalidAPIKey                ResponseType = "INVALID_API_KEY"
	InvalidSignature             ResponseType = "INVALID_SIGNATURE"
	MissingAuthenticationToken   ResponseType = "MISSING_AUTHENTICATION_TOKEN"
	QuotaExceeded                ResponseType = "QUOTA_EXCEEDED"
	RequestTooLarge              ResponseType = "REQUEST_TOO_LARGE"
	ResourceNotFound             ResponseType = "RESOURCE_NOT_FOUND"
	Throttled                    ResponseType = "THROTTLED"
	Unauthorized                 ResponseType = "UNAUTHORIZED"
	UnsupportedMediaType         ResponseType = "UNSUPPORTED_MEDIA_TYPE"
	WAFFiltered                  ResponseType = "WAF_FILTERED"

	// MethodNotAllowed: the path exists but not for this method (405, with Allow).
	MethodNotAllowed ResponseType = "METHOD_NOT_ALLOWED"
	// ServiceUnavailable: the gateway is shutting down, or a shared store is
	// down and the configuration says to fail closed (503).
	ServiceUnavailable ResponseType = "SERVICE_UNAVAILABLE"
	// Gone: the target no longer exists, e.g. a closed WebSocket connection (410).
	Gone ResponseType = "GONE"
)

type typeInfo struct {
	status    int
	message   string
	errorType string
}

var typeInfos = map[ResponseType]typeInfo{
	AccessDenied:                 {http.StatusForbidden, "User is not authorized to access this resource", "AccessDeniedException"},
	APIConfigurationError:        {http.StatusInternalServerError, "Internal server error", "InternalServerErrorException"},
	AuthorizerConfigurationError: {http.StatusInternalServerError, "Authorizer configuration error", "AuthorizerConfigurationException"},
	AuthorizerFailure:            {http.StatusInternalServerError, "Authorizer error", "AuthorizerFailureException"},
	BadRequestParameters:         {http.StatusBadRequest, "Invalid request parameters", "BadRequestException"},
	BadRequestBody:               {http.StatusBadRequest, "Invalid request body", "BadRequestException"},
	Default4XX:                   {http.StatusBadRequest, "Bad request", "BadRequestException"},
	Default5XX:                   {http.StatusInternalServerError, "Internal server error", "InternalServerErrorException"},
	ExpiredToken:                 {http.StatusForbidden, "The security token included in the request is expired", "ExpiredTokenException"},
	IntegrationFailure:           {http.StatusBadGateway, "Internal server error", "IntegrationFailureException"},
	IntegrationTimeout:           {http.StatusGatewayTimeout, "Endpoint request timed out", "IntegrationTimeoutException"},
	InvalidAPIKey:                {http.StatusForbidden, "Forbidden", "ForbiddenException"},
	InvalidSignature:             {http.StatusForbidden, "The request signature we calculated does not match the signature you provided", "InvalidSignatureException"},
	MissingAuthenticationToken:   {http.StatusForbidden, "Missing Authentication Token", "MissingAuthenticationTokenException"},
	QuotaExceeded:                {http.StatusTooManyRequests, "Limit Exceeded", "LimitExceededException"},
	RequestTooLarge:              {http.StatusRequestEntityTooLarge, "Request Too Long", "RequestTooLargeException"},
	ResourceNotFound:             {http.StatusNotFound, "Not Found", "NotFoundException"},
	Throttled:                    {http.StatusTooManyRequests, "Too Many Requests", "TooManyRequestsException"},
	Unauthorized:                 {http.StatusUnauthorized, "Unauthorized", "UnauthorizedException"},
	UnsupportedMediaType:         {http.StatusUnsupportedMediaType, "Unsupported Media Type", "UnsupportedMediaTypeException"},
	WAFFiltered:                  {http.StatusForbidden, "Forbidden", "ForbiddenException"},
	MethodNotAllowed:             {http.StatusMethodNotAllowed, "Method Not Allowed", "MethodNotAllowedException"},
	ServiceUnavailable:           {http.StatusServiceUnavailable, "Service Unavailable", "ServiceUnavailableException"},
	Gone:                         {http.StatusGone, "Gone", "GoneException"},
}

// ResponseTypes returns every known response type.
func ResponseTypes() []ResponseType {
	out := make([]ResponseType, 0, len(typeInfos))
	for t := range typeInfos {
		out = append(out, t)
	}
	return out
}

// Known reports whether t is a known response type.
func (t ResponseType) Known() bool { _, ok := typeInfos[t]; return ok }

// Status is t's default status code; 500 for an unknown type.
func (t ResponseType) Status() int {
	if i, ok := typeInfos[t]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// Message is t's default client message.
func (t ResponseType) Message() string {
	if i, ok := typeInfos[t]; ok {
		return i.message
	}
	return "Internal server error"
}

// ErrorType is t's default x-amzn-ErrorType header value.
func (t ResponseType) ErrorType() string {
	if i, ok := typeInfos[t]; ok {
		return i.errorType
	}
	return "InternalServerErrorException"
}

// Default is the DEFAULT_4XX or DEFAULT_5XX type that t falls back to for
// customisation, by its status.
func (t ResponseType) Default() ResponseType {
	if t.Status() < 500 {
		return Default4XX
	}
	return Default5XX
}

// Error is a failure a pipeline step reports. The gateway renders it as the
// gateway response of its Type; outside a gateway [WriteError] renders it
// with the type's defaults.
type Error struct {
	// Type is the gateway response type.
	Type ResponseType
	// Message is the client-safe message; "" means the type's default.
	Message string
	// Header holds extra response headers, such as Allow or Retry-After.
	Header http.Header
	// Err is the cause. It is logged with the request id, never sent.
	Err error
}

// NewError returns an error of type t caused by err (which may be nil).
func NewError(t ResponseType, err error) *Error { return &Error{Type: t, Err: err} }

// Error implements error.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Type.Message()
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Type, msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Type, msg)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ClientMessage is the message sent to the client.
func (e *Error) ClientMessage() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Type.Message()
}

// AsError returns err as an *Error, wrapping errors of other kinds as
// DEFAULT_5XX; it returns nil for a nil err.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &Error{Type: RequestTooLarge, Err: err}
	}
	return &Error{Type: Default5XX, Err: err}
}

// ErrorWriter renders a pipeline error as a response.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// SetErrorWriter installs the writer [WriteError] uses for this request. The
// gateway installs its own, which applies the API's customised gateway
// responses.
func (c *Context) SetErrorWriter(f ErrorWriter) { c.errorWriter = f }

// WriteError renders err for the request: with the error writer the gateway
// installed in the request's [Context], else with [WriteDefaultError]. Steps
// call it (or take it as their default error hook) instead of writing error
// bodies themselves.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if rc := From(r.Context()); rc != nil && rc.errorWriter != nil {
		rc.errorWriter(w, r, err)
		return
	}
	WriteDefaultError(w, r, err)
}

// WriteDefaultError renders err with its type's default status, the
// x-amzn-ErrorType header and a JSON body {"message": "..."}, and records the
// error in the request's [Context].
func WriteDefaultError(w http.ResponseWriter, r *http.Request, err error) {
	e := AsError(err)
	msg := e.ClientMessage()
	if rc := From(r.Context()); rc != nil {
		rc.Error.Type = e.Type
		rc.Error.Message = msg
	}
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", e.Type.ErrorType())
	body := `{"message":` + JSONString(msg) + "}"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Type.Status())
	_, _ = w.Write([]byte(body))
}

// JSONString returns s as a quoted JSON string.
func JSONString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
