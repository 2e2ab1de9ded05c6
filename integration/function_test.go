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
		RouteKey:          "POST /pets/{id}",
		ResourcePath:      "/pets/{id}",
		ResourceID:        "r001",
		Path:              "/prod" + r.URL.Path,
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
	}
	return r.WithContext(reqctx.With(r.Context(), rc)), rc
}

func quietLogger(buf *bytes.Buffer, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestFunctionV1WithLambdaTypes(t *testing.T) {
	var got events.APIGatewayProxyRequest
	h := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = ev
		return events.APIGatewayProxyResponse{
			StatusCode:        201,
			Headers:           map[string]string{"X-One": "1", "X-Both": "single"},
			MultiValueHeaders: map[string][]string{"X-Both": {"a", "b"}, "Set-Cookie": {"a=1", "b=2"}},
			Body:              base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}),
			IsBase64Encoded:   true,
		}, nil
	})
	r, _ := gatewayRequest("POST", "/pets/7?q=a&q=b&one=1", strings.NewReader(`{"name":"Rex"}`), "REST")
	r.Header.Add("X-Dup", "first")
	r.Header.Add("X-Dup", "second")
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)

	if rec.Code != 201 || !bytes.Equal(rec.Body.Bytes(), []byte{0, 1, 2, 255}) {
		t.Fatalf("response %d %v", rec.Code, rec.Body.Bytes())
	}
	if got := rec.Header().Values("X-Both"); strings.Join(got, ",") != "a,b" {
		t.Errorf("multi-value header must win: X-Both = %v", got)
	}
	if got := rec.Header().Values("Set-Cookie"); len(got) != 2 || rec.Header().Get("X-One") != "1" {
		t.Errorf("headers %v", rec.Header())
	}
	checks := []struct{ name, got, want string }{
		{"resource", got.Resource, "/pets/{id}"},
		{"path", got.Path, "/pets/7"},
		{"method", got.HTTPMethod, "POST"},
		{"header last value", got.Headers["X-Dup"], "second"},
		{"multi header", strings.Join(got.MultiValueHeaders["X-Dup"], ","), "first,second"},
		{"query last", got.QueryStringParameters["q"], "b"},
		{"multi query", strings.Join(got.MultiValueQueryStringParameters["q"], ","), "a,b"},
		{"path param", got.PathParameters["id"], "7"},
		{"stage variable", got.StageVariables["table"], "pets-prod"},
		{"body", got.Body, `{"name":"Rex"}`},
		{"ctx path", got.RequestContext.Path, "/prod/pets/7"},
		{"ctx stage", got.RequestContext.Stage, "prod"},
		{"ctx request id", got.RequestContext.RequestID, "req-1"},
		{"ctx account", got.RequestContext.AccountID, "123456789012"},
		{"ctx api", got.RequestContext.APIID, "pets"},
		{"ctx resource path", got.RequestContext.ResourcePath, "/pets/{id}"},
		{"ctx time", got.RequestContext.RequestTime, "04/Mar/2026:05:06:07 +0000"},
		{"source ip", got.RequestContext.Identity.SourceIP, "198.51.100.7"},
		{"user agent", got.RequestContext.Identity.UserAgent, "unit-test"},
		{"principal", got.RequestContext.Authorizer["principalId"].(string), "user-1"},
		{"authorizer context", got.RequestContext.Authorizer["tenant"].(string), "acme"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if got.IsBase64Encoded || got.RequestContext.RequestTimeEpoch != t0.UnixMilli() {
		t.Errorf("base64 %v epoch %d", got.IsBase64Encoded, got.RequestContext.RequestTimeEpoch)
	}
}

func TestFunctionV1BinaryRequest(t *testing.T) {
	var got events.APIGatewayProxyRequest
	h := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = ev
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	})
	r, _ := gatewayRequest("POST", "/img", bytes.NewReader([]byte{0xff, 0xd8}), "REST")
	r.Header.Set("Content-Type", "image/jpeg")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !got.IsBase64Encoded || got.Body != base64.StdEncoding.EncodeToString([]byte{0xff, 0xd8}) {
		t.Fatalf("binary body: %v %q", got.IsBase64Encoded, got.Body)
	}
}

