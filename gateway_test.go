package portico

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/reqctx"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// text returns a handler that answers with s and the route it saw.
func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := reqctx.From(r.Context())
		fmt.Fprintf(w, "%s route=%q path=%s", s, rc.RouteKey, r.URL.Path)
	})
}

func newGateway(t *testing.T, opts ...Option) *Gateway {
	t.Helper()
	gw, err := New(append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})
	return gw
}

func mustDeploy(t *testing.T, gw *Gateway, api *API, cfg StageConfig) *Stage {
	t.Helper()
	st, err := gw.Deploy(api, cfg)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	return st
}

func serve(gw http.Handler, method, target string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	return rec
}

func messageOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct{ Message string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not a JSON message: %v", rec.Body, err)
	}
	return body.Message
}

func TestRouting(t *testing.T) {
	api := NewAPI("pets", REST)
	api.Handle("GET /pets", text("list"))
	api.Handle("GET /pets/mine", text("mine"))
	api.Handle("GET /pets/{id}", text("one"))
	api.Handle("DELETE /pets/{id}", text("delete"))
	api.Handle("GET /pets/{id}/toys", text("toys"))
	api.Handle("ANY /files/{proxy+}", text("files"))
	api.Handle("POST /files/upload", text("upload"))
	gw := newGateway(t)
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})

	tests := []struct {
		name, method, path string
		status             int
		body               string
		allow              string
	}{
		{name: "literal", method: "GET", path: "/prod/pets", status: 200, body: `list route="GET /pets" path=/pets`},
		{name: "literal beats param", method: "GET", path: "/prod/pets/mine", status: 200, body: "mine"},
		{name: "param", method: "GET", path: "/prod/pets/7", status: 200, body: `one route="GET /pets/{id}" path=/pets/7`},
		{name: "trailing slash", method: "GET", path: "/prod/pets/7/", status: 200, body: "one"},
		{name: "nested", method: "GET", path: "/prod/pets/7/toys", status: 200, body: "toys"},
		{name: "greedy ANY", method: "PUT", path: "/prod/files/a/b/c", status: 200, body: `files route="ANY /files/{proxy+}"`},
		{name: "method beats ANY", method: "POST", path: "/prod/files/upload", status: 200, body: "upload"},
		{name: "ANY takes other methods", method: "GET", path: "/prod/files/upload", status: 200, body: "files"},
		{name: "greedy needs a segment", method: "GET", path: "/prod/files", status: 404},
		{name: "HEAD falls back to GET", method: "HEAD", path: "/prod/pets", status: 200},
		{name: "wrong method", method: "POST", path: "/prod/pets/7", status: 405, allow: "DELETE, GET"},
		{name: "unknown path", method: "GET", path: "/prod/owners", status: 404},
		{name: "unknown stage", method: "GET", path: "/test/pets", status: 404},
		{name: "no stage", method: "GET", path: "/", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(gw, tt.method, tt.path, nil)
			if rec.Code != tt.status {
				t.Fatalf("%s %s: status %d, want %d (body %s)", tt.method, tt.path, rec.Code, tt.status, rec.Body)
			}
			if tt.body != "" && !strings.HasPrefix(rec.Body.String(), tt.body) {
				t.Errorf("body %q, want prefix %q", rec.Body, tt.body)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if rec.Code >= 400 {
				if rec.Header().Get("X-Amzn-Errortype") == "" {
					t.Error("error response without x-amzn-ErrorType")
				}
				if tt.method != "HEAD" {
					messageOf(t, rec)
				}
			}
			if rec.Header().Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId header")
			}
		})
	}
}

func TestNotFoundCompatibility(t *testing.T) {
	api := NewAPI("pets", REST)
	api.Handle("GET /pets", text("list"))
	gw := newGateway(t, WithMissingAuthenticationToken())
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	for _, path := range []string{"/prod/nope", "/nostage/pets", "/"} {
		rec := serve(gw, "GET", path, nil)
		if rec.Code != 403 || messageOf(t, rec) != "Missing Authentication Token" || rec.Header().Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
			t.Errorf("GET %s = %d %s %v, want 403 Missing Authentication Token", path, rec.Code, rec.Body, rec.Header())
		}
	}
	if rec := serve(gw, "POST", "/prod/pets", nil); rec.Code != 403 {
		t.Errorf("POST /prod/pets = %d, want 403 in compatibility mode", rec.Code)
	}
}

func TestDefaultRoute(t *testing.T) {
	api := NewAPI("svc", HTTP)
	api.Handle("GET /pets/{id}", text("pet"))
	api.Handle("$default", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := reqctx.From(r.Context())
		fmt.Fprintf(w, "default %s proxy=%s", rc.RouteKey, rc.PathParams["proxy"])
	}))
	gw := newGateway(t)
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	tests := []struct{ method, path, want string }{
		{"GET", "/prod/pets/1", "pet"},
		{"POST", "/prod/pets/1", "default $default proxy=pets/1"},
		{"GET", "/prod/anything/else", "default $default proxy=anything/else"},
		{"GET", "/prod", "default $default proxy="},
	}
	for _, tt := range tests {
		rec := serve(gw, tt.method, tt.path, nil)
		if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), tt.want) {
			t.Errorf("%s %s = %d %q, want %q", tt.method, tt.path, rec.Code, rec.Body, tt.want)
		}
		if rec.Header().Get("Apigw-Requestid") == "" {
			t.Errorf("HTTP API response without apigw-requestid")
		}
	}
}

