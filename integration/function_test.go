package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico/reqctx"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// gatewayRequest builds a request as the gateway hands it to an
// integration: stage stripped from the URL, reqctx filled.
func gatewayRequest(method, target string, body io.Reader, apiType string) (*http.Request, *reqctx.Context) {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "198.51.100.7:4444"
	r.Header.Set("User-Agent", "unit-test")
	rc := &reqctx.Context{
		RequestID:         "req-1",
		ExtendedRequestID: "ext-1",
		RequestTime:       t0,
		AccountID:         "123456789012",
		APIID:             "pets",
		APIType:           apiType,
		Stage:             "prod",
		RouteKey:          method + " /pets/{id}",
		ResourcePath:      "/pets/{id}",
		ResourceID:        "r001",
		Path:              "/prod" + r.URL.Path,
		RawPath:           "/prod" + r.URL.EscapedPath(),
		RoutePath:         r.URL.Path,
		HTTPMethod:        method,
		Protocol:          "HTTP/1.1",
		DomainName:        "pets.example.com",
		DomainPrefix:      "pets",
		PathParams:        map[string]string{"id": "7"},
		StageVariables:    map[string]string{"table": "pets-prod"},
		BinaryMediaTypes:  []string{"image/*"},
		Identity:          reqctx.Identity{SourceIP: "198.51.100.7", UserAgent: "unit-test"},
		Authorizer: reqctx.Authorizer{Kind: "lambda", PrincipalID: "user-1",
			Context: map[string]any{"tenant": "acme"}},
		AuthorizerLatency: 12 * time.Millisecond,
	}
	return r.WithContext(reqctx.With(r.Context(), rc)), rc
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// check compares named string fields.
type check struct{ name, got, want string }

func runChecks(t *testing.T, checks []check) {
	t.Helper()
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestFunctionV1WithLambdaTypes(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 255}
	var got events.APIGatewayProxyRequest
	h := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = ev
		return events.APIGatewayProxyResponse{
			StatusCode:        201,
			Headers:           map[string]string{"Content-Type": "image/png", "X-One": "1", "x-both": "single"},
			MultiValueHeaders: map[string][]string{"X-Both": {"a", "b"}, "Set-Cookie": {"a=1", "b=2"}},
			Body:              base64.StdEncoding.EncodeToString(png),
			IsBase64Encoded:   true,
		}, nil
	}, WithLogger(discardLogger()))
	r, rc := gatewayRequest("POST", "/pets/7?q=a&q=b&one=1", bytes.NewReader(png), "REST")
	r.Header.Add("X-Dup", "first")
	r.Header.Add("X-Dup", "second")
	r.Header.Set("Content-Type", "image/png")
	r.Header.Set("Cookie", "session=abc")
	rc.APIKey, rc.APIKeyID = "key-value", "key-id"
	rc.Identity.ClientCert = &reqctx.ClientCert{SubjectDN: "CN=client", SerialNumber: "01", NotBefore: t0, NotAfter: t0.AddDate(1, 0, 0)}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)

	if rec.Code != 201 || !bytes.Equal(rec.Body.Bytes(), png) {
		t.Fatalf("response %d %v, want 201 %v", rec.Code, rec.Body.Bytes(), png)
	}
	runChecks(t, []check{
		{"response X-Both (multi-value wins)", strings.Join(rec.Header().Values("X-Both"), ","), "a,b"},
		{"response Set-Cookie", strings.Join(rec.Header().Values("Set-Cookie"), "|"), "a=1|b=2"},
		{"response X-One", rec.Header().Get("X-One"), "1"},
		{"response Content-Type", rec.Header().Get("Content-Type"), "image/png"},

		{"resource", got.Resource, "/pets/{id}"},
		{"path", got.Path, "/pets/7"},
		{"httpMethod", got.HTTPMethod, "POST"},
		{"headers last value", got.Headers["X-Dup"], "second"},
		{"multiValueHeaders", strings.Join(got.MultiValueHeaders["X-Dup"], ","), "first,second"},
		{"cookie header", got.Headers["Cookie"], "session=abc"},
		{"host header", got.Headers["Host"], "example.com"},
		{"queryStringParameters last value", got.QueryStringParameters["q"], "b"},
		{"multiValueQueryStringParameters", strings.Join(got.MultiValueQueryStringParameters["q"], ","), "a,b"},
		{"pathParameters", got.PathParameters["id"], "7"},
		{"stageVariables", got.StageVariables["table"], "pets-prod"},
		{"binary body is base64", got.Body, base64.StdEncoding.EncodeToString(png)},
		{"requestContext.path has the stage", got.RequestContext.Path, "/prod/pets/7"},
		{"requestContext.resourcePath", got.RequestContext.ResourcePath, "/pets/{id}"},
		{"requestContext.resourceId", got.RequestContext.ResourceID, "r001"},
		{"requestContext.httpMethod", got.RequestContext.HTTPMethod, "POST"},
		{"requestContext.stage", got.RequestContext.Stage, "prod"},
		{"requestContext.protocol", got.RequestContext.Protocol, "HTTP/1.1"},
		{"requestContext.requestId", got.RequestContext.RequestID, "req-1"},
		{"requestContext.extendedRequestId", got.RequestContext.ExtendedRequestID, "ext-1"},
		{"requestContext.accountId", got.RequestContext.AccountID, "123456789012"},
		{"requestContext.apiId", got.RequestContext.APIID, "pets"},
		{"requestContext.domainName", got.RequestContext.DomainName, "pets.example.com"},
		{"requestContext.domainPrefix", got.RequestContext.DomainPrefix, "pets"},
		{"requestContext.requestTime", got.RequestContext.RequestTime, "04/Mar/2026:05:06:07 +0000"},
		{"identity.sourceIp", got.RequestContext.Identity.SourceIP, "198.51.100.7"},
		{"identity.userAgent", got.RequestContext.Identity.UserAgent, "unit-test"},
		{"identity.apiKey", got.RequestContext.Identity.APIKey, "key-value"},
		{"identity.apiKeyId", got.RequestContext.Identity.APIKeyID, "key-id"},
		{"identity.clientCert.subjectDN", got.RequestContext.Identity.ClientCert.SubjectDN, "CN=client"},
		{"identity.clientCert.validity.notBefore", got.RequestContext.Identity.ClientCert.Validity.NotBefore, "Mar  4 05:06:07 2026 GMT"},
		{"authorizer.principalId", got.RequestContext.Authorizer["principalId"].(string), "user-1"},
		{"authorizer context key", got.RequestContext.Authorizer["tenant"].(string), "acme"},
	})
	if rc.IntegrationStatus != 201 {
		t.Errorf("rc.IntegrationStatus = %d, want 201", rc.IntegrationStatus)
	}
	if !got.IsBase64Encoded || got.RequestContext.RequestTimeEpoch != t0.UnixMilli() {
		t.Errorf("isBase64Encoded %v, requestTimeEpoch %d, want true, %d", got.IsBase64Encoded, got.RequestContext.RequestTimeEpoch, t0.UnixMilli())
	}
	if lat := got.RequestContext.Authorizer["integrationLatency"]; lat != int64(12) {
		t.Errorf("authorizer.integrationLatency = %v (%T), want 12", lat, lat)
	}
}

