// Package reqctx is the per-request context of a Portico request: the
// $context of the model gateway. The gateway fills it before the first
// pipeline step and every step reads and adds to it:
//
//	func(w http.ResponseWriter, r *http.Request) {
//		rc := reqctx.From(r.Context())
//		log.Printf("request %s on stage %s route %s", rc.RequestID, rc.Stage, rc.RouteKey)
//	}
//
// It also defines the typed error ([Error], [ResponseType]) that every step
// reports and the gateway renders as a gateway response. reqctx is a leaf:
// every other Portico package may import it.
package reqctx

import (
	"context"
	"net/url"
	"time"
)

// Context is the state of one request as it moves through the pipeline. The
// gateway creates it; steps running for the same request may write the fields
// documented as theirs. A Context is used by one request at a time and is not
// safe for concurrent use by several goroutines.
type Context struct {
	// RequestID is the unique id of the request, returned to the caller in
	// the x-amzn-RequestId header.
	RequestID string
	// ExtendedRequestID is a second unique id ($context.extendedRequestId).
	ExtendedRequestID string
	// RequestTime is when the gateway received the request.
	RequestTime time.Time

	// AccountID is the gateway's account id (for ARNs).
	AccountID string
	// APIID is the id of the API serving the request.
	APIID string
	// APIName is its name.
	APIName string
	// APIType is "REST", "HTTP" or "WEBSOCKET".
	APIType string
	// Version is the API version that served the request ("" if unversioned).
	Version string
	// Stage is the stage name.
	Stage string
	// DeploymentID identifies the deployment that served the request.
	DeploymentID string
	// RouteKey is the matched route, "GET /pets/{id}" or "$default".
	RouteKey string
	// ResourcePath is the matched path template, "/pets/{id}".
	ResourcePath string
	// ResourceID identifies the matched resource.
	ResourceID string
	// Path is the request path as the caller sent it, stage prefix included
	// (decoded).
	Path string
	// RawPath is the escaped request path as received (what a SigV4
	// signature covers).
	RawPath string
	// RoutePath is the path the route matched against (stage, base path and
	// version stripped).
	RoutePath string
	// HTTPMethod is the request method.
	HTTPMethod string
	// Protocol is the request protocol, e.g. "HTTP/1.1".
	Protocol string
	// DomainName is the host the request was sent to.
	DomainName string
	// DomainPrefix is the first label of DomainName.
	DomainPrefix string
	// BasePathMatched is the base path of the custom-domain mapping that
	// selected the stage, if any.
	BasePathMatched string

	// PathParams are the route's path parameters, unescaped.
	PathParams map[string]string
	// Query is the parsed query string.
	Query url.Values
	// StageVariables are the stage's variables (read only).
	StageVariables map[string]string
	// BinaryMediaTypes are the API's binary media types (read only), e.g.
	// "image/png", "image/*" or "*/*".
	BinaryMediaTypes []string

	// Identity describes the caller.
	Identity Identity
	// Authorizer is what an authorizer said about the caller.
	Authorizer Authorizer
	// APIKey is the API key value presented, once verified; APIKeyID its id.
	APIKey, APIKeyID string

	// Error describes the gateway error raised for this request, if any.
	Error ErrorInfo
	// ThrottledBy names the throttle level that rejected the request.
	ThrottledBy string

	// IntegrationLatency is the time spent in the integration.
	IntegrationLatency time.Duration
	// IntegrationStatus is the status the integration returned.
	IntegrationStatus int
	// AuthorizerLatency is the time spent in the authorizer.
	AuthorizerLatency time.Duration

	errorWriter ErrorWriter
	cancel      context.CancelCauseFunc
}

// SetCancel records the function that cancels the request's context (the
// one this Context travels in) with a cause. The gateway sets it, so that
// its integration timeout can end the request's context without deriving
// a new one for every request.
func (c *Context) SetCancel(f context.CancelCauseFunc) { c.cancel = f }

// Cancel cancels the request's context with cause and reports true, or
// reports false when no cancel function was set ([Context.SetCancel]).
func (c *Context) Cancel(cause error) bool {
	if c.cancel == nil {
		return false
	}
	c.cancel(cause)
	return true
}

// Identity is $context.identity.
type Identity struct {
	SourceIP  string
	UserAgent string
	// AccessKey, Caller, User, UserARN and AccountID are set by IAM-style
	// (SigV4) authentication.
	AccessKey, Caller, User, UserARN, AccountID string
	// APIKey and APIKeyID repeat the verified API key.
	APIKey, APIKeyID string
	// Networks are the source-network labels the embedding application gave
	// the request's listener or address (see private endpoints).
	Networks []string
	// ClientCert is the caller's verified TLS client certificate, if any.
	ClientCert *ClientCert
}

// ClientCert is $context.identity.clientCert.
type ClientCert struct {
	ClientCertPEM, SubjectDN, IssuerDN, SerialNumber string
	NotBefore, NotAfter                              time.Time
}

// Authorizer is the output of an authorizer: $context.authorizer.
type Authorizer struct {
	// Kind is "jwt", "lambda" or "iam"; "" when no authorizer ran.
	Kind string
	// PrincipalID is the principal the authorizer identified.
	PrincipalID string
	// Claims are a JWT's claims.
	Claims map[string]any
	// Scopes are a JWT's scopes.
	Scopes []string
	// Context is a custom authorizer's context map.
	Context map[string]any
	// UsageIdentifierKey is the API key an authorizer chose for metering.
	UsageIdentifierKey string
}

// ErrorInfo is $context.error.
type ErrorInfo struct {
	// Type is the gateway response type.
	Type ResponseType
	// Message is the client-safe message.
	Message string
	// ValidationErrorString lists validation failures.
	ValidationErrorString string
}

type key struct{}

// With returns a copy of ctx carrying rc.
func With(ctx context.Context, rc *Context) context.Context {
	return context.WithValue(ctx, key{}, rc)
}

// From returns the request context carried by ctx, or nil if there is none.
func From(ctx context.Context) *Context {
	rc, _ := ctx.Value(key{}).(*Context)
	return rc
}
