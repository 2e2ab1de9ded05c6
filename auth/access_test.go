package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/reqctx"
)

// fixedAuthorizer returns one principal (or error) for every request.
type fixedAuthorizer struct {
	p     *Principal
	err   error
	calls int
}

func (f *fixedAuthorizer) Authorize(*http.Request, string) (*Principal, error) {
	f.calls++
	return f.p, f.err
}

// gatewayRequest is a request as a gateway hands it to its steps.
func gatewayRequest(method, path string) (*http.Request, *reqctx.Context) {
	r := httptest.NewRequest(method, "/prod"+path, nil)
	rc := &reqctx.Context{
		AccountID: "123456789012", APIID: "pets", Stage: "prod", HTTPMethod: method,
		Path: "/prod" + path, RawPath: "/prod" + path, RoutePath: path,
		Identity: reqctx.Identity{SourceIP: "203.0.113.9"},
	}
	return r.WithContext(reqctx.With(r.Context(), rc)), rc
}

func TestAccessEvaluationTable(t *testing.T) {
	allowPets := AllowPolicy("arn:aws:execute-api:*:*:pets/*/GET/pets/*")
	denyPets := DenyPolicy("arn:aws:execute-api:*:*:pets/*/GET/pets/*")
	otherMethod := AllowPolicy("arn:aws:execute-api:*:*:pets/*/POST/*")
	rpAllow := mustPolicy(t, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"}}`)
	rpDeny := mustPolicy(t, `{"Statement":{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"*"}}`)
	rpOther := mustPolicy(t, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:other/*"}}`)
	rpAlice := mustPolicy(t, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:user/alice"},"Action":"execute-api:Invoke","Resource":"*"}}`)

	lambda := func(pol *Policy) *Principal { return &Principal{Kind: KindLambda, ID: "user-1", Policy: pol} }
	iam := func(acct string, pol *Policy) *Principal {
		return &Principal{Kind: KindIAM, ID: "AIDA1", ARN: "arn:aws:iam::" + acct + ":user/alice", AccountID: acct, Policy: pol}
	}
	jwtP := &Principal{Kind: KindJWT, ID: "sub-1"}

	tests := []struct {
		name     string
		p        *Principal
		rp       *Policy
		wantCode int
		wantMsg  string
	}{
		{name: "lambda allow, no resource policy", p: lambda(allowPets), wantCode: 200},
		{name: "lambda explicit deny", p: lambda(denyPets), wantCode: 403, wantMsg: "User is not authorized to access this resource with an explicit deny"},
		{name: "lambda implicit deny", p: lambda(otherMethod), wantCode: 403, wantMsg: "User is not authorized to access this resource"},
		{name: "lambda allow, resource policy allow", p: lambda(allowPets), rp: rpAllow, wantCode: 200},
		{name: "lambda allow, resource policy silent", p: lambda(allowPets), rp: rpOther, wantCode: 200},
		{name: "lambda allow, resource policy deny", p: lambda(allowPets), rp: rpDeny, wantCode: 403, wantMsg: "with an explicit deny"},
		{name: "lambda silent, resource policy allow", p: lambda(otherMethod), rp: rpAllow, wantCode: 200},
		{name: "lambda silent, resource policy silent", p: lambda(otherMethod), rp: rpOther, wantCode: 403, wantMsg: "User: user-1 is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:local:123456789012:pets/prod/GET/pets/7"},
		{name: "lambda deny, resource policy allow", p: lambda(denyPets), rp: rpAllow, wantCode: 403, wantMsg: "explicit deny"},
		{name: "jwt, no resource policy", p: jwtP, wantCode: 200},
		{name: "jwt, resource policy allow", p: jwtP, rp: rpAllow, wantCode: 200},
		{name: "jwt, resource policy silent", p: jwtP, rp: rpOther, wantCode: 403},
		{name: "jwt, resource policy deny", p: jwtP, rp: rpDeny, wantCode: 403},
		{name: "no authorizer, resource policy allow", rp: rpAllow, wantCode: 200},
		{name: "no authorizer, resource policy silent", rp: rpOther, wantCode: 403, wantMsg: "User: anonymous is not authorized"},
		{name: "no authorizer, resource policy names a user", rp: rpAlice, wantCode: 403},
		{name: "iam allow, same account", p: iam("123456789012", allowPets), wantCode: 200},
		{name: "iam no policy, no resource policy", p: iam("123456789012", nil), wantCode: 403, wantMsg: "User: arn:aws:iam::123456789012:user/alice is not authorized"},
		{name: "iam no policy, resource policy names the user", p: iam("999999999999", nil), rp: rpAlice, wantCode: 403},
		{name: "iam cross-account, both allow", p: iam("999999999999", allowPets), rp: rpAlice, wantCode: 200},
		{name: "iam cross-account, only identity allows", p: iam("999999999999", allowPets), rp: rpOther, wantCode: 403},
		{name: "iam same account, resource policy allows user", p: iam("123456789012", nil), rp: mustPolicy(t, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"*","Resource":"*"}}`), wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Access{ResourcePolicy: tt.rp}
			if tt.p != nil {
				a.Authorizer = &fixedAuthorizer{p: tt.p}
			}
			r, rc := gatewayRequest("GET", "/pets/7")
			rec := httptest.NewRecorder()
			a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode == 403 && rec.Header().Get("X-Amzn-Errortype") != "AccessDeniedException" {
				t.Fatalf("403 error type %q, want AccessDeniedException", rec.Header().Get("X-Amzn-Errortype"))
			}
			if tt.wantMsg != "" && !strings.Contains(rec.Body.String(), tt.wantMsg) {
				t.Fatalf("body %s, want it to contain %q", rec.Body, tt.wantMsg)
			}
			if tt.p != nil && rc.Authorizer.PrincipalID != tt.p.ID {
				t.Fatalf("rc.Authorizer.PrincipalID = %q, want %q (recorded even on denial)", rc.Authorizer.PrincipalID, tt.p.ID)
			}
		})
	}
}

func TestAccessRecordsIAMIdentity(t *testing.T) {
	p := &Principal{Kind: KindIAM, ID: "AIDA1", UserID: "AIDA1", ARN: "arn:aws:iam::123456789012:user/alice", AccountID: "123456789012", AccessKey: "AKID", Policy: AllowPolicy("*")}
	r, rc := gatewayRequest("GET", "/pets/7")
	if err := (&Access{Authorizer: &fixedAuthorizer{p: p}}).Check(r); err != nil {
		t.Fatal(err)
	}
	want := reqctx.Identity{SourceIP: "203.0.113.9", AccessKey: "AKID", Caller: "AIDA1", User: "AIDA1", UserARN: p.ARN, AccountID: "123456789012"}
	if rc.Identity.AccessKey != want.AccessKey || rc.Identity.Caller != want.Caller || rc.Identity.UserARN != want.UserARN || rc.Identity.AccountID != want.AccountID || rc.Authorizer.Kind != KindIAM {
		t.Fatalf("identity = %+v, authorizer = %+v; want %+v", rc.Identity, rc.Authorizer, want)
	}
}

func TestAccessScopes(t *testing.T) {
	tests := []struct {
		name     string
		have     []string
		want     []string
		wantCode int
	}{
		{name: "one matches", have: []string{"pets.read", "email"}, want: []string{"pets.write", "pets.read"}, wantCode: 200},
		{name: "none match", have: []string{"email"}, want: []string{"pets.read"}, wantCode: 403},
		{name: "no scopes", want: []string{"pets.read"}, wantCode: 403},
		{name: "route wants none", have: nil, want: nil, wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Access{Authorizer: &fixedAuthorizer{p: &Principal{Kind: KindJWT, Scopes: tt.have}}, Scopes: tt.want}
			rec := httptest.NewRecorder()
			r, _ := gatewayRequest("GET", "/pets/7")
			a.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantCode == 403 && !strings.Contains(rec.Header().Get("Www-Authenticate"), "insufficient_scope") {
				t.Fatalf("WWW-Authenticate %q, want insufficient_scope", rec.Header().Get("Www-Authenticate"))
			}
		})
	}
}

func TestAccessAPIKeyFromAuthorizer(t *testing.T) {
	keys, _ := newTestKeys(t)
	k, value, _ := keys.Create(t.Context(), "metered")
	tests := []struct {
		name     string
		usage    string
		header   string
		wantCode int
	}{
		{name: "usage identifier key", usage: value, wantCode: 200},
		{name: "header ignored", header: value, wantCode: 403},
		{name: "unknown usage key", usage: strings.Repeat("q", 30), wantCode: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Access{
				Authorizer:   &fixedAuthorizer{p: &Principal{Kind: KindLambda, ID: "u", Policy: AllowPolicy("*"), UsageIdentifierKey: tt.usage}},
				APIKeys:      keys,
				APIKeySource: APIKeySourceAuthorizer,
			}
			r, rc := gatewayRequest("GET", "/pets/7")
			if tt.header != "" {
				r.Header.Set(APIKeyHeader, tt.header)
			}
			rec := httptest.NewRecorder()
			a.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode == 200 && rc.APIKeyID != k.ID {
				t.Fatalf("APIKeyID = %q, want %q", rc.APIKeyID, k.ID)
			}
		})
	}
}

func TestAccessAuthorizerErrorPassesThrough(t *testing.T) {
	f := &fixedAuthorizer{err: reqctx.NewError(reqctx.Unauthorized, nil)}
	rec := httptest.NewRecorder()
	r, _ := gatewayRequest("GET", "/pets/7")
	(&Access{Authorizer: f}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Fatal("next called") })).ServeHTTP(rec, r)
	if rec.Code != 401 {
		t.Fatalf("status %d, want 401", rec.Code)
	}
	rec = httptest.NewRecorder()
	(&Access{Authorizer: &fixedAuthorizer{}}).Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	if rec.Code != 500 || rec.Header().Get("X-Amzn-Errortype") != "AuthorizerConfigurationException" {
		t.Fatalf("nil principal: %d %s, want 500 AUTHORIZER_CONFIGURATION_ERROR", rec.Code, rec.Header())
	}
}

func TestGuard(t *testing.T) {
	rpDenyOutside := mustPolicy(t, `{"Statement":[
		{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"},
		{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}},
		{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/mallory"},"Action":"*","Resource":"*"}]}`)
	tests := []struct {
		name     string
		guard    Guard
		source   string
		labels   []string
		wantCode int
	}{
		{name: "open", guard: Guard{}, source: "198.51.100.1", wantCode: 200},
		{name: "private from allowed network", guard: Guard{Networks: []string{"vpce-office"}}, labels: []string{"vpce-office"}, source: "10.1.1.1", wantCode: 200},
		{name: "private from elsewhere", guard: Guard{Networks: []string{"vpce-office"}}, labels: []string{"public"}, source: "10.1.1.1", wantCode: 403},
		{name: "private unlabelled", guard: Guard{Networks: []string{"vpce-office"}}, source: "10.1.1.1", wantCode: 403},
		{name: "resource policy denies outside ipv4", guard: Guard{ResourcePolicy: rpDenyOutside}, source: "198.51.100.1", wantCode: 403},
		{name: "resource policy spares inside ipv4", guard: Guard{ResourcePolicy: rpDenyOutside}, source: "10.2.3.4", wantCode: 200},
		{name: "resource policy spares inside ipv6", guard: Guard{ResourcePolicy: rpDenyOutside}, source: "2001:db8::5", wantCode: 200},
		{name: "resource policy denies outside ipv6", guard: Guard{ResourcePolicy: rpDenyOutside}, source: "2001:db9::5", wantCode: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, rc := gatewayRequest("GET", "/pets/7")
			rc.Identity.SourceIP = tt.source
			g := tt.guard
			g.NetworksOf = func(*http.Request) []string { return tt.labels }
			rec := httptest.NewRecorder()
			g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if len(tt.labels) > 0 && len(rc.Identity.Networks) != len(tt.labels) {
				t.Fatalf("Identity.Networks = %v, want %v", rc.Identity.Networks, tt.labels)
			}
		})
	}
}

func TestStandaloneMethodARN(t *testing.T) {
	var got string
	f := authorizerFunc(func(r *http.Request, arn string) (*Principal, error) {
		got = arn
		return &Principal{Kind: KindJWT}, nil
	})
	rec := httptest.NewRecorder()
	(&Access{Authorizer: f, Region: "eu-west-1"}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reqctx.From(r.Context()) == nil {
			t.Fatal("no request context outside a gateway")
		}
	})).ServeHTTP(rec, httptest.NewRequest("DELETE", "/orders/9", nil))
	if want := "arn:aws:execute-api:eu-west-1:000000000000:-/-/DELETE/orders/9"; got != want {
		t.Fatalf("standalone method ARN = %q, want %q", got, want)
	}
}

type authorizerFunc func(r *http.Request, arn string) (*Principal, error)

func (f authorizerFunc) Authorize(r *http.Request, arn string) (*Principal, error) { return f(r, arn) }
