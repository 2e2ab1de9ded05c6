// Command secure serves one API whose routes are protected four ways — an
// API key, a JWT from an OIDC issuer, a custom authorizer and SigV4 — on
// 127.0.0.1:8080, next to a demo OIDC issuer it runs itself:
//
//	go run ./examples/secure
//
//	# API key
//	curl -si -H 'x-api-key: demoKey0123456789abcdefXYZ' http://127.0.0.1:8080/prod/reports
//
//	# JWT: fetch a token from the demo issuer, then call with it
//	TOKEN=$(curl -s 'http://127.0.0.1:8080/issuer/token?sub=alice&scope=orders/read')
//	curl -si -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/prod/orders
//
//	# custom authorizer (TOKEN): "let-me-in" is allowed, anything else is 401
//	curl -si -H 'Authorization: let-me-in' http://127.0.0.1:8080/prod/admin
//
//	# SigV4 (IAM): curl signs for execute-api itself
//	curl -si --aws-sigv4 'aws:amz:us-east-1:execute-api' --user 'AKIDEXAMPLE:example-secret' \
//	     -X POST -d 'hello' http://127.0.0.1:8080/prod/connections/abc
//
// Without the key, token, or signature each route answers 401 or 403 with
// the gateway's JSON error and x-amzn-ErrorType header. The API's resource
// policy refuses every call that does not come from a loopback address, so
// with -addr 0.0.0.0:8080 other hosts get 403 ACCESS_DENIED.
//
// The issuer's token endpoint hands tokens to anyone: it is a stand-in for
// a real identity provider (Cognito, Auth0, Keycloak …), whose issuer URL
// is all the JWT authorizer needs.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/reqctx"
)

// The demo's fixed credentials (shown in the command's comment).
const (
	demoAPIKey    = "demoKey0123456789abcdefXYZ"
	demoAccessKey = "AKIDEXAMPLE"
	demoSecret    = "example-secret"
	audience      = "secure-example"
)

// issuer is a demo OIDC issuer: a discovery document, a JWKS and a token
// endpoint that signs whatever it is asked for.
type issuer struct {
	url string
	key *rsa.PrivateKey
}

func newIssuer(url string) (*issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &issuer{url: url, key: key}, nil
}

func (is *issuer) token(sub, scope string, now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": is.url, "aud": audience, "sub": sub, "scope": scope,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	t.Header["kid"] = "demo-1"
	return t.SignedString(is.key)
}

func (is *issuer) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /issuer/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.url, "jwks_uri": is.url + "/jwks.json"})
	})
	mux.HandleFunc("GET /issuer/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		enc := base64.RawURLEncoding.EncodeToString
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "demo-1", "use": "sig", "alg": "RS256",
			"n": enc(is.key.N.Bytes()), "e": enc(big.NewInt(int64(is.key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("GET /issuer/token", func(w http.ResponseWriter, r *http.Request) {
		sub := r.URL.Query().Get("sub")
		if sub == "" {
			sub = "alice"
		}
		tok, err := is.token(sub, r.URL.Query().Get("scope"), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, tok)
	})
}

// hello answers with who the gateway says the caller is.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"route":     rc.RouteKey,
		"kind":      rc.Authorizer.Kind,
		"principal": rc.Authorizer.PrincipalID,
		"context":   rc.Authorizer.Context,
		"apiKeyId":  rc.APIKeyID,
		"userArn":   rc.Identity.UserARN,
	})
})

// adminAuthorizer is the custom authorizer: a Go function standing in for
// a Lambda authorizer.
func adminAuthorizer(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
	if ev.AuthorizationToken != "let-me-in" {
		return nil, auth.ErrUnauthorized
	}
	return &auth.AuthorizerResponse{
		PrincipalID:    "admin-1",
		PolicyDocument: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/GET/admin"),
		Context:        map[string]any{"role": "admin"},
	}, nil
}

// newGateway builds the gateway and its API for an issuer at issuerURL,
// with the key store holding the demo key.
func newGateway(issuerURL string, client *http.Client) (*portico.Gateway, error) {
	keyStore := auth.NewMemoryKeyStore()
	keys, err := auth.NewKeys(keyStore)
	if err != nil {
		return nil, err
	}
	if _, err := keys.Import(context.Background(), "demo", demoAPIKey); err != nil {
		return nil, err
	}
	creds, err := auth.NewStaticCredentials(auth.Credential{
		AccessKeyID: demoAccessKey, SecretAccessKey: demoSecret,
		AccountID: "000000000000", UserID: "AIDADEMO", UserName: "demo",
		ARN:    "arn:aws:iam::000000000000:user/demo",
		Policy: auth.AllowPolicy("arn:aws:execute-api:*:*:secure/*/POST/connections/*"),
	})
	if err != nil {
		return nil, err
	}
	opts := []portico.Option{portico.WithAPIKeys(keyStore), portico.WithCredentials(creds)}
	if client != nil {
		opts = append(opts, portico.WithAuthHTTPClient(client))
	}
	gw, err := portico.New(opts...)
	if err != nil {
		return nil, err
	}
	api := portico.NewAPI("secure", portico.REST)
	api.Auth = portico.APIAuth{
		Authorizers: map[string]portico.Authorizer{
			"oidc":  {Type: portico.AuthorizerJWT, Issuer: issuerURL, Audiences: []string{audience}},
			"admin": {Type: portico.AuthorizerToken, Function: adminAuthorizer, ResultTTL: time.Minute},
		},
		ResourcePolicy: []byte(`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
			{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
			 "Condition":{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","::1/128"]}}}]}`),
	}
	api.AddRoute(portico.Route{Method: "GET", Path: "/reports", Integration: hello, Auth: portico.RouteAuth{APIKeyRequired: true}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/orders", Integration: hello, Auth: portico.RouteAuth{Authorizer: "oidc", Scopes: []string{"orders/read"}}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/admin", Integration: hello, Auth: portico.RouteAuth{Authorizer: "admin"}})
	api.AddRoute(portico.Route{Method: "POST", Path: "/connections/{id}", Integration: hello, Auth: portico.RouteAuth{Authorizer: portico.AuthorizerIAM}})
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		gw.Shutdown(context.Background())
		return nil, err
	}
	return gw, nil
}

// newMux serves the issuer under /issuer/ and the gateway everywhere else.
func newMux(is *issuer, gw *portico.Gateway) *http.ServeMux {
	mux := http.NewServeMux()
	is.routes(mux)
	mux.Handle("/", gw)
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	is, err := newIssuer(base + "/issuer")
	if err != nil {
		log.Fatal(err)
	}
	gw, err := newGateway(is.url, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: newMux(is, gw), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		<-ch
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = gw.Shutdown(ctx)
	}()
	log.Printf("secure example on %s/prod (issuer %s)", base, is.url)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