func TestFunctionV1TextBodyAndEscapedPath(t *testing.T) {
	var got events.APIGatewayProxyRequest
	h := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = ev
		// Not decoded: the REST API has no binary media type for text/plain
		// and the client did not ask for one.
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "aGk=", IsBase64Encoded: true}, nil
	})
	r, _ := gatewayRequest("POST", "/pets/a%20b", strings.NewReader(`{"name":"Rex"}`), "REST")
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	runChecks(t, []check{
		{"body", got.Body, `{"name":"Rex"}`},
		{"path", got.Path, "/pets/a%20b"},
		{"requestContext.path", got.RequestContext.Path, "/prod/pets/a%20b"},
		{"response body", rec.Body.String(), "aGk="},
	})
	if got.IsBase64Encoded {
		t.Error("a JSON body was base64-encoded")
	}
}

func TestFunctionV1EmptyMapsAreNull(t *testing.T) {
	var raw []byte
	h := RawFunction(func(ctx context.Context, ev []byte) ([]byte, error) {
		raw = ev
		return []byte(`{"statusCode":204}`), nil
	})
	r := httptest.NewRequest("GET", "/plain", nil)
	r.Header = http.Header{}
	r.Host = ""
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 204 {
		t.Fatalf("status %d, want 204", rec.Code)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters", "pathParameters", "stageVariables"} {
		if v, ok := ev[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	if _, ok := ev["version"]; ok {
		t.Error("a REST-style 1.0 event has a version field")
	}
}

func TestFunctionV1OnHTTPAPI(t *testing.T) {
	var raw map[string]any
	h := Function(func(ctx context.Context, ev map[string]any) (events.APIGatewayProxyResponse, error) {
		raw = ev
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	})
	r, _ := gatewayRequest("POST", "/pets/7", strings.NewReader("a=1"), "HTTP")
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(httptest.NewRecorder(), r)
	runChecks(t, []check{
		{"version", str(raw["version"]), "1.0"},
		{"path has the stage", str(raw["path"]), "/prod/pets/7"},
		{"form body is base64 on HTTP APIs", str(raw["body"]), base64.StdEncoding.EncodeToString([]byte("a=1"))},
	})
}

func str(v any) string { s, _ := v.(string); return s }

func TestFunctionV1JWTAuthorizer(t *testing.T) {
	var got events.APIGatewayProxyRequest
	h := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = ev
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	})
	r, rc := gatewayRequest("GET", "/pets/7", nil, "REST")
	rc.Authorizer = reqctx.Authorizer{Kind: "jwt", Claims: map[string]any{"sub": "u1"}, Scopes: []string{"pets:read"}}
	h.ServeHTTP(httptest.NewRecorder(), r)
	claims, _ := got.RequestContext.Authorizer["claims"].(map[string]any)
	scopes, _ := got.RequestContext.Authorizer["scopes"].([]string)
	if claims["sub"] != "u1" || len(scopes) != 1 || scopes[0] != "pets:read" {
		t.Fatalf("authorizer = %v, want claims.sub u1 and scopes [pets:read]", got.RequestContext.Authorizer)
	}
}

