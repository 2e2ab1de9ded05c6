package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/porticotest"
	"github.com/portico-gw/portico/reqctx"
)

var start = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

const audience = "client-123"

// jwtSetup is an issuer, a fake clock and an authorizer trusting the issuer.
type jwtSetup struct {
	clk  *porticotest.Clock
	iss  *porticotest.Issuer
	auth *auth.JWT
}

func newJWTSetup(t *testing.T, opts ...auth.Option) *jwtSetup {
	t.Helper()
	clk := porticotest.NewClock(start)
	iss := porticotest.NewIssuer(t, porticotest.WithIssuerClock(clk))
	opts = append([]auth.Option{auth.WithClock(clk), auth.WithHTTPClient(iss.Client())}, opts...)
	a, err := auth.NewJWT(iss.URL, []string{audience}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &jwtSetup{clk: clk, iss: iss, auth: a}
}

// call sends a request with the given Authorization header values through
// the authorizer's handler.
func (s *jwtSetup) call(authz ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header["Authorization"] = authz
	rec := httptest.NewRecorder()
	s.auth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := reqctx.From(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": rc.Authorizer.PrincipalID, "claims": rc.Authorizer.Claims, "scopes": rc.Authorizer.Scopes, "kind": rc.Authorizer.Kind})
	})).ServeHTTP(rec, r)
	return rec
}

func TestJWTValidTokens(t *testing.T) {
	s := newJWTSetup(t)
	tests := []struct {
		name   string
		claims map[string]any
		scopes []any
	}{
		{name: "id token with aud", claims: map[string]any{"aud": audience, "sub": "alice", "email": "a@example.com"}},
		{name: "aud list", claims: map[string]any{"aud": []string{"other", audience}, "sub": "alice"}},
		{name: "cognito access token with client_id", claims: map[string]any{"client_id": audience, "sub": "alice", "scope": "pets/read pets/write"}, scopes: []any{"pets/read", "pets/write"}},
		{name: "scp list", claims: map[string]any{"aud": audience, "sub": "alice", "scp": []string{"a", "b"}}, scopes: []any{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.call("Bearer " + s.iss.Token(t, tt.claims))
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var got map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &got)
			if got["sub"] != "alice" || got["kind"] != auth.KindJWT {
				t.Fatalf("context = %v, want sub alice, kind jwt", got)
			}
			if tt.scopes != nil {
				if gs, _ := got["scopes"].([]any); len(gs) != len(tt.scopes) || gs[0] != tt.scopes[0] {
					t.Fatalf("scopes = %v, want %v", got["scopes"], tt.scopes)
				}
			}
		})
	}
	// A raw token (no Bearer prefix) is accepted too, as by the model.
	if rec := s.call(s.iss.Token(t, map[string]any{"aud": audience})); rec.Code != 200 {
		t.Fatalf("raw token: %d %s", rec.Code, rec.Body)
	}
}