func TestDeployErrors(t *testing.T) {
	ok := text("ok")
	api := func(mod func(a *API)) *API {
		a := NewAPI("pets", REST)
		a.Handle("GET /pets", ok)
		mod(a)
		return a
	}
	tests := []struct {
		name string
		api  *API
		cfg  StageConfig
		want string
	}{
		{name: "nil API", api: nil, cfg: StageConfig{Name: "dev"}, want: "API is nil"},
		{name: "no name", api: api(func(a *API) { a.Name = " " }), cfg: StageConfig{Name: "dev"}, want: "name is empty"},
		{name: "bad type", api: api(func(a *API) { a.Type = "SOAP" }), cfg: StageConfig{Name: "dev"}, want: `unknown type "SOAP"`},
		{name: "websocket", api: api(func(a *API) { a.Type = WebSocket }), cfg: StageConfig{Name: "dev"}, want: `route "GET /pets" Method: WebSocket routes have a route key and no method`},
		{name: "bad version", api: api(func(a *API) { a.Version = "v 1" }), cfg: StageConfig{Name: "dev"}, want: "version"},
		{name: "bad stage name", api: api(func(*API) {}), cfg: StageConfig{Name: "de/v"}, want: "stage name"},
		{name: "empty stage name", api: api(func(*API) {}), cfg: StageConfig{Name: ""}, want: "stage name"},
		{name: "bad variable name", api: api(func(*API) {}), cfg: StageConfig{Name: "dev", Variables: map[string]string{"a-b": "x"}}, want: "stage variable name"},
		{name: "bad variable value", api: api(func(*API) {}), cfg: StageConfig{Name: "dev", Variables: map[string]string{"a": "x y"}}, want: "character"},
		{name: "undefined variable", api: api(func(a *API) {
			a.Handle("GET /mock", integration.Mock{Body: "${stageVariables.missing}"})
		}), cfg: StageConfig{Name: "dev"}, want: `route "GET /mock" Integration: mock body: stage variable "missing" is not defined`},
		{name: "no integration", api: api(func(a *API) { a.Handle("GET /x", nil) }), cfg: StageConfig{Name: "dev"}, want: `route "GET /x" Integration: no integration`},
		{name: "duplicate", api: api(func(a *API) { a.Handle("GET /pets/", ok) }), cfg: StageConfig{Name: "dev"}, want: `route "GET /pets/" Path`},
		{name: "malformed template", api: api(func(a *API) { a.Handle("GET /pets/{id", ok) }), cfg: StageConfig{Name: "dev"}, want: `route "GET /pets/{id" Path`},
		{name: "two greedy", api: api(func(a *API) { a.Handle("GET /{a+}/{b+}", ok) }), cfg: StageConfig{Name: "dev"}, want: `route "GET /{a+}/{b+}" Path`},
		{name: "no method", api: api(func(a *API) { a.Handle("/x", ok) }), cfg: StageConfig{Name: "dev"}, want: `route " /x" Path`},
		{name: "lower-case method", api: api(func(a *API) { a.Handle("get /x", ok) }), cfg: StageConfig{Name: "dev"}, want: `route "get /x" Path`},
		{name: "two defaults", api: api(func(a *API) { a.Handle("$default", ok); a.Handle("$default", ok) }), cfg: StageConfig{Name: "dev"}, want: "duplicate $default"},
		{name: "negative timeout", api: api(func(a *API) { a.AddRoute(Route{Method: "GET", Path: "/t", Integration: ok, Timeout: -1}) }), cfg: StageConfig{Name: "dev"}, want: `route "GET /t" Timeout`},
		{name: "negative stage timeout", api: api(func(*API) {}), cfg: StageConfig{Name: "dev", IntegrationTimeout: -time.Second}, want: "IntegrationTimeout"},
		{name: "unknown response type", api: api(func(a *API) {
			a.GatewayResponses = map[reqctx.ResponseType]GatewayResponse{"NOPE": {}}
		}), cfg: StageConfig{Name: "dev"}, want: `unknown gateway response type "NOPE"`},
		{name: "unknown context variable", api: api(func(a *API) {
			a.GatewayResponses = map[reqctx.ResponseType]GatewayResponse{reqctx.Throttled: {Body: `{"x":"$context.nope"}`}}
		}), cfg: StageConfig{Name: "dev"}, want: "unknown variable $context.nope"},
		{name: "response header CRLF", api: api(func(a *API) {
			a.GatewayResponses = map[reqctx.ResponseType]GatewayResponse{reqctx.Throttled: {Headers: map[string]string{"X": "a\r\nb"}}}
		}), cfg: StageConfig{Name: "dev"}, want: "CR or LF"},
		{name: "response undefined stage variable", api: api(func(a *API) {
			a.GatewayResponses = map[reqctx.ResponseType]GatewayResponse{reqctx.Default4XX: {Body: `$stageVariables.nope`}}
		}), cfg: StageConfig{Name: "dev"}, want: `stage variable "nope"`},
		{name: "bad status", api: api(func(a *API) {
			a.GatewayResponses = map[reqctx.ResponseType]GatewayResponse{reqctx.Throttled: {Status: 99}}
		}), cfg: StageConfig{Name: "dev"}, want: "status 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := newGateway(t)
			st, err := gw.Deploy(tt.api, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Deploy() = %v, %v; want error containing %q", st, err, tt.want)
			}
			if len(gw.Stages()) != 0 {
				t.Fatal("a failed deploy created a stage")
			}
		})
	}
}