func TestFunctionV2WithLambdaTypes(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	h := Function(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = ev
		return events.APIGatewayV2HTTPResponse{
			StatusCode:      200,
			Headers:         map[string]string{"content-type": "application/octet-stream"},
			Body:            base64.StdEncoding.EncodeToString([]byte{0, 1, 254}),
			IsBase64Encoded: true,
			Cookies:         []string{"s=1; HttpOnly", "t=2"},
		}, nil
	})
	r, rc := gatewayRequest("POST", "/pets/7?q=a&q=b", bytes.NewReader([]byte{0xff, 0x00}), "HTTP")
	rc.Authorizer = reqctx.Authorizer{Kind: "jwt", Claims: map[string]any{"sub": "u1", "groups": []any{"a", "b"}, "exp": float64(1772600767)}, Scopes: []string{"pets:read"}}
	r.Header.Set("Content-Type", "application/octet-stream")
	r.Header.Add("X-Dup", "1")
	r.Header.Add("X-Dup", "2")
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), []byte{0, 1, 254}) {
		t.Fatalf("response %d %v, want 200 [0 1 254]", rec.Code, rec.Body.Bytes())
	}
	runChecks(t, []check{
		{"Set-Cookie", strings.Join(rec.Header().Values("Set-Cookie"), "|"), "s=1; HttpOnly|t=2"},
		{"version", got.Version, "2.0"},
		{"routeKey", got.RouteKey, "POST /pets/{id}"},
		{"rawPath has the stage", got.RawPath, "/prod/pets/7"},
		{"rawQueryString", got.RawQueryString, "q=a&q=b"},
		{"cookies", strings.Join(got.Cookies, "|"), "a=1|b=2|c=3"},
		{"no cookie header", got.Headers["cookie"], ""},
		{"headers lower-cased and joined", got.Headers["x-dup"], "1,2"},
		{"host", got.Headers["host"], "example.com"},
		{"queryStringParameters joined", got.QueryStringParameters["q"], "a,b"},
		{"pathParameters", got.PathParameters["id"], "7"},
		{"stageVariables", got.StageVariables["table"], "pets-prod"},
		{"binary body", got.Body, base64.StdEncoding.EncodeToString([]byte{0xff, 0x00})},
		{"requestContext.routeKey", got.RequestContext.RouteKey, "POST /pets/{id}"},
		{"requestContext.accountId", got.RequestContext.AccountID, "123456789012"},
		{"requestContext.apiId", got.RequestContext.APIID, "pets"},
		{"requestContext.domainName", got.RequestContext.DomainName, "pets.example.com"},
		{"requestContext.domainPrefix", got.RequestContext.DomainPrefix, "pets"},
		{"requestContext.stage", got.RequestContext.Stage, "prod"},
		{"requestContext.requestId", got.RequestContext.RequestID, "req-1"},
		{"requestContext.time", got.RequestContext.Time, "04/Mar/2026:05:06:07 +0000"},
		{"http.method", got.RequestContext.HTTP.Method, "POST"},
		{"http.path", got.RequestContext.HTTP.Path, "/prod/pets/7"},
		{"http.protocol", got.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		{"http.sourceIp", got.RequestContext.HTTP.SourceIP, "198.51.100.7"},
		{"http.userAgent", got.RequestContext.HTTP.UserAgent, "unit-test"},
		{"jwt claim", got.RequestContext.Authorizer.JWT.Claims["sub"], "u1"},
		{"jwt array claim", got.RequestContext.Authorizer.JWT.Claims["groups"], "[a b]"},
		{"jwt number claim", got.RequestContext.Authorizer.JWT.Claims["exp"], "1772600767"},
		{"jwt scopes", strings.Join(got.RequestContext.Authorizer.JWT.Scopes, ","), "pets:read"},
	})
	if !got.IsBase64Encoded || got.RequestContext.TimeEpoch != t0.UnixMilli() {
		t.Errorf("isBase64Encoded %v, timeEpoch %d", got.IsBase64Encoded, got.RequestContext.TimeEpoch)
	}
}