func signWith(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTAttacks(t *testing.T) {
	s := newJWTSetup(t)
	evilHits := atomic.Int64{}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evilHits.Add(1) }))
	defer evil.Close()

	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": s.iss.URL, "aud": audience, "sub": "mallory", "iat": start.Unix(), "exp": start.Add(time.Hour).Unix()}
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// The issuer's public key, as an attacker would fetch it from the JWKS.
	var jwks struct {
		Keys []struct{ N, E string } `json:"keys"`
	}
	_ = json.Unmarshal(s.iss.JWKS(), &jwks)
	nBytes, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].N)
	pub := &rsa.PublicKey{N: new(bigInt).SetBytes(nBytes), E: 65537}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	kid := s.iss.KeyID()

	valid := s.iss.Token(t, map[string]any{"aud": audience, "sub": "mallory"})
	parts := strings.Split(valid, ".")
	forgedClaims, _ := json.Marshal(map[string]any{"iss": s.iss.URL, "aud": audience, "sub": "admin", "exp": start.Add(time.Hour).Unix()})
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedClaims) + "." + parts[2]

	tests := []struct {
		name     string
		token    func() string
		wantCode int
		wantDesc string
	}{
		{name: "alg none", token: func() string {
			return signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": kid}, good())
		}, wantCode: 401, wantDesc: "invalid_token"},
		{name: "alg none with a signature stripped", token: func() string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + kid + `"}`))
			return h + "." + parts[1] + "."
		}, wantCode: 401},
		{name: "HS256 signed with the RSA public key PEM", token: func() string {
			return signWith(t, jwt.SigningMethodHS256, pubPEM, map[string]any{"kid": kid}, good())
		}, wantCode: 401},
		{name: "HS256 signed with the RSA modulus", token: func() string {
			return signWith(t, jwt.SigningMethodHS256, nBytes, map[string]any{"kid": kid}, good())
		}, wantCode: 401},
		{name: "ES256 claiming the RSA key's kid", token: func() string {
			return signWith(t, jwt.SigningMethodES256, ecKey, map[string]any{"kid": kid}, good())
		}, wantCode: 401},
		{name: "PS256 with the RS256-only key", token: func() string {
			return signWith(t, jwt.SigningMethodPS256, otherKey, map[string]any{"kid": kid}, good())
		}, wantCode: 401},
		{name: "another key under the right kid", token: func() string {
			return signWith(t, jwt.SigningMethodRS256, otherKey, map[string]any{"kid": kid}, good())
		}, wantCode: 401, wantDesc: "signature"},
		{name: "kid path traversal", token: func() string {
			return signWith(t, jwt.SigningMethodRS256, otherKey, map[string]any{"kid": "../../../../etc/passwd"}, good())
		}, wantCode: 401, wantDesc: "no signing key"},
		{name: "kid URL", token: func() string {
			return signWith(t, jwt.SigningMethodRS256, otherKey, map[string]any{"kid": evil.URL + "/jwks.json"}, good())
		}, wantCode: 401},
		{name: "kid SQL-ish", token: func() string {
			return signWith(t, jwt.SigningMethodRS256, otherKey, map[string]any{"kid": "' OR '1'='1"}, good())
		}, wantCode: 401},
		{name: "kid not a string", token: func() string {
			return signWith(t, jwt.SigningMethodRS256, otherKey, map[string]any{"kid": 7}, good())
		}, wantCode: 401},
		{name: "jku header ignored", token: func() string {
			return signWith(t, jwt.SigningMethodRS256, otherKey, map[string]any{"kid": "x", "jku": evil.URL, "x5u": evil.URL}, good())
		}, wantCode: 401},
		{name: "tampered payload", token: func() string { return tampered }, wantCode: 401},
		{name: "expired", token: func() string {
			return s.iss.Token(t, map[string]any{"aud": audience, "exp": start.Add(-time.Second).Unix()})
		}, wantCode: 401, wantDesc: "expired"},
		{name: "not yet valid", token: func() string {
			return s.iss.Token(t, map[string]any{"aud": audience, "nbf": start.Add(time.Minute).Unix()})
		}, wantCode: 401, wantDesc: "not valid yet"},
		{name: "issued in the future", token: func() string {
			return s.iss.Token(t, map[string]any{"aud": audience, "iat": start.Add(time.Hour).Unix()})
		}, wantCode: 401},
		{name: "no exp", token: func() string { return s.iss.Token(t, map[string]any{"aud": audience, "exp": nil}) }, wantCode: 401, wantDesc: "required claim"},
		{name: "wrong issuer", token: func() string { return s.iss.Token(t, map[string]any{"aud": audience, "iss": "https://evil.example"}) }, wantCode: 401, wantDesc: "issuer"},
		{name: "wrong audience", token: func() string { return s.iss.Token(t, map[string]any{"aud": "someone-else"}) }, wantCode: 401, wantDesc: "audience"},
		{name: "client_id of another app", token: func() string { return s.iss.Token(t, map[string]any{"client_id": "someone-else"}) }, wantCode: 401},
		{name: "oversized token", token: func() string {
			return s.iss.Token(t, map[string]any{"aud": audience, "pad": strings.Repeat("A", 10000)})
		}, wantCode: 401, wantDesc: "too large"},
		{name: "garbage", token: func() string { return "not.a.jwt" }, wantCode: 401, wantDesc: "malformed"},
		{name: "two segments", token: func() string { return parts[0] + "." + parts[1] }, wantCode: 401},
		{name: "huge header segment", token: func() string { return strings.Repeat("e", 7000) + "." + parts[1] + "." + parts[2] }, wantCode: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.call("Bearer " + tt.token())
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if wa := rec.Header().Get("Www-Authenticate"); !strings.Contains(wa, "invalid_token") || !strings.Contains(wa, tt.wantDesc) {
				t.Fatalf("WWW-Authenticate %q, want invalid_token and %q", wa, tt.wantDesc)
			}
		})
	}
	if n := evilHits.Load(); n != 0 {
		t.Fatalf("the attacker's server was contacted %d times", n)
	}
	// Unknown kids cost at most one refetch per refetch interval (the first
	// fetch plus one).
	if n := s.iss.Fetches(); n > 2 {
		t.Fatalf("JWKS fetched %d times during the attacks, want at most 2", n)
	}
}

