package auth

import (
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// The API-key sources, as in the model's apiKeySource.
const (
	// APIKeySourceHeader reads the key from the x-api-key header.
	APIKeySourceHeader = "HEADER"
	// APIKeySourceAuthorizer takes the key a custom authorizer returned as
	// its usageIdentifierKey.
	APIKeySourceAuthorizer = "AUTHORIZER"
)

// Access is the authorization step of one route: it runs the route's
// authorizer, checks its scopes, combines the authorizer's decision with the
// resource policy, and checks the API key, in that order. What it learns
// lands in the request context: the principal in reqctx Authorizer (and
// Identity for IAM callers), the key in APIKey, APIKeyID and
// Identity.APIKeyID.
//
// The decision follows the model's evaluation table for callers of the
// API's own account: an explicit Deny in the authorizer's policy or the
// resource policy denies; otherwise an Allow in either allows; otherwise the
// call is denied. An authorizer that returns no policy (JWT) allows by
// itself only when there is no resource policy; with one, the resource
// policy must allow. IAM callers from another account need an Allow from
// both. Denials are 403 ACCESS_DENIED with the model's messages.
//
// Outside a gateway the method ARN is built from the request with account
// 000000000000 and "-" for the API id and stage, so policies meant for
// standalone use name resources like "arn:aws:execute-api:*:*:*/*/GET/pets/*".
//
// The zero Access lets every request through. Do not modify an Access once
// it serves requests. Safe for concurrent use.
type Access struct {
	// Authorizer authenticates the caller; nil means none (anonymous).
	Authorizer Authorizer
	// Scopes, when not empty, are the route's authorization scopes: the
	// principal must have at least one of them (a JWT's scope or scp
	// claim), else 403 ACCESS_DENIED with an insufficient_scope challenge.
	Scopes []string
	// ResourcePolicy is the API's resource policy (see
	// [ParseResourcePolicy]); nil means none.
	ResourcePolicy *Policy
	// APIKeys, when set, makes the route require an API key: missing,
	// unknown and disabled keys get 403 INVALID_API_KEY.
	APIKeys *Keys
	// APIKeySource is where the key comes from: APIKeySourceHeader ("" means
	// it) or APIKeySourceAuthorizer.
	APIKeySource string
	// Region is the region in method ARNs; "" means [DefaultRegion].
	Region string
	// Clock times the authorizer and is aws:CurrentTime outside a gateway;
	// nil means the real clock.
	Clock clock.Clock
	// ErrorHandler renders failures; nil means reqctx.WriteError (the
	// gateway's responses inside a gateway, the default JSON outside).
	ErrorHandler reqctx.ErrorWriter
}

// Check authorizes r and records what it learns in r's request context (if
// it has one). It returns nil or the *reqctx.Error to answer with. It may
// replace r.Body with an equivalent reader (SigV4 hashes the body).
func (a *Access) Check(r *http.Request) error {
	rc := reqctx.From(r.Context())
	if rc == nil {
		rc = &reqctx.Context{}
	}
	clk := clock.OrReal(a.Clock)
	var p *Principal
	arn := ""
	if a.Authorizer != nil || a.ResourcePolicy != nil {
		arn = requestARN(r, a.Region)
	}
	if a.Authorizer != nil {
		start := clk.Now()
		var err error
		p, err = a.Authorizer.Authorize(r, arn)
		rc.AuthorizerLatency = clk.Now().Sub(start)
		if err != nil {
			return err
		}
		if p == nil {
			return gwError(reqctx.AuthorizerConfigurationError, "", errors.New("auth: authorizer returned no principal and no error"))
		}
		record(rc, p)
		if len(a.Scopes) > 0 && !hasAnyScope(p.Scopes, a.Scopes) {
			e := gwError(reqctx.AccessDenied, "Forbidden", errors.New("auth: the token has none of the route's scopes"))
			e.Header = http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", error_description="the token has none of the required scopes"`}}
			return e
		}
	}
	if a.Authorizer != nil || a.ResourcePolicy != nil {
		now := rc.RequestTime
		if now.IsZero() {
			now = clk.Now()
		}
		if err := a.decide(r, rc, p, arn, now); err != nil {
			return err
		}
	}
	if a.APIKeys != nil {
		value := ""
		if a.APIKeySource == APIKeySourceAuthorizer {
			if p != nil {
				value = p.UsageIdentifierKey
			}
		} else if vals := r.Header[APIKeyHeader]; len(vals) == 1 {
			value = vals[0]
		} else if len(vals) > 1 {
			return gwError(reqctx.InvalidAPIKey, "", errors.New("auth: several x-api-key headers"))
		}
		key, err := a.APIKeys.Check(r.Context(), value)
		if err != nil {
			if errors.Is(err, ErrMissingAPIKey) || errors.Is(err, ErrUnknownAPIKey) || errors.Is(err, ErrAPIKeyDisabled) {
				return gwError(reqctx.InvalidAPIKey, "", err)
			}
			return gwError(reqctx.ServiceUnavailable, "", err)
		}
		rc.APIKey, rc.APIKeyID = value, key.ID
		rc.Identity.APIKey, rc.Identity.APIKeyID = value, key.ID
	}
	return nil
}

// Handler runs [Access.Check] before next, answering failures with the
// error handler. Outside a gateway it gives the request a fresh
// reqctx.Context first, so that next can read the principal.
func (a *Access) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = ensureContext(r)
		if err := a.Check(r); err != nil {
			fail(a.ErrorHandler, w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Access) decide(r *http.Request, rc *reqctx.Context, p *Principal, arn string, now time.Time) error {
	req := policyRequest(r, rc, p, arn, now)
	idApplies := p != nil && (p.Policy != nil || p.Kind == KindIAM)
	id := Neither
	if idApplies {
		id = p.Policy.Evaluate(&req)
	}
	if a.ResourcePolicy == nil {
		switch {
		case !idApplies || id == Allow:
			return nil
		case id == Deny:
			return denied(p, arn, true, false)
		}
		return denied(p, arn, false, false)
	}
	res := a.ResourcePolicy.Evaluate(&req)
	switch {
	case res == Deny:
		return denied(p, arn, true, true)
	case id == Deny:
		return denied(p, arn, true, false)
	}
	if p != nil && p.Kind == KindIAM && p.AccountID != "" && rc.AccountID != "" && p.AccountID != rc.AccountID {
		// Another account's caller needs both to allow (the model's table B).
		if id == Allow && res == Allow {
			return nil
		}
		return denied(p, arn, false, true)
	}
	if id == Allow || res == Allow {
		return nil
	}
	return denied(p, arn, false, true)
}

// denied is 403 ACCESS_DENIED with the model's message: a custom
// authorizer's own denial names no one; IAM callers and resource policies
// name the principal and the resource.
func denied(p *Principal, arn string, explicit, byResourcePolicy bool) *reqctx.Error {
	var msg string
	if p != nil && p.Kind == KindLambda && !byResourcePolicy {
		msg = "User is not authorized to access this resource"
	} else {
		msg = "User: " + p.name() + " is not authorized to perform: " + ActionInvoke + " on resource: " + arn
	}
	if explicit {
		msg += " with an explicit deny"
	}
	return gwError(reqctx.AccessDenied, msg, errors.New("auth: "+msg))
}

func policyRequest(r *http.Request, rc *reqctx.Context, p *Principal, arn string, now time.Time) Request {
	req := Request{
		Resource:        arn,
		Principal:       p,
		Networks:        rc.Identity.Networks,
		SecureTransport: r.TLS != nil,
		UserAgent:       r.Header.Get("User-Agent"),
		Referer:         r.Header.Get("Referer"),
		Time:            now,
	}
	src := rc.Identity.SourceIP
	if src == "" {
		src = remoteIP(r.RemoteAddr)
	}
	req.SourceIP, _ = netip.ParseAddr(src)
	return req
}

// record writes what the authorizer said into the request context.
func record(rc *reqctx.Context, p *Principal) {
	rc.Authorizer = reqctx.Authorizer{
		Kind:               p.Kind,
		PrincipalID:        p.ID,
		Claims:             p.Claims,
		Scopes:             p.Scopes,
		Context:            p.Context,
		UsageIdentifierKey: p.UsageIdentifierKey,
	}
	if p.Kind == KindIAM {
		rc.Identity.AccessKey = p.AccessKey
		rc.Identity.Caller = p.UserID
		rc.Identity.User = p.UserID
		rc.Identity.UserARN = p.ARN
		rc.Identity.AccountID = p.AccountID
	}
}

func hasAnyScope(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// Guard is the step before authorization: it gives the request its
// source-network labels, answers only requests from the allowed networks
// (a private endpoint), and refuses requests a resource policy explicitly
// denies to every caller — before any authorizer runs, so that a denied
// caller never costs an authorizer call. Statements that name specific
// principals are left to [Access], which knows the principal.
//
// The zero Guard lets every request through. Do not modify a Guard once it
// serves requests. Safe for concurrent use.
type Guard struct {
	// Networks, when not empty, are the source networks allowed: a request
	// with none of these labels gets 403 ACCESS_DENIED.
	Networks []string
	// NetworksOf labels requests; nil means [ContextNetworks]. Labels
	// already in the request context (Identity.Networks) are kept.
	NetworksOf NetworkFunc
	// ResourcePolicy is the API's resource policy; nil means none.
	ResourcePolicy *Policy
	// Region is the region in method ARNs; "" means [DefaultRegion].
	Region string
	// Clock is aws:CurrentTime outside a gateway; nil means the real clock.
	Clock clock.Clock
	// ErrorHandler renders failures; nil means reqctx.WriteError.
	ErrorHandler reqctx.ErrorWriter
}

// Check guards r, recording its network labels in r's request context (if
// it has one). It returns nil or the *reqctx.Error to answer with.
func (g *Guard) Check(r *http.Request) error {
	rc := reqctx.From(r.Context())
	if rc == nil {
		rc = &reqctx.Context{}
	}
	if rc.Identity.Networks == nil {
		f := g.NetworksOf
		if f == nil {
			f = ContextNetworks
		}
		rc.Identity.Networks = f(r)
	}
	if len(g.Networks) > 0 && !intersects(rc.Identity.Networks, g.Networks) {
		arn := requestARN(r, g.Region)
		return gwError(reqctx.AccessDenied, "User: anonymous is not authorized to perform: "+ActionInvoke+" on resource: "+arn,
			errors.New("auth: the request comes from none of the stage's allowed networks"))
	}
	if g.ResourcePolicy != nil {
		arn := requestARN(r, g.Region)
		now := rc.RequestTime
		if now.IsZero() {
			now = clock.OrReal(g.Clock).Now()
		}
		req := policyRequest(r, rc, nil, arn, now)
		if g.ResourcePolicy.evaluateForAnyone(&req) == Deny {
			return denied(nil, arn, true, true)
		}
	}
	return nil
}

// Handler runs [Guard.Check] before next, answering failures with the
// error handler.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = ensureContext(r)
		if err := g.Check(r); err != nil {
			fail(g.ErrorHandler, w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// evaluateForAnyone evaluates only the statements that apply to every
// principal (Principal "*"), as is possible before authentication.
func (p *Policy) evaluateForAnyone(req *Request) Decision {
	d := Neither
	for i := range p.stmts {
		st := &p.stmts[i]
		if st.principal.present && (st.principal.not || !st.principal.any) {
			continue
		}
		if !st.applies(req, ActionInvoke) {
			continue
		}
		if st.deny {
			return Deny
		}
		d = Allow
	}
	return d
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func fail(h reqctx.ErrorWriter, w http.ResponseWriter, r *http.Request, err error) {
	if h == nil {
		h = reqctx.WriteError
	}
	h(w, r, err)
}

// ensureContext gives r a reqctx.Context when it has none (outside a
// gateway).
func ensureContext(r *http.Request) *http.Request {
	if reqctx.From(r.Context()) != nil {
		return r
	}
	rc := &reqctx.Context{
		HTTPMethod: r.Method,
		Path:       r.URL.Path,
		RawPath:    r.URL.EscapedPath(),
		Protocol:   r.Proto,
		Identity:   reqctx.Identity{SourceIP: remoteIP(r.RemoteAddr), UserAgent: r.UserAgent()},
	}
	return r.WithContext(reqctx.With(r.Context(), rc))
}
