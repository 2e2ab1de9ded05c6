package auth

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

const arnGetPet = "arn:aws:execute-api:local:123456789012:pets/prod/GET/pets/7"

func mustPolicy(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		statement int
		want      string
	}{
		{name: "not JSON", doc: `{`, statement: -1, want: "unexpected EOF"},
		{name: "trailing data", doc: `{"Statement":[]} x`, statement: -1, want: "after the JSON"},
		{name: "unknown top element", doc: `{"Statement":[],"Extra":1}`, statement: -1, want: "unknown field"},
		{name: "bad version", doc: `{"Version":"2020","Statement":[]}`, statement: -1, want: "Version"},
		{name: "no statement", doc: `{"Version":"2012-10-17"}`, statement: -1, want: "Statement"},
		{name: "bad effect", doc: `{"Statement":[{"Sid":"s0","Effect":"Alow","Action":"*","Resource":"*"}]}`, statement: 0, want: `Effect "Alow"`},
		{name: "second statement named", doc: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"Bad","Effect":"Deny","Resource":"*"}]}`, statement: 1, want: "no Action"},
		{name: "action and notaction", doc: `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}`, statement: 0, want: "both Action"},
		{name: "bad action", doc: `{"Statement":{"Effect":"Allow","Action":"invoke","Resource":"*"}}`, statement: 0, want: "service:action"},
		{name: "bad resource", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"pets/*"}}`, statement: 0, want: "Resource"},
		{name: "empty resource list", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":[]}}`, statement: 0, want: "empty list"},
		{name: "resource not string", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":7}}`, statement: 0, want: "string"},
		{name: "principal word", doc: `{"Statement":{"Effect":"Allow","Principal":"alice","Action":"*","Resource":"*"}}`, statement: 0, want: "Principal"},
		{name: "principal type", doc: `{"Statement":{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"*","Resource":"*"}}`, statement: 0, want: "principal type"},
		{name: "principal wildcard arn", doc: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"*","Resource":"*"}}`, statement: 0, want: "without wildcards"},
		{name: "unknown operator", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringSorta":{"aws:UserAgent":"x"}}}}`, statement: 0, want: "unknown operator"},
		{name: "unknown key", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:Nope":"x"}}}}`, statement: 0, want: "unknown key"},
		{name: "bad cidr", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}`, statement: 0, want: "bad CIDR"},
		{name: "ip op on vpc", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceVpc":"10.0.0.0/8"}}}}`, statement: 0, want: "only to aws:SourceIp"},
		{name: "string op on ip", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceIp":"1.2.3.4"}}}}`, statement: 0, want: "do not apply"},
		{name: "bad date", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`, statement: 0, want: "bad date"},
		{name: "object value", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:UserAgent":{"a":1}}}}}`, statement: 0, want: "strings, numbers or booleans"},
		{name: "null ifexists", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:UserAgent":"true"}}}}`, statement: 0, want: "unknown operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.doc))
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PolicyError", err)
			}
			if pe.Statement != tt.statement || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q (statement %d), want statement %d and %q", err, pe.Statement, tt.statement, tt.want)
			}
		})
	}
	if _, err := ParsePolicy([]byte(`{"Statement":[{"Sid":"Bad","Effect":"x","Action":"*","Resource":"*"}]}`)); err == nil || !strings.Contains(err.Error(), `statement 0 (Sid "Bad")`) {
		t.Fatalf("err = %v, want the Sid named", err)
	}
	if _, err := ParsePolicy(make([]byte, MaxPolicyBytes+1)); err == nil {
		t.Fatal("oversized policy accepted")
	}
}