type bigInt = big.Int

func TestJWTMissingToken(t *testing.T) {
	s := newJWTSetup(t)
	tests := []struct {
		name  string
		authz []string
	}{
		{name: "no header"},
		{name: "empty", authz: []string{""}},
		{name: "bearer only", authz: []string{"Bearer "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.call(tt.authz...)
			if rec.Code != 401 || rec.Header().Get("Www-Authenticate") != "Bearer" {
				t.Fatalf("%d %q, want 401 with a bare Bearer challenge", rec.Code, rec.Header().Get("Www-Authenticate"))
			}
			if rec.Header().Get("X-Amzn-Errortype") != "UnauthorizedException" || !strings.Contains(rec.Body.String(), `"Unauthorized"`) {
				t.Fatalf("body %s headers %v, want UNAUTHORIZED", rec.Body, rec.Header())
			}
		})
	}
	tok := s.iss.Token(t, map[string]any{"aud": audience})
	if rec := s.call("Bearer "+tok, "Bearer "+tok); rec.Code != 401 {
		t.Fatalf("two Authorization headers: %d, want 401", rec.Code)
	}
}

func TestJWTLeeway(t *testing.T) {
	s := newJWTSetup(t, auth.WithLeeway(30*time.Second))
	if rec := s.call("Bearer " + s.iss.Token(t, map[string]any{"aud": audience, "exp": start.Add(-10 * time.Second).Unix()})); rec.Code != 200 {
		t.Fatalf("expired 10 s ago with 30 s leeway: %d %s", rec.Code, rec.Body)
	}
	if rec := s.call("Bearer " + s.iss.Token(t, map[string]any{"aud": audience, "exp": start.Add(-time.Minute).Unix()})); rec.Code != 401 {
		t.Fatalf("expired 60 s ago with 30 s leeway: %d", rec.Code)
	}
}

func TestJWTHMACSecret(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	s := newJWTSetup(t, auth.WithHMACSecret(secret))
	claims := jwt.MapClaims{"iss": s.iss.URL, "aud": audience, "exp": start.Add(time.Hour).Unix()}
	if rec := s.call("Bearer " + signWith(t, jwt.SigningMethodHS256, secret, nil, claims)); rec.Code != 200 {
		t.Fatalf("HS256 with the configured secret: %d %s", rec.Code, rec.Body)
	}
	if rec := s.call("Bearer " + signWith(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), nil, claims)); rec.Code != 401 {
		t.Fatalf("HS256 with another secret: %d", rec.Code)
	}
	if rec := s.call("Bearer " + s.iss.Token(t, map[string]any{"aud": audience})); rec.Code != 200 {
		t.Fatalf("RS256 still accepted with a secret configured: %d %s", rec.Code, rec.Body)
	}
}