func TestFunctionV1EmptyMapsAreNull(t *testing.T) {
	var raw []byte
	h := RawFunction(func(ctx context.Context, ev []byte) ([]byte, error) {
		raw = ev
		return []byte(`{"statusCode":204}`), nil
	}, WithPayloadFormat(PayloadV1))
	r := httptest.NewRequest("GET", "/plain", nil)
	r.Header = http.Header{}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 204 {
		t.Fatalf("status %d", rec.Code)
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
}

func TestFunctionV2WithLambdaTypes(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	h := Function(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = ev
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"content-type": "text/plain"},
			Body:       "hi",
			Cookies:    []string{"s=1; HttpOnly", "t=2"},
		}, nil
	})
	r, rc := gatewayRequest("POST", "/pets/7?q=a&q=b", strings.NewReader("a=1&b=2"), "HTTP")
	rc.Authorizer = reqctx.Authorizer{Kind: "jwt", Claims: map[string]any{"sub": "u1", "groups": []any{"a", "b"}}, Scopes: []string{"pets:read"}}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Add("X-Dup", "1")
	r.Header.Add("X-Dup", "2")
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Body.String() != "hi" || strings.Join(rec.Header().Values("Set-Cookie"), "|") != "s=1; HttpOnly|t=2" {
		t.Fatalf("response %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	checks := []struct{ name, got, want string }{
		{"version", got.Version, "2.0"},
		{"route key", got.RouteKey, "POST /pets/{id}"},
		{"raw path", got.RawPath, "/prod/pets/7"},
		{"raw query", got.RawQueryString, "q=a&q=b"},
		{"cookies", strings.Join(got.Cookies, "|"), "a=1|b=2|c=3"},
		{"lower-case joined header", got.Headers["x-dup"], "1,2"},
		{"query joined", got.QueryStringParameters["q"], "a,b"},
		{"path param", got.PathParameters["id"], "7"},
		{"stage variable", got.StageVariables["table"], "pets-prod"},
		{"form body is base64", got.Body, base64.StdEncoding.EncodeToString([]byte("a=1&b=2"))},
		{"ctx method", got.RequestContext.HTTP.Method, "POST"},
		{"ctx source ip", got.RequestContext.HTTP.SourceIP, "198.51.100.7"},
		{"ctx user agent", got.RequestContext.HTTP.UserAgent, "unit-test"},
		{"ctx stage", got.RequestContext.Stage, "prod"},
		{"ctx request id", got.RequestContext.RequestID, "req-1"},
		{"jwt claim", got.RequestContext.Authorizer.JWT.Claims["sub"], "u1"},
		{"jwt array claim", got.RequestContext.Authorizer.JWT.Claims["groups"], "[a b]"},
		{"jwt scope", strings.Join(got.RequestContext.Authorizer.JWT.Scopes, ","), "pets:read"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !got.IsBase64Encoded || got.RequestContext.TimeEpoch != t0.UnixMilli() {
		t.Errorf("base64 %v, epoch %d", got.IsBase64Encoded, got.RequestContext.TimeEpoch)
	}
}

func TestFunctionV2TextBodies(t *testing.T) {
	for _, tc := range []struct {
		ct     string
		base64 bool
	}{
		{"application/json", false}, {"text/plain; charset=utf-8", false}, {"application/xml", false},
		{"application/javascript", false}, {"application/problem+json", false},
		{"", true}, {"application/octet-stream", true}, {"image/png", true},
	} {
		var got events.APIGatewayV2HTTPRequest
		h := Function(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			got = ev
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		})
		r, _ := gatewayRequest("POST", "/x", strings.NewReader("body"), "HTTP")
		if tc.ct != "" {
			r.Header.Set("Content-Type", tc.ct)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got.IsBase64Encoded != tc.base64 {
			t.Errorf("Content-Type %q: isBase64Encoded = %v, want %v", tc.ct, got.IsBase64Encoded, tc.base64)
		}
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

func TestFunctionCustomTypes(t *testing.T) {
	h := Function(func(ctx context.Context, ev myEvent) (myResponse, error) {
		return myResponse{StatusCode: 202, Headers: map[string]string{"Content-Type": "text/plain"}, Body: ev.PathParameters["id"] + "@" + ev.RequestContext.Stage}, nil
	})
	r, _ := gatewayRequest("GET", "/pets/7", nil, "REST")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 202 || rec.Body.String() != "7@prod" || rec.Header().Get("Content-Type") != "text/plain" {
		t.Fatalf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
}

func TestFunctionV2PlainJSONOutput(t *testing.T) {
	h := Function(func(ctx context.Context, ev map[string]any) (map[string]any, error) {
		return map[string]any{"hello": ev["routeKey"]}, nil
	})
	r, _ := gatewayRequest("GET", "/pets/7", nil, "HTTP")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Body.String() != `{"hello":"POST /pets/{id}"}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
}

func TestFunctionFailures(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := quietLogger(&logs, &mu)
	tests := []struct {
		name   string
		h      http.Handler
		format string
		status int
		log    string
	}{
		{name: "error", h: Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("db down")
		}, WithLogger(logger)), status: 502, log: "db down"},
		{name: "panic", h: Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			panic("kaboom")
		}, WithLogger(logger)), status: 502, log: "kaboom"},
		{name: "v1 without statusCode", h: RawFunction(func(context.Context, []byte) ([]byte, error) {
			return []byte(`{"body":"x"}`), nil
		}, WithLogger(logger), WithPayloadFormat(PayloadV1)), status: 502, log: "no statusCode"},
		{name: "v1 not JSON", h: RawFunction(func(context.Context, []byte) ([]byte, error) {
			return []byte(`nope`), nil
		}, WithLogger(logger), WithPayloadFormat(PayloadV1)), status: 502, log: "malformed function response"},
		{name: "v2 not JSON", h: RawFunction(func(context.Context, []byte) ([]byte, error) {
			return []byte(`{`), nil
		}, WithLogger(logger), WithPayloadFormat(PayloadV2)), status: 502, log: "not JSON"},
		{name: "bad base64", h: Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "!!", IsBase64Encoded: true}, nil
		}, WithLogger(logger)), status: 502, log: "isBase64Encoded"},
		{name: "status out of range", h: Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 9999}, nil
		}, WithLogger(logger)), status: 502, log: "out of range"},
		{name: "header injection", h: Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"X": "a\r\nSet-Cookie: evil"}}, nil
		}, WithLogger(logger)), status: 502, log: "CR, LF"},
		{name: "wrong event type for the format", h: Function(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}, WithLogger(logger), WithPayloadFormat(PayloadV1)), status: 502, log: "payload 2.0 event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := gatewayRequest("GET", "/pets/7", nil, "REST")
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, r)
			if rec.Code != tt.status || rec.Header().Get("X-Amzn-Errortype") != "IntegrationFailureException" || rec.Body.String() != `{"message":"Internal server error"}` {
				t.Fatalf("%d %v %q", rec.Code, rec.Header(), rec.Body)
			}
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(logs.String(), tt.log) || !strings.Contains(logs.String(), "req-1") {
				t.Fatalf("log %q lacks %q and the request id", logs.String(), tt.log)
			}
		})
	}
}

func TestFunctionBodyTooLarge(t *testing.T) {
	called := false
	h := Function(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		called = true
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	})
	r, _ := gatewayRequest("POST", "/up", strings.NewReader(strings.Repeat("x", 100)), "REST")
	rec := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(rec, r.Body, 10)
	h.ServeHTTP(rec, r)
	if rec.Code != 413 || called {
		t.Fatalf("%d called=%v", rec.Code, called)
	}
}

func TestFunctionOutlivesItsRequest(t *testing.T) {
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
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Function(tt.fn, WithLogger(quietLogger(&logs, &mu)))
			r, _ := gatewayRequest("GET", "/slow", nil, "REST")
			ctx, cancel := context.WithTimeoutCause(r.Context(), time.Millisecond, context.DeadlineExceeded)
			defer cancel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r.WithContext(ctx))
			if rec.Code != 504 || rec.Header().Get("X-Amzn-Errortype") != "IntegrationTimeoutException" {
				t.Fatalf("%d %q", rec.Code, rec.Body)
			}
		})
	}
	t.Run("client gone", func(t *testing.T) {
		h := Function(tests[0].fn, WithLogger(quietLogger(&logs, &mu)))
		r, _ := gatewayRequest("GET", "/slow", nil, "REST")
		ctx, cancel := context.WithCancel(r.Context())
		cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r.WithContext(ctx))
		if rec.Body.Len() != 0 {
			t.Fatalf("wrote %q to a client that went away", rec.Body)
		}
	})
}

func TestFunctionStandalone(t *testing.T) {
	h := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: ev.Path + " " + ev.RequestContext.Identity.SourceIP + " " + ev.QueryStringParameters["a"]}, nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/x/y?a=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "/x/y 127.0.0.1 1" {
		t.Fatalf("%q", b)
	}
}

func TestMock(t *testing.T) {
	m := Mock{Status: 418, Header: http.Header{"X-Env": {"${stageVariables.env}"}}, Body: "env=${stageVariables.env}"}
	h, err := m.BindStage(map[string]string{"env": "dev"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 418 || rec.Body.String() != "env=dev" || rec.Header().Get("X-Env") != "dev" {
		t.Fatalf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
	for _, bad := range []Mock{{Body: "${stageVariables.nope}"}, {Header: http.Header{"X": {"${stageVariables.nope}"}}}, {Status: 1000}} {
		if _, err := bad.BindStage(nil); err == nil {
			t.Errorf("BindStage(%+v) succeeded", bad)
		}
	}
	rec = httptest.NewRecorder()
	Mock{}.ServeHTTP(rec, httptest.NewRequest("HEAD", "/", nil))
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("zero mock: %d %q", rec.Code, rec.Body)
	}
}

func TestRegistry(t *testing.T) {
	named := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, s) })
	}
	reg := Registry{"getPet": named("plain"), "getPet:live": named("live"), "other": named("other")}
	tests := []struct {
		name, ref string
		vars      map[string]string
		want, err string
	}{
		{name: "plain name", ref: "getPet", want: "plain"},
		{name: "alias from stage variable", ref: "getPet:${stageVariables.alias}", vars: map[string]string{"alias": "live"}, want: "live"},
		{name: "function ARN with alias", ref: "arn:aws:lambda:us-east-1:123456789012:function:getPet:live", want: "live"},
		{name: "function ARN falls back to name", ref: "arn:aws:lambda:us-east-1:123456789012:function:getPet:beta", want: "plain"},
		{name: "invocation URI", ref: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:other/invocations", want: "other"},
		{name: "unknown", ref: "nope", err: `function "nope" (from "nope") is not in the registry`},
		{name: "bad ARN", ref: "arn:aws:lambda:x", err: "not in the registry"},
		{name: "undefined variable", ref: "getPet:${stageVariables.alias}", err: `stage variable "alias" is not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Ref(reg, tt.ref).BindStage(tt.vars)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Body.String() != tt.want {
				t.Fatalf("served %q, want %q", rec.Body, tt.want)
			}
		})
	}
	rec := httptest.NewRecorder()
	Ref(reg, "nope").ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Fatalf("unbound unknown ref: %d", rec.Code)
	}
}