func TestDeployErrorKeepsStage(t *testing.T) {
	gw := newGateway(t)
	api := NewAPI("pets", REST)
	api.Handle("GET /pets", text("v1"))
	st := mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	bad := NewAPI("pets", REST)
	bad.Handle("GET /pets/{", text("v2"))
	if _, err := gw.Deploy(bad, StageConfig{Name: "prod"}); err == nil {
		t.Fatal("bad deploy succeeded")
	}
	var re *RouteError
	if _, err := gw.Deploy(bad, StageConfig{Name: "prod"}); !errors.As(err, &re) || re.Field != "Path" {
		t.Fatalf("error %v is not a RouteError on Path", err)
	}
	if got := len(st.History()); got != 1 {
		t.Fatalf("history has %d deployments, want 1", got)
	}
	if rec := serve(gw, "GET", "/prod/pets", nil); !strings.HasPrefix(rec.Body.String(), "v1") {
		t.Fatalf("after a failed deploy the stage serves %q", rec.Body)
	}
}

func TestStageVariables(t *testing.T) {
	gw := newGateway(t)
	api := NewAPI("svc", HTTP)
	api.Handle("GET /info", integration.Mock{Status: 201, Header: http.Header{"X-Env": {"${stageVariables.env}"}}, Body: `{"backend":"${stageVariables.backend}"}`})
	api.Handle("GET /vars", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, reqctx.From(r.Context()).StageVariables["env"])
	}))
	mustDeploy(t, gw, api, StageConfig{Name: "dev", Variables: map[string]string{"env": "dev", "backend": "dev.internal:8080"}})
	mustDeploy(t, gw, api, StageConfig{Name: "prod", Variables: map[string]string{"env": "prod", "backend": "prod.internal:8080"}})
	for _, stage := range []string{"dev", "prod"} {
		rec := serve(gw, "GET", "/"+stage+"/info", nil)
		if rec.Code != 201 || rec.Body.String() != `{"backend":"`+stage+`.internal:8080"}` || rec.Header().Get("X-Env") != stage {
			t.Errorf("%s: %d %v %q", stage, rec.Code, rec.Header(), rec.Body)
		}
		if rec := serve(gw, "GET", "/"+stage+"/vars", nil); rec.Body.String() != stage {
			t.Errorf("%s: handler saw stage variable env=%q", stage, rec.Body)
		}
	}
}

func TestRedeployAndRollback(t *testing.T) {
	gw := newGateway(t)
	deploy := func(s string) *Stage {
		api := NewAPI("pets", REST)
		api.Handle("GET /v", text(s))
		return mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	}
	get := func() string { return strings.Fields(serve(gw, "GET", "/prod/v", nil).Body.String())[0] }
	st := deploy("one")
	deploy("two")
	deploy("three")
	if got := get(); got != "three" {
		t.Fatalf("after 3 deploys: %s", got)
	}
	h := st.History()
	if len(h) != 3 || st.Deployment() != h[2] {
		t.Fatalf("history %d, current is last: %v", len(h), st.Deployment() == h[2])
	}
	if _, err := st.Rollback(); err != nil || get() != "two" {
		t.Fatalf("rollback: %v, serving %s", err, get())
	}
	if _, err := st.Rollback(); err != nil || get() != "one" {
		t.Fatalf("second rollback: %v, serving %s", err, get())
	}
	if _, err := st.Rollback(); !errors.Is(err, ErrNoPreviousDeployment) {
		t.Fatalf("rollback past the first = %v", err)
	}
	if _, err := st.RollbackTo(h[2].ID); err != nil || get() != "three" {
		t.Fatalf("RollbackTo: %v, serving %s", err, get())
	}
	if _, err := st.RollbackTo("nope"); err == nil {
		t.Fatal("RollbackTo unknown id succeeded")
	}
	if gw.Stage("pets", "", "prod") != st {
		t.Fatal("Gateway.Stage did not find the stage")
	}
}

func TestSnapshotIsImmutable(t *testing.T) {
	gw := newGateway(t)
	api := NewAPI("pets", REST)
	api.Handle("GET /a", text("a"))
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	api.Handle("GET /b", text("b"))
	api.Routes[0].Integration = text("changed")
	if rec := serve(gw, "GET", "/prod/b", nil); rec.Code != 404 {
		t.Fatalf("route added after deploy is served: %d", rec.Code)
	}
	if rec := serve(gw, "GET", "/prod/a", nil); !strings.HasPrefix(rec.Body.String(), "a ") {
		t.Fatalf("changed integration is served: %q", rec.Body)
	}
}

func TestInFlightFinishesOnOldDeployment(t *testing.T) {
	gw := newGateway(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	old := NewAPI("pets", REST)
	old.Handle("GET /v", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		fmt.Fprint(w, "old ", reqctx.From(r.Context()).DeploymentID)
	}))
	st := mustDeploy(t, gw, old, StageConfig{Name: "prod"})
	oldID := st.Deployment().ID
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(gw, "GET", "/prod/v", nil) }()
	<-entered
	next := NewAPI("pets", REST)
	next.Handle("GET /v", text("new"))
	mustDeploy(t, gw, next, StageConfig{Name: "prod"})
	if rec := serve(gw, "GET", "/prod/v", nil); !strings.HasPrefix(rec.Body.String(), "new") {
		t.Fatalf("new request served %q", rec.Body)
	}
	close(release)
	if rec := <-done; rec.Body.String() != "old "+oldID {
		t.Fatalf("in-flight request got %q, want old %s", rec.Body, oldID)
	}
}

