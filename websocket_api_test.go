package portico_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/porticotest"
	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/websocket"
)

var wsStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// wsGateway deploys a chat-like WebSocket API with a REQUEST authorizer on
// $connect and returns the gateway's server URL, the gateway and its clock.
func wsGateway(t *testing.T, opts ...portico.Option) (*httptest.Server, *portico.Gateway) {
	t.Helper()
	clk := porticotest.NewClock(wsStart)
	creds, _ := auth.NewStaticCredentials(auth.Credential{AccessKeyID: "AKIDADMIN", SecretAccessKey: "admin-secret", AccountID: "000000000000"})
	gw, err := portico.New(append([]portico.Option{portico.WithClock(clk), portico.WithCredentials(creds)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	api := portico.NewAPI("chat", portico.WebSocket)
	api.Auth.Authorizers = map[string]portico.Authorizer{
		"token": {Type: portico.AuthorizerRequest, IdentitySources: []string{"$request.querystring.token"}, Function: func(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
			if ev.QueryStringParameters["token"] != "good" {
				return nil, auth.ErrUnauthorized
			}
			return &auth.AuthorizerResponse{PrincipalID: "alice", PolicyDocument: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/*/*"), Context: map[string]any{"room": "blue"}}, nil
		}},
	}
	api.AddRoute(portico.Route{Path: "$connect", Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), Auth: portico.RouteAuth{Authorizer: "token"}})
	api.Handle("whoami", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := reqctx.From(r.Context())
		ev := websocket.EventFrom(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{
			"principal": rc.Authorizer.PrincipalID, "room": rc.Authorizer.Context["room"], "stage": rc.Stage,
			"connectionId": ev.ConnectionID, "routeKey": ev.RouteKey, "eventType": ev.EventType,
			"connectedAt": ev.ConnectedAt.UnixMilli(), "messageId": ev.MessageID,
		})
	}))
	if err := gw.SetWebSocketSettings("chat", portico.WebSocketSettings{RouteResponses: []string{"whoami"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return ts, gw
}

func wsURL(ts *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + path
}

func TestWebSocketAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ts, gw := wsGateway(t)

	// A failed $connect never upgrades.
	for _, q := range []string{"", "?token=bad"} {
		_, resp, err := cws.Dial(ctx, wsURL(ts, "/prod"+q), nil)
		if err == nil || resp == nil || (resp.StatusCode != 401 && resp.StatusCode != 403) {
			t.Errorf("Dial%s = %v, %v; want 401 or 403", q, resp, err)
		}
	}
	c, _, err := cws.Dial(ctx, wsURL(ts, "/prod?token=good"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, cws.MessageText, []byte(`{"action":"whoami"}`)); err != nil {
		t.Fatal(err)
	}
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var who map[string]any
	_ = json.Unmarshal(b, &who)
	if who["principal"] != "alice" || who["room"] != "blue" || who["stage"] != "prod" || who["routeKey"] != "whoami" || who["eventType"] != "MESSAGE" ||
		who["connectedAt"] != float64(wsStart.UnixMilli()) || who["messageId"] == "" {
		t.Fatalf("whoami = %s", b)
	}
	id := who["connectionId"].(string)
	admin := porticotest.SigV4Credentials{AccessKeyID: "AKIDADMIN", SecretAccessKey: "admin-secret"}
	call := func(method, escapedPath, body string, sign bool) *http.Response {
		r, _ := http.NewRequestWithContext(ctx, method, ts.URL+escapedPath, strings.NewReader(body))
		if sign {
			porticotest.SignRequest(t, r, admin, "us-east-1", wsStart)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	conns := "/prod/%40connections/" + url.PathEscape(id)
	if res := call("POST", conns, "pushed", false); res.StatusCode != 403 {
		t.Errorf("unsigned POST = %d, want 403", res.StatusCode)
	}
	if res := call("POST", conns, "pushed", true); res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("signed POST = %d %s", res.StatusCode, b)
	}
	if _, b, err := c.Read(ctx); err != nil || string(b) != "pushed" {
		t.Errorf("pushed message = %q, %v", b, err)
	}
	res := call("GET", "/prod/@connections/"+url.PathEscape(id), "", true)
	var info map[string]any
	_ = json.NewDecoder(res.Body).Decode(&info)
	if res.StatusCode != 200 || info["connectedAt"] != "2026-03-04T05:06:07.000Z" {
		t.Errorf("GET = %d %v", res.StatusCode, info)
	}
	// The Go API does the same from inside the process.
	srv, err := gw.WebSocket()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Post(ctx, id, []byte("in-process")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.Read(ctx); err != nil || string(b) != "in-process" {
		t.Errorf("in-process message = %q, %v", b, err)
	}
	go func() { _, _, _ = c.Read(ctx) }()
	if res := call("DELETE", conns, "", true); res.StatusCode != 204 {
		t.Errorf("DELETE = %d, want 204", res.StatusCode)
	}
	res = call("POST", conns, "late", true)
	for res.StatusCode == 200 { // the DELETE closes asynchronously; a POST racing it may still land
		res = call("POST", conns, "late", true)
	}
	if res.StatusCode != 410 || res.Header.Get("X-Amzn-Errortype") != "GoneException" {
		t.Errorf("POST to a gone connection = %d %v, want 410 GoneException", res.StatusCode, res.Header)
	}
	if res := call("GET", "/prod/chat", "", false); res.StatusCode != 404 {
		t.Errorf("GET below a WebSocket stage = %d, want 404", res.StatusCode)
	}
	if res := call("POST", "/prod/@connections/", "", true); res.StatusCode != 400 {
		t.Errorf("POST without an id = %d, want 400", res.StatusCode)
	}
}

func TestWebSocketShutdownDrains(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ts, gw := wsGateway(t)
	c, _, err := cws.Dial(ctx, wsURL(ts, "/prod?token=good"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	done := make(chan error, 1)
	go func() { _, _, err := c.Read(ctx); done <- err }()
	if err := gw.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; cws.CloseStatus(err) != cws.StatusGoingAway {
		t.Errorf("client saw %v, want close 1001", err)
	}
	if _, err := gw.WebSocket(); !errors.Is(err, portico.ErrClosed) {
		t.Errorf("WebSocket after Shutdown = %v, want ErrClosed", err)
	}
}

func TestWebSocketDeployErrors(t *testing.T) {
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	tests := []struct {
		name string
		mod  func(a *portico.API)
		want string
	}{
		{"auth on a message route", func(a *portico.API) {
			a.AddRoute(portico.Route{Path: "send", Integration: h, Auth: portico.RouteAuth{APIKeyRequired: true}})
		}, `route "send" Auth: authorizers and API keys apply only to the $connect route`},
		{"dollar key", func(a *portico.API) { a.Handle("$nope", h) }, `route "$nope" Key`},
		{"no integration", func(a *portico.API) { a.Handle("send", nil) }, `route "send" Integration: no integration`},
		{"unknown authorizer", func(a *portico.API) {
			a.AddRoute(portico.Route{Path: "$connect", Integration: h, Auth: portico.RouteAuth{Authorizer: "nope"}})
		}, `route "$connect" Auth`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, _ := portico.New()
			defer gw.Shutdown(context.Background())
			api := portico.NewAPI("chat", portico.WebSocket)
			tt.mod(api)
			_, err := gw.Deploy(api, portico.StageConfig{Name: "prod"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Deploy error = %v, want %q", err, tt.want)
			}
		})
	}
	gw, _ := portico.New()
	if err := gw.SetWebSocketSettings("chat", portico.WebSocketSettings{RouteSelectionExpression: "$request.header.x"}); err == nil {
		t.Error("SetWebSocketSettings accepted a bad expression")
	}
}

// TestWebSocketConnectAPIKey: an API key required on $connect is checked on
// the upgrade only; later messages need none.
func TestWebSocketConnectAPIKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store := auth.NewMemoryKeyStore()
	keys, err := auth.NewKeys(store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Import(ctx, "demo", "demoKey0123456789abcdefXYZ"); err != nil {
		t.Fatal(err)
	}
	gw, err := portico.New(portico.WithAPIKeys(store))
	if err != nil {
		t.Fatal(err)
	}
	api := portico.NewAPI("keyed", portico.WebSocket)
	api.AddRoute(portico.Route{Path: "$connect", Integration: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), Auth: portico.RouteAuth{APIKeyRequired: true}})
	api.Handle("$default", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "key id "+reqctx.From(r.Context()).APIKeyID)
	}))
	if err := gw.SetWebSocketSettings("keyed", portico.WebSocketSettings{RouteResponses: []string{"$default"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	defer ts.Close()
	defer gw.Shutdown(context.Background())

	for _, key := range []string{"", "wrong"} {
		h := http.Header{}
		if key != "" {
			h.Set("X-Api-Key", key)
		}
		_, resp, err := cws.Dial(ctx, wsURL(ts, "/prod"), &cws.DialOptions{HTTPHeader: h})
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Errorf("Dial with key %q = %v, %v; want 403", key, resp, err)
		}
	}
	c, _, err := cws.Dial(ctx, wsURL(ts, "/prod"), &cws.DialOptions{HTTPHeader: http.Header{"X-Api-Key": {"demoKey0123456789abcdefXYZ"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, cws.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.Read(ctx); err != nil || !strings.HasPrefix(string(b), "key id ") || len(b) == len("key id ") {
		t.Errorf("reply = %q, %v; want the key id of $connect", b, err)
	}
	_ = c.Close(cws.StatusNormalClosure, "")
}

// TestWebSocketConnectionsScopedToStage: @connections of one API stage does
// not reach the connections of another on the same gateway, and earlier
// integrations (a payload 1.0 function, a mock) serve WebSocket routes.
func TestWebSocketConnectionsScopedToStage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	creds, _ := auth.NewStaticCredentials(auth.Credential{AccessKeyID: "AKIDADMIN", SecretAccessKey: "admin-secret", AccountID: "000000000000"})
	gw, err := portico.New(portico.WithCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	defer ts.Close()
	defer gw.Shutdown(context.Background())
	for _, d := range []struct{ name, stage string }{{"one", "prod"}, {"two", "dev"}} {
		api := portico.NewAPI(d.name, portico.WebSocket)
		api.Handle("id", integration.Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: websocket.EventFrom(ctx).ConnectionID}, nil
		}))
		api.Handle("$default", integration.Mock{Body: "mock " + d.name})
		if err := gw.SetWebSocketSettings(d.name, portico.WebSocketSettings{RouteResponses: []string{"id", "$default"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := gw.Deploy(api, portico.StageConfig{Name: d.stage}); err != nil {
			t.Fatal(err)
		}
	}
	c, _, err := cws.Dial(ctx, wsURL(ts, "/prod"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	say := func(msg string) string {
		t.Helper()
		if err := c.Write(ctx, cws.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := say("anything"); got != "mock one" {
		t.Errorf("mock route = %q", got)
	}
	id := say(`{"action":"id"}`)
	post := func(stage string) int {
		r, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/"+stage+"/%40connections/"+url.PathEscape(id), strings.NewReader("hi"))
		porticotest.SignRequest(t, r, porticotest.SigV4Credentials{AccessKeyID: "AKIDADMIN", SecretAccessKey: "admin-secret"}, "us-east-1", time.Now())
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post("dev"); code != 410 {
		t.Errorf("POST through the other API's stage = %d, want 410", code)
	}
	if code := post("prod"); code != 200 {
		t.Errorf("POST through the connection's stage = %d, want 200", code)
	}
	if _, b, err := c.Read(ctx); err != nil || string(b) != "hi" {
		t.Errorf("Read = %q, %v", b, err)
	}
}

// TestWebSocketConnectionsPolicy: a credential with a policy needs it to
// allow execute-api:ManageConnections on the connection's ARN.
func TestWebSocketConnectionsPolicy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	allow, err := auth.ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:ManageConnections","Resource":"arn:aws:execute-api:*:*:chat/prod/POST/@connections/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := auth.NewStaticCredentials(
		auth.Credential{AccessKeyID: "AKIDOPS", SecretAccessKey: "ops-secret", AccountID: "000000000000", ARN: "arn:aws:iam::000000000000:user/ops", Policy: allow},
		auth.Credential{AccessKeyID: "AKIDINVOKER", SecretAccessKey: "inv-secret", AccountID: "000000000000", Policy: auth.AllowPolicy("arn:aws:execute-api:*:*:*")},
	)
	gw, err := portico.New(portico.WithCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	defer ts.Close()
	defer gw.Shutdown(context.Background())
	api := portico.NewAPI("chat", portico.WebSocket)
	api.HandleFunc("$default", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, websocket.EventFrom(r.Context()).ConnectionID)
	})
	if err := gw.SetWebSocketSettings("chat", portico.WebSocketSettings{RouteResponses: []string{"$default"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	c, _, err := cws.Dial(ctx, wsURL(ts, "/prod"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, cws.MessageText, []byte("id?")); err != nil {
		t.Fatal(err)
	}
	_, idb, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{string(idb)}
	call := func(method string, who porticotest.SigV4Credentials) int {
		r, _ := http.NewRequestWithContext(ctx, method, ts.URL+"/prod/%40connections/"+url.PathEscape(ids[0]), strings.NewReader("hi"))
		porticotest.SignRequest(t, r, who, "us-east-1", time.Now())
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	ops := porticotest.SigV4Credentials{AccessKeyID: "AKIDOPS", SecretAccessKey: "ops-secret"}
	invoker := porticotest.SigV4Credentials{AccessKeyID: "AKIDINVOKER", SecretAccessKey: "inv-secret"}
	tests := []struct {
		name   string
		method string
		who    porticotest.SigV4Credentials
		want   int
	}{
		{"allowed POST", "POST", ops, 200},
		{"GET not in the policy", "GET", ops, 403},
		{"Invoke is not ManageConnections", "POST", invoker, 403},
	}
	for _, tt := range tests {
		if got := call(tt.method, tt.who); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
