package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/porticotest"
	"github.com/portico-gw/portico/reqctx"
)

// gwRequest is a request as a gateway's steps see it, for the pets API's
// prod stage.
func gwRequest(method, path string) (*http.Request, *reqctx.Context) {
	r := httptest.NewRequest(method, "/prod"+path, nil)
	rc := &reqctx.Context{
		AccountID: "123456789012", APIID: "pets", Stage: "prod", HTTPMethod: method,
		Path: "/prod" + path, RawPath: "/prod" + path, RoutePath: path, ResourcePath: path,
		RouteKey: method + " " + path, StageVariables: map[string]string{"tenant": "t1"},
		Identity: reqctx.Identity{SourceIP: "203.0.113.9"},
	}
	return r.WithContext(reqctx.With(r.Context(), rc)), rc
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	_ = json.NewEncoder(w).Encode(map[string]any{"principal": rc.Authorizer.PrincipalID, "context": rc.Authorizer.Context})
})

// tokenAuthorizer allows "allow-*" tokens on GET, denies "deny" and
// refuses the rest.
func tokenAuthorizer(calls *atomic.Int64) auth.AuthorizerFunc {
	return func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		calls.Add(1)
		switch {
		case strings.HasPrefix(ev.AuthorizationToken, "allow-"):
			return &auth.AuthorizerResponse{
				PrincipalID:    strings.TrimPrefix(ev.AuthorizationToken, "allow-"),
				PolicyDocument: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/GET/*"),
				Context:        map[string]any{"tier": "gold", "n": 3, "ok": true},
			}, nil
		case ev.AuthorizationToken == "deny":
			return &auth.AuthorizerResponse{PrincipalID: "x", PolicyDocument: auth.DenyPolicy("*")}, nil
		case ev.AuthorizationToken == "boom":
			return nil, errors.New("database unreachable")
		case ev.AuthorizationToken == "panic":
			panic("authorizer bug")
		case ev.AuthorizationToken == "bad-shape":
			return &auth.AuthorizerResponse{PolicyDocument: auth.AllowPolicy("*")}, nil
		case ev.AuthorizationToken == "bad-context":
			return &auth.AuthorizerResponse{PrincipalID: "x", PolicyDocument: auth.AllowPolicy("*"), Context: map[string]any{"obj": map[string]any{}}}, nil
		}
		return nil, auth.ErrUnauthorized
	}
}

func TestTokenAuthorizerOutcomes(t *testing.T) {
	var calls atomic.Int64
	c, err := auth.NewTokenAuthorizer(tokenAuthorizer(&calls), auth.WithResultTTL(0))
	if err != nil {
		t.Fatal(err)
	}
	h := c.Handler(okHandler)
	tests := []struct {
		name      string
		method    string
		token     []string
		wantCode  int
		wantType  string
		wantCalls int64
	}{
		{name: "allow", method: "GET", token: []string{"allow-alice"}, wantCode: 200, wantCalls: 1},
		{name: "policy does not cover POST", method: "POST", token: []string{"allow-alice"}, wantCode: 403, wantType: "AccessDeniedException", wantCalls: 1},
		{name: "explicit deny", method: "GET", token: []string{"deny"}, wantCode: 403, wantType: "AccessDeniedException", wantCalls: 1},
		{name: "Unauthorized error", method: "GET", token: []string{"who"}, wantCode: 401, wantType: "UnauthorizedException", wantCalls: 1},
		{name: "other error", method: "GET", token: []string{"boom"}, wantCode: 500, wantType: "AuthorizerFailureException", wantCalls: 1},
		{name: "panic", method: "GET", token: []string{"panic"}, wantCode: 500, wantType: "AuthorizerFailureException", wantCalls: 1},
		{name: "no principalId", method: "GET", token: []string{"bad-shape"}, wantCode: 500, wantType: "AuthorizerConfigurationException", wantCalls: 1},
		{name: "object in context", method: "GET", token: []string{"bad-context"}, wantCode: 500, wantType: "AuthorizerConfigurationException", wantCalls: 1},
		{name: "missing token: not invoked", method: "GET", wantCode: 401, wantCalls: 0},
		{name: "empty token: not invoked", method: "GET", token: []string{"  "}, wantCode: 401, wantCalls: 0},
		{name: "two tokens: not invoked", method: "GET", token: []string{"allow-a", "allow-b"}, wantCode: 401, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			r, _ := gwRequest(tt.method, "/pets/7")
			r.Header["Authorization"] = tt.token
			rec := serve(h, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantType != "" && rec.Header().Get("X-Amzn-Errortype") != tt.wantType {
				t.Fatalf("error type %q, want %q", rec.Header().Get("X-Amzn-Errortype"), tt.wantType)
			}
			if calls.Load() != tt.wantCalls {
				t.Fatalf("authorizer called %d times, want %d", calls.Load(), tt.wantCalls)
			}
			if tt.wantCode == 200 && !strings.Contains(rec.Body.String(), `"context":{"n":"3","ok":"true","tier":"gold"}`) {
				t.Fatalf("context not stringified: %s", rec.Body)
			}
		})
	}
}

func TestTokenAuthorizerPattern(t *testing.T) {
	var calls atomic.Int64
	c, err := auth.NewTokenAuthorizer(tokenAuthorizer(&calls), auth.WithTokenPattern(`allow-[a-z]+`), auth.WithIdentitySource("method.request.header.X-Token"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := gwRequest("GET", "/pets/7")
	r.Header.Set("X-Token", "allow-Alice!") // fails the pattern
	if rec := serve(c.Handler(okHandler), r); rec.Code != 401 || calls.Load() != 0 {
		t.Fatalf("token failing the pattern: %d, %d calls; want 401 without a call", rec.Code, calls.Load())
	}
	r.Header.Set("X-Token", "xallow-alice") // the pattern must match entirely
	if rec := serve(c.Handler(okHandler), r); rec.Code != 401 || calls.Load() != 0 {
		t.Fatalf("partial pattern match: %d, %d calls", rec.Code, calls.Load())
	}
	r.Header.Set("X-Token", "allow-alice")
	if rec := serve(c.Handler(okHandler), r); rec.Code != 200 || calls.Load() != 1 {
		t.Fatalf("matching token: %d, %d calls", rec.Code, calls.Load())
	}
}

func TestCustomAuthorizerCache(t *testing.T) {
	var calls atomic.Int64
	clk := porticotest.NewClock(start)
	c, err := auth.NewTokenAuthorizer(tokenAuthorizer(&calls), auth.WithClock(clk), auth.WithResultTTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	h := c.Handler(okHandler)
	get := func(token, method string) int {
		r, _ := gwRequest(method, "/pets/7")
		r.Header.Set("Authorization", token)
		return serve(h, r).Code
	}
	steps := []struct {
		name      string
		advance   time.Duration
		token     string
		method    string
		wantCode  int
		wantCalls int64
	}{
		{name: "first call", token: "allow-a", method: "GET", wantCode: 200, wantCalls: 1},
		{name: "cached", token: "allow-a", method: "GET", wantCode: 200, wantCalls: 1},
		{name: "other token", token: "allow-b", method: "GET", wantCode: 200, wantCalls: 2},
		{name: "deny cached too", token: "deny", method: "GET", wantCode: 403, wantCalls: 3},
		{name: "deny from cache", token: "deny", method: "GET", wantCode: 403, wantCalls: 3},
		{name: "other method not covered: asked again", token: "allow-a", method: "POST", wantCode: 403, wantCalls: 4},
		{name: "errors are not cached", token: "boom", method: "GET", wantCode: 500, wantCalls: 5},
		{name: "errors are not cached (again)", token: "boom", method: "GET", wantCode: 500, wantCalls: 6},
		{name: "before expiry", advance: 59 * time.Second, token: "allow-b", method: "GET", wantCode: 200, wantCalls: 6},
		{name: "after expiry", advance: time.Second, token: "allow-b", method: "GET", wantCode: 200, wantCalls: 7},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		if got := get(s.token, s.method); got != s.wantCode || calls.Load() != s.wantCalls {
			t.Fatalf("%s: status %d with %d calls, want %d with %d", s.name, got, calls.Load(), s.wantCode, s.wantCalls)
		}
	}
}

func TestRequestAuthorizer(t *testing.T) {
	var calls atomic.Int64
	var last *auth.AuthorizerEvent
	fn := func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		calls.Add(1)
		last = ev
		if ev.QueryStringParameters["tenant"] != ev.StageVariables["tenant"] {
			return &auth.AuthorizerResponse{IsAuthorized: false}, nil
		}
		return &auth.AuthorizerResponse{IsAuthorized: true, Context: map[string]any{"tenant": ev.StageVariables["tenant"]}, UsageIdentifierKey: "k"}, nil
	}
	c, err := auth.NewRequestAuthorizer(fn, []string{"$request.header.X-User", "$request.querystring.tenant", "$stageVariables.tenant", "$context.httpMethod"})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Handler(okHandler)
	tests := []struct {
		name      string
		header    string
		query     string
		wantCode  int
		wantCalls int64
	}{
		{name: "allowed", header: "u1", query: "tenant=t1", wantCode: 200, wantCalls: 1},
		{name: "cached per sources", header: "u1", query: "tenant=t1", wantCode: 200, wantCalls: 1},
		{name: "simple deny", header: "u1", query: "tenant=t2", wantCode: 403, wantCalls: 2},
		{name: "missing header: not invoked", query: "tenant=t1", wantCode: 401, wantCalls: 2},
		{name: "missing query: not invoked", header: "u1", wantCode: 401, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, rc := gwRequest("GET", "/pets/7")
			r.URL.RawQuery = tt.query
			if tt.query != "" {
				rc.Query = r.URL.Query()
			}
			if tt.header != "" {
				r.Header.Set("X-User", tt.header)
			}
			rec := serve(h, r)
			if rec.Code != tt.wantCode || calls.Load() != tt.wantCalls {
				t.Fatalf("status %d with %d calls, want %d with %d: %s", rec.Code, calls.Load(), tt.wantCode, tt.wantCalls, rec.Body)
			}
		})
	}
	if last.Type != "REQUEST" || last.MethodArn != "arn:aws:execute-api:local:123456789012:pets/prod/GET/pets/7" || last.Headers["X-User"] != "u1" || last.RequestContext.Stage != "prod" || last.Resource != "/pets/7" {
		t.Fatalf("event = %+v", last)
	}
}

func TestRequestAuthorizerPayload2(t *testing.T) {
	var got []byte
	fn := auth.FromHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = make([]byte, r.ContentLength)
		_, _ = r.Body.Read(got)
		_, _ = w.Write([]byte(`{"isAuthorized":true,"context":{"plan":"pro"}}`))
	}))
	c, err := auth.NewRequestAuthorizer(fn, []string{"$request.header.Authorization"}, auth.WithPayloadFormat("2.0"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := gwRequest("GET", "/pets/7")
	r.Header.Set("Authorization", "tok")
	if rec := serve(c.Handler(okHandler), r); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"plan":"pro"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var ev map[string]any
	if err := json.Unmarshal(got, &ev); err != nil {
		t.Fatal(err)
	}
	if ev["version"] != "2.0" || ev["routeArn"] == nil || ev["methodArn"] != nil || ev["identitySource"].([]any)[0] != "tok" {
		t.Fatalf("2.0 event = %s", got)
	}
}

func TestFromHandler(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode int
	}{
		{name: "policy response", status: 200, body: `{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}}`, wantCode: 200},
		{name: "unauthorized status", status: 401, body: ``, wantCode: 401},
		{name: "lambda-style Unauthorized error", status: 200, body: `{"errorMessage":"Unauthorized","errorType":"Error"}`, wantCode: 401},
		{name: "integration error", status: 502, body: `{"message":"Internal server error"}`, wantCode: 500},
		{name: "malformed policy", status: 200, body: `{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Perhaps"}]}}`, wantCode: 500},
		{name: "not JSON", status: 200, body: `<html>`, wantCode: 500},
		{name: "too large", status: 200, body: strings.Repeat(" ", 70<<10), wantCode: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := auth.FromHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			c, err := auth.NewTokenAuthorizer(fn, auth.WithResultTTL(0))
			if err != nil {
				t.Fatal(err)
			}
			r, _ := gwRequest("GET", "/pets/7")
			r.Header.Set("Authorization", "t")
			if rec := serve(c.Handler(okHandler), r); rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
		})
	}
}

func TestCustomAuthorizerTimeout(t *testing.T) {
	fn := func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	c, err := auth.NewTokenAuthorizer(fn, auth.WithTimeout(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := gwRequest("GET", "/pets/7")
	r.Header.Set("Authorization", "t")
	if rec := serve(c.Handler(okHandler), r); rec.Code != 500 {
		t.Fatalf("timed-out authorizer: %d, want 500", rec.Code)
	}
}

func TestNewCustomErrors(t *testing.T) {
	fn := func(context.Context, *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) { return nil, nil }
	tests := []struct {
		name string
		make func() (*auth.Custom, error)
		want string
	}{
		{name: "nil func", make: func() (*auth.Custom, error) { return auth.NewTokenAuthorizer(nil) }, want: "nil AuthorizerFunc"},
		{name: "ttl over max", make: func() (*auth.Custom, error) { return auth.NewTokenAuthorizer(fn, auth.WithResultTTL(2*time.Hour)) }, want: "WithResultTTL"},
		{name: "bad pattern", make: func() (*auth.Custom, error) { return auth.NewTokenAuthorizer(fn, auth.WithTokenPattern("(")) }, want: "WithTokenPattern"},
		{name: "token from query", make: func() (*auth.Custom, error) {
			return auth.NewTokenAuthorizer(fn, auth.WithIdentitySource("$request.querystring.t"))
		}, want: "one header"},
		{name: "unknown context variable", make: func() (*auth.Custom, error) { return auth.NewRequestAuthorizer(fn, []string{"$context.secret"}) }, want: "unknown context variable"},
		{name: "cached without sources", make: func() (*auth.Custom, error) { return auth.NewRequestAuthorizer(fn, nil) }, want: "identity sources"},
		{name: "bad payload format", make: func() (*auth.Custom, error) {
			return auth.NewRequestAuthorizer(fn, []string{"$request.header.A"}, auth.WithPayloadFormat("3.0"))
		}, want: "WithPayloadFormat"},
		{name: "option of another component", make: func() (*auth.Custom, error) { return auth.NewTokenAuthorizer(fn, auth.WithPayloadFormat("2.0")) }, want: "does not take WithPayloadFormat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.make(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
