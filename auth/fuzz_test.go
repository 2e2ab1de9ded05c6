package auth

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FuzzPolicy parses arbitrary documents and evaluates what parses: nothing
// panics, a parsed policy's document parses again to the same decisions,
// and an explicit deny always wins over an added Allow-everything
// statement.
func FuzzPolicy(f *testing.F) {
	seeds := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}`,
		`{"Statement":{"Effect":"Deny","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:user/a"]},"NotAction":"x:y","NotResource":["arn:*"]}}`,
		`{"Statement":[{"Sid":"ip","Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"StringLike":{"aws:SourceVpce":"vpce-*"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:SourceVpc":["a","b"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"Null":{"aws:Referer":true},"Bool":{"aws:SecureTransport":"true"}}}]}`,
		`{"Statement":[]}`,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NotIpAddressIfExists":{"aws:SourceIp":"1.2.3.4"}}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), "arn:aws:execute-api:local:123456789012:api/prod/GET/pets/1", "10.1.2.3", "vpce-1")
	}
	f.Fuzz(func(t *testing.T, doc []byte, resource, ip, network string) {
		p, err := ParsePolicy(doc)
		if err != nil {
			if p != nil {
				t.Fatal("ParsePolicy returned a policy with an error")
			}
			return
		}
		addr, _ := netip.ParseAddr(ip)
		req := &Request{Resource: resource, SourceIP: addr, Networks: []string{network}, UserAgent: network, Time: time.Unix(1e9, 0),
			Principal: &Principal{Kind: KindIAM, ARN: "arn:aws:iam::123456789012:user/a", AccountID: "123456789012"}}
		d := p.Evaluate(req)
		again, err := ParsePolicy([]byte(p.String()))
		if err != nil {
			t.Fatalf("a parsed policy's document does not parse again: %v", err)
		}
		if d2 := again.Evaluate(req); d2 != d {
			t.Fatalf("re-parsed policy decides %v, first %v", d2, d)
		}
		if rp, err := ParseResourcePolicy(doc, "local", "123456789012", "api"); err == nil {
			_ = rp.Evaluate(req)
			_ = rp.evaluateForAnyone(req)
		}
		if d == Deny {
			withAllow := &Policy{stmts: append(append([]statement(nil), p.stmts...), allowAll.stmts...)}
			if withAllow.Evaluate(req) != Deny {
				t.Fatal("an added Allow overrode an explicit Deny")
			}
		}
	})
}

// FuzzParseAuthorization parses arbitrary SigV4 Authorization headers:
// nothing panics, and a header that parses re-renders to one that parses
// to the same signature.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("ab", 32))
	f.Add("AWS4-HMAC-SHA256 SignedHeaders=content-type;host;x-amz-date,Signature=" + strings.Repeat("0", 64) + ",Credential=A/20260102/r/s/aws4_request")
	f.Add("AWS4-HMAC-SHA256 Credential=/20260102//execute-api/aws4_request, SignedHeaders=, Signature=")
	f.Add("Bearer abc")
	f.Add("AWS4-HMAC-SHA256 Credential=A/2026010/r/s/aws4_request, SignedHeaders=host;host, Signature=zz")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			return
		}
		if len(a.signature) != 32 || a.accessKey == "" || len(a.day) != 8 || len(a.signed) == 0 {
			t.Fatalf("parsed an incomplete header: %+v", a)
		}
		again := sigV4Algorithm + " Credential=" + a.accessKey + "/" + a.day + "/" + a.region + "/" + a.service + "/aws4_request, SignedHeaders=" +
			a.signedRaw + ", Signature=" + strings.ToLower(hexString(a.signature))
		b, err := parseAuthorization(again)
		if err != nil || b.accessKey != a.accessKey || b.signedRaw != a.signedRaw || string(b.signature) != string(a.signature) {
			t.Fatalf("re-rendered %q parses to %+v, %v; want %+v", again, b, err, a)
		}
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
