package auth

import (
	"net/http"
)

// The kinds of [Principal], as in $context.authorizer and the payload 2.0
// requestContext.authorizer.
const (
	KindJWT    = "jwt"
	KindLambda = "lambda"
	KindIAM    = "iam"
)

// Principal is who an [Authorizer] found a request comes from, and what it
// may do. Authorizers return a new Principal per request or share a cached
// one; its maps and slices must be treated as read only.
type Principal struct {
	// Kind is KindJWT, KindLambda or KindIAM.
	Kind string
	// ID is the principal id: a token's sub, a custom authorizer's
	// principalId, an IAM user id.
	ID string
	// ARN is an IAM principal's ARN ("arn:aws:iam::123456789012:user/alice"),
	// what resource-policy Principal elements match; "" for other kinds.
	ARN string
	// AccountID is an IAM principal's account; "" for other kinds.
	AccountID string
	// Policy is the principal's identity policy: a custom authorizer's
	// policy document or an IAM credential's policy. [Access] evaluates it
	// against the method ARN. For an IAM principal nil allows nothing; for
	// other kinds nil means the authorizer authenticated the caller without
	// saying what it may call (JWT): the caller may call the route unless a
	// resource policy says otherwise.
	Policy *Policy
	// Claims are a JWT's claims ($context.authorizer.claims.NAME).
	Claims map[string]any
	// Scopes are a JWT's scopes (the scope or scp claim).
	Scopes []string
	// Context is a custom authorizer's context map
	// ($context.authorizer.NAME); values are strings, numbers or booleans.
	Context map[string]any
	// UsageIdentifierKey is the API key value a custom authorizer chose for
	// metering, used when the API-key source is AUTHORIZER.
	UsageIdentifierKey string
	// AccessKey, UserName and UserID describe an IAM caller
	// ($context.identity.accessKey, .user, .caller).
	AccessKey, UserName, UserID string
}

// name is how the principal is named in access-denied messages.
func (p *Principal) name() string {
	switch {
	case p == nil:
		return "anonymous"
	case p.ARN != "":
		return p.ARN
	case p.ID != "":
		return p.ID
	}
	return "anonymous"
}

// Authorizer authenticates the caller of a request. Implementations are
// safe for concurrent use.
type Authorizer interface {
	// Authorize returns the principal the request comes from. methodARN is
	// the ARN of the method being called
	// (arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}),
	// which custom authorizers receive and cache results against. Failures
	// are *reqctx.Error values: 401 UNAUTHORIZED (no or a bad token),
	// 403 ACCESS_DENIED, INVALID_SIGNATURE, EXPIRED_TOKEN,
	// MISSING_AUTHENTICATION_TOKEN, 500 AUTHORIZER_FAILURE or
	// AUTHORIZER_CONFIGURATION_ERROR.
	Authorize(r *http.Request, methodARN string) (*Principal, error)
}
