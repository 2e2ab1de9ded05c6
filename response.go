package portico

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/reqctx"
)

// GatewayResponse customises the response the gateway sends for one
// [reqctx.ResponseType]. Header values and the body may use $context
// variables ($context.requestId, $context.error.message,
// $context.error.messageString — the message as a quoted JSON string —,
// $context.error.responseType, $context.stage, $context.identity.sourceIp,
// $context.authorizer.principalId, $context.authorizer.NAME …; also written
// ${context.requestId}) and $stageVariables.NAME. An unknown variable is a
// deploy error.
type GatewayResponse struct {
	// Status is the status code; 0 keeps the type's default. A status set
	// on DEFAULT_4XX or DEFAULT_5XX is not applied to other types, which
	// keep their own status.
	Status int
	// Headers are added to the response.
	Headers map[string]string
	// Body replaces the default body {"message":$context.error.messageString}.
	Body string
	// ContentType is the body's content type; "" means application/json.
	ContentType string
}

const defaultBody = `{"message":$context.error.messageString}`

// contextVars are the $context variables a gateway response template may use.
var contextVars = map[string]func(rc *reqctx.Context) string{
	"requestId":                   func(rc *reqctx.Context) string { return rc.RequestID },
	"extendedRequestId":           func(rc *reqctx.Context) string { return rc.ExtendedRequestID },
	"requestTime":                 func(rc *reqctx.Context) string { return rc.RequestTime.UTC().Format(requestTimeLayout) },
	"requestTimeEpoch":            func(rc *reqctx.Context) string { return strconv.FormatInt(rc.RequestTime.UnixMilli(), 10) },
	"accountId":                   func(rc *reqctx.Context) string { return rc.AccountID },
	"apiId":                       func(rc *reqctx.Context) string { return rc.APIID },
	"stage":                       func(rc *reqctx.Context) string { return rc.Stage },
	"deploymentId":                func(rc *reqctx.Context) string { return rc.DeploymentID },
	"routeKey":                    func(rc *reqctx.Context) string { return rc.RouteKey },
	"resourcePath":                func(rc *reqctx.Context) string { return rc.ResourcePath },
	"resourceId":                  func(rc *reqctx.Context) string { return rc.ResourceID },
	"path":                        func(rc *reqctx.Context) string { return rc.Path },
	"httpMethod":                  func(rc *reqctx.Context) string { return rc.HTTPMethod },
	"protocol":                    func(rc *reqctx.Context) string { return rc.Protocol },
	"domainName":                  func(rc *reqctx.Context) string { return rc.DomainName },
	"domainPrefix":                func(rc *reqctx.Context) string { return rc.DomainPrefix },
	"identity.sourceIp":           func(rc *reqctx.Context) string { return rc.Identity.SourceIP },
	"identity.userAgent":          func(rc *reqctx.Context) string { return rc.Identity.UserAgent },
	"identity.apiKeyId":           func(rc *reqctx.Context) string { return rc.APIKeyID },
	"identity.caller":             func(rc *reqctx.Context) string { return rc.Identity.Caller },
	"identity.user":               func(rc *reqctx.Context) string { return rc.Identity.User },
	"identity.userArn":            func(rc *reqctx.Context) string { return rc.Identity.UserARN },
	"identity.accessKey":          func(rc *reqctx.Context) string { return rc.Identity.AccessKey },
	"authorizer.principalId":      func(rc *reqctx.Context) string { return rc.Authorizer.PrincipalID },
	"error.message":               func(rc *reqctx.Context) string { return rc.Error.Message },
	"error.messageString":         func(rc *reqctx.Context) string { return reqctx.JSONString(rc.Error.Message) },
	"error.responseType":          func(rc *reqctx.Context) string { return string(rc.Error.Type) },
	"error.validationErrorString": func(rc *reqctx.Context) string { return rc.Error.ValidationErrorString },
}

const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// respTemplate is a parsed gateway-response template: literal text and
// variable references, resolved per request.
type respTemplate []respPart

type respPart struct {
	lit      string
	ctxVar   func(*reqctx.Context) string
	authzKey string // $context.authorizer.NAME other than principalId
	stageVar string
}

func isVarChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseRespTemplate parses $context.x, ${context.x} and $stageVariables.x
// references in s.
func parseRespTemplate(s string) (respTemplate, error) {
	var t respTemplate
	lit := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		rest := s[i+1:]
		braced := strings.HasPrefix(rest, "{")
		if braced {
			rest = rest[1:]
		}
		var ns string
		switch {
		case strings.HasPrefix(rest, "context."):
			ns = "context."
		case strings.HasPrefix(rest, "stageVariables."):
			ns = "stageVariables."
		default:
			continue
		}
		j := len(ns)
		for j < len(rest) && (isVarChar(rest[j]) || rest[j] == '.' && j+1 < len(rest) && isVarChar(rest[j+1])) {
			j++
		}
		name := rest[len(ns):j]
		end := i + 1 + j
		if braced {
			if j >= len(rest) || rest[j] != '}' {
				return nil, fmt.Errorf("unclosed ${%s%s", ns, name)
			}
			end = i + 2 + j + 1
		}
		if name == "" {
			return nil, fmt.Errorf("empty $%s reference", strings.TrimSuffix(ns, "."))
		}
		var p respPart
		switch {
		case ns == "stageVariables.":
			p.stageVar = name
		case contextVars[name] != nil:
			p.ctxVar = contextVars[name]
		case strings.HasPrefix(name, "authorizer."):
			p.authzKey = strings.TrimPrefix(name, "authorizer.")
		default:
			return nil, fmt.Errorf("unknown variable $context.%s", name)
		}
		if lit < i {
			t = append(t, respPart{lit: s[lit:i]})
		}
		t = append(t, p)
		lit = end
		i = end - 1
	}
	if lit < len(s) {
		t = append(t, respPart{lit: s[lit:]})
	}
	return t, nil
}

