package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/porticotest"
)

var (
	alice = porticotest.SigV4Credentials{AccessKeyID: "AKIDALICE", SecretAccessKey: "alice-secret"}
	temp  = porticotest.SigV4Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "session-token-1"}
	old   = porticotest.SigV4Credentials{AccessKeyID: "AKIDOLD", SecretAccessKey: "old-secret"}
)

func credStore(t testing.TB) *auth.StaticCredentials {
	t.Helper()
	s, err := auth.NewStaticCredentials(
		auth.Credential{AccessKeyID: alice.AccessKeyID, SecretAccessKey: alice.SecretAccessKey, AccountID: "123456789012",
			UserID: "AIDAALICE", UserName: "alice", ARN: "arn:aws:iam::123456789012:user/alice",
			Policy: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/GET/*", "arn:aws:execute-api:*:*:*/*/PUT/*")},
		auth.Credential{AccessKeyID: temp.AccessKeyID, SecretAccessKey: temp.SecretAccessKey, SessionToken: temp.SessionToken,
			AccountID: "123456789012", ARN: "arn:aws:iam::123456789012:user/temp", Policy: auth.AllowPolicy("*")},
		auth.Credential{AccessKeyID: old.AccessKeyID, SecretAccessKey: old.SecretAccessKey, Expires: start.Add(-time.Hour),
			AccountID: "123456789012", Policy: auth.AllowPolicy("*")},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newSigV4(t testing.TB) (*auth.SigV4, *porticotest.Clock) {
	t.Helper()
	clk := porticotest.NewClock(start)
	v, err := auth.NewSigV4(credStore(t), auth.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	return v, clk
}

const sigURL = "http://pets.execute-api.local/prod/pets/7?b=2&a=1&a=0"

// signed returns a request signed by the real SDK signer at start.
func signed(t *testing.T, method, url, body string, creds porticotest.SigV4Credentials, prep func(*http.Request)) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, url, rd)
	r.Header.Set("X-Custom", "one")
	r.Header.Set("Content-Type", "application/json")
	if prep != nil {
		prep(r)
	}
	porticotest.SignRequest(t, r, creds, "us-east-1", start)
	return r
}

// echo answers with the body it receives, to prove the verifier put it back.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) })

func TestSigV4Tampering(t *testing.T) {
	v, _ := newSigV4(t)
	h := v.Handler(echo)
	tests := []struct {
		name     string
		method   string
		url      string
		body     string
		creds    porticotest.SigV4Credentials
		prep     func(r *http.Request) // before signing
		tamper   func(r *http.Request) // after signing
		wantCode int
		wantType string
		wantMsg  string
	}{
		{name: "untouched", wantCode: 200},
		{name: "untouched with a body", method: "PUT", body: `{"name":"Rex"}`, wantCode: 200},
		{name: "escaped path is signed twice-encoded", url: "http://pets.execute-api.local/prod/%40connections/L0S%3D", wantCode: 200},
		{name: "query reordered", tamper: func(r *http.Request) { r.URL.RawQuery = "a=0&a=1&b=2" }, wantCode: 200},
		{name: "unsigned header added", tamper: func(r *http.Request) { r.Header.Set("X-Later", "x") }, wantCode: 200},
		{name: "spaces inside a signed value collapse", tamper: func(r *http.Request) { r.Header.Set("X-Custom", "  one ") }, wantCode: 200},
		{name: "session token", creds: temp, wantCode: 200},

		{name: "method", tamper: func(r *http.Request) { r.Method = "DELETE" }, wantCode: 403, wantType: "InvalidSignatureException"},
		{name: "path", tamper: func(r *http.Request) { r.URL.Path = "/prod/pets/8" }, wantCode: 403, wantType: "InvalidSignatureException"},
		{name: "escaped path decoded", url: "http://pets.execute-api.local/prod/%40connections/L0S%3D",
			tamper: func(r *http.Request) { r.URL.RawPath = ""; r.URL.Path = "/prod/@connections/L0S=" }, wantCode: 403},
		{name: "query value", tamper: func(r *http.Request) { r.URL.RawQuery = "b=3&a=1&a=0" }, wantCode: 403},
		{name: "query parameter added", tamper: func(r *http.Request) { r.URL.RawQuery += "&admin=true" }, wantCode: 403},
		{name: "query with semicolon", tamper: func(r *http.Request) { r.URL.RawQuery += ";admin=true" }, wantCode: 403},
		{name: "signed header value", tamper: func(r *http.Request) { r.Header.Set("X-Custom", "two") }, wantCode: 403},
		{name: "signed header second value", tamper: func(r *http.Request) { r.Header.Add("X-Custom", "two") }, wantCode: 403},
		{name: "signed header removed", tamper: func(r *http.Request) { r.Header.Del("X-Custom") }, wantCode: 403, wantMsg: "x-custom is missing"},
		{name: "host", tamper: func(r *http.Request) { r.Host = "other.execute-api.local" }, wantCode: 403},
		{name: "body", method: "PUT", body: `{"name":"Rex"}`, tamper: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"name":"Max"}`)) }, wantCode: 403},
		{name: "body hash header lies", method: "PUT", body: `{"name":"Rex"}`,
			prep: func(r *http.Request) {
				sum := sha256.Sum256([]byte(`{"name":"Rex"}`))
				r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			},
			tamper: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"name":"Max"}`)) }, wantCode: 403},
		{name: "date header", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", start.Add(time.Second).Format("20060102T150405Z")) }, wantCode: 403},
		{name: "date header moved to the query", tamper: func(r *http.Request) {
			r.URL.RawQuery += "&X-Amz-Date=" + r.Header.Get("X-Amz-Date")
		}, wantCode: 403},
		{name: "session token dropped", creds: temp, tamper: func(r *http.Request) { r.Header.Del("X-Amz-Security-Token") }, wantCode: 403},
		{name: "session token swapped", creds: temp, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "session-token-2") }, wantCode: 403},
		{name: "token on a long-term key", creds: porticotest.SigV4Credentials{AccessKeyID: alice.AccessKeyID, SecretAccessKey: alice.SecretAccessKey, SessionToken: "x"}, wantCode: 403},
		{name: "wrong secret", creds: porticotest.SigV4Credentials{AccessKeyID: alice.AccessKeyID, SecretAccessKey: "guess"}, wantCode: 403, wantMsg: "does not match"},
		{name: "unknown access key", creds: porticotest.SigV4Credentials{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}, wantCode: 403, wantMsg: "security token included in the request is invalid"},
		{name: "expired credential", creds: old, wantCode: 403, wantType: "ExpiredTokenException"},
		{name: "policy does not allow DELETE", method: "DELETE", wantCode: 403, wantType: "AccessDeniedException",
			wantMsg: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke"},

		// Header canonicalisation tricks on the Authorization header itself.
		{name: "signed headers upper case", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=content-type;", "SignedHeaders=Content-Type;", 1))
		}, wantCode: 403},
		{name: "signed headers without x-amz-date", tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(a, ";x-amz-date", "", 1))
		}, wantCode: 403, wantMsg: "X-Amz-Date"},
		{name: "signed headers without host", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
		}, wantCode: 403, wantMsg: "include host"},
		{name: "signed headers unsorted", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host", "host;content-type", 1))
		}, wantCode: 403, wantMsg: "sorted"},
		{name: "credential given twice", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", r.Header.Get("Authorization")+", Credential=AKIDALICE/20260506/us-east-1/execute-api/aws4_request")
		}, wantCode: 403},
		{name: "upper-case signature", tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, wantCode: 403},
		{name: "two Authorization headers", tamper: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, wantCode: 403},
		{name: "oversized Authorization header", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", r.Header.Get("Authorization")+strings.Repeat(" ", 8000))
		}, wantCode: 403, wantMsg: "over"},
		{name: "bearer token", tamper: func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, wantCode: 403, wantType: "InvalidSignatureException"},
		{name: "unsigned", tamper: func(r *http.Request) { r.Header.Del("Authorization") }, wantCode: 403, wantType: "MissingAuthenticationTokenException"},
		{name: "header and query signatures", tamper: func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Signature=00" }, wantCode: 403, wantMsg: "Only one auth mechanism"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, url, creds := tt.method, tt.url, tt.creds
			if method == "" {
				method = "GET"
			}
			if url == "" {
				url = sigURL
			}
			if creds.AccessKeyID == "" {
				creds = alice
			}
			r := signed(t, method, url, tt.body, creds, tt.prep)
			if tt.tamper != nil {
				tt.tamper(r)
			}
			rec := serve(h, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantType != "" && rec.Header().Get("X-Amzn-Errortype") != tt.wantType {
				t.Fatalf("error type %q, want %q", rec.Header().Get("X-Amzn-Errortype"), tt.wantType)
			}
			if tt.wantMsg != "" && !strings.Contains(rec.Body.String(), tt.wantMsg) {
				t.Fatalf("body %s, want %q", rec.Body, tt.wantMsg)
			}
			if tt.wantCode == 200 && rec.Body.String() != tt.body {
				t.Fatalf("integration got body %q, want %q", rec.Body, tt.body)
			}
		})
	}
}

func TestSigV4ClockSkew(t *testing.T) {
	tests := []struct {
		name     string
		signedAt time.Duration // relative to the verifier's clock
		wantCode int
		wantMsg  string
	}{
		{name: "now", wantCode: 200},
		{name: "4 min ago", signedAt: -4 * time.Minute, wantCode: 200},
		{name: "4 min ahead", signedAt: 4 * time.Minute, wantCode: 200},
		{name: "replay after 6 min", signedAt: -6 * time.Minute, wantCode: 403, wantMsg: "Signature expired: 20260506T070209Z is now earlier than 20260506T070309Z (20260506T070809Z - 5 min.)"},
		{name: "6 min ahead", signedAt: 6 * time.Minute, wantCode: 403, wantMsg: "Signature not yet current"},
	}
	v, _ := newSigV4(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", sigURL, nil)
			porticotest.SignRequest(t, r, alice, "us-east-1", start.Add(tt.signedAt))
			rec := serve(v.Handler(echo), r)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantMsg) {
				t.Fatalf("status %d %s, want %d %q", rec.Code, rec.Body, tt.wantCode, tt.wantMsg)
			}
		})
	}
	// The same signed request, replayed once the window has passed.
	r := httptest.NewRequest("GET", sigURL, nil)
	porticotest.SignRequest(t, r, alice, "us-east-1", start)
	if rec := serve(v.Handler(echo), r); rec.Code != 200 {
		t.Fatalf("first use: %d", rec.Code)
	}
	v2, clk := newSigV4(t)
	clk.Advance(5*time.Minute + time.Second)
	if rec := serve(v2.Handler(echo), r); rec.Code != 403 || rec.Header().Get("X-Amzn-Errortype") != "InvalidSignatureException" {
		t.Fatalf("replay after the window: %d %s", rec.Code, rec.Header())
	}
}

func TestSigV4Presigned(t *testing.T) {
	v, clk := newSigV4(t)
	r := httptest.NewRequest("GET", sigURL, nil)
	u, hdr := porticotest.PresignRequest(t, r, temp, "us-east-1", start, 10*time.Minute)
	do := func(u string) int {
		r := httptest.NewRequest("GET", u, nil)
		for k, v := range hdr {
			if k != "Host" {
				r.Header[k] = v
			}
		}
		return serve(v.Handler(echo), r).Code
	}
	if got := do(u); got != 200 {
		t.Fatalf("presigned URL: %d", got)
	}
	if got := do(strings.Replace(u, "b=2", "b=3", 1)); got != 403 {
		t.Fatalf("tampered presigned URL: %d", got)
	}
	if got := do(strings.Replace(u, "X-Amz-Security-Token=session-token-1", "X-Amz-Security-Token=other", 1)); got != 403 {
		t.Fatalf("presigned URL with another token: %d", got)
	}
	clk.Advance(9 * time.Minute)
	if got := do(u); got != 200 {
		t.Fatalf("presigned URL within X-Amz-Expires: %d", got)
	}
	clk.Advance(2 * time.Minute)
	if got := do(u); got != 403 {
		t.Fatalf("presigned URL after X-Amz-Expires: %d", got)
	}
}

func TestSigV4WrongScope(t *testing.T) {
	v, err := auth.NewSigV4(credStore(t), auth.WithClock(porticotest.NewClock(start)), auth.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(service, region string) *http.Request {
		r := httptest.NewRequest("GET", sigURL, nil)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: alice.AccessKeyID, SecretAccessKey: alice.SecretAccessKey},
			r, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", service, region, start)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name, service, region string
		wantCode              int
		wantMsg               string
	}{
		{name: "right scope", service: "execute-api", region: "eu-west-1", wantCode: 200},
		{name: "other service", service: "s3", region: "eu-west-1", wantCode: 403, wantMsg: "correct service"},
		{name: "other region", service: "execute-api", region: "us-east-1", wantCode: 403, wantMsg: "valid region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(v.Handler(echo), sign(tt.service, tt.region))
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantMsg) {
				t.Fatalf("%d %s, want %d %q", rec.Code, rec.Body, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestSigV4BodyLimit(t *testing.T) {
	v, err := auth.NewSigV4(credStore(t), auth.WithClock(porticotest.NewClock(start)), auth.WithMaxBodyBytes(8))
	if err != nil {
		t.Fatal(err)
	}
	r := signed(t, "PUT", sigURL, strings.Repeat("x", 100), alice, nil)
	if rec := serve(v.Handler(echo), r); rec.Code != 413 {
		t.Fatalf("body over the limit: %d, want 413", rec.Code)
	}
}

// TestSigV4OverHTTP sends requests signed by the SDK over a real
// connection, through Go's HTTP client and server.
func TestSigV4OverHTTP(t *testing.T) {
	v, err := auth.NewSigV4(credStore(t)) // the real clock: the SDK signs with time.Now
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v.Handler(echo))
	defer srv.Close()
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/prod/pets/7?x=a%20b&y=~%2F", ""},
		{"PUT", "/prod/%40connections/L0S%3D+%2B", "hello, world"},
		{"PUT", "/prod/unicode/%C3%A9t%C3%A9", strings.Repeat("b", 1<<16)},
	} {
		var rd io.Reader
		if tt.body != "" {
			rd = strings.NewReader(tt.body)
		}
		r, _ := http.NewRequest(tt.method, srv.URL+tt.path, rd)
		r.Header.Set("Content-Type", "text/plain")
		porticotest.SignRequest(t, r, alice, "us-east-1", time.Now())
		res, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != tt.body {
			t.Fatalf("%s %s: %d %.200s", tt.method, tt.path, res.StatusCode, b)
		}
	}
}
