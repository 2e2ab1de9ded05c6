package integration

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzFunctionResponse feeds arbitrary function output to both payload
// formats: the handler must never panic, must answer 200–599 or 502, and
// must never let CR or LF into a header.
func FuzzFunctionResponse(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":200,"body":"hi"}`,
		`{"statusCode":201,"headers":{"A":"1"},"multiValueHeaders":{"a":["2","3"]},"cookies":["c=1"],"body":"aGk=","isBase64Encoded":true}`,
		`{"statusCode":"200"}`, `{"statusCode":null}`, `{"statusCode":99}`, `{"statusCode":2e2}`,
		`{"headers":{"X":"a\r\nb"},"statusCode":200}`, `{"headers":{"X Y":"1"},"statusCode":200}`,
		`"plain"`, `[1,2]`, `null`, `{`, ``, ` `, `{"statusCode":204,"body":"x"}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, out []byte, v2 bool) {
		format := PayloadV1
		if v2 {
			format = PayloadV2
		}
		h := RawFunction(func(context.Context, []byte) ([]byte, error) { return out, nil }, WithPayloadFormat(format), WithLogger(discardLogger()))
		r, _ := gatewayRequest("GET", "/pets/7", nil, "HTTP")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusBadGateway && (rec.Code < 200 || rec.Code > 599) {
			t.Fatalf("status %d for %q", rec.Code, out)
		}
		for k, vs := range rec.Header() {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n") {
					t.Fatalf("header %q: %q lets CR/LF through for %q", k, v, out)
				}
			}
		}
		if v2 && rec.Code == 200 && rec.Header().Get("Content-Type") == "application/json" && !bytes.HasPrefix(bytes.TrimSpace(out), []byte("{")) && !bytes.Equal(rec.Body.Bytes(), out) {
			t.Fatalf("plain JSON %q answered with body %q", out, rec.Body)
		}
	})
}

// FuzzRegistryLookup checks that any name resolves or fails without
// panicking, and that a registered name always resolves to itself.
func FuzzRegistryLookup(f *testing.F) {
	for _, s := range []string{
		"getPet", "getPet:live", "arn:aws:lambda:us-east-1:123456789012:function:getPet:live",
		"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:getPet/invocations",
		"arn:", "arn:aws:lambda:::function:", "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/arn:aws:apigateway:r:lambda:path/2015-03-31/functions/x/invocations/invocations",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		reg := Registry{"getPet": named("plain"), "getPet:live": named("live")}
		_, _ = lookupRef(reg, name)
		reg[name] = named("self")
		h, ok := lookupRef(reg, name)
		if !ok {
			t.Fatalf("registered name %q not found", name)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Body.String() != "self" {
			t.Fatalf("registered name %q resolved to %q", name, rec.Body)
		}
	})
}
