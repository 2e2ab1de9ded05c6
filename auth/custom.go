package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// The custom-authorizer types.
const (
	// TokenAuthorizer: one header carries a token.
	TokenAuthorizer = "TOKEN"
	// RequestAuthorizer: several identity sources, and the whole request.
	RequestAuthorizer = "REQUEST"
)

// Limits of custom authorizers.
const (
	// DefaultResultTTL is how long results are cached by default.
	DefaultResultTTL = 300 * time.Second
	// MaxResultTTL is the longest a result may be cached.
	MaxResultTTL = 3600 * time.Second
	// maxAuthorizerResponse bounds what FromHandler reads.
	maxAuthorizerResponse = 64 << 10
)

// AuthorizerFunc is a custom authorizer: the model's Lambda authorizer as a
// Go function. It returns [ErrUnauthorized] to refuse the caller with 401;
// any other error is a 500 AUTHORIZER_FAILURE. A panic is recovered and
// is a failure too. ctx carries the call's deadline ([WithTimeout]).
type AuthorizerFunc func(ctx context.Context, ev *AuthorizerEvent) (*AuthorizerResponse, error)

// AuthorizerEvent is what a custom authorizer receives, with the JSON
// shape of the model's Lambda authorizer events: payload 1.0 (TOKEN: type,
// authorizationToken, methodArn; REQUEST: type, methodArn, resource, path,
// httpMethod, headers …) or 2.0 (version, type, routeArn, identitySource,
// routeKey, rawPath …). Fields of the other format are empty.
type AuthorizerEvent struct {
	// Version is "2.0" for payload 2.0 events, "" for 1.0.
	Version string `json:"version,omitempty"`
	// Type is TokenAuthorizer or RequestAuthorizer.
	Type string `json:"type"`
	// AuthorizationToken is a TOKEN authorizer's token: the header's value
	// as sent (a "Bearer " prefix included).
	AuthorizationToken string `json:"authorizationToken,omitempty"`
	// MethodArn (1.0) and RouteArn (2.0) are the ARN of the method called.
	MethodArn string `json:"methodArn,omitempty"`
	RouteArn  string `json:"routeArn,omitempty"`
	// IdentitySource holds the identity sources' values (2.0).
	IdentitySource []string `json:"identitySource,omitempty"`
	// RouteKey, RawPath, RawQueryString and Cookies describe the request
	// (2.0): "GET /pets/{id}", the escaped path with the stage, the raw
	// query and the Cookie headers.
	RouteKey       string   `json:"routeKey,omitempty"`
	RawPath        string   `json:"rawPath,omitempty"`
	RawQueryString string   `json:"rawQueryString,omitempty"`
	Cookies        []string `json:"cookies,omitempty"`

	// Resource is the route's path template and Path the request path
	// with the stage (1.0); HTTPMethod the method.
	Resource   string `json:"resource,omitempty"`
	Path       string `json:"path,omitempty"`
	HTTPMethod string `json:"httpMethod,omitempty"`
	// Headers hold each header's last value (1.0) or its values joined by
	// commas under a lower-case name (2.0); MultiValueHeaders every value
	// (1.0).
	Headers           map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
	// QueryStringParameters and MultiValueQueryStringParameters are the
	// query, like the headers.
	QueryStringParameters           map[string]string   `json:"queryStringParameters,omitempty"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters,omitempty"`
	// PathParameters are the route's path parameters; StageVariables the
	// stage's variables.
	PathParameters map[string]string `json:"pathParameters,omitempty"`
	StageVariables map[string]string `json:"stageVariables,omitempty"`
	// RequestContext is the request's context (REQUEST events).
	RequestContext *AuthorizerRequestContext `json:"requestContext,omitempty"`
}