func TestJWTRotationMidTraffic(t *testing.T) {
	s := newJWTSetup(t)
	oldTok := s.iss.Token(t, map[string]any{"aud": audience, "sub": "old"})
	if rec := s.call("Bearer " + oldTok); rec.Code != 200 {
		t.Fatalf("before rotation: %d", rec.Code)
	}
	var wg sync.WaitGroup
	var bad atomic.Int64
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if rec := s.call("Bearer " + oldTok); rec.Code != 200 && rec.Code != 401 {
					bad.Add(1)
				}
			}
		})
	}
	// The issuer rotates, dropping the old key; tokens signed with the new
	// key arrive while the old ones are still being sent.
	s.iss.Rotate(t, false)
	newTok := s.iss.Token(t, map[string]any{"aud": audience, "sub": "new"})
	s.clk.Advance(31 * time.Second) // past the refetch bound
	if rec := s.call("Bearer " + newTok); rec.Code != 200 {
		t.Fatalf("new key's token after rotation: %d %s", rec.Code, rec.Body)
	}
	close(stop)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d requests got neither 200 nor 401 during rotation", bad.Load())
	}
	// The old key has left the set: its token is refused, even though it
	// was cached as verified.
	if rec := s.call("Bearer " + oldTok); rec.Code != 401 {
		t.Fatalf("old token after its key was removed: %d, want 401", rec.Code)
	}
}

func TestJWTUnknownKIDRefetchIsBounded(t *testing.T) {
	s := newJWTSetup(t, auth.WithJWKSRefetchInterval(time.Minute))
	if rec := s.call("Bearer " + s.iss.Token(t, map[string]any{"aud": audience})); rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for i := range 50 {
		tok := signWith(t, jwt.SigningMethodRS256, otherKey, map[string]any{"kid": "made-up-" + string(rune('a'+i%26))}, jwt.MapClaims{"iss": s.iss.URL, "aud": audience, "exp": start.Add(time.Hour).Unix()})
		if rec := s.call("Bearer " + tok); rec.Code != 401 {
			t.Fatalf("made-up kid: %d", rec.Code)
		}
	}
	if n := s.iss.Fetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times within one refetch interval, want 1", n)
	}
	s.clk.Advance(time.Minute)
	tok := signWith(t, jwt.SigningMethodRS256, otherKey, map[string]any{"kid": "made-up"}, jwt.MapClaims{"iss": s.iss.URL, "aud": audience, "exp": start.Add(2 * time.Hour).Unix()})
	s.call("Bearer " + tok)
	if n := s.iss.Fetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times after the interval, want 2", n)
	}
}