func TestConcurrentRedeploysUnderLoad(t *testing.T) {
	// The account limit (burst 5,000) is not under test here: lift it so
	// that 8,000 fast requests are not throttled.
	gw := newGateway(t, WithAccountThrottle(1e9, 1_000_000_000))
	deploy := func(n int) {
		api := NewAPI("pets", REST)
		api.Handle("GET /n", text(fmt.Sprint(n)))
		api.Handle("GET /pets/{id}", text("pet"))
		if _, err := gw.Deploy(api, StageConfig{Name: "prod", Variables: map[string]string{"n": fmt.Sprint(n)}}); err != nil {
			t.Error(err)
		}
	}
	deploy(0)
	var wg sync.WaitGroup
	var bad atomic.Int64
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if rec := serve(gw, "GET", "/prod/pets/1", nil); rec.Code != 200 {
					bad.Add(1)
				}
			}
		}()
	}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= 50; i++ {
				deploy(w*100 + i)
			}
		}()
	}
	go func() { wg.Wait(); close(stop) }()
	<-stop
	if bad.Load() != 0 {
		t.Fatalf("%d requests failed during redeploys", bad.Load())
	}
	if n := len(gw.Stage("pets", "", "prod").History()); n != maxHistory {
		t.Fatalf("history has %d deployments, want the cap %d", n, maxHistory)
	}
}

func TestVersions(t *testing.T) {
	gw := newGateway(t)
	sunset := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	v1 := NewAPI("pets", REST)
	v1.Version = "v1"
	v1.Deprecation = &Deprecation{Since: time.Unix(1700000000, 0), Sunset: sunset, Successor: "/prod/v2/pets", Documentation: "https://example.com/deprecation"}
	v1.Handle("GET /pets", text("v1"))
	v2 := NewAPI("pets", REST)
	v2.Version = "v2"
	v2.Handle("GET /pets", text("v2"))
	mustDeploy(t, gw, v1, StageConfig{Name: "prod"})
	mustDeploy(t, gw, v2, StageConfig{Name: "prod"})

	tests := []struct {
		name, path string
		hdr        []string
		status     int
		want       string
	}{
		{name: "v1 by path", path: "/prod/v1/pets", status: 200, want: "v1"},
		{name: "v2 by path", path: "/prod/v2/pets", status: 200, want: "v2"},
		{name: "no version, no default", path: "/prod/pets", status: 404},
		{name: "unknown version segment", path: "/prod/v3/pets", status: 404},
	}
	run := func() {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec := serve(gw, "GET", tt.path, nil, tt.hdr...)
				if rec.Code != tt.status || tt.want != "" && !strings.HasPrefix(rec.Body.String(), tt.want) {
					t.Fatalf("GET %s %v = %d %q, want %d %q", tt.path, tt.hdr, rec.Code, rec.Body, tt.status, tt.want)
				}
			})
		}
	}
	run()
	if err := gw.SetVersioning("pets", Versioning{Header: "Api-Version", Default: "v2"}); err != nil {
		t.Fatal(err)
	}
	tests = []struct {
		name, path string
		hdr        []string
		status     int
		want       string
	}{
		{name: "default version", path: "/prod/pets", status: 200, want: "v2"},
		{name: "header v1", path: "/prod/pets", hdr: []string{"Api-Version", "v1"}, status: 200, want: "v1"},
		{name: "header unknown", path: "/prod/pets", hdr: []string{"Api-Version", "v9"}, status: 404},
		{name: "path beats header", path: "/prod/v2/pets", hdr: []string{"Api-Version", "v1"}, status: 200, want: "v2"},
	}
	run()

	rec := serve(gw, "GET", "/prod/v1/pets", nil)
	if got := rec.Header().Get("Deprecation"); got != "@1700000000" {
		t.Errorf("Deprecation = %q", got)
	}
	if got := rec.Header().Get("Sunset"); got != "Fri, 01 Jan 2027 00:00:00 GMT" {
		t.Errorf("Sunset = %q", got)
	}
	if got := rec.Header().Get("Link"); got != `</prod/v2/pets>; rel="successor-version", <https://example.com/deprecation>; rel="deprecation"` {
		t.Errorf("Link = %q", got)
	}
	if rec := serve(gw, "GET", "/prod/v2/pets", nil); rec.Header().Get("Deprecation") != "" {
		t.Error("v2 is marked deprecated")
	}
	if err := gw.SetVersioning("pets", Versioning{Header: "Bad Header"}); err == nil {
		t.Error("bad header name accepted")
	}
}