// AuthorizerRequestContext is the requestContext of a REQUEST event: the
// $context variables of the same names.
type AuthorizerRequestContext struct {
	AccountID    string `json:"accountId,omitempty"`    // $context.accountId
	APIID        string `json:"apiId,omitempty"`        // $context.apiId
	Stage        string `json:"stage,omitempty"`        // $context.stage
	RequestID    string `json:"requestId,omitempty"`    // $context.requestId
	ResourcePath string `json:"resourcePath,omitempty"` // $context.resourcePath
	HTTPMethod   string `json:"httpMethod,omitempty"`   // $context.httpMethod
	Path         string `json:"path,omitempty"`         // $context.path
	RouteKey     string `json:"routeKey,omitempty"`     // $context.routeKey
	DomainName   string `json:"domainName,omitempty"`   // $context.domainName
	// Identity is $context.identity.
	Identity AuthorizerIdentity `json:"identity"`
	// HTTP is set in payload 2.0 events.
	HTTP *AuthorizerHTTPContext `json:"http,omitempty"`
}

// AuthorizerIdentity is requestContext.identity.
type AuthorizerIdentity struct {
	SourceIP  string `json:"sourceIp,omitempty"`  // $context.identity.sourceIp
	UserAgent string `json:"userAgent,omitempty"` // $context.identity.userAgent
}

// AuthorizerHTTPContext is requestContext.http of a payload 2.0 event.
type AuthorizerHTTPContext struct {
	Method    string `json:"method"`              // the request method
	Path      string `json:"path"`                // the request path with the stage
	Protocol  string `json:"protocol,omitempty"`  // "HTTP/1.1"
	SourceIP  string `json:"sourceIp,omitempty"`  // the caller's address
	UserAgent string `json:"userAgent,omitempty"` // the User-Agent header
}

// AuthorizerResponse is what a custom authorizer answers, with the JSON
// shape of the model's: either a policy response (principalId and a
// policyDocument of Allow and Deny statements on method ARNs), or — when
// PolicyDocument is nil — a simple response, in which IsAuthorized
// decides (false: 403).
type AuthorizerResponse struct {
	// PrincipalID identifies the caller; required with a policy document.
	PrincipalID string `json:"principalId,omitempty"`
	// PolicyDocument is evaluated against each request's method ARN (also
	// for results served from the cache), so return wildcard resources
	// ("arn:aws:execute-api:*:*:*/*/*/*") to cover every method.
	PolicyDocument *Policy `json:"policyDocument,omitempty"`
	// IsAuthorized is the verdict of a simple response.
	IsAuthorized bool `json:"isAuthorized,omitempty"`
	// Context is passed on as $context.authorizer.NAME; values must be
	// strings, numbers or booleans and become strings.
	Context map[string]any `json:"context,omitempty"`
	// UsageIdentifierKey is the API key value to meter the call under when
	// the API-key source is AUTHORIZER.
	UsageIdentifierKey string `json:"usageIdentifierKey,omitempty"`
}

// Custom is a custom authorizer (the model's Lambda authorizer): an
// [AuthorizerFunc] called with the request's identity, whose results are
// cached per identity-source values. A request missing an identity source
// gets 401 without the function being called, as does a token that fails
// the TOKEN validation pattern. A cached result is re-evaluated against
// each request's method ARN; when a cached policy does not cover a method
// ARN other than the one it was made for (an implicit deny), the function
// is asked again rather than refusing the caller for the rest of the TTL.
// Safe for concurrent use.
type Custom struct {
	typ      string
	fn       AuthorizerFunc
	sources  []identitySource
	pattern  *regexp.Regexp
	ttl      time.Duration
	cache    DecisionCache
	ns       string
	clock    clock.Clock
	logger   *slog.Logger
	timeout  time.Duration
	payload  string
	maxToken int
	parsed   parsedDecisions
}

// parsedDecisions remembers the decoded form of cache entries, so that a
// hit on an entry already seen costs a comparison, not a JSON decode.
// Safe for concurrent use.
type parsedDecisions struct {
	mu sync.Mutex // guards m
	m  map[string]parsedDecision
}

type parsedDecision struct {
	raw string
	cd  *cachedDecision
}

const maxParsedDecisions = 4096

func (p *parsedDecisions) get(key string, raw []byte) *cachedDecision {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.m[key]; ok && e.raw == string(raw) {
		return e.cd
	}
	return nil
}

