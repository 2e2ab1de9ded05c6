package auth

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/reqctx"
)

type sourceKind uint8

const (
	srcHeader sourceKind = iota
	srcQuery
	srcCookie
	srcStageVar
	srcContext
)

// identitySource is one parsed identity-source expression.
type identitySource struct {
	kind sourceKind
	name string // header names are canonical
	expr string // as configured, for messages
}

// contextSources are the $context variables an identity source may name.
var contextSources = map[string]func(rc *reqctx.Context) string{
	"requestId":          func(rc *reqctx.Context) string { return rc.RequestID },
	"httpMethod":         func(rc *reqctx.Context) string { return rc.HTTPMethod },
	"path":               func(rc *reqctx.Context) string { return rc.Path },
	"resourcePath":       func(rc *reqctx.Context) string { return rc.ResourcePath },
	"routeKey":           func(rc *reqctx.Context) string { return rc.RouteKey },
	"stage":              func(rc *reqctx.Context) string { return rc.Stage },
	"apiId":              func(rc *reqctx.Context) string { return rc.APIID },
	"accountId":          func(rc *reqctx.Context) string { return rc.AccountID },
	"domainName":         func(rc *reqctx.Context) string { return rc.DomainName },
	"domainPrefix":       func(rc *reqctx.Context) string { return rc.DomainPrefix },
	"protocol":           func(rc *reqctx.Context) string { return rc.Protocol },
	"identity.sourceIp":  func(rc *reqctx.Context) string { return rc.Identity.SourceIP },
	"identity.userAgent": func(rc *reqctx.Context) string { return rc.Identity.UserAgent },
}

// parseIdentitySource parses "$request.header.NAME",
// "method.request.header.NAME", "$request.querystring.NAME",
// "method.request.querystring.NAME", "$request.cookie.NAME",
// "$stageVariables.NAME", "stageVariables.NAME", "$context.NAME" or
// "context.NAME".
func parseIdentitySource(expr string) (identitySource, error) {
	s := strings.TrimSpace(expr)
	s = strings.TrimPrefix(s, "$")
	s = strings.TrimPrefix(s, "method.")
	var src identitySource
	switch {
	case strings.HasPrefix(s, "request.header."):
		src = identitySource{kind: srcHeader, name: strings.TrimPrefix(s, "request.header.")}
		if !validToken(src.name) {
			return src, fmt.Errorf("identity source %q: bad header name", expr)
		}
		src.name = http.CanonicalHeaderKey(src.name)
	case strings.HasPrefix(s, "request.querystring."):
		src = identitySource{kind: srcQuery, name: strings.TrimPrefix(s, "request.querystring.")}
	case strings.HasPrefix(s, "request.cookie."):
		src = identitySource{kind: srcCookie, name: strings.TrimPrefix(s, "request.cookie.")}
		if !validToken(src.name) {
			return src, fmt.Errorf("identity source %q: bad cookie name", expr)
		}
	case strings.HasPrefix(s, "stageVariables."):
		src = identitySource{kind: srcStageVar, name: strings.TrimPrefix(s, "stageVariables.")}
	case strings.HasPrefix(s, "context."):
		src = identitySource{kind: srcContext, name: strings.TrimPrefix(s, "context.")}
		if contextSources[src.name] == nil {
			return src, fmt.Errorf("identity source %q: unknown context variable %q", expr, src.name)
		}
	default:
		return src, fmt.Errorf("identity source %q: want $request.header.NAME, $request.querystring.NAME, $request.cookie.NAME, $stageVariables.NAME or $context.NAME", expr)
	}
	if src.name == "" {
		return src, fmt.Errorf("identity source %q: no name", expr)
	}
	src.expr = strings.TrimSpace(expr)
	return src, nil
}

// values returns the source's values in the request; rc may be nil.
func (s identitySource) values(r *http.Request, rc *reqctx.Context) []string {
	switch s.kind {
	case srcHeader:
		return r.Header[s.name]
	case srcQuery:
		if rc != nil && rc.Query != nil {
			return rc.Query[s.name]
		}
		return r.URL.Query()[s.name]
	case srcCookie:
		var out []string
		for _, c := range r.CookiesNamed(s.name) {
			out = append(out, c.Value)
		}
		return out
	case srcStageVar:
		if rc != nil {
			if v, ok := rc.StageVariables[s.name]; ok {
				return []string{v}
			}
		}
	case srcContext:
		if rc != nil {
			if v := contextSources[s.name](rc); v != "" {
				return []string{v}
			}
		}
	}
	return nil
}

// token returns the single non-empty value of the source, with a "Bearer "
// prefix removed from a header value. ok is false when the source is
// missing or empty; ambiguous is true when it appears more than once (two
// Authorization headers), which a token source refuses.
func (s identitySource) token(r *http.Request, rc *reqctx.Context) (tok string, ok, ambiguous bool) {
	vals := s.values(r, rc)
	switch len(vals) {
	case 0:
		return "", false, false
	case 1:
	default:
		return "", false, true
	}
	tok = vals[0]
	if s.kind == srcHeader && len(tok) >= 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = tok[7:]
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != "", false
}

// validToken reports whether s is an RFC 9110 token (a header or cookie
// name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