func TestJWTBackgroundRefresh(t *testing.T) {
	s := newJWTSetup(t, auth.WithJWKSRefresh(10*time.Minute))
	if !s.clk.WaitForTimers(1, 5*time.Second) {
		t.Fatal("no refresh timer armed")
	}
	s.clk.Advance(10 * time.Minute)
	if !s.clk.WaitForTimers(1, 5*time.Second) {
		t.Fatal("refresh timer not re-armed")
	}
	if n := s.iss.Fetches(); n != 1 {
		t.Fatalf("fetches after one refresh period = %d, want 1", n)
	}
	// A rotated key is picked up by the background refresh without any
	// unknown-kid refetch.
	s.iss.Rotate(t, false)
	s.clk.Advance(10 * time.Minute)
	s.clk.WaitForTimers(1, 5*time.Second)
	if rec := s.call("Bearer " + s.iss.Token(t, map[string]any{"aud": audience})); rec.Code != 200 {
		t.Fatalf("token of the rotated key: %d", rec.Code)
	}
	if n := s.iss.Fetches(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	s.auth.Close()
	s.auth.Close() // idempotent
}

func TestJWTJWKSUnavailable(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }))
	defer down.Close()
	iss := porticotest.NewIssuer(t)
	a, err := auth.NewJWT(iss.URL, []string{audience}, auth.WithJWKSURL(down.URL), auth.WithHTTPClient(down.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.Verify(context.Background(), iss.Token(t, map[string]any{"aud": audience}))
	if e := reqctx.AsError(err); e == nil || e.Type != reqctx.AuthorizerFailure {
		t.Fatalf("Verify with the JWKS down = %v, want AUTHORIZER_FAILURE", err)
	}
}

func TestJWTDiscoveryIssuerMismatch(t *testing.T) {
	lying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"issuer":"https://someone-else.example","jwks_uri":"https://someone-else.example/jwks"}`))
	}))
	defer lying.Close()
	a, err := auth.NewJWT(lying.URL, []string{audience}, auth.WithHTTPClient(lying.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("Refresh = %v, want an issuer mismatch", err)
	}
}

func TestJWTTokenCache(t *testing.T) {
	s := newJWTSetup(t)
	tok := s.iss.Token(t, map[string]any{"aud": audience, "exp": start.Add(time.Minute).Unix()})
	p1, err := s.auth.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.auth.Verify(context.Background(), tok)
	if err != nil || p1 != p2 {
		t.Fatalf("second Verify: %p vs %p, %v; want the cached principal", p1, p2, err)
	}
	// A refresh that leaves the key unchanged keeps the token cached.
	if err := s.auth.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p3, _ := s.auth.Verify(context.Background(), tok); p3 != p1 {
		t.Fatal("a refresh with unchanged keys dropped the cached token")
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = s.auth.Verify(context.Background(), tok) }); allocs != 0 {
		t.Fatalf("verifying a cached token allocates %.1f times, want 0", allocs)
	}
	s.clk.Advance(time.Minute)
	if _, err := s.auth.Verify(context.Background(), tok); err == nil {
		t.Fatal("cached token served after it expired")
	}
}

func TestJWTIdentitySources(t *testing.T) {
	tests := []struct {
		name   string
		source string
		place  func(r *http.Request, tok string)
	}{
		{name: "other header", source: "$request.header.X-Token", place: func(r *http.Request, tok string) { r.Header.Set("X-Token", tok) }},
		{name: "query", source: "$request.querystring.access_token", place: func(r *http.Request, tok string) { r.URL.RawQuery = "access_token=" + tok }},
		{name: "cookie", source: "$request.cookie.session", place: func(r *http.Request, tok string) { r.AddCookie(&http.Cookie{Name: "session", Value: tok}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newJWTSetup(t, auth.WithIdentitySource(tt.source))
			r := httptest.NewRequest("GET", "/", nil)
			tt.place(r, s.iss.Token(t, map[string]any{"aud": audience}))
			rec := httptest.NewRecorder()
			s.auth.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, r)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			rec = httptest.NewRecorder()
			s.auth.Handler(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != 401 {
				t.Fatalf("without the token: %d", rec.Code)
			}
		})
	}
}

func TestNewJWTErrors(t *testing.T) {
	tests := []struct {
		name      string
		issuer    string
		audiences []string
		opts      []auth.Option
		want      string
	}{
		{name: "relative issuer", issuer: "issuer", audiences: []string{"a"}, want: "issuer"},
		{name: "no audience", issuer: "https://i.example", want: "audiences"},
		{name: "alg none", issuer: "https://i.example", audiences: []string{"a"}, opts: []auth.Option{auth.WithAlgorithms("none")}, want: "unsupported algorithm"},
		{name: "HS without secret", issuer: "https://i.example", audiences: []string{"a"}, opts: []auth.Option{auth.WithAlgorithms("HS256")}, want: "WithHMACSecret"},
		{name: "short secret", issuer: "https://i.example", audiences: []string{"a"}, opts: []auth.Option{auth.WithHMACSecret([]byte("short"))}, want: "under 32"},
		{name: "stage variable source", issuer: "https://i.example", audiences: []string{"a"}, opts: []auth.Option{auth.WithIdentitySource("$stageVariables.tok")}, want: "header, query string or cookie"},
		{name: "bad source", issuer: "https://i.example", audiences: []string{"a"}, opts: []auth.Option{auth.WithIdentitySource("header.x")}, want: "identity source"},
		{name: "foreign option", issuer: "https://i.example", audiences: []string{"a"}, opts: []auth.Option{auth.WithResultTTL(time.Second)}, want: "WithResultTTL"},
		{name: "bad JWKS URL", issuer: "https://i.example", audiences: []string{"a"}, opts: []auth.Option{auth.WithJWKSURL("/jwks")}, want: "WithJWKSURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := auth.NewJWT(tt.issuer, tt.audiences, tt.opts...)
			if err == nil {
				a.Close()
				t.Fatal("NewJWT accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