func (p *parsedDecisions) put(key string, raw []byte, cd *cachedDecision) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]parsedDecision{}
	}
	if _, ok := p.m[key]; !ok && len(p.m) >= maxParsedDecisions {
		for k := range p.m {
			delete(p.m, k)
			break
		}
	}
	p.m[key] = parsedDecision{raw: string(raw), cd: cd}
}

const customOptions = optClock | optLogger | optResultTTL | optDecisionCache | optCacheNamespace | optTimeout

// NewTokenAuthorizer returns a TOKEN authorizer: fn receives the value of
// one header (default Authorization; [WithIdentitySource] names another,
// "$request.header.NAME") as authorizationToken. Options: [WithTokenPattern],
// [WithIdentitySource], [WithMaxTokenBytes], [WithResultTTL],
// [WithDecisionCache], [WithCacheNamespace], [WithTimeout], [WithClock],
// [WithLogger].
func NewTokenAuthorizer(fn AuthorizerFunc, opts ...Option) (*Custom, error) {
	o := customDefaults()
	o.identitySource = "$request.header.Authorization"
	if err := applyOptions("NewTokenAuthorizer", &o, customOptions|optTokenPattern|optIdentitySource|optMaxTokenBytes, opts); err != nil {
		return nil, err
	}
	src, err := parseIdentitySource(o.identitySource)
	if err != nil {
		return nil, fmt.Errorf("auth: NewTokenAuthorizer: %w", err)
	}
	if src.kind != srcHeader {
		return nil, fmt.Errorf("auth: NewTokenAuthorizer: identity source %q: a TOKEN authorizer reads one header", o.identitySource)
	}
	c, err := newCustom("NewTokenAuthorizer", TokenAuthorizer, fn, []identitySource{src}, &o)
	if err != nil {
		return nil, err
	}
	if o.tokenPattern != "" {
		if c.pattern, err = regexp.Compile(`^(?:` + o.tokenPattern + `)$`); err != nil {
			return nil, fmt.Errorf("auth: NewTokenAuthorizer: WithTokenPattern: %w", err)
		}
	}
	if o.maxTokenBytes <= 0 {
		return nil, fmt.Errorf("auth: NewTokenAuthorizer: WithMaxTokenBytes(%d): must be positive", o.maxTokenBytes)
	}
	c.maxToken = o.maxTokenBytes
	return c, nil
}

// NewRequestAuthorizer returns a REQUEST authorizer: fn receives the whole
// request (headers, query, path parameters, stage variables, context), and
// results are cached per the values of identitySources, every one of which
// must be present: "$request.header.NAME", "$request.querystring.NAME",
// "$stageVariables.NAME", "$context.NAME" (or the model's
// "method.request.header.NAME", "stageVariables.NAME", "context.NAME"
// forms). With caching off ([WithResultTTL](0)) identitySources may be
// empty. Options: [WithPayloadFormat], [WithResultTTL], [WithDecisionCache],
// [WithCacheNamespace], [WithTimeout], [WithClock], [WithLogger].
func NewRequestAuthorizer(fn AuthorizerFunc, identitySources []string, opts ...Option) (*Custom, error) {
	o := customDefaults()
	if err := applyOptions("NewRequestAuthorizer", &o, customOptions|optPayloadFormat, opts); err != nil {
		return nil, err
	}
	var srcs []identitySource
	for _, s := range identitySources {
		src, err := parseIdentitySource(s)
		if err != nil {
			return nil, fmt.Errorf("auth: NewRequestAuthorizer: %w", err)
		}
		srcs = append(srcs, src)
	}
	if len(srcs) == 0 && o.resultTTL > 0 {
		return nil, errors.New("auth: NewRequestAuthorizer: a cached REQUEST authorizer needs identity sources (or WithResultTTL(0))")
	}
	return newCustom("NewRequestAuthorizer", RequestAuthorizer, fn, srcs, &o)
}

func customDefaults() options {
	return options{resultTTL: DefaultResultTTL, timeout: 10 * time.Second, payloadFormat: "1.0", maxTokenBytes: 8192}
}

