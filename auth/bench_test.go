package auth_test

import (
	"context"
	"io"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/porticotest"
)

func BenchmarkAPIKeyCheck(b *testing.B) {
	ctx := context.Background()
	keys, err := auth.NewKeys(auth.NewMemoryKeyStore())
	if err != nil {
		b.Fatal(err)
	}
	for range 1000 {
		_, _, _ = keys.Create(ctx, "k")
	}
	_, value, _ := keys.Create(ctx, "bench")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.Check(ctx, value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAPIKeyCheckParallel(b *testing.B) {
	ctx := context.Background()
	keys, _ := auth.NewKeys(auth.NewMemoryKeyStore())
	_, value, _ := keys.Create(ctx, "bench")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := keys.Check(ctx, value); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJWTVerify(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int
	}{{"cold", 0}, {"cached", 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			clk := porticotest.NewClock(start)
			iss := porticotest.NewIssuer(b, porticotest.WithIssuerClock(clk))
			a, err := auth.NewJWT(iss.URL, []string{audience}, auth.WithClock(clk), auth.WithHTTPClient(iss.Client()), auth.WithTokenCache(bc.cache), auth.WithJWKSRefresh(0))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			tok := iss.Token(b, map[string]any{"aud": audience, "sub": "alice", "scope": "pets/read"})
			ctx := context.Background()
			if _, err := a.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSigV4Verify(b *testing.B) {
	for _, bc := range []struct {
		name string
		body string
	}{{"GET", ""}, {"PUT 1KiB", string(make([]byte, 1024))}} {
		b.Run(bc.name, func(b *testing.B) {
			v, err := auth.NewSigV4(credStore(b), auth.WithClock(porticotest.NewClock(start)))
			if err != nil {
				b.Fatal(err)
			}
			method := "GET"
			if bc.body != "" {
				method = "PUT"
			}
			var body io.Reader
			if bc.body != "" {
				body = strings.NewReader(bc.body)
			}
			r := httptest.NewRequest(method, sigURL, body)
			porticotest.SignRequest(b, r, alice, "us-east-1", start)
			b.ReportAllocs()
			for b.Loop() {
				if bc.body != "" {
					r.Body = io.NopCloser(strings.NewReader(bc.body))
				}
				if _, err := v.Verify(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPolicyEvaluate(b *testing.B) {
	p, err := auth.ParseResourcePolicy([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
		{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*/DELETE/*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}},
		{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*","Condition":{"StringNotLike":{"aws:SourceVpce":"vpce-*"}}}]}`), "", "123456789012", "pets")
	if err != nil {
		b.Fatal(err)
	}
	req := &auth.Request{
		Resource: "arn:aws:execute-api:local:123456789012:pets/prod/DELETE/pets/7",
		SourceIP: netip.MustParseAddr("10.1.2.3"), Networks: []string{"vpce-office"}, Time: start,
	}
	if d := p.Evaluate(req); d != auth.Allow {
		b.Fatalf("decision %v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(req)
	}
}

func BenchmarkCustomAuthorizerCached(b *testing.B) {
	fn := func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
		return &auth.AuthorizerResponse{PrincipalID: "u", PolicyDocument: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/*/*"), Context: map[string]any{"tier": "gold"}}, nil
	}
	c, err := auth.NewTokenAuthorizer(fn, auth.WithClock(porticotest.NewClock(start)))
	if err != nil {
		b.Fatal(err)
	}
	r, _ := gwRequest("GET", "/pets/7")
	r.Header.Set("Authorization", "token-1")
	arn := "arn:aws:execute-api:local:123456789012:pets/prod/GET/pets/7"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Authorize(r, arn); err != nil {
			b.Fatal(err)
		}
	}
}
