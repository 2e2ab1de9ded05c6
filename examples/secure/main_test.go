package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/porticotest"
)

// TestSecureExample calls each route the way the command's comment shows.
func TestSecureExample(t *testing.T) {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	is, err := newIssuer(srv.URL + "/issuer")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := newGateway(is.url, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(context.Background())
	h = newMux(is, gw)

	do := func(method, path, body string, prep func(*http.Request)) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		r, _ := http.NewRequest(method, srv.URL+path, rd)
		if prep != nil {
			prep(r)
		}
		res, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	header := func(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(k, v) } }

	// API key.
	if code, m := do("GET", "/prod/reports", "", header("x-api-key", demoAPIKey)); code != 200 || m["apiKeyId"] == "" {
		t.Fatalf("reports with the key: %d %v", code, m)
	}
	if code, m := do("GET", "/prod/reports", "", nil); code != 403 || m["message"] != "Forbidden" {
		t.Fatalf("reports without a key: %d %v", code, m)
	}

	// JWT from the example's own issuer.
	res, err := srv.Client().Get(srv.URL + "/issuer/token?sub=alice&scope=orders/read")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if code, m := do("GET", "/prod/orders", "", header("Authorization", "Bearer "+string(tok))); code != 200 || m["principal"] != "alice" {
		t.Fatalf("orders with a token: %d %v", code, m)
	}
	noScope, _ := is.token("bob", "profile", time.Now())
	if code, _ := do("GET", "/prod/orders", "", header("Authorization", "Bearer "+noScope)); code != 403 {
		t.Fatalf("orders without the scope: %d", code)
	}
	if code, _ := do("GET", "/prod/orders", "", nil); code != 401 {
		t.Fatalf("orders without a token: %d", code)
	}

	// Custom authorizer.
	if code, m := do("GET", "/prod/admin", "", header("Authorization", "let-me-in")); code != 200 || m["context"].(map[string]any)["role"] != "admin" {
		t.Fatalf("admin: %d %v", code, m)
	}
	if code, _ := do("GET", "/prod/admin", "", header("Authorization", "guess")); code != 401 {
		t.Fatalf("admin with a wrong token: %d", code)
	}

	// SigV4, signed by aws-sdk-go-v2's signer as an AWS SDK client would.
	sign := func(r *http.Request) {
		porticotest.SignRequest(t, r, porticotest.SigV4Credentials{AccessKeyID: demoAccessKey, SecretAccessKey: demoSecret}, "us-east-1", time.Now())
	}
	if code, m := do("POST", "/prod/connections/abc", "hello", sign); code != 200 || m["userArn"] != "arn:aws:iam::000000000000:user/demo" {
		t.Fatalf("signed POST: %d %v", code, m)
	}
	if code, m := do("POST", "/prod/connections/abc", "hello", nil); code != 403 || m["message"] != "Missing Authentication Token" {
		t.Fatalf("unsigned POST: %d %v", code, m)
	}

	// The resource policy: callers from outside loopback are refused.
	r := httptest.NewRequest("GET", "/prod/reports", nil)
	r.RemoteAddr = "198.51.100.7:4000"
	r.Header.Set("x-api-key", demoAPIKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 403 || rec.Header().Get("X-Amzn-Errortype") != "AccessDeniedException" {
		t.Fatalf("from outside loopback: %d %s", rec.Code, rec.Body)
	}
}