func newCustom(name, typ string, fn AuthorizerFunc, srcs []identitySource, o *options) (*Custom, error) {
	if fn == nil {
		return nil, fmt.Errorf("auth: %s: nil AuthorizerFunc", name)
	}
	if o.resultTTL < 0 || o.resultTTL > MaxResultTTL {
		return nil, fmt.Errorf("auth: %s: WithResultTTL(%v): want 0 to %v", name, o.resultTTL, MaxResultTTL)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("auth: %s: WithTimeout(%v): must be positive", name, o.timeout)
	}
	if o.payloadFormat != "1.0" && o.payloadFormat != "2.0" {
		return nil, fmt.Errorf("auth: %s: WithPayloadFormat(%q): want 1.0 or 2.0", name, o.payloadFormat)
	}
	cache := o.decisionCache
	if cache == nil && o.resultTTL > 0 {
		cache = NewMemoryDecisionCache(0)
	}
	return &Custom{
		typ: typ, fn: fn, sources: srcs, ttl: o.resultTTL, cache: cache, ns: o.cacheNamespace,
		clock: o.clock, logger: o.logger, timeout: o.timeout, payload: o.payloadFormat,
	}, nil
}

// Type returns TokenAuthorizer or RequestAuthorizer.
func (c *Custom) Type() string { return c.typ }

// Handler requires the authorizer's approval before calling next; it is
// (&Access{Authorizer: c, Clock: …}).Handler(next).
func (c *Custom) Handler(next http.Handler) http.Handler {
	return (&Access{Authorizer: c, Clock: c.clock}).Handler(next)
}

// cachedDecision is what the decision cache holds for one identity.
type cachedDecision struct {
	PrincipalID string         `json:"p,omitempty"`
	Policy      *Policy        `json:"d,omitempty"`
	Simple      bool           `json:"s,omitempty"`
	Allowed     bool           `json:"a,omitempty"`
	Context     map[string]any `json:"c,omitempty"`
	UsageKey    string         `json:"u,omitempty"`
	ARN         string         `json:"m"`
}

// Authorize implements [Authorizer].
func (c *Custom) Authorize(r *http.Request, methodARN string) (*Principal, error) {
	rc := reqctx.From(r.Context())
	values := make([]string, len(c.sources))
	for i, s := range c.sources {
		vals := s.values(r, rc)
		v := strings.Join(vals, ",")
		if c.typ == TokenAuthorizer && len(vals) > 1 {
			return nil, reqctx.NewError(reqctx.Unauthorized, fmt.Errorf("auth: identity source %s appears more than once", s.expr))
		}
		if strings.TrimSpace(v) == "" {
			return nil, reqctx.NewError(reqctx.Unauthorized, fmt.Errorf("auth: identity source %s is missing or empty", s.expr))
		}
		values[i] = v
	}
	if c.typ == TokenAuthorizer {
		if len(values[0]) > c.maxToken {
			return nil, reqctx.NewError(reqctx.Unauthorized, fmt.Errorf("auth: token of %d bytes is over %d", len(values[0]), c.maxToken))
		}
		if c.pattern != nil && !c.pattern.MatchString(values[0]) {
			return nil, reqctx.NewError(reqctx.Unauthorized, errors.New("auth: token does not match the identity validation expression"))
		}
	}
	ctx := r.Context()
	var key string
	if c.ttl > 0 {
		key = c.cacheKey(values)
		if cd := c.lookup(ctx, key, methodARN); cd != nil {
			return principalOf(cd)
		}
	}
	ev := c.event(r, rc, methodARN, values)
	resp, err := c.call(ctx, ev)
	if err != nil {
		return nil, err
	}
	cd, err := decisionOf(resp, methodARN)
	if err != nil {
		return nil, gwError(reqctx.AuthorizerConfigurationError, "", err)
	}
	if c.ttl > 0 {
		if b, err := json.Marshal(cd); err == nil {
			now := c.clock.Now()
			if err := c.cache.PutDecision(ctx, key, b, now, now.Add(c.ttl)); err != nil {
				c.logger.Warn("auth: decision cache put failed", "err", err)
			}
		}
	}
	return principalOf(cd)
}