func TestBasePathMappings(t *testing.T) {
	gw := newGateway(t)
	orders := NewAPI("orders", REST)
	orders.Handle("GET /items/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := reqctx.From(r.Context())
		fmt.Fprintf(w, "orders %s %s base=%s path=%s", rc.Stage, r.PathValue("id"), rc.BasePathMatched, r.URL.Path)
	}))
	users := NewAPI("users", HTTP)
	users.Handle("GET /{proxy+}", text("users"))
	mustDeploy(t, gw, orders, StageConfig{Name: "prod"})
	mustDeploy(t, gw, orders, StageConfig{Name: "beta"})
	mustDeploy(t, gw, users, StageConfig{Name: "prod"})
	maps := []BasePathMapping{
		{Domain: "api.example.com", BasePath: "orders", API: "orders", Stage: "prod"},
		{Domain: "api.example.com", BasePath: "orders/beta", API: "orders", Stage: "beta"},
		{Domain: "api.example.com", BasePath: "(none)", API: "users", Stage: "prod"},
		{Domain: "*.tenants.example.com", BasePath: "o", API: "orders", Stage: "prod"},
	}
	for _, m := range maps {
		if err := gw.MapBasePath(m); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ host, path, want string }{
		{"api.example.com", "/orders/items/1", "orders prod 1 base=orders path=/items/1"},
		{"API.example.com:443", "/orders/beta/items/2", "orders beta 2 base=orders/beta path=/items/2"},
		{"api.example.com", "/ordersx/items/1", "users"},
		{"api.example.com", "/anything", "users"},
		{"acme.tenants.example.com", "/o/items/3", "orders prod 3 base=o"},
		{"orders.execute-api.other.host", "/prod/items/4", "orders prod 4 base= path=/items/4"},
	}
	for _, tt := range tests {
		rec := serve(gw, "GET", tt.path, nil, "Host", tt.host)
		if !strings.HasPrefix(rec.Body.String(), tt.want) {
			t.Errorf("%s%s = %d %q, want %q", tt.host, tt.path, rec.Code, rec.Body, tt.want)
		}
	}
	// Each stage knows the mappings that serve it.
	for _, c := range []struct {
		api, stage string
		want       []BasePathMapping
	}{
		{"orders", "prod", []BasePathMapping{maps[0], maps[3]}},
		{"orders", "beta", []BasePathMapping{maps[1]}},
		{"users", "prod", []BasePathMapping{{Domain: "api.example.com", API: "users", Stage: "prod"}}},
	} {
		if got := gw.Stage(c.api, "", c.stage).BasePathMappings(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s/%s BasePathMappings = %+v, want %+v", c.api, c.stage, got, c.want)
		}
	}
	// A mapped domain serves only its mappings.
	if rec := serve(gw, "GET", "/x/items/1", nil, "Host", "acme.tenants.example.com"); rec.Code != 404 {
		t.Errorf("unmapped path on a mapped domain = %d, want 404", rec.Code)
	}
	if !gw.UnmapBasePath("api.example.com", "orders/beta") || gw.UnmapBasePath("api.example.com", "orders/beta") {
		t.Error("UnmapBasePath did not report removal once")
	}
	if rec := serve(gw, "GET", "/orders/beta/items/2", nil, "Host", "api.example.com"); rec.Code != 404 {
		t.Errorf("after unmapping: %d %q", rec.Code, rec.Body)
	}
	for _, bad := range []BasePathMapping{{BasePath: "x"}, {API: "a", Stage: "s", BasePath: "a b"}, {API: "a", Stage: "s", Domain: "a/b"}} {
		if err := gw.MapBasePath(bad); err == nil {
			t.Errorf("MapBasePath(%+v) succeeded", bad)
		}
	}
}

func TestDefaultEndpointWithSeveralAPIs(t *testing.T) {
	gw := newGateway(t)
	a := NewAPI("Alpha API", REST)
	a.Handle("GET /x", text("alpha"))
	b := NewAPI("beta", REST)
	b.Handle("GET /x", text("beta"))
	mustDeploy(t, gw, a, StageConfig{Name: "prod"})
	mustDeploy(t, gw, b, StageConfig{Name: "prod"})
	mustDeploy(t, gw, b, StageConfig{Name: "test"})
	if rec := serve(gw, "GET", "/prod/x", nil); rec.Code != 404 || !strings.Contains(messageOf(t, rec), "Several APIs") {
		t.Errorf("ambiguous stage = %d %q", rec.Code, rec.Body)
	}
	if rec := serve(gw, "GET", "/prod/x", nil, "Host", "alpha-api.execute-api.localhost:8080"); !strings.HasPrefix(rec.Body.String(), "alpha") {
		t.Errorf("host-selected API = %q", rec.Body)
	}
	if rec := serve(gw, "GET", "/test/x", nil); !strings.HasPrefix(rec.Body.String(), "beta") {
		t.Errorf("unique stage = %q", rec.Body)
	}
	gw2 := newGateway(t, WithDefaultAPI("beta"))
	mustDeploy(t, gw2, a, StageConfig{Name: "prod"})
	mustDeploy(t, gw2, b, StageConfig{Name: "prod"})
	if rec := serve(gw2, "GET", "/prod/x", nil); !strings.HasPrefix(rec.Body.String(), "beta") {
		t.Errorf("WithDefaultAPI = %q", rec.Body)
	}
	dup := NewAPI("alpha-api", REST)
	dup.Handle("GET /x", text("dup"))
	if _, err := gw.Deploy(dup, StageConfig{Name: "prod"}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("API id clash: %v", err)
	}
	gw3 := newGateway(t, WithoutDefaultEndpoint())
	mustDeploy(t, gw3, b, StageConfig{Name: "prod"})
	if rec := serve(gw3, "GET", "/prod/x", nil); rec.Code != 404 {
		t.Errorf("default endpoint off: %d", rec.Code)
	}
}

func TestMountUnderMux(t *testing.T) {
	gw := newGateway(t)
	api := NewAPI("pets", REST)
	api.Handle("GET /pets/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "pet ", r.PathValue("id"))
	}))
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	mux := http.NewServeMux()
	mux.Handle("/gateway/", http.StripPrefix("/gateway", gw))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/gateway/prod/pets/a%20b")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "pet a b" {
		t.Fatalf("mounted gateway answered %d %q", res.StatusCode, body)
	}
}