func TestPolicyEvaluate(t *testing.T) {
	alice := &Principal{Kind: KindIAM, ARN: "arn:aws:iam::123456789012:user/alice", AccountID: "123456789012", UserName: "alice"}
	bob := &Principal{Kind: KindIAM, ARN: "arn:aws:iam::999999999999:user/bob", AccountID: "999999999999"}
	v4 := netip.MustParseAddr("203.0.113.9")
	v6 := netip.MustParseAddr("2001:db8:1::7")
	mapped := netip.MustParseAddr("::ffff:203.0.113.9")
	tests := []struct {
		name string
		doc  string
		req  Request
		want Decision
	}{
		{name: "allow all", doc: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet}, want: Allow},
		{name: "no statement applies", doc: `{"Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/prod/POST/*"}}`, req: Request{Resource: arnGetPet}, want: Neither},
		{name: "wildcards in resource", doc: `{"Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:pets/*/GET/pets/*"}}`, req: Request{Resource: arnGetPet}, want: Allow},
		{name: "question mark", doc: `{"Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:pets/prod/GET/pets/?"}}`, req: Request{Resource: arnGetPet}, want: Allow},
		{name: "action case-insensitive", doc: `{"Statement":{"Effect":"Allow","Action":"EXECUTE-API:invoke","Resource":"*"}}`, req: Request{Resource: arnGetPet}, want: Allow},
		{name: "other action", doc: `{"Statement":{"Effect":"Allow","Action":"execute-api:InvalidateCache","Resource":"*"}}`, req: Request{Resource: arnGetPet}, want: Neither},
		{name: "explicit deny wins", doc: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"arn:aws:execute-api:*:*:*/*/GET/pets/*"}]}`, req: Request{Resource: arnGetPet}, want: Deny},
		{name: "not resource", doc: `{"Statement":{"Effect":"Deny","Action":"*","NotResource":"arn:aws:execute-api:*:*:*/*/GET/health"}}`, req: Request{Resource: arnGetPet}, want: Deny},
		{name: "not action", doc: `{"Statement":{"Effect":"Allow","NotAction":"execute-api:ManageConnections","Resource":"*"}}`, req: Request{Resource: arnGetPet}, want: Allow},
		{name: "ipv4 in cidr", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["198.51.100.0/24","203.0.113.0/24"]}}}}`, req: Request{Resource: arnGetPet, SourceIP: v4}, want: Allow},
		{name: "ipv4 mapped in ipv6", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`, req: Request{Resource: arnGetPet, SourceIP: mapped}, want: Allow},
		{name: "ipv4 outside", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}}}}`, req: Request{Resource: arnGetPet, SourceIP: v4}, want: Neither},
		{name: "ipv6 in cidr", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"2001:db8:1::/48"}}}}`, req: Request{Resource: arnGetPet, SourceIP: v6}, want: Allow},
		{name: "single address", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.9"}}}}`, req: Request{Resource: arnGetPet, SourceIP: v4}, want: Allow},
		{name: "not ip address denies outsiders", doc: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`, req: Request{Resource: arnGetPet, SourceIP: v4}, want: Deny},
		{name: "not ip address spares insiders", doc: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.0.0/8"}}}}`, req: Request{Resource: arnGetPet, SourceIP: v4}, want: Neither},
		{name: "no source ip", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}}`, req: Request{Resource: arnGetPet}, want: Neither},
		{name: "source vpce equals", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-office"}}}}`, req: Request{Resource: arnGetPet, Networks: []string{"public", "vpce-office"}}, want: Allow},
		{name: "source vpc like", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:SourceVpc":"vpc-*"}}}}`, req: Request{Resource: arnGetPet, Networks: []string{"vpc-123"}}, want: Allow},
		{name: "source vpc absent", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}}`, req: Request{Resource: arnGetPet}, want: Neither},
		{name: "string not equals with absent key", doc: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}}`, req: Request{Resource: arnGetPet}, want: Deny},
		{name: "string not equals with other label", doc: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}}`, req: Request{Resource: arnGetPet, Networks: []string{"vpce-1"}}, want: Neither},
		{name: "ifexists on absent key", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}}}`, req: Request{Resource: arnGetPet}, want: Allow},
		{name: "for all values", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:SourceVpc":"vpc-*"}}}}`, req: Request{Resource: arnGetPet, Networks: []string{"vpc-1", "office"}}, want: Neither},
		{name: "for any value", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:SourceVpc":"vpc-*"}}}}`, req: Request{Resource: arnGetPet, Networks: []string{"vpc-1", "office"}}, want: Allow},
		{name: "null", doc: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"Null":{"aws:SourceVpce":"true"}}}}`, req: Request{Resource: arnGetPet}, want: Deny},
		{name: "bool secure transport", doc: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}}`, req: Request{Resource: arnGetPet}, want: Deny},
		{name: "date before", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-12-31T00:00:00Z"}}}}`, req: Request{Resource: arnGetPet, Time: t0}, want: Allow},
		{name: "date after", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2026-12-31T00:00:00Z"}}}}`, req: Request{Resource: arnGetPet, Time: t0}, want: Neither},
		{name: "user agent like", doc: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:UserAgent":"*curl*"}}}}`, req: Request{Resource: arnGetPet, UserAgent: "curl/8.0"}, want: Deny},
		{name: "principal star matches anonymous", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet}, want: Allow},
		{name: "principal arn matches", doc: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet, Principal: alice}, want: Allow},
		{name: "principal arn other user", doc: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet, Principal: bob}, want: Neither},
		{name: "principal arn anonymous", doc: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet}, want: Neither},
		{name: "principal account", doc: `{"Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012"]},"Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet, Principal: alice}, want: Allow},
		{name: "principal account root arn", doc: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet, Principal: alice}, want: Allow},
		{name: "not principal", doc: `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet, Principal: bob}, want: Deny},
		{name: "service principal never matches", doc: `{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"*","Resource":"*"}}`, req: Request{Resource: arnGetPet, Principal: alice}, want: Neither},
		{name: "principal arn condition", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/*"}}}}`, req: Request{Resource: arnGetPet, Principal: alice}, want: Allow},
		{name: "username condition", doc: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}}}`, req: Request{Resource: arnGetPet, Principal: alice}, want: Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.doc)
			if got := p.Evaluate(&tt.req); got != tt.want {
				t.Fatalf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
	var nilPolicy *Policy
	if got := nilPolicy.Evaluate(&Request{}); got != Neither {
		t.Fatalf("nil policy = %v, want Neither", got)
	}
}

func TestParseResourcePolicy(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/pets/*"}]}`
	p, err := ParseResourcePolicy([]byte(doc), "", "123456789012", "pets")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Evaluate(&Request{Resource: arnGetPet}); got != Allow {
		t.Fatalf("expanded execute-api:/ resource: %v, want Allow", got)
	}
	if got := p.Evaluate(&Request{Resource: strings.Replace(arnGetPet, ":pets/", ":other/", 1)}); got != Neither {
		t.Fatalf("another API's ARN: %v, want Neither", got)
	}
	_, err = ParseResourcePolicy([]byte(`{"Statement":[{"Sid":"NoOne","Effect":"Allow","Action":"*","Resource":"*"}]}`), "", "1", "a")
	if err == nil || !strings.Contains(err.Error(), `"NoOne"`) || !strings.Contains(err.Error(), "Principal") {
		t.Fatalf("statement without Principal: err = %v", err)
	}
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	resp := struct {
		Policy *Policy `json:"policyDocument"`
	}{Policy: AllowPolicy("arn:aws:execute-api:*:*:*/*/GET/*")}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Policy *Policy `json:"policyDocument"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Policy.Evaluate(&Request{Resource: arnGetPet}); got != Allow {
		t.Fatalf("round-tripped policy: %v, want Allow (%s)", got, b)
	}
	if got := DenyPolicy("*").Evaluate(&Request{Resource: arnGetPet}); got != Deny {
		t.Fatalf("DenyPolicy: %v", got)
	}
	if err := json.Unmarshal([]byte(`{"policyDocument":{"Statement":{"Effect":"Maybe"}}}`), &back); err == nil {
		t.Fatal("bad embedded policy accepted")
	}
}

func TestPolicyEvaluateDoesNotAllocate(t *testing.T) {
	p := mustPolicy(t, `{"Statement":[
		{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:pets/*/GET/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"},"StringLike":{"aws:SourceVpce":"vpce-*"}}},
		{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"},"Null":{"aws:SourceVpce":"true"}}}]}`)
	req := &Request{Resource: arnGetPet, SourceIP: netip.MustParseAddr("203.0.113.9"), Networks: []string{"vpce-1"}, Time: time.Now()}
	if got := p.Evaluate(req); got != Allow {
		t.Fatalf("Evaluate = %v, want Allow", got)
	}
	if allocs := testing.AllocsPerRun(100, func() { p.Evaluate(req) }); allocs != 0 {
		t.Fatalf("Evaluate allocates %.1f times, want 0", allocs)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbb", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*/GET/*", "x/prod/GET/pets/1", true},
		{"**a", "bbba", true},
		{"a*b*c*d", "axxbxxcxxd", true},
		{"a*b*c*d", "axxbxxcxx", false},
		{"", "", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.p, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}