// lookup returns the usable cached decision for key, or nil.
func (c *Custom) lookup(ctx context.Context, key, methodARN string) *cachedDecision {
	b, ok, err := c.cache.GetDecision(ctx, key, c.clock.Now())
	if err != nil {
		c.logger.Warn("auth: decision cache get failed; calling the authorizer", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	cd := c.parsed.get(key, b)
	if cd == nil {
		cd = new(cachedDecision)
		if err := json.Unmarshal(b, cd); err != nil {
			c.logger.Warn("auth: unreadable decision cache entry; calling the authorizer", "err", err)
			return nil
		}
		c.parsed.put(key, b, cd)
	}
	if cd.Policy != nil && cd.ARN != methodARN && cd.Policy.Evaluate(&Request{Resource: methodARN}) == Neither {
		return nil
	}
	return cd
}

func (c *Custom) cacheKey(values []string) string {
	h := sha256.New()
	h.Write([]byte(c.typ))
	for _, v := range values {
		var n [8]byte
		h.Write(strconv.AppendInt(n[:0], int64(len(v)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(v))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if c.ns == "" {
		return sum
	}
	return c.ns + ":" + sum
}

func (c *Custom) call(ctx context.Context, ev *AuthorizerEvent) (resp *AuthorizerResponse, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			resp, err = nil, gwError(reqctx.AuthorizerFailure, "", fmt.Errorf("auth: authorizer panicked: %v", v))
		}
	}()
	resp, err = c.fn(ctx, ev)
	switch {
	case err != nil && (errors.Is(err, ErrUnauthorized) || err.Error() == "Unauthorized"):
		return nil, reqctx.NewError(reqctx.Unauthorized, err)
	case err != nil:
		return nil, gwError(reqctx.AuthorizerFailure, "", fmt.Errorf("auth: authorizer failed: %w", err))
	case resp == nil:
		return nil, gwError(reqctx.AuthorizerConfigurationError, "", errors.New("auth: authorizer returned no response"))
	}
	return resp, nil
}

// decisionOf checks a response and turns it into what is cached.
func decisionOf(resp *AuthorizerResponse, methodARN string) (*cachedDecision, error) {
	cd := &cachedDecision{PrincipalID: resp.PrincipalID, Policy: resp.PolicyDocument, UsageKey: resp.UsageIdentifierKey, ARN: methodARN}
	if resp.PolicyDocument == nil {
		cd.Simple, cd.Allowed = true, resp.IsAuthorized
	} else if resp.PrincipalID == "" {
		return nil, errors.New("auth: authorizer response has a policy document but no principalId")
	}
	if len(resp.Context) > 0 {
		cd.Context = make(map[string]any, len(resp.Context))
		for k, v := range resp.Context {
			s, err := contextString(v)
			if err != nil {
				return nil, fmt.Errorf("auth: authorizer context %q: %w", k, err)
			}
			cd.Context[k] = s
		}
	}
	return cd, nil
}

// contextString stringifies a context value, as the model does.
func contextString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case int:
		return strconv.Itoa(x), nil
	case int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("value of type %T: want a string, number or boolean", v)
}

func principalOf(cd *cachedDecision) (*Principal, error) {
	p := &Principal{Kind: KindLambda, ID: cd.PrincipalID, Policy: cd.Policy, Context: cd.Context, UsageIdentifierKey: cd.UsageKey}
	if cd.Simple {
		if !cd.Allowed {
			return nil, gwError(reqctx.AccessDenied, "Forbidden", errors.New("auth: the authorizer said isAuthorized: false"))
		}
		p.Policy = allowAll
	}
	return p, nil
}

var allowAll = AllowPolicy("*")

// event builds the authorizer's event for r.
func (c *Custom) event(r *http.Request, rc *reqctx.Context, methodARN string, values []string) *AuthorizerEvent {
	if c.typ == TokenAuthorizer {
		return &AuthorizerEvent{Type: TokenAuthorizer, AuthorizationToken: values[0], MethodArn: methodARN}
	}
	if rc == nil {
		rc = &reqctx.Context{HTTPMethod: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath()}
	}
	query := rc.Query
	if query == nil && r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	rctx := &AuthorizerRequestContext{
		AccountID: rc.AccountID, APIID: rc.APIID, Stage: rc.Stage, RequestID: rc.RequestID,
		ResourcePath: rc.ResourcePath, HTTPMethod: rc.HTTPMethod, Path: rc.Path, RouteKey: rc.RouteKey,
		DomainName: rc.DomainName,
		Identity:   AuthorizerIdentity{SourceIP: rc.Identity.SourceIP, UserAgent: rc.Identity.UserAgent},
	}
	ev := &AuthorizerEvent{
		Type:           RequestAuthorizer,
		PathParameters: rc.PathParams,
		StageVariables: rc.StageVariables,
		RequestContext: rctx,
	}
	if c.payload == "2.0" {
		ev.Version = "2.0"
		ev.RouteArn = methodARN
		ev.IdentitySource = values
		ev.RouteKey = rc.RouteKey
		ev.RawPath = rc.RawPath
		ev.RawQueryString = r.URL.RawQuery
		ev.Cookies = r.Header.Values("Cookie")
		ev.Headers = make(map[string]string, len(r.Header))
		for k, v := range r.Header {
			if k != "Cookie" {
				ev.Headers[strings.ToLower(k)] = strings.Join(v, ",")
			}
		}
		if len(query) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(query))
			for k, v := range query {
				ev.QueryStringParameters[k] = strings.Join(v, ",")
			}
		}
		rctx.HTTP = &AuthorizerHTTPContext{Method: rc.HTTPMethod, Path: rc.Path, Protocol: rc.Protocol, SourceIP: rc.Identity.SourceIP, UserAgent: rc.Identity.UserAgent}
		return ev
	}
	ev.MethodArn = methodARN
	ev.Resource = rc.ResourcePath
	ev.Path = rc.Path
	ev.HTTPMethod = rc.HTTPMethod
	ev.Headers = make(map[string]string, len(r.Header))
	ev.MultiValueHeaders = make(map[string][]string, len(r.Header))
	for k, v := range r.Header {
		ev.Headers[k] = v[len(v)-1]
		ev.MultiValueHeaders[k] = v
	}
	if len(query) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(query))
		ev.MultiValueQueryStringParameters = make(map[string][]string, len(query))
		for k, v := range query {
			ev.QueryStringParameters[k] = v[len(v)-1]
			ev.MultiValueQueryStringParameters[k] = v
		}
	}
	return ev
}