func TestRequestContext(t *testing.T) {
	clk := fakeclock.New(t0)
	gw := newGateway(t, WithClock(clk), WithAccountID("123456789012"))
	var got reqctx.Context
	api := NewAPI("pets", HTTP)
	api.Handle("POST /pets/{id}/toys/{toy}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = *reqctx.From(r.Context())
	}))
	mustDeploy(t, gw, api, StageConfig{Name: "dev", Variables: map[string]string{"k": "v"}})
	req := httptest.NewRequest("POST", "http://pets.execute-api.local/dev/pets/7/toys/b%2Fall?x=1&x=2", nil)
	req.RemoteAddr = "192.0.2.1:5555"
	req.Header.Set("User-Agent", "test-agent")
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	checks := []struct{ name, got, want string }{
		{"RequestID", got.RequestID, rec.Header().Get("X-Amzn-Requestid")},
		{"AccountID", got.AccountID, "123456789012"},
		{"APIID", got.APIID, "pets"},
		{"APIType", got.APIType, "HTTP"},
		{"Stage", got.Stage, "dev"},
		{"RouteKey", got.RouteKey, "POST /pets/{id}/toys/{toy}"},
		{"ResourcePath", got.ResourcePath, "/pets/{id}/toys/{toy}"},
		{"Path", got.Path, "/dev/pets/7/toys/b/all"},
		{"RoutePath", got.RoutePath, "/pets/7/toys/b/all"},
		{"HTTPMethod", got.HTTPMethod, "POST"},
		{"Protocol", got.Protocol, "HTTP/1.1"},
		{"DomainName", got.DomainName, "pets.execute-api.local"},
		{"DomainPrefix", got.DomainPrefix, "pets"},
		{"SourceIP", got.Identity.SourceIP, "192.0.2.1"},
		{"UserAgent", got.Identity.UserAgent, "test-agent"},
		{"param id", got.PathParams["id"], "7"},
		{"param toy", got.PathParams["toy"], "b/all"},
		{"query", strings.Join(got.Query["x"], ","), "1,2"},
		{"stage variable", got.StageVariables["k"], "v"},
		{"time", got.RequestTime.String(), t0.String()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(got.RequestID) != 36 || got.DeploymentID == "" || got.ExtendedRequestID == "" {
		t.Errorf("ids: %q %q %q", got.RequestID, got.DeploymentID, got.ExtendedRequestID)
	}
	other := serve(gw, "POST", "/dev/pets/7/toys/x", nil)
	if other.Header().Get("X-Amzn-Requestid") == rec.Header().Get("X-Amzn-Requestid") {
		t.Error("two requests share a request id")
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	n    atomic.Int64
	left int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	for i := range p {
		p[i] = 'x'
	}
	c.left -= int64(len(p))
	c.n.Add(int64(len(p)))
	return len(p), nil
}

func TestBodyLimit(t *testing.T) {
	read := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			reqctx.WriteError(w, r, err)
			return
		}
		fmt.Fprint(w, len(b))
	}
	gw := newGateway(t, WithMaxBodyBytes(1000))
	api := NewAPI("up", REST)
	api.HandleFunc("POST /up", read)
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	mustDeploy(t, gw, api, StageConfig{Name: "big", MaxBodyBytes: 5000})

	t.Run("under the limit", func(t *testing.T) {
		rec := serve(gw, "POST", "/prod/up", strings.NewReader(strings.Repeat("a", 1000)))
		if rec.Code != 200 || rec.Body.String() != "1000" {
			t.Fatalf("%d %q", rec.Code, rec.Body)
		}
	})
	t.Run("declared length over the limit is refused unread", func(t *testing.T) {
		body := &countingReader{left: 1 << 30}
		req := httptest.NewRequest("POST", "/prod/up", body)
		req.ContentLength = 1 << 30
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code != 413 || rec.Header().Get("X-Amzn-Errortype") != "RequestTooLargeException" {
			t.Fatalf("%d %v %q", rec.Code, rec.Header(), rec.Body)
		}
		if n := body.n.Load(); n != 0 {
			t.Fatalf("read %d bytes of an oversize body", n)
		}
	})
	t.Run("chunked body over the limit", func(t *testing.T) {
		body := &countingReader{left: 1 << 30}
		req := httptest.NewRequest("POST", "/prod/up", body)
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code != 413 {
			t.Fatalf("%d %q", rec.Code, rec.Body)
		}
		if n := body.n.Load(); n > 64<<10 {
			t.Fatalf("read %d bytes of an oversize body", n)
		}
	})
	t.Run("stage limit", func(t *testing.T) {
		rec := serve(gw, "POST", "/big/up", strings.NewReader(strings.Repeat("a", 4000)))
		if rec.Code != 200 {
			t.Fatalf("%d %q", rec.Code, rec.Body)
		}
	})
	if _, err := New(WithMaxBodyBytes(0)); err == nil {
		t.Error("WithMaxBodyBytes(0) accepted")
	}
	if _, err := New(WithIntegrationTimeout(-1)); err == nil {
		t.Error("negative timeout accepted")
	}
}

