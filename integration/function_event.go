package integration

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico/reqctx"
)

// requestTimeLayout is requestContext.requestTime (1.0) and time (2.0),
// always in UTC: "04/Mar/2026:05:06:07 +0000".
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// certTimeLayout is a client certificate's validity, as OpenSSL prints it.
const certTimeLayout = "Jan _2 15:04:05 2006 GMT"

// event is the event for one call, in one of the two formats.
type fnEvent struct {
	format  PayloadFormat
	httpAPI bool // a 1.0 event for an HTTP API carries version "1.0"
	v1      *events.APIGatewayProxyRequest
	v2      *events.APIGatewayV2HTTPRequest
}

// marshal encodes the event as JSON.
func (e *fnEvent) marshal() ([]byte, error) {
	if e.format == PayloadV2 {
		return json.Marshal(e.v2)
	}
	if e.httpAPI {
		return json.Marshal(struct {
			Version string `json:"version"`
			*events.APIGatewayProxyRequest
		}{"1.0", e.v1})
	}
	return json.Marshal(e.v1)
}

// standaloneContext builds a request context for a function used outside a
// gateway, from the request alone. Path parameters come from the
// [http.ServeMux] pattern that matched, if any.
func standaloneContext(r *http.Request, now time.Time) *reqctx.Context {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")
	rc := &reqctx.Context{
		RequestID:    newFnRequestID(),
		RequestTime:  now,
		Stage:        "$default",
		RouteKey:     "$default",
		ResourcePath: r.URL.Path,
		Path:         r.URL.Path,
		RawPath:      r.URL.EscapedPath(),
		RoutePath:    r.URL.Path,
		HTTPMethod:   r.Method,
		Protocol:     r.Proto,
		DomainName:   host,
		DomainPrefix: prefix,
		Identity:     reqctx.Identity{SourceIP: fnSourceIP(r.RemoteAddr), UserAgent: r.UserAgent()},
	}
	if r.Pattern != "" {
		method, resource, params := muxRoute(r)
		if resource != "" {
			if method == "" {
				method = "ANY"
			}
			rc.RouteKey = method + " " + resource
			rc.ResourcePath = resource
			rc.PathParams = params
		}
	}
	return rc
}

// muxRoute reads the route from the request's [http.ServeMux] pattern,
// "[METHOD ][HOST]/path/{name}/{rest...}": the method, the resource in the
// model gateway's form ("/path/{name}/{rest+}") and the path parameters.
func muxRoute(r *http.Request) (method, resource string, params map[string]string) {
	method, rest, found := strings.Cut(r.Pattern, " ")
	if !found {
		method, rest = "", r.Pattern
	}
	rest = strings.TrimLeft(rest, " \t")
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return "", "", nil
	}
	segs := strings.Split(rest[i:], "/")
	for j, s := range segs {
		if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
			continue
		}
		name := s[1 : len(s)-1]
		if name == "$" {
			segs[j] = ""
			continue
		}
		if n, ok := strings.CutSuffix(name, "..."); ok {
			name = n
			segs[j] = "{" + n + "+}"
		}
		if params == nil {
			params = make(map[string]string)
		}
		params[name] = r.PathValue(name)
	}
	return method, strings.Join(segs, "/"), params
}

// newRequestID returns a random UUID-shaped id.
func newFnRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func fnSourceIP(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// cloneMap copies m so that a function may change its event freely; an empty
// map becomes nil, which encodes as JSON null as the model gateway's events
// do.
func cloneMap[M ~map[string]V, V any](m M) M {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// mediaType returns the lower-cased media type of a Content-Type or Accept
// value, without parameters.
func contentMediaType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// mediaMatches reports whether the content type ct matches a binary media
// type pattern ("image/png", "image/*", "*/*").
func mediaMatches(ct string, patterns []string) bool {
	if len(patterns) == 0 {
		return false
	}
	mt := contentMediaType(ct)
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "*/*" || p == mt && mt != "":
			return true
		case strings.HasSuffix(p, "/*") && strings.HasPrefix(mt, p[:len(p)-1]):
			return true
		}
	}
	return false
}

