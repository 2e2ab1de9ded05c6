package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/porticotest"
	"github.com/portico-gw/portico/reqctx"
)

func ExampleKeys() {
	ctx := context.Background()
	keys, _ := auth.NewKeys(auth.NewMemoryKeyStore())
	key, value, _ := keys.Create(ctx, "partner-a") // value is shown once; the store keeps its SHA-256

	h := keys.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", reqctx.From(r.Context()).APIKeyID == key.ID)
	}))
	r := httptest.NewRequest("GET", "/reports", nil)
	r.Header.Set("x-api-key", value)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Print(rec.Code, " ", rec.Body)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/reports", nil))
	fmt.Print(rec.Code, " ", rec.Body)
	// Output:
	// 200 hello true
	// 403 {"message":"Forbidden"}
}

func ExampleParseResourcePolicy() {
	policy, err := auth.ParseResourcePolicy([]byte(`{
		"Version": "2012-10-17",
		"Statement": [
			{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
			{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/DELETE/*",
			 "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}}
		]}`), "eu-west-1", "123456789012", "pets")
	if err != nil {
		fmt.Println(err)
		return
	}
	arn := auth.MethodARN("eu-west-1", "123456789012", "pets", "prod", "DELETE", "/pets/7")
	for _, ip := range []string{"10.1.2.3", "2001:db8::1", "198.51.100.7"} {
		d := policy.Evaluate(&auth.Request{Resource: arn, SourceIP: netip.MustParseAddr(ip)})
		fmt.Println(ip, d)
	}
	// Output:
	// 10.1.2.3 Allow
	// 2001:db8::1 Allow
	// 198.51.100.7 Deny
}

func ExampleNewTokenAuthorizer() {
	authorizer, _ := auth.NewTokenAuthorizer(func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		if ev.AuthorizationToken != "let-me-in" {
			return nil, auth.ErrUnauthorized // 401
		}
		return &auth.AuthorizerResponse{
			PrincipalID:    "user-42",
			PolicyDocument: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/GET/*"), // GETs only
			Context:        map[string]any{"plan": "gold"},
		}, nil
	})
	h := authorizer.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := reqctx.From(r.Context()).Authorizer
		fmt.Fprintln(w, a.PrincipalID, a.Context["plan"])
	}))
	for _, c := range []struct{ method, token string }{{"GET", "let-me-in"}, {"POST", "let-me-in"}, {"GET", "guess"}} {
		r := httptest.NewRequest(c.method, "/orders", nil)
		r.Header.Set("Authorization", c.token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Print(c.method, " ", c.token, ": ", rec.Code, " ", rec.Body)
		if rec.Code != 200 {
			fmt.Println()
		}
	}
	// Output:
	// GET let-me-in: 200 user-42 gold
	// POST let-me-in: 403 {"message":"User is not authorized to access this resource"}
	// GET guess: 401 {"message":"Unauthorized"}
}

func ExampleNewSigV4() {
	creds, _ := auth.NewStaticCredentials(auth.Credential{
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "example-secret",
		AccountID: "123456789012", ARN: "arn:aws:iam::123456789012:user/alice",
		Policy: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/GET/*"),
	})
	verifier, _ := auth.NewSigV4(creds)
	h := verifier.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", reqctx.From(r.Context()).Identity.UserARN)
	}))

	// What an AWS SDK client does (here with aws-sdk-go-v2's signer).
	r := httptest.NewRequest("GET", "https://api.example.com/prod/pets", nil)
	signForExample(r, porticotest.SigV4Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "example-secret"}, "us-east-1", time.Now())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Print(rec.Code, " ", rec.Body)
	// Output:
	// 200 hello arn:aws:iam::123456789012:user/alice
}

func ExampleGuard() {
	office, _ := auth.CIDRNetworks(map[string][]string{"office": {"203.0.113.0/24"}})
	private := &auth.Guard{Networks: []string{"office"}, NetworksOf: office}
	h := private.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "inside") }))
	for _, addr := range []string{"203.0.113.5:4000", "198.51.100.7:4000"} {
		r := httptest.NewRequest("GET", "/internal", nil)
		r.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(addr, rec.Code)
	}
	// Output:
	// 203.0.113.5:4000 200
	// 198.51.100.7:4000 403
}

// signForExample signs r as an SDK client would (tests use
// porticotest.SignRequest, which takes their testing.TB).
func signForExample(r *http.Request, creds porticotest.SigV4Credentials, region string, at time.Time) {
	_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey},
		r, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "execute-api", region, at)
}