func TestIntegrationTimeout(t *testing.T) {
	clk := fakeclock.New(t0)
	gw := newGateway(t, WithClock(clk))
	release := make(chan struct{}, 1)
	defer close(release)
	var sawCause atomic.Value
	api := NewAPI("slow", REST)
	wrote := make(chan struct{})
	api.HandleFunc("GET /ignores", func(w http.ResponseWriter, r *http.Request) {
		<-release // ignores its context entirely
		_, err := w.Write([]byte("late"))
		sawCause.Store(fmt.Sprint(err))
		close(wrote)
	})
	api.HandleFunc("GET /honours", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		sawCause.Store(context.Cause(r.Context()).Error())
	})
	api.AddRoute(Route{Method: "GET", Path: "/long", Timeout: 5 * time.Minute, Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})})
	api.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fast") })
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	mustDeploy(t, gw, api, StageConfig{Name: "short", IntegrationTimeout: time.Second})

	timeout := func(t *testing.T, path string, advance time.Duration) *httptest.ResponseRecorder {
		t.Helper()
		base := clk.Timers()
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serve(gw, "GET", path, nil) }()
		if !clk.WaitForTimers(base+1, 5*time.Second) {
			t.Fatal("gateway armed no timer")
		}
		clk.Advance(advance)
		return <-done
	}
	t.Run("handler ignoring its context", func(t *testing.T) {
		// The handler never returns before the test ends, yet the client
		// gets its 504 at the timeout.
		srv := httptest.NewServer(gw)
		defer srv.Close()
		base := clk.Timers()
		type result struct {
			status  int
			errType string
			body    string
			err     error
		}
		done := make(chan result)
		go func() {
			res, err := srv.Client().Get(srv.URL + "/prod/ignores")
			if err != nil {
				done <- result{err: err}
				return
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			done <- result{res.StatusCode, res.Header.Get("X-Amzn-Errortype"), string(b), err}
		}()
		if !clk.WaitForTimers(base+1, 5*time.Second) {
			t.Fatal("gateway armed no timer")
		}
		clk.Advance(DefaultIntegrationTimeout)
		got := <-done
		if got.err != nil || got.status != 504 || got.errType != "IntegrationTimeoutException" || got.body != `{"message":"Endpoint request timed out"}` {
			t.Fatalf("got %+v", got)
		}
		release <- struct{}{}
		<-wrote
		if c := sawCause.Load(); c != http.ErrHandlerTimeout.Error() {
			t.Fatalf("late write returned %v, want ErrHandlerTimeout", c)
		}
	})
	t.Run("handler honouring its context sees the cause", func(t *testing.T) {
		rec := timeout(t, "/prod/honours", DefaultIntegrationTimeout)
		if rec.Code != 504 {
			t.Fatalf("%d", rec.Code)
		}
	})
	t.Run("stage timeout", func(t *testing.T) {
		if rec := timeout(t, "/short/honours", time.Second); rec.Code != 504 {
			t.Fatalf("%d", rec.Code)
		}
	})
	t.Run("route timeout beyond 29s", func(t *testing.T) {
		done := make(chan *httptest.ResponseRecorder)
		base := clk.Timers()
		go func() { done <- serve(gw, "GET", "/prod/long", nil) }()
		clk.WaitForTimers(base+1, 5*time.Second)
		clk.Advance(time.Minute) // past 29 s, well within 5 min
		select {
		case rec := <-done:
			t.Fatalf("timed out early: %d", rec.Code)
		default:
		}
		clk.Advance(5 * time.Minute)
		if rec := <-done; rec.Code != 504 {
			t.Fatalf("%d", rec.Code)
		}
	})
	t.Run("fast handler stops its timer", func(t *testing.T) {
		base := clk.Timers()
		if rec := serve(gw, "GET", "/prod/fast", nil); rec.Body.String() != "fast" {
			t.Fatalf("%q", rec.Body)
		}
		if clk.Timers() != base {
			t.Fatal("timer left armed")
		}
	})
}

func TestIntegrationTimeoutCause(t *testing.T) {
	gw := newGateway(t, WithIntegrationTimeout(10*time.Millisecond))
	cause := make(chan error, 1)
	api := NewAPI("slow", REST)
	api.HandleFunc("GET /honours", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		cause <- context.Cause(r.Context())
	})
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	if rec := serve(gw, "GET", "/prod/honours", nil); rec.Code != 504 {
		t.Fatalf("%d", rec.Code)
	}
	if err := <-cause; !errors.Is(err, ErrIntegrationTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cause %v", err)
	}
}

func TestPanickingIntegration(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	gw := newGateway(t, WithLogger(logger))
	api := NewAPI("boom", REST)
	api.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom") })
	api.HandleFunc("GET /half", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		_, _ = w.Write([]byte("partial"))
		panic("after headers")
	})
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	srv := httptest.NewServer(gw)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/prod/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 502 || res.Header.Get("X-Amzn-Errortype") != "IntegrationFailureException" {
		t.Fatalf("%d %v %s", res.StatusCode, res.Header, body)
	}
	mu.Lock()
	logged := logs.String()
	mu.Unlock()
	if !strings.Contains(logged, "kaboom") || !strings.Contains(logged, "integration panicked") {
		t.Fatalf("panic not logged: %s", logged)
	}
	// A panic after the headers went out aborts the response.
	if res, err := srv.Client().Get(srv.URL + "/prod/half"); err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Fatal("truncated response looked complete")
		}
	}
	// The server is still up.
	res, err = srv.Client().Get(srv.URL + "/prod/boom")
	if err != nil || res.StatusCode != 502 {
		t.Fatalf("server after panics: %v", err)
	}
	res.Body.Close()
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestGatewayResponses(t *testing.T) {
	gw := newGateway(t)
	api := NewAPI("pets", REST)
	api.Handle("GET /pets", text("x"))
	api.HandleFunc("GET /throttle", func(w http.ResponseWriter, r *http.Request) {
		e := reqctx.NewError(reqctx.Throttled, nil)
		e.Header = http.Header{"Retry-After": {"3"}}
		reqctx.WriteError(w, r, e)
	})
	api.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		reqctx.WriteError(w, r, errors.New("secret database detail"))
	})
	api.GatewayResponses = map[reqctx.ResponseType]GatewayResponse{
		reqctx.ResourceNotFound: {Status: 410, Headers: map[string]string{"X-Request": "$context.requestId", "X-Stage": "${stageVariables.team}"}, Body: `{"error":$context.error.messageString,"type":"$context.error.responseType","stage":"$context.stage"}`},
		reqctx.Default4XX:       {Headers: map[string]string{"Access-Control-Allow-Origin": "*"}, Body: `{"oops":$context.error.messageString}`},
	}
	mustDeploy(t, gw, api, StageConfig{Name: "prod", Variables: map[string]string{"team": "pets"}})

	rec := serve(gw, "GET", "/prod/nope", nil)
	if rec.Code != 410 || rec.Header().Get("X-Request") != rec.Header().Get("X-Amzn-Requestid") || rec.Header().Get("X-Stage") != "pets" {
		t.Fatalf("custom 404: %d %v", rec.Code, rec.Header())
	}
	if got, want := rec.Body.String(), `{"error":"Not Found","type":"RESOURCE_NOT_FOUND","stage":"prod"}`; got != want {
		t.Fatalf("custom body %s, want %s", got, want)
	}
	rec = serve(gw, "GET", "/prod/throttle", nil)
	if rec.Code != 429 || rec.Body.String() != `{"oops":"Too Many Requests"}` || rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Header().Get("Retry-After") != "3" {
		t.Fatalf("DEFAULT_4XX fallback: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = serve(gw, "GET", "/prod/fail", nil)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") || messageOf(t, rec) != "Internal server error" {
		t.Fatalf("5xx: %d %s", rec.Code, rec.Body)
	}
}