// textMediaV2 reports whether payload 2.0 (and 1.0 on an HTTP API) sends a
// body of this content type as text: text/*, application/json,
// application/xml, application/javascript and the +json and +xml suffixes.
// Anything else, a missing Content-Type included, is sent base64-encoded.
func textMediaV2(ct string) bool {
	mt := contentMediaType(ct)
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/xml", mt == "application/javascript",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}

func fnRequestTime(rc *reqctx.Context) time.Time {
	if rc.RequestTime.IsZero() {
		return time.Now()
	}
	return rc.RequestTime
}

// eventV1 builds the payload 1.0 event.
func eventV1(r *http.Request, rc *reqctx.Context, body []byte) *events.APIGatewayProxyRequest {
	ev := &events.APIGatewayProxyRequest{
		Resource:       rc.ResourcePath,
		HTTPMethod:     r.Method,
		PathParameters: cloneMap(rc.PathParams),
		StageVariables: cloneMap(rc.StageVariables),
	}
	ctxPath := rc.Path
	if rc.APIType == "HTTP" {
		// HTTP APIs send the decoded path, stage included.
		ev.Path = rc.Path
	} else {
		// REST APIs send the path below the stage as the caller escaped it
		// (with the base path of a custom domain), and the whole path in
		// the request context.
		ev.Path = r.URL.EscapedPath()
		if rc.BasePathMatched != "" {
			if ev.Path == "/" {
				ev.Path = "/" + rc.BasePathMatched
			} else {
				ev.Path = "/" + rc.BasePathMatched + ev.Path
			}
		}
		if rc.RawPath != "" {
			ctxPath = rc.RawPath
		}
	}
	if ev.Path == "" {
		ev.Path = r.URL.Path
	}
	if ctxPath == "" {
		ctxPath = r.URL.Path
	}
	if ev.Resource == "" {
		ev.Resource = ev.Path
	}

	if n := len(r.Header); n > 0 || r.Host != "" {
		ev.Headers = make(map[string]string, n+1)
		ev.MultiValueHeaders = make(map[string][]string, n+1)
		total := 0
		for _, vs := range r.Header {
			total += len(vs)
		}
		all := make([]string, 0, total) // one backing array, copied from the request's
		for k, vs := range r.Header {
			if len(vs) == 0 {
				continue
			}
			start := len(all)
			all = append(all, vs...)
			ev.MultiValueHeaders[k] = all[start:len(all):len(all)]
			ev.Headers[k] = vs[len(vs)-1] // a duplicated header keeps its last value
		}
		if r.Host != "" {
			ev.Headers["Host"] = r.Host
			ev.MultiValueHeaders["Host"] = []string{r.Host}
		}
	}
	if r.URL.RawQuery != "" {
		if q := r.URL.Query(); len(q) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(q))
			ev.MultiValueQueryStringParameters = q
			for k, vs := range q {
				ev.QueryStringParameters[k] = vs[len(vs)-1]
			}
		}
	}
	if len(body) > 0 {
		ct := r.Header.Get("Content-Type")
		binary := mediaMatches(ct, rc.BinaryMediaTypes)
		if rc.APIType == "HTTP" {
			binary = !textMediaV2(ct)
		}
		if binary {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		} else {
			ev.Body = string(body)
		}
	}

	t := fnRequestTime(rc)
	apiKey, apiKeyID := rc.APIKey, rc.APIKeyID
	if apiKey == "" {
		apiKey, apiKeyID = rc.Identity.APIKey, rc.Identity.APIKeyID
	}
	ev.RequestContext = events.APIGatewayProxyRequestContext{
		AccountID:         rc.AccountID,
		ResourceID:        rc.ResourceID,
		Stage:             rc.Stage,
		DomainName:        rc.DomainName,
		DomainPrefix:      rc.DomainPrefix,
		RequestID:         rc.RequestID,
		ExtendedRequestID: rc.ExtendedRequestID,
		Protocol:          rc.Protocol,
		Identity: events.APIGatewayRequestIdentity{
			SourceIP:   rc.Identity.SourceIP,
			UserAgent:  rc.Identity.UserAgent,
			AccessKey:  rc.Identity.AccessKey,
			AccountID:  rc.Identity.AccountID,
			Caller:     rc.Identity.Caller,
			User:       rc.Identity.User,
			UserArn:    rc.Identity.UserARN,
			APIKey:     apiKey,
			APIKeyID:   apiKeyID,
			ClientCert: clientCertV1(rc.Identity.ClientCert),
		},
		ResourcePath:     ev.Resource,
		Path:             ctxPath,
		Authorizer:       authorizerV1(rc),
		HTTPMethod:       r.Method,
		RequestTime:      t.UTC().Format(requestTimeLayout),
		RequestTimeEpoch: t.UnixMilli(),
		APIID:            rc.APIID,
	}
	return ev
}

func clientCertV1(c *reqctx.ClientCert) *events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert {
	if c == nil {
		return nil
	}
	return &events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert{
		ClientCertPem: c.ClientCertPEM,
		SubjectDN:     c.SubjectDN,
		IssuerDN:      c.IssuerDN,
		SerialNumber:  c.SerialNumber,
		Validity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCertValidity{
			NotBefore: c.NotBefore.UTC().Format(certTimeLayout),
			NotAfter:  c.NotAfter.UTC().Format(certTimeLayout),
		},
	}
}

