package integration

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico/reqctx"
)

var randReader = rand.Reader

const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

func remoteIP(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// nilIfEmpty returns nil for an empty map, so that it encodes as JSON null as
// the model gateway's events do.
func nilIfEmpty[M ~map[string]V, V any](m M) M {
	if len(m) == 0 {
		return nil
	}
	return m
}

// mediaMatches reports whether the content type ct matches a binary media
// type pattern ("image/png", "image/*", "*/*").
func mediaMatches(ct string, patterns []string) bool {
	if len(patterns) == 0 {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "*/*" || p == mt:
			return true
		case strings.HasSuffix(p, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(p, "*")):
			return true
		}
	}
	return false
}

// textMediaV2 reports whether payload 2.0 sends a body of this content type
// as text: text/*, application/json, application/xml,
// application/javascript and the +json and +xml suffixes.
func textMediaV2(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/xml", mt == "application/javascript",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}

func authorizerV1(rc *reqctx.Context) map[string]any {
	a := rc.Authorizer
	switch a.Kind {
	case "":
		return nil
	case "jwt":
		m := map[string]any{"claims": a.Claims}
		if len(a.Scopes) > 0 {
			m["scopes"] = a.Scopes
		}
		if a.PrincipalID != "" {
			m["principalId"] = a.PrincipalID
		}
		return m
	default:
		m := make(map[string]any, len(a.Context)+1)
		for k, v := range a.Context {
			m[k] = v
		}
		if a.PrincipalID != "" {
			m["principalId"] = a.PrincipalID
		}
		return m
	}
}

func eventV1(r *http.Request, rc *reqctx.Context, body []byte) *events.APIGatewayProxyRequest {
	ev := &events.APIGatewayProxyRequest{
		Resource:       rc.ResourcePath,
		Path:           rc.RoutePath,
		HTTPMethod:     r.Method,
		PathParameters: nilIfEmpty(rc.PathParams),
		StageVariables: nilIfEmpty(rc.StageVariables),
	}
	if ev.Path == "" {
		ev.Path = r.URL.Path
	}
	if len(r.Header) > 0 {
		ev.Headers = make(map[string]string, len(r.Header))
		ev.MultiValueHeaders = make(map[string][]string, len(r.Header))
		for k, vs := range r.Header {
			ev.Headers[k] = vs[len(vs)-1] // a duplicated header keeps its last value
			ev.MultiValueHeaders[k] = vs
		}
		if r.Host != "" {
			ev.Headers["Host"] = r.Host
			ev.MultiValueHeaders["Host"] = []string{r.Host}
		}
	}
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		ev.MultiValueQueryStringParameters = q
		for k, vs := range q {
			ev.QueryStringParameters[k] = vs[len(vs)-1]
		}
	}
	if len(body) > 0 {
		if mediaMatches(r.Header.Get("Content-Type"), rc.BinaryMediaTypes) {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		} else {
			ev.Body = string(body)
		}
	}
	ev.RequestContext = events.APIGatewayProxyRequestContext{
		AccountID:         rc.AccountID,
		ResourceID:        rc.ResourceID,
		OperationName:     "",
		Stage:             rc.Stage,
		DomainName:        rc.DomainName,
		DomainPrefix:      rc.DomainPrefix,
		RequestID:         rc.RequestID,
		ExtendedRequestID: rc.ExtendedRequestID,
		Protocol:          rc.Protocol,
		Identity: events.APIGatewayRequestIdentity{
			SourceIP:  rc.Identity.SourceIP,
			UserAgent: rc.Identity.UserAgent,
			AccessKey: rc.Identity.AccessKey,
			AccountID: rc.Identity.AccountID,
			Caller:    rc.Identity.Caller,
			User:      rc.Identity.User,
			UserArn:   rc.Identity.UserARN,
			APIKey:    rc.APIKey,
			APIKeyID:  rc.APIKeyID,
		},
		ResourcePath:     rc.ResourcePath,
		Path:             rc.Path,
		Authorizer:       authorizerV1(rc),
		HTTPMethod:       r.Method,
		RequestTime:      rc.RequestTime.UTC().Format(requestTimeLayout),
		RequestTimeEpoch: rc.RequestTime.UnixMilli(),
		APIID:            rc.APIID,
	}
	return ev
}

func eventV2(r *http.Request, rc *reqctx.Context, body []byte) *events.APIGatewayV2HTTPRequest {
	ev := &events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       rc.RouteKey,
		RawPath:        rc.Path,
		RawQueryString: r.URL.RawQuery,
		PathParameters: nilIfEmpty(rc.PathParams),
		StageVariables: nilIfEmpty(rc.StageVariables),
	}
	if ev.RawPath == "" {
		ev.RawPath = r.URL.Path
	}
	if len(r.Header) > 0 || r.Host != "" {
		ev.Headers = make(map[string]string, len(r.Header)+1)
		for k, vs := range r.Header {
			lk := strings.ToLower(k)
			if lk == "cookie" {
				for _, v := range vs {
					for _, c := range strings.Split(v, ";") {
						if c = strings.TrimSpace(c); c != "" {
							ev.Cookies = append(ev.Cookies, c)
						}
					}
				}
				continue
			}
			ev.Headers[lk] = strings.Join(vs, ",")
		}
		if r.Host != "" {
			ev.Headers["host"] = r.Host
		}
	}
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if textMediaV2(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	ev.RequestContext = events.APIGatewayV2HTTPRequestContext{
		RouteKey:     rc.RouteKey,
		AccountID:    rc.AccountID,
		Stage:        rc.Stage,
		RequestID:    rc.RequestID,
		APIID:        rc.APIID,
		DomainName:   rc.DomainName,
		DomainPrefix: rc.DomainPrefix,
		Time:         rc.RequestTime.UTC().Format(requestTimeLayout),
		TimeEpoch:    rc.RequestTime.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method:    r.Method,
			Path:      ev.RawPath,
			Protocol:  rc.Protocol,
			SourceIP:  rc.Identity.SourceIP,
			UserAgent: rc.Identity.UserAgent,
		},
	}
	switch a := rc.Authorizer; a.Kind {
	case "":
	case "jwt":
		claims := make(map[string]string, len(a.Claims))
		for k, v := range a.Claims {
			claims[k] = claimString(v)
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: a.Scopes},
		}
	case "iam":
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
				AccessKey: rc.Identity.AccessKey, AccountID: rc.Identity.AccountID,
				CallerID: rc.Identity.Caller, UserARN: rc.Identity.UserARN, UserID: rc.Identity.User,
			},
		}
	default:
		lambda := make(map[string]any, len(a.Context)+1)
		for k, v := range a.Context {
			lambda[k] = v
		}
		if a.PrincipalID != "" {
			lambda["principalId"] = a.PrincipalID
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: lambda}
	}
	return ev
}

// claimString renders a JWT claim the way payload 2.0 does: strings as
// they are, arrays as "[a b]", other values in their JSON-ish form.
func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case []string:
		return "[" + strings.Join(x, " ") + "]"
	default:
		return fmt.Sprint(x)
	}
}