func TestFunctionV2Authorizers(t *testing.T) {
	tests := []struct {
		name string
		auth reqctx.Authorizer
		want string // JSON of requestContext.authorizer
	}{
		{name: "none", want: "null"},
		{name: "lambda", auth: reqctx.Authorizer{Kind: "lambda", PrincipalID: "p1", Context: map[string]any{"tenant": "acme"}},
			want: `{"lambda":{"principalId":"p1","tenant":"acme"}}`},
		{name: "iam", auth: reqctx.Authorizer{Kind: "iam"},
			want: `{"iam":{"accessKey":"AKIA1","accountId":"111122223333","callerId":"AIDA1","cognitoIdentity":{"amr":null,"identityId":"","identityPoolId":""},"principalOrgId":"","userArn":"arn:aws:iam::111122223333:user/ada","userId":"AIDA1"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got events.APIGatewayV2HTTPRequest
			h := Function(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				got = ev
				return events.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
			})
			r, rc := gatewayRequest("GET", "/pets/7", nil, "HTTP")
			rc.Authorizer = tt.auth
			rc.Identity.AccessKey, rc.Identity.AccountID, rc.Identity.Caller, rc.Identity.User = "AKIA1", "111122223333", "AIDA1", "AIDA1"
			rc.Identity.UserARN = "arn:aws:iam::111122223333:user/ada"
			h.ServeHTTP(httptest.NewRecorder(), r)
			b, _ := json.Marshal(got.RequestContext.Authorizer)
			if string(b) != tt.want {
				t.Fatalf("authorizer = %s, want %s", b, tt.want)
			}
		})
	}
}

func TestFunctionV2Bodies(t *testing.T) {
	tests := []struct {
		name, contentType string
		base64            bool
	}{
		{"json", "application/json", false},
		{"text with charset", "text/plain; charset=utf-8", false},
		{"xml", "application/xml", false},
		{"javascript", "application/javascript", false},
		{"+json suffix", "application/problem+json", false},
		{"+xml suffix", "application/atom+xml", false},
		{"no content type", "", true},
		{"form", "application/x-www-form-urlencoded", true},
		{"octet stream", "application/octet-stream", true},
		{"image", "image/png", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got events.APIGatewayV2HTTPRequest
			h := Function(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				got = ev
				return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
			})
			r, _ := gatewayRequest("POST", "/x", strings.NewReader("body"), "HTTP")
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got.IsBase64Encoded != tt.base64 {
				t.Errorf("Content-Type %q: isBase64Encoded = %v, want %v", tt.contentType, got.IsBase64Encoded, tt.base64)
			}
		})
	}
}

// A handler with its own JSON-compatible types (only the fields it needs).
type myEvent struct {
	PathParameters map[string]string `json:"pathParameters"`
	RequestContext struct {
		Stage string `json:"stage"`
	} `json:"requestContext"`
}

type myResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func TestFunctionJSONCompatibleTypes(t *testing.T) {
	tests := []struct {
		name     string
		h        http.Handler
		apiType  string
		status   int
		body, ct string
	}{
		{name: "own structs, 1.0", apiType: "REST", status: 202, body: "7@prod", ct: "text/plain",
			h: Function(func(ctx context.Context, ev myEvent) (myResponse, error) {
				return myResponse{StatusCode: 202, Headers: map[string]string{"Content-Type": "text/plain"}, Body: ev.PathParameters["id"] + "@" + ev.RequestContext.Stage}, nil
			})},
		{name: "own structs, 2.0", apiType: "HTTP", status: 202, body: "7@prod", ct: "text/plain",
			h: Function(func(ctx context.Context, ev myEvent) (myResponse, error) {
				return myResponse{StatusCode: 202, Headers: map[string]string{"Content-Type": "text/plain"}, Body: ev.PathParameters["id"] + "@" + ev.RequestContext.Stage}, nil
			})},
		{name: "map in, json.RawMessage out", apiType: "REST", status: 200, body: "POST", ct: "application/json",
			h: Function(func(ctx context.Context, ev map[string]any) (json.RawMessage, error) {
				return json.RawMessage(`{"statusCode":200,"body":"` + ev["httpMethod"].(string) + `"}`), nil
			})},
		{name: "2.0 plain map is the body", apiType: "HTTP", status: 200, body: `{"hello":"POST /pets/{id}"}`, ct: "application/json",
			h: Function(func(ctx context.Context, ev map[string]any) (map[string]any, error) {
				return map[string]any{"hello": ev["routeKey"]}, nil
			})},
		{name: "2.0 plain string is the body", apiType: "HTTP", status: 200, body: `"hi"`, ct: "application/json",
			h: Function(func(ctx context.Context, ev json.RawMessage) (string, error) { return "hi", nil })},
		{name: "2.0 object without statusCode is the body", apiType: "HTTP", status: 200, body: `{"headers":5}`, ct: "application/json",
			h: RawFunction(func(ctx context.Context, ev []byte) ([]byte, error) { return []byte(`{"headers":5}`), nil })},
		{name: "raw function 1.0", apiType: "REST", status: 200, body: "7", ct: "text/plain",
			h: RawFunction(func(ctx context.Context, ev []byte) ([]byte, error) {
				var in events.APIGatewayProxyRequest
				if err := json.Unmarshal(ev, &in); err != nil {
					return nil, err
				}
				return json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"content-type": "text/plain"}, Body: in.PathParameters["id"]})
			})},
		{name: "raw function 2.0", apiType: "HTTP", status: 200, body: "POST /pets/{id}", ct: "application/json",
			h: RawFunction(func(ctx context.Context, ev []byte) ([]byte, error) {
				var in events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(ev, &in); err != nil {
					return nil, err
				}
				return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: in.RouteKey})
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := gatewayRequest("POST", "/pets/7", nil, tt.apiType)
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, r)
			if rec.Code != tt.status || rec.Body.String() != tt.body || rec.Header().Get("Content-Type") != tt.ct {
				t.Fatalf("got %d %q %q, want %d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Type"), tt.status, tt.body, tt.ct)
			}
		})
	}
}

func TestFunctionPayloadFormatChoice(t *testing.T) {
	v1 := func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: "1.0"}, nil
	}
	v2 := func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: ev.Version}, nil
	}
	raw := func(ctx context.Context, ev []byte) ([]byte, error) {
		var probe struct{ Version string }
		_ = json.Unmarshal(ev, &probe)
		return json.Marshal(map[string]any{"statusCode": 200, "body": probe.Version})
	}
	tests := []struct {
		name    string
		h       http.Handler
		apiType string
		status  int
		body    string
	}{
		{name: "1.0 types on a REST API", h: Function(v1), apiType: "REST", status: 200, body: "1.0"},
		{name: "1.0 types on an HTTP API", h: Function(v1), apiType: "HTTP", status: 200, body: "1.0"},
		{name: "2.0 types on an HTTP API", h: Function(v2), apiType: "HTTP", status: 200, body: "2.0"},
		{name: "2.0 types outside a gateway", h: Function(v2), apiType: "", status: 200, body: "2.0"},
		{name: "untyped on a REST API", h: RawFunction(raw), apiType: "REST", status: 200, body: ""},
		{name: "untyped on an HTTP API", h: RawFunction(raw), apiType: "HTTP", status: 200, body: "2.0"},
		{name: "untyped, format fixed", h: RawFunction(raw, WithPayloadFormat(PayloadV2)), apiType: "REST", status: 200, body: "2.0"},
		{name: "fixed format the event type cannot take", h: Function(v2, WithPayloadFormat(PayloadV1), WithLogger(discardLogger())), apiType: "HTTP", status: 500},
		{name: "unknown format", h: RawFunction(raw, WithPayloadFormat("3.0"), WithLogger(discardLogger())), apiType: "HTTP", status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := gatewayRequest("GET", "/pets/7", nil, tt.apiType)
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 500 {
				if et := rec.Header().Get("X-Amzn-Errortype"); et != "InternalServerErrorException" {
					t.Fatalf("x-amzn-ErrorType %q", et)
				}
				return
			}
			if rec.Body.String() != tt.body {
				t.Fatalf("body %q, want %q", rec.Body, tt.body)
			}
		})
	}
}

func TestFunctionFailures(t *testing.T) {
	v1 := func(res events.APIGatewayProxyResponse, err error) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return res, err
		}
	}
	raw := func(out string) func(context.Context, []byte) ([]byte, error) {
		return func(context.Context, []byte) ([]byte, error) { return []byte(out), nil }
	}
	tests := []struct {
		name    string
		fn      func(opts ...FunctionOption) *FunctionHandler
		apiType string
		log     []string
	}{
		{name: "error", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(v1(events.APIGatewayProxyResponse{}, errors.New("db down")), o...)
		}, log: []string{"function returned an error", "db down"}},
		{name: "panic", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
				panic("kaboom")
			}, o...)
		}, log: []string{"function panicked", "kaboom", "function_test.go"}},
		{name: "1.0 without statusCode", fn: func(o ...FunctionOption) *FunctionHandler { return RawFunction(raw(`{"body":"x"}`), o...) },
			log: []string{"malformed function response", "no statusCode"}},
		{name: "1.0 plain JSON", fn: func(o ...FunctionOption) *FunctionHandler { return RawFunction(raw(`"hello"`), o...) },
			log: []string{"malformed function response", "not a JSON object"}},
		{name: "1.0 not JSON", fn: func(o ...FunctionOption) *FunctionHandler { return RawFunction(raw(`nope`), o...) },
			log: []string{"malformed function response", "not JSON"}},
		{name: "2.0 not JSON", apiType: "HTTP", fn: func(o ...FunctionOption) *FunctionHandler { return RawFunction(raw(`{`), o...) },
			log: []string{"malformed function response"}},
		{name: "2.0 empty", apiType: "HTTP", fn: func(o ...FunctionOption) *FunctionHandler { return RawFunction(raw(``), o...) },
			log: []string{"malformed function response", "empty"}},
		{name: "statusCode a string", fn: func(o ...FunctionOption) *FunctionHandler { return RawFunction(raw(`{"statusCode":"200"}`), o...) },
			log: []string{"malformed function response", "not an integer"}},
		{name: "body not a string", fn: func(o ...FunctionOption) *FunctionHandler {
			return RawFunction(raw(`{"statusCode":200,"body":{}}`), o...)
		},
			log: []string{"malformed function response"}},
		{name: "bad base64", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(v1(events.APIGatewayProxyResponse{StatusCode: 200, Body: "!!", IsBase64Encoded: true}, nil), o...)
		}, apiType: "HTTP", log: []string{"malformed function response", "isBase64Encoded"}},
		{name: "status out of range", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(v1(events.APIGatewayProxyResponse{StatusCode: 9999}, nil), o...)
		}, log: []string{"malformed function response", "out of range"}},
		{name: "missing status", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(v1(events.APIGatewayProxyResponse{Body: "x"}, nil), o...)
		}, log: []string{"malformed function response", "statusCode 0"}},
		{name: "header injection", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(v1(events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"X": "a\r\nSet-Cookie: evil"}}, nil), o...)
		}, log: []string{"malformed function response", "CR, LF"}},
		{name: "bad header name", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(v1(events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"X Y": "1"}}, nil), o...)
		}, log: []string{"malformed function response", "bad header name"}},
		{name: "event does not fit the input type", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(func(context.Context, int) (int, error) { return 0, nil }, o...)
		}, log: []string{"function returned an error", "cannot take the event"}},
		{name: "unencodable output", fn: func(o ...FunctionOption) *FunctionHandler {
			return Function(func(context.Context, json.RawMessage) (func(), error) { return func() {}, nil }, o...)
		}, log: []string{"malformed function response", "encoding the response"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuffer
			h := tt.fn(WithLogger(logs.logger()))
			apiType := tt.apiType
			if apiType == "" {
				apiType = "REST"
			}
			r, rc := gatewayRequest("GET", "/pets/7", nil, apiType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != 502 || rec.Header().Get("X-Amzn-Errortype") != "IntegrationFailureException" || rec.Body.String() != `{"message":"Internal server error"}` {
				t.Fatalf("got %d %v %q, want 502 INTEGRATION_FAILURE", rec.Code, rec.Header(), rec.Body)
			}
			if rc.IntegrationStatus != 502 || rc.Error.Type != reqctx.IntegrationFailure {
				t.Errorf("rc.IntegrationStatus %d, rc.Error.Type %s", rc.IntegrationStatus, rc.Error.Type)
			}
			log := logs.String()
			for _, want := range append(tt.log, "requestId=req-1") {
				if !strings.Contains(log, want) {
					t.Errorf("log %q lacks %q", log, want)
				}
			}
		})
	}
}

func TestFunctionRequestBody(t *testing.T) {
	called := false
	h := Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		called = true
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	})
	t.Run("over a MaxBytesReader limit", func(t *testing.T) {
		r, _ := gatewayRequest("POST", "/up", strings.NewReader(strings.Repeat("x", 100)), "REST")
		rec := httptest.NewRecorder()
		r.Body = http.MaxBytesReader(rec, r.Body, 10)
		h.ServeHTTP(rec, r)
		if rec.Code != 413 || rec.Header().Get("X-Amzn-Errortype") != "RequestTooLargeException" || called {
			t.Fatalf("got %d %q, function called %v; want 413 and no call", rec.Code, rec.Header().Get("X-Amzn-Errortype"), called)
		}
	})
	t.Run("read error", func(t *testing.T) {
		r, _ := gatewayRequest("POST", "/up", io.MultiReader(strings.NewReader("x"), errReader{}), "REST")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 400 || called {
			t.Fatalf("got %d, function called %v; want 400 and no call", rec.Code, called)
		}
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestFunctionOutlivesItsRequest(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(release) // let the function that ignores its context finish
		wg.Wait()
	})
	tests := []struct {
		name string
		fn   func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
	}{
		{name: "honours its context", fn: func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			<-ctx.Done()
			return events.APIGatewayProxyResponse{}, ctx.Err()
		}},
		{name: "answers after the deadline", fn: func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			<-ctx.Done()
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "too late"}, nil
		}},
		{name: "ignores its context", fn: func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			defer wg.Done()
			<-release
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "much too late"}, nil
		}},
		{name: "panics after the deadline", fn: func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			<-ctx.Done()
			panic("late kaboom")
		}},
	}
	var logs logBuffer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "ignores its context" {
				wg.Add(1)
			}
			h := Function(tt.fn, WithLogger(logs.logger()))
			r, rc := gatewayRequest("GET", "/slow", nil, "REST")
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Millisecond)
			defer cancel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r.WithContext(ctx))
			if rec.Code != 504 || rec.Header().Get("X-Amzn-Errortype") != "IntegrationTimeoutException" || rec.Body.String() != `{"message":"Endpoint request timed out"}` {
				t.Fatalf("got %d %q, want 504 INTEGRATION_TIMEOUT", rec.Code, rec.Body)
			}
			if rc.Error.Type != reqctx.IntegrationTimeout {
				t.Errorf("rc.Error.Type = %s", rc.Error.Type)
			}
		})
	}
	t.Run("deadline passed before the call", func(t *testing.T) {
		called := false
		h := Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			called = true
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}, WithLogger(logs.logger()))
		r, _ := gatewayRequest("GET", "/slow", nil, "REST")
		ctx, cancel := context.WithDeadline(r.Context(), time.Unix(1, 0))
		defer cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r.WithContext(ctx))
		if rec.Code != 504 || called {
			t.Fatalf("got %d, called %v; want 504 without a call", rec.Code, called)
		}
	})
	t.Run("client gone", func(t *testing.T) {
		h := Function(tests[0].fn, WithLogger(logs.logger()))
		r, _ := gatewayRequest("GET", "/slow", nil, "REST")
		ctx, cancel := context.WithCancel(r.Context())
		cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r.WithContext(ctx))
		if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
			t.Fatalf("wrote %v %q to a client that went away", rec.Header(), rec.Body)
		}
	})
}

func TestFunctionEventIsItsOwn(t *testing.T) {
	// Functions may change their event; the stage's shared maps and the
	// request must not change. Run concurrently under -race.
	stageVars := map[string]string{"table": "pets-prod"}
	h := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		ev.StageVariables["table"] = "hacked"
		ev.PathParameters["id"] = "hacked"
		ev.MultiValueHeaders["X-A"][0] = "hacked"
		ev.RequestContext.Authorizer["tenant"] = "hacked"
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			r, rc := gatewayRequest("GET", "/pets/7", nil, "REST")
			rc.StageVariables = stageVars
			r.Header.Set("X-A", "1")
			h.ServeHTTP(httptest.NewRecorder(), r)
			if rc.PathParams["id"] != "7" || r.Header.Get("X-A") != "1" || rc.Authorizer.Context["tenant"] != "acme" {
				t.Errorf("the function changed the request: %v %v %v", rc.PathParams, r.Header, rc.Authorizer.Context)
			}
		})
	}
	wg.Wait()
	if stageVars["table"] != "pets-prod" {
		t.Fatalf("the function changed the stage variables: %v", stageVars)
	}
}

func TestFunctionStandalone(t *testing.T) {
	var got events.APIGatewayProxyRequest
	fn := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = ev
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "hello " + ev.PathParameters["name"]}, nil
	})
	mux := http.NewServeMux()
	mux.Handle("GET /hello/{name}", fn)
	mux.Handle("/", fn)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := srv.Client().Get(srv.URL + "/hello/ada?a=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "hello ada" || res.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("got %d %q %q", res.StatusCode, b, res.Header.Get("Content-Type"))
	}
	runChecks(t, []check{
		{"resource", got.Resource, "/hello/{name}"},
		{"path", got.Path, "/hello/ada"},
		{"query", got.QueryStringParameters["a"], "1"},
		{"sourceIp", got.RequestContext.Identity.SourceIP, "127.0.0.1"},
		{"userAgent", got.RequestContext.Identity.UserAgent, "Go-http-client/1.1"},
		{"domainName", got.RequestContext.DomainName, "127.0.0.1"},
		{"protocol", got.RequestContext.Protocol, "HTTP/1.1"},
	})
	if len(got.RequestContext.RequestID) != 36 || got.RequestContext.RequestTimeEpoch == 0 {
		t.Errorf("requestId %q, requestTimeEpoch %d", got.RequestContext.RequestID, got.RequestContext.RequestTimeEpoch)
	}

	res, err = srv.Client().Post(srv.URL+"/other/path", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	runChecks(t, []check{
		{"resource without a pattern path", got.Resource, "/"},
		{"path", got.Path, "/other/path"},
		{"body", got.Body, "hi"},
	})
}

func TestMuxRoute(t *testing.T) {
	tests := []struct {
		pattern, path, method, resource, params string
	}{
		{"GET /pets/{id}", "/pets/7", "GET", "/pets/{id}", "id=7"},
		{"/files/{path...}", "/files/a/b", "", "/files/{path+}", "path=a/b"},
		{"POST example.com/x/{$}", "/x/", "POST", "/x/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			var method, resource string
			var params map[string]string
			mux := http.NewServeMux()
			mux.HandleFunc(tt.pattern, func(w http.ResponseWriter, r *http.Request) { method, resource, params = muxRoute(r) })
			r := httptest.NewRequest("POST", "http://example.com"+tt.path, nil)
			if tt.method != "" {
				r.Method = tt.method
			}
			mux.ServeHTTP(httptest.NewRecorder(), r)
			var ps []string
			for k, v := range params {
				ps = append(ps, k+"="+v)
			}
			if method != tt.method || resource != tt.resource || strings.Join(ps, "&") != tt.params {
				t.Fatalf("muxRoute = %q %q %v, want %q %q %q", method, resource, params, tt.method, tt.resource, tt.params)
			}
		})
	}
}

func TestFunctionResponses(t *testing.T) {
	tests := []struct {
		name          string
		apiType       string
		accept        string
		binaryTypes   []string
		out           string
		status        int
		body, ct      string
		headers       map[string]string
		noBodyWritten bool
	}{
		{name: "1.0 defaults to JSON", apiType: "REST", out: `{"statusCode":200,"body":"{}"}`, status: 200, body: "{}", ct: "application/json"},
		{name: "1.0 multi-value wins whatever the case", apiType: "REST", out: `{"statusCode":200,"headers":{"x-a":"single"},"multiValueHeaders":{"X-A":["m1","m2"]}}`,
			status: 200, ct: "application/json", headers: map[string]string{"X-A": "m1,m2"}},
		{name: "1.0 has no cookies", apiType: "REST", out: `{"statusCode":200,"cookies":["a=1"]}`, status: 200, ct: "application/json", headers: map[string]string{"Set-Cookie": ""}},
		{name: "REST decodes base64 for a binary Accept", apiType: "REST", accept: "text/html, image/webp", binaryTypes: []string{"image/webp"},
			out: `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, status: 200, body: "hi", ct: "application/json"},
		{name: "REST decodes base64 with */*", apiType: "REST", binaryTypes: []string{"*/*"},
			out: `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, status: 200, body: "hi", ct: "application/json"},
		{name: "REST keeps base64 without a binary media type", apiType: "REST",
			out: `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, status: 200, body: "aGk=", ct: "application/json"},
		{name: "HTTP API always decodes", apiType: "HTTP",
			out: `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, status: 200, body: "hi", ct: "application/json"},
		{name: "2.0 cookies", apiType: "HTTP", out: `{"statusCode":201,"cookies":["a=1","b=2; Secure"],"headers":{"content-type":"text/plain"},"body":"ok"}`,
			status: 201, body: "ok", ct: "text/plain", headers: map[string]string{"Set-Cookie": "a=1,b=2; Secure"}},
		{name: "2.0 null", apiType: "HTTP", out: `null`, status: 200, body: "null", ct: "application/json"},
		{name: "2.0 array", apiType: "HTTP", out: ` [1,2] `, status: 200, body: " [1,2] ", ct: "application/json"},
		{name: "framing headers dropped", apiType: "HTTP", out: `{"statusCode":200,"headers":{"Transfer-Encoding":"chunked","Connection":"close","Content-Length":"99"},"body":"abc"}`,
			status: 200, body: "abc", ct: "application/json", headers: map[string]string{"Transfer-Encoding": "", "Connection": "", "Content-Length": "3"}},
		{name: "204 has no body", apiType: "HTTP", out: `{"statusCode":204,"body":"ignored"}`, status: 204, ct: "application/json", headers: map[string]string{"Content-Length": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := RawFunction(func(context.Context, []byte) ([]byte, error) { return []byte(tt.out), nil }, WithLogger(discardLogger()))
			r, rc := gatewayRequest("GET", "/pets/7", nil, tt.apiType)
			rc.BinaryMediaTypes = tt.binaryTypes
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.status || rec.Body.String() != tt.body || rec.Header().Get("Content-Type") != tt.ct {
				t.Fatalf("got %d %q %q, want %d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Type"), tt.status, tt.body, tt.ct)
			}
			for k, want := range tt.headers {
				if got := strings.Join(rec.Header().Values(k), ","); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestFunctionHead(t *testing.T) {
	h := Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: "body"}, nil
	})
	r, _ := gatewayRequest("HEAD", "/pets/7", nil, "REST")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "4" {
		t.Fatalf("HEAD: %d %q Content-Length %q", rec.Code, rec.Body, rec.Header().Get("Content-Length"))
	}
}