// authorizerV1 is requestContext.authorizer in payload 1.0: a JWT's claims
// and scopes; a Lambda authorizer's principalId, context keys and
// integrationLatency (ms); nil for IAM, whose caller is in the identity.
func authorizerV1(rc *reqctx.Context) map[string]any {
	a := rc.Authorizer
	switch a.Kind {
	case "", "iam":
		return nil
	case "jwt":
		var scopes any
		if len(a.Scopes) > 0 {
			scopes = slices.Clone(a.Scopes)
		}
		return map[string]any{"claims": cloneMap(a.Claims), "scopes": scopes}
	}
	m := make(map[string]any, len(a.Context)+2)
	maps.Copy(m, a.Context)
	if a.PrincipalID != "" {
		m["principalId"] = a.PrincipalID
	}
	m["integrationLatency"] = rc.AuthorizerLatency.Milliseconds()
	return m
}

// eventV2 builds the payload 2.0 event.
func eventV2(r *http.Request, rc *reqctx.Context, body []byte) *events.APIGatewayV2HTTPRequest {
	path := rc.Path
	if path == "" {
		path = r.URL.Path
	}
	// rawPath leaves out a custom domain's API mapping.
	rawPath := path
	if rc.BasePathMatched != "" {
		if rest, ok := strings.CutPrefix(path, "/"+rc.BasePathMatched); ok && (rest == "" || rest[0] == '/') {
			rawPath = rest
			if rawPath == "" {
				rawPath = "/"
			}
		}
	}
	ev := &events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       rc.RouteKey,
		RawPath:        rawPath,
		RawQueryString: r.URL.RawQuery,
		PathParameters: cloneMap(rc.PathParams),
		StageVariables: cloneMap(rc.StageVariables),
	}
	if n := len(r.Header); n > 0 || r.Host != "" {
		ev.Headers = make(map[string]string, n+1)
		for k, vs := range r.Header {
			if len(vs) == 0 {
				continue
			}
			if k == "Cookie" {
				for _, v := range vs {
					for c := range strings.SplitSeq(v, "; ") {
						if c != "" {
							ev.Cookies = append(ev.Cookies, c)
						}
					}
				}
				continue
			}
			lk := strings.ToLower(k)
			if prev, ok := ev.Headers[lk]; ok { // the same name spelt differently
				ev.Headers[lk] = prev + "," + strings.Join(vs, ",")
			} else {
				ev.Headers[lk] = strings.Join(vs, ",")
			}
		}
		if r.Host != "" {
			ev.Headers["host"] = r.Host
		}
	}
	if r.URL.RawQuery != "" {
		if q := r.URL.Query(); len(q) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(q))
			for k, vs := range q {
				ev.QueryStringParameters[k] = strings.Join(vs, ",")
			}
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
	t := fnRequestTime(rc)
	ev.RequestContext = events.APIGatewayV2HTTPRequestContext{
		RouteKey:     rc.RouteKey,
		AccountID:    rc.AccountID,
		Stage:        rc.Stage,
		RequestID:    rc.RequestID,
		APIID:        rc.APIID,
		DomainName:   rc.DomainName,
		DomainPrefix: rc.DomainPrefix,
		Time:         t.UTC().Format(requestTimeLayout),
		TimeEpoch:    t.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method:    r.Method,
			Path:      path,
			Protocol:  rc.Protocol,
			SourceIP:  rc.Identity.SourceIP,
			UserAgent: rc.Identity.UserAgent,
		},
		Authorizer: authorizerV2(rc),
	}
	if c := rc.Identity.ClientCert; c != nil {
		ev.RequestContext.Authentication.ClientCert = events.APIGatewayV2HTTPRequestContextAuthenticationClientCert{
			ClientCertPem: c.ClientCertPEM,
			SubjectDN:     c.SubjectDN,
			IssuerDN:      c.IssuerDN,
			SerialNumber:  c.SerialNumber,
			Validity: events.APIGatewayV2HTTPRequestContextAuthenticationClientCertValidity{
				NotBefore: c.NotBefore.UTC().Format(certTimeLayout),
				NotAfter:  c.NotAfter.UTC().Format(certTimeLayout),
			},
		}
	}
	return ev
}

// authorizerV2 is requestContext.authorizer in payload 2.0: jwt{claims,
// scopes}, iam{...} or lambda{context, principalId}.
func authorizerV2(rc *reqctx.Context) *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	a := rc.Authorizer
	switch a.Kind {
	case "":
		return nil
	case "jwt":
		claims := make(map[string]string, len(a.Claims))
		for k, v := range a.Claims {
			claims[k] = claimString(v)
		}
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: slices.Clone(a.Scopes)},
		}
	case "iam":
		id := rc.Identity
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
				AccessKey: id.AccessKey, AccountID: id.AccountID, CallerID: id.Caller, UserARN: id.UserARN, UserID: id.User,
			},
		}
	}
	lambda := make(map[string]any, len(a.Context)+1)
	maps.Copy(lambda, a.Context)
	if a.PrincipalID != "" {
		lambda["principalId"] = a.PrincipalID
	}
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: lambda}
}

// claimString renders a JWT claim as payload 2.0 does: strings as they are,
// arrays as "[a b]", numbers without exponents, objects as JSON.
func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case []string:
		return "[" + strings.Join(x, " ") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