// FromHandler adapts any integration — an http.Handler — into an
// [AuthorizerFunc]: the handler receives the event as the JSON body of a
// POST and answers 200 with the [AuthorizerResponse] as JSON. A 401, or a
// body whose message or errorMessage is "Unauthorized", refuses the caller
// (401); any other status, or a body that is not a valid response, is an
// authorizer failure (500). Responses over 64 KB are failures.
func FromHandler(h http.Handler) AuthorizerFunc {
	return func(ctx context.Context, ev *AuthorizerEvent) (*AuthorizerResponse, error) {
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		rec := &bufferWriter{header: http.Header{}}
		h.ServeHTTP(rec, req)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if rec.overflow {
			return nil, fmt.Errorf("authorizer response over %d bytes", maxAuthorizerResponse)
		}
		var msg struct {
			Message      string `json:"message"`
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &msg)
		if rec.status == http.StatusUnauthorized || msg.Message == "Unauthorized" || msg.ErrorMessage == "Unauthorized" {
			return nil, ErrUnauthorized
		}
		if rec.status != http.StatusOK {
			return nil, fmt.Errorf("authorizer integration answered %d", rec.status)
		}
		var resp AuthorizerResponse
		if err := json.Unmarshal(rec.body.Bytes(), &resp); err != nil {
			return nil, fmt.Errorf("authorizer response: %w", err)
		}
		return &resp, nil
	}
}

// bufferWriter is an in-memory ResponseWriter for FromHandler.
type bufferWriter struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	overflow bool
}

func (w *bufferWriter) Header() http.Header { return w.header }

func (w *bufferWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len()+len(p) > maxAuthorizerResponse {
		w.overflow = true
		return 0, io.ErrShortWrite
	}
	return w.body.Write(p)
}
