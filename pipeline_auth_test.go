package portico_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/porticotest"
	"github.com/portico-gw/portico/reqctx"
)

var authStart = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// whoami answers with what the pipeline learned about the caller.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind":      rc.Authorizer.Kind,
		"principal": rc.Authorizer.PrincipalID,
		"claims":    rc.Authorizer.Claims,
		"context":   rc.Authorizer.Context,
		"apiKeyId":  rc.APIKeyID,
		"userArn":   rc.Identity.UserARN,
		"networks":  rc.Identity.Networks,
	})
})

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return m
}

func TestAuthAPIKeyRoute(t *testing.T) {
	ctx := context.Background()
	store := auth.NewMemoryKeyStore()
	keys, _ := auth.NewKeys(store)
	k, value, _ := keys.Create(ctx, "partner")
	api := portico.NewAPI("pets", portico.REST)
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets", Integration: whoami, Auth: portico.RouteAuth{APIKeyRequired: true}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/health", Integration: whoami})
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "prod"}, portico.WithAPIKeys(store))

	get := func(path, key string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		if key != "" {
			r.Header.Set("x-api-key", key)
		}
		return st.Do(r)
	}
	if rec := get("/pets", value); rec.Code != 200 || decode(t, rec)["apiKeyId"] != k.ID {
		t.Fatalf("with the key: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct{ name, key string }{{"missing", ""}, {"unknown", strings.Repeat("x", 40)}} {
		if rec := get("/pets", tc.key); rec.Code != 403 || rec.Header().Get("X-Amzn-Errortype") != "ForbiddenException" {
			t.Fatalf("%s key: %d %s", tc.name, rec.Code, rec.Body)
		}
	}
	_, _ = keys.Disable(ctx, k.ID)
	if rec := get("/pets", value); rec.Code != 403 {
		t.Fatalf("disabled key: %d", rec.Code)
	}
	if rec := get("/health", ""); rec.Code != 200 || decode(t, rec)["apiKeyId"] != "" {
		t.Fatalf("route without a key requirement: %d %s", rec.Code, rec.Body)
	}
}

func TestAuthJWTRoute(t *testing.T) {
	clk := porticotest.NewClock(authStart)
	iss := porticotest.NewIssuer(t, porticotest.WithIssuerClock(clk))
	api := portico.NewAPI("orders", portico.HTTP)
	api.Auth.Authorizers = map[string]portico.Authorizer{
		"cognito": {Type: portico.AuthorizerJWT, Issuer: iss.URL, Audiences: []string{"app-1"}},
	}
	api.AddRoute(portico.Route{Method: "GET", Path: "/orders", Integration: whoami, Auth: portico.RouteAuth{Authorizer: "cognito"}})
	api.AddRoute(portico.Route{Method: "POST", Path: "/orders", Integration: whoami, Auth: portico.RouteAuth{Authorizer: "cognito", Scopes: []string{"orders/write"}}})
	api.GatewayResponses = map[reqctx.ResponseType]portico.GatewayResponse{
		reqctx.AccessDenied: {Body: `{"message":$context.error.messageString,"sub":"$context.authorizer.claims.sub"}`},
	}
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "prod"}, portico.WithClock(clk), portico.WithAuthHTTPClient(iss.Client()))

	call := func(method, tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/orders", nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		return st.Do(r)
	}
	reader := iss.Token(t, map[string]any{"aud": "app-1", "sub": "alice", "scope": "orders/read"})
	writer := iss.Token(t, map[string]any{"client_id": "app-1", "sub": "bob", "scope": "orders/read orders/write"})
	rec := call("GET", reader)
	if rec.Code != 200 {
		t.Fatalf("GET with a token: %d %s", rec.Code, rec.Body)
	}
	if m := decode(t, rec); m["kind"] != "jwt" || m["principal"] != "alice" || m["claims"].(map[string]any)["sub"] != "alice" {
		t.Fatalf("context = %v", m)
	}
	if rec := call("POST", reader); rec.Code != 403 || !strings.Contains(rec.Body.String(), `"sub":"alice"`) {
		t.Fatalf("POST without the scope: %d %s (the gateway response should see the claims)", rec.Code, rec.Body)
	}
	if rec := call("POST", writer); rec.Code != 200 {
		t.Fatalf("POST with the scope: %d %s", rec.Code, rec.Body)
	}
	if rec := call("GET", ""); rec.Code != 401 || rec.Header().Get("Www-Authenticate") != "Bearer" {
		t.Fatalf("no token: %d %v", rec.Code, rec.Header())
	}
	// One JWKS fetch served both routes: the authorizer is shared. (Checked
	// before the clock moves: advancing it past the refresh interval starts
	// a background refresh.)
	if n := iss.Fetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	clk.Advance(2 * time.Hour)
	if rec := call("GET", reader); rec.Code != 401 || !strings.Contains(rec.Header().Get("Www-Authenticate"), "expired") {
		t.Fatalf("expired token: %d %v", rec.Code, rec.Header())
	}
}