func TestEveryResponseTypeRenders(t *testing.T) {
	for _, typ := range reqctx.ResponseTypes() {
		rec := httptest.NewRecorder()
		reqctx.WriteDefaultError(rec, httptest.NewRequest("GET", "/", nil), reqctx.NewError(typ, nil))
		if rec.Code != typ.Status() || rec.Header().Get("X-Amzn-Errortype") == "" || messageOf(t, rec) == "" {
			t.Errorf("%s: %d %v %s", typ, rec.Code, rec.Header(), rec.Body)
		}
	}
}

func TestShutdown(t *testing.T) {
	gw, err := New()
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	release := make(chan struct{})
	api := NewAPI("pets", REST)
	api.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		fmt.Fprint(w, "done")
	})
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(gw, "GET", "/prod/slow", nil) }()
	<-entered
	shut := make(chan error)
	go func() { shut <- gw.Shutdown(context.Background()) }()
	for !gw.closing.Load() {
		runtime.Gosched()
	}
	if rec := serve(gw, "GET", "/prod/slow", nil); rec.Code != 503 || rec.Header().Get("Connection") != "close" {
		t.Fatalf("request during shutdown: %d", rec.Code)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned with a request in flight: %v", err)
	default:
	}
	close(release)
	if rec := <-done; rec.Body.String() != "done" {
		t.Fatalf("in-flight request: %q", rec.Body)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Deploy(api, StageConfig{Name: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Deploy after Shutdown: %v", err)
	}

	gw2, _ := New()
	block := make(chan struct{})
	in := make(chan struct{})
	api2 := NewAPI("pets", REST)
	api2.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { close(in); <-block })
	mustDeploy(t, gw2, api2, StageConfig{Name: "prod"})
	go serve(gw2, "GET", "/prod/slow", nil)
	<-in
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := gw2.Shutdown(ctx); err == nil || !strings.Contains(err.Error(), "1 requests still in flight") {
		t.Fatalf("Shutdown with expired ctx: %v", err)
	}
	close(block)
	if err := gw2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestInvocationReuse runs requests one after another on one route, so that
// the invoker's pooled state is reused: headers, status and trailers of one
// response must not leak into the next, and a request that timed out must
// not disturb the ones after it.
func TestInvocationReuse(t *testing.T) {
	clk := fakeclock.New(t0)
	gw := newGateway(t, WithClock(clk))
	release := make(chan struct{})
	api := NewAPI("reuse", HTTP)
	api.HandleFunc("GET /r/{n}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("n") {
		case "1":
			w.Header().Set("X-First", "yes")
			w.Header().Set("Trailer", "X-Sum")
			w.WriteHeader(201)
			io.WriteString(w, "one")
			w.Header().Set("X-Sum", "abc")
		case "hang":
			<-r.Context().Done()
			<-release
		default:
			io.WriteString(w, "other")
		}
	})
	api.Routes[0].Timeout = time.Second
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})

	srv := httptest.NewServer(gw)
	defer srv.Close()
	get := func(n string) *http.Response {
		t.Helper()
		res, err := srv.Client().Get(srv.URL + "/prod/r/" + n)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	res := get("1")
	if res.StatusCode != 201 || res.Header.Get("X-First") != "yes" || res.Trailer.Get("X-Sum") != "abc" {
		t.Errorf("first: %d %v trailer %v", res.StatusCode, res.Header, res.Trailer)
	}
	for range 3 {
		res := get("2")
		if res.StatusCode != 200 || res.Header.Get("X-First") != "" || len(res.Trailer) != 0 {
			t.Errorf("later request sees an earlier one's response: %d %v trailer %v", res.StatusCode, res.Header, res.Trailer)
		}
	}

	done := make(chan *http.Response)
	go func() {
		r, err := srv.Client().Get(srv.URL + "/prod/r/hang")
		if err != nil {
			t.Error(err)
			close(done)
			return
		}
		r.Body.Close()
		done <- r
	}()
	if !clk.WaitForTimers(clk.Timers()+1, 5*time.Second) {
		t.Fatal("the integration timeout was never armed")
	}
	clk.Advance(time.Second)
	if res := <-done; res == nil || res.StatusCode != 504 {
		t.Fatalf("hanging integration: %v, want 504", res)
	}
	close(release)
	for range 3 {
		if res := get("3"); res.StatusCode != 200 || res.Header.Get("Connection") == "close" {
			t.Errorf("after a timeout: %d %v", res.StatusCode, res.Header)
		}
	}
}

func TestHostOnly(t *testing.T) {
	tests := []struct{ in, want string }{
		{"api.example.com", "api.example.com"},
		{"API.Example.com:8443", "api.example.com"},
		{"api.example.com.", "api.example.com"},
		{"127.0.0.1:80", "127.0.0.1"},
		{"[::1]:8080", "::1"},
		{"[::1]", "[::1]"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := hostOnly(tt.in); got != tt.want {
			t.Errorf("hostOnly(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