func (t respTemplate) render(rc *reqctx.Context) string {
	if len(t) == 1 && t[0].lit != "" {
		return t[0].lit
	}
	var b strings.Builder
	for _, p := range t {
		switch {
		case p.ctxVar != nil:
			b.WriteString(p.ctxVar(rc))
		case p.authzKey != "":
			b.WriteString(authorizerValue(rc, p.authzKey))
		case p.stageVar != "":
			b.WriteString(rc.StageVariables[p.stageVar])
		default:
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

func authorizerValue(rc *reqctx.Context, key string) string {
	if v, ok := rc.Authorizer.Context[key]; ok {
		return fmt.Sprint(v)
	}
	if c, ok := strings.CutPrefix(key, "claims."); ok {
		if v, ok := rc.Authorizer.Claims[c]; ok {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// compiledResponse is a GatewayResponse checked and parsed at deploy time.
type compiledResponse struct {
	status      int
	headers     []compiledHeader
	body        respTemplate
	contentType string
}

type compiledHeader struct {
	name  string
	value respTemplate
}

func compileResponse(t reqctx.ResponseType, gr GatewayResponse) (*compiledResponse, error) {
	if !t.Known() {
		return nil, fmt.Errorf("unknown gateway response type %q", t)
	}
	if gr.Status != 0 && (gr.Status < 100 || gr.Status > 599) {
		return nil, fmt.Errorf("gateway response %s: status %d out of range 100-599", t, gr.Status)
	}
	cr := &compiledResponse{status: gr.Status, contentType: gr.ContentType}
	body := gr.Body
	if body == "" {
		body = defaultBody
	}
	var err error
	if cr.body, err = parseRespTemplate(body); err != nil {
		return nil, fmt.Errorf("gateway response %s: body: %w", t, err)
	}
	for name, v := range gr.Headers {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("gateway response %s: bad header name %q", t, name)
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("gateway response %s: header %s: value contains CR or LF", t, name)
		}
		vt, err := parseRespTemplate(v)
		if err != nil {
			return nil, fmt.Errorf("gateway response %s: header %s: %w", t, name, err)
		}
		cr.headers = append(cr.headers, compiledHeader{name: http.CanonicalHeaderKey(name), value: vt})
	}
	return cr, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isVarChar(c) || strings.IndexByte("!#$%&'*+-.^`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// responseSet is the gateway responses of one deployment.
type responseSet struct {
	byType map[reqctx.ResponseType]*compiledResponse
	logger *slog.Logger
}

func compileResponses(m map[reqctx.ResponseType]GatewayResponse, logger *slog.Logger) (*responseSet, error) {
	rs := &responseSet{byType: map[reqctx.ResponseType]*compiledResponse{}, logger: logger}
	for t, gr := range m {
		cr, err := compileResponse(t, gr)
		if err != nil {
			return nil, err
		}
		rs.byType[t] = cr
	}
	return rs, nil
}

// write renders err as this deployment's gateway response.
func (rs *responseSet) write(w http.ResponseWriter, r *http.Request, err error) {
	e := reqctx.AsError(err)
	rc := reqctx.From(r.Context())
	if rc == nil {
		reqctx.WriteDefaultError(w, r, err)
		return
	}
	rc.Error.Type = e.Type
	rc.Error.Message = e.ClientMessage()
	if e.Err != nil && e.Type.Status() >= 500 {
		rs.logger.Error("portico: request failed", "requestId", rc.RequestID, "type", e.Type, "route", rc.RouteKey, "err", e.Err)
	}
	cr := rs.byType[e.Type]
	status := e.Type.Status()
	if cr == nil {
		cr = rs.byType[e.Type.Default()]
	} else if cr.status != 0 {
		status = cr.status
	}
	if cr == nil {
		reqctx.WriteDefaultError(w, r, err)
		return
	}
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	for _, ch := range cr.headers {
		h.Set(ch.name, strings.Map(dropCRLF, ch.value.render(rc)))
	}
	ct := cr.contentType
	if ct == "" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	h.Set("X-Amzn-Errortype", e.Type.ErrorType())
	body := cr.body.render(rc)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

func dropCRLF(r rune) rune {
	if r == '\r' || r == '\n' {
		return -1
	}
	return r
}