func TestAuthCustomAuthorizers(t *testing.T) {
	var tokenCalls, requestCalls atomic.Int64
	tokenFn := func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		tokenCalls.Add(1)
		if ev.AuthorizationToken != "secret" {
			return nil, auth.ErrUnauthorized
		}
		return &auth.AuthorizerResponse{PrincipalID: "svc", PolicyDocument: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/*/*"), Context: map[string]any{"team": "blue"}}, nil
	}
	requestFn := func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		requestCalls.Add(1)
		return &auth.AuthorizerResponse{IsAuthorized: ev.Headers["X-Tenant"] == ev.StageVariables["tenant"]}, nil
	}
	integrationAuthorizer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev auth.AuthorizerEvent
		_ = json.NewDecoder(r.Body).Decode(&ev)
		if ev.AuthorizationToken != "open-sesame" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"principalId":"remote","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":%q}]}}`, ev.MethodArn)
	})
	api := portico.NewAPI("pets", portico.REST)
	api.Auth.Authorizers = map[string]portico.Authorizer{
		"token":  {Type: portico.AuthorizerToken, Function: tokenFn, IdentityValidationExpression: `[a-z-]+`},
		"tenant": {Type: portico.AuthorizerRequest, Function: requestFn, IdentitySources: []string{"$request.header.X-Tenant", "$stageVariables.tenant"}},
		"remote": {Type: portico.AuthorizerToken, Integration: integrationAuthorizer, IdentitySources: []string{"method.request.header.X-Key"}, ResultTTL: -1},
		"builtin": {Custom: authorizerFunc(func(r *http.Request, arn string) (*auth.Principal, error) {
			return &auth.Principal{Kind: "custom", ID: arn}, nil
		})},
	}
	api.AddRoute(portico.Route{Method: "GET", Path: "/a", Integration: whoami, Auth: portico.RouteAuth{Authorizer: "token"}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/b", Integration: whoami, Auth: portico.RouteAuth{Authorizer: "token"}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/tenant", Integration: whoami, Auth: portico.RouteAuth{Authorizer: "tenant"}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/remote/{id}", Integration: whoami, Auth: portico.RouteAuth{Authorizer: "remote"}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/builtin", Integration: whoami, Auth: portico.RouteAuth{Authorizer: "builtin"}})
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "prod", Variables: map[string]string{"tenant": "t1"}})

	do := func(path string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return st.Do(r)
	}
	if rec := do("/a", "Authorization", "secret"); rec.Code != 200 || decode(t, rec)["context"].(map[string]any)["team"] != "blue" {
		t.Fatalf("/a: %d %s", rec.Code, rec.Body)
	}
	if rec := do("/b", "Authorization", "secret"); rec.Code != 200 || tokenCalls.Load() != 1 {
		t.Fatalf("/b: %d, %d calls; want the cached result shared by the API's routes", rec.Code, tokenCalls.Load())
	}
	if rec := do("/a", "Authorization", "Secret!"); rec.Code != 401 || tokenCalls.Load() != 1 {
		t.Fatalf("token failing the validation expression: %d, %d calls", rec.Code, tokenCalls.Load())
	}
	if rec := do("/a"); rec.Code != 401 || tokenCalls.Load() != 1 {
		t.Fatalf("no token: %d, %d calls", rec.Code, tokenCalls.Load())
	}
	if rec := do("/tenant", "X-Tenant", "t1"); rec.Code != 200 {
		t.Fatalf("tenant t1: %d %s", rec.Code, rec.Body)
	}
	if rec := do("/tenant", "X-Tenant", "t2"); rec.Code != 403 {
		t.Fatalf("tenant t2: %d %s", rec.Code, rec.Body)
	}
	if rec := do("/remote/7", "X-Key", "open-sesame"); rec.Code != 200 || decode(t, rec)["principal"] != "remote" {
		t.Fatalf("integration authorizer: %d %s", rec.Code, rec.Body)
	}
	if rec := do("/remote/7", "X-Key", "nope"); rec.Code != 401 {
		t.Fatalf("integration authorizer refusing: %d %s", rec.Code, rec.Body)
	}
	rec := do("/builtin")
	if want := "arn:aws:execute-api:local:000000000000:pets/prod/GET/builtin"; rec.Code != 200 || decode(t, rec)["principal"] != want {
		t.Fatalf("custom auth.Authorizer: %d %s, want the method ARN %s", rec.Code, rec.Body, want)
	}
}

type authorizerFunc func(r *http.Request, arn string) (*auth.Principal, error)

func (f authorizerFunc) Authorize(r *http.Request, arn string) (*auth.Principal, error) {
	return f(r, arn)
}

func TestAuthSigV4Route(t *testing.T) {
	creds, _ := auth.NewStaticCredentials(auth.Credential{
		AccessKeyID: "AKIDALICE", SecretAccessKey: "alice-secret", AccountID: "000000000000",
		UserID: "AIDAALICE", ARN: "arn:aws:iam::000000000000:user/alice",
		Policy: auth.AllowPolicy("arn:aws:execute-api:*:*:pets/prod/*/connections/*", "arn:aws:execute-api:*:*:pets/prod/GET/*"),
	})
	api := portico.NewAPI("pets", portico.REST)
	echoBody := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", reqctx.From(r.Context()).Identity.UserARN, r.PathValue("id"), b)
	})
	api.AddRoute(portico.Route{Method: "POST", Path: "/connections/{id}", Integration: echoBody, Auth: portico.RouteAuth{Authorizer: portico.AuthorizerIAM}})
	api.AddRoute(portico.Route{Method: "DELETE", Path: "/pets/{id}", Integration: echoBody, Auth: portico.RouteAuth{Authorizer: portico.AuthorizerIAM}})
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "prod"}, portico.WithCredentials(creds))
	alice := porticotest.SigV4Credentials{AccessKeyID: "AKIDALICE", SecretAccessKey: "alice-secret"}

	send := func(method, path, body string, tamper func(*http.Request)) (int, string) {
		r, _ := http.NewRequest(method, st.URL(path), strings.NewReader(body))
		porticotest.SignRequest(t, r, alice, "us-east-1", time.Now())
		if tamper != nil {
			tamper(r)
		}
		res, err := st.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	// The id holds = and +: the signature covers the path twice-encoded.
	code, body := send("POST", "/connections/L0S%3Dab%2B", "hello", nil)
	if code != 200 || body != "arn:aws:iam::000000000000:user/alice L0S=ab+ hello" {
		t.Fatalf("signed POST: %d %q", code, body)
	}
	if code, body := send("POST", "/connections/L0S%3Dab%2B", "hello", func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader("HELLO"))
	}); code != 403 || !strings.Contains(body, "signature") {
		t.Fatalf("tampered body: %d %s", code, body)
	}
	if code, body := send("DELETE", "/pets/7", "", nil); code != 403 || !strings.Contains(body, "is not authorized to perform: execute-api:Invoke") {
		t.Fatalf("DELETE outside the credential's policy: %d %s", code, body)
	}
	r := httptest.NewRequest("POST", "/connections/x", nil)
	if rec := st.Do(r); rec.Code != 403 || rec.Header().Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %d %v", rec.Code, rec.Header())
	}
}

func TestAuthResourcePolicy(t *testing.T) {
	var calls atomic.Int64
	api := portico.NewAPI("pets", portico.REST)
	api.Auth.ResourcePolicy = []byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*/GET/*"},
		{"Sid":"OfficeOnly","Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
		 "Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}]}`)
	api.Auth.Authorizers = map[string]portico.Authorizer{"token": {Type: portico.AuthorizerToken, Function: func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		calls.Add(1)
		return &auth.AuthorizerResponse{PrincipalID: "u", PolicyDocument: auth.AllowPolicy("*")}, nil
	}}}
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets", Integration: whoami})
	api.AddRoute(portico.Route{Method: "POST", Path: "/pets", Integration: whoami})
	api.AddRoute(portico.Route{Method: "PUT", Path: "/pets", Integration: whoami, Auth: portico.RouteAuth{Authorizer: "token"}})
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "prod"})

	tests := []struct {
		name      string
		method    string
		remote    string
		token     string
		wantCode  int
		wantCalls int64
	}{
		{name: "GET from the office", method: "GET", remote: "10.1.2.3:5000", wantCode: 200},
		{name: "GET from the office over IPv6", method: "GET", remote: "[2001:db8::9]:5000", wantCode: 200},
		{name: "GET from outside", method: "GET", remote: "198.51.100.7:5000", wantCode: 403},
		{name: "POST: no statement allows it", method: "POST", remote: "10.1.2.3:5000", wantCode: 403},
		{name: "PUT allowed by the authorizer", method: "PUT", remote: "10.1.2.3:5000", token: "t", wantCode: 200, wantCalls: 1},
		{name: "PUT from outside: denied before the authorizer", method: "PUT", remote: "198.51.100.7:5000", token: "t2", wantCode: 403, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/pets", nil)
			r.RemoteAddr = tt.remote
			if tt.token != "" {
				r.Header.Set("Authorization", tt.token)
			}
			rec := st.Do(r)
			if rec.Code != tt.wantCode || calls.Load() != tt.wantCalls {
				t.Fatalf("status %d with %d authorizer calls, want %d with %d: %s", rec.Code, calls.Load(), tt.wantCode, tt.wantCalls, rec.Body)
			}
			if tt.wantCode == 403 && rec.Header().Get("X-Amzn-Errortype") != "AccessDeniedException" {
				t.Fatalf("403 type %q", rec.Header().Get("X-Amzn-Errortype"))
			}
		})
	}
}

func TestAuthPrivateEndpoint(t *testing.T) {
	nets, err := auth.CIDRNetworks(map[string][]string{"vpce-office": {"10.0.0.0/8"}, "public": {"0.0.0.0/0"}})
	if err != nil {
		t.Fatal(err)
	}
	api := portico.NewAPI("internal", portico.REST)
	api.Auth.ResourcePolicy = []byte(`{"Statement":[
		{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
		{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*/DELETE/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-office"}}}]}`)
	api.AddRoute(portico.Route{Method: "GET", Path: "/things", Integration: whoami})
	cfg := portico.StageConfig{Name: "prod", Auth: portico.StageAuth{EndpointType: portico.EndpointPrivate, AllowedNetworks: []string{"vpce-office"}}}
	st := porticotest.NewStage(t, api, cfg, portico.WithSourceNetworks(nets))
	for _, tc := range []struct {
		remote string
		want   int
	}{{"10.9.8.7:1", 200}, {"198.51.100.7:1", 403}} {
		r := httptest.NewRequest("GET", "/things", nil)
		r.RemoteAddr = tc.remote
		if rec := st.Do(r); rec.Code != tc.want {
			t.Fatalf("from %s: %d, want %d: %s", tc.remote, rec.Code, tc.want, rec.Body)
		}
	}
	if got := st.Stage.Deployment().Stage().Auth.EndpointType; got != portico.EndpointPrivate {
		t.Fatalf("deployment's endpoint type = %q", got)
	}
}

func TestAuthDeployErrors(t *testing.T) {
	fn := func(context.Context, *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) { return nil, nil }
	tests := []struct {
		name  string
		setup func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig)
		want  string
	}{
		{name: "unknown authorizer", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) { rt.Auth.Authorizer = "nope" }, want: `RouteAuth.Authorizer "nope"`},
		{name: "scopes without authorizer", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) { rt.Auth.Scopes = []string{"a"} }, want: "Scopes need a JWT"},
		{name: "scopes on a TOKEN authorizer", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			api.Auth.Authorizers = map[string]portico.Authorizer{"t": {Type: portico.AuthorizerToken, Function: fn}}
			rt.Auth = portico.RouteAuth{Authorizer: "t", Scopes: []string{"a"}}
		}, want: "Scopes need a JWT"},
		{name: "AWS_IAM without credentials", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			rt.Auth.Authorizer = portico.AuthorizerIAM
		}, want: "WithCredentials"},
		{name: "API key without a store", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) { rt.Auth.APIKeyRequired = true }, want: "WithAPIKeys"},
		{name: "malformed resource policy", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			api.Auth.ResourcePolicy = []byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"Typo","Effect":"Alow","Principal":"*","Action":"*","Resource":"*"}]}`)
		}, want: `statement 1 (Sid "Typo"): Effect "Alow"`},
		{name: "private without networks", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			cfg.Auth.EndpointType = portico.EndpointPrivate
		}, want: "needs StageAuth.AllowedNetworks"},
		{name: "networks on a regional stage", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			cfg.Auth.AllowedNetworks = []string{"x"}
		}, want: "only to a PRIVATE endpoint"},
		{name: "unknown endpoint type", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			cfg.Auth.EndpointType = "INTERNAL"
		}, want: "EndpointType"},
		{name: "JWT without issuer", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			api.Auth.Authorizers = map[string]portico.Authorizer{"j": {Type: portico.AuthorizerJWT, Audiences: []string{"a"}}}
		}, want: "Issuer"},
		{name: "TOKEN with both function and integration", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			api.Auth.Authorizers = map[string]portico.Authorizer{"t": {Type: portico.AuthorizerToken, Function: fn, Integration: http.NotFoundHandler()}}
		}, want: "exactly one of Function and Integration"},
		{name: "bad validation expression", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			api.Auth.Authorizers = map[string]portico.Authorizer{"t": {Type: portico.AuthorizerToken, Function: fn, IdentityValidationExpression: "("}}
			rt.Auth.Authorizer = "t"
		}, want: "WithTokenPattern"},
		{name: "TTL over an hour", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			api.Auth.Authorizers = map[string]portico.Authorizer{"t": {Type: portico.AuthorizerToken, Function: fn, ResultTTL: 2 * time.Hour}}
			rt.Auth.Authorizer = "t"
		}, want: "WithResultTTL"},
		{name: "unknown type", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			api.Auth.Authorizers = map[string]portico.Authorizer{"x": {Type: "COGNITO"}}
		}, want: `Type "COGNITO"`},
		{name: "bad key source", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) { api.Auth.APIKeySource = "QUERY" }, want: "APIKeySource"},
		{name: "authorizer key source without custom authorizer", setup: func(api *portico.API, rt *portico.Route, cfg *portico.StageConfig) {
			api.Auth.APIKeySource = auth.APIKeySourceAuthorizer
			rt.Auth.APIKeyRequired = true
		}, want: "AUTHORIZER needs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := portico.NewAPI("pets", portico.REST)
			rt := portico.Route{Method: "GET", Path: "/pets", Integration: whoami}
			cfg := portico.StageConfig{Name: "prod"}
			tt.setup(api, &rt, &cfg)
			api.AddRoute(rt)
			var opts []portico.Option
			if strings.Contains(tt.name, "key source") {
				opts = append(opts, portico.WithAPIKeys(auth.NewMemoryKeyStore()))
			}
			gw, err := portico.New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer gw.Shutdown(context.Background())
			_, err = gw.Deploy(api, cfg)
			var re *portico.RouteError
			if !errors.As(err, &re) || re.Field != "Auth" || re.Route != "GET /pets" {
				t.Fatalf("Deploy err = %v, want a RouteError on GET /pets field Auth", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Deploy err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAuthDeploySnapshot(t *testing.T) {
	api := portico.NewAPI("pets", portico.REST)
	api.Auth.ResourcePolicy = []byte(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`)
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets", Integration: whoami})
	st := porticotest.NewStage(t, api, portico.StageConfig{Name: "prod"})
	// Changing the API after deploying changes nothing until redeployed.
	copy(api.Auth.ResourcePolicy, []byte(`{"Statement":{"Effect":"Deny" `))
	if rec := st.Get("/pets"); rec.Code != 200 {
		t.Fatalf("after mutating the deployed API: %d %s", rec.Code, rec.Body)
	}
}
