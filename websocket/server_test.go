package websocket

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico/reqctx"
)

func TestRouteSelection(t *testing.T) {
	ctx := testCtx(t)
	tests := []struct {
		name   string
		routes []Route
		send   string
		binary bool
		want   string // reply; "" expects the message field of a JSON reply in wantMs
		wantMs string
	}{
		{name: "selected route", routes: []Route{{Key: "echo", Integration: echo("echo:"), RouteResponse: true}}, send: `{"action":"echo","x":1}`, want: `echo:{"action":"echo","x":1}`},
		{name: "default when no match", routes: []Route{{Key: "echo", Integration: echo("echo:"), RouteResponse: true}, {Key: RouteDefault, Integration: echo("default:"), RouteResponse: true}}, send: `{"action":"nope"}`, want: `default:{"action":"nope"}`},
		{name: "bad JSON goes to default", routes: []Route{{Key: RouteDefault, Integration: echo("default:"), RouteResponse: true}}, send: `not json {`, want: `default:not json {`},
		{name: "no route and no default", routes: []Route{{Key: "echo", Integration: echo(""), RouteResponse: true}}, send: `{"action":"nope"}`, wantMs: "Forbidden"},
		{name: "bad JSON without default", routes: []Route{{Key: "echo", Integration: echo(""), RouteResponse: true}}, send: `{{{`, wantMs: "Forbidden"},
		{name: "special keys are not selectable", routes: []Route{{Key: RouteDefault, Integration: echo("default:"), RouteResponse: true}}, send: `{"action":"$disconnect"}`, want: `default:{"action":"$disconnect"}`},
		{name: "binary goes to default", routes: []Route{{Key: "echo", Integration: echo("echo:"), RouteResponse: true}, {Key: RouteDefault, Integration: echo("default:"), RouteResponse: true}}, binary: true, send: `{"action":"echo"}`, want: `default:{"action":"echo"}`},
		{name: "failing integration", routes: []Route{{Key: "boom", Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }), RouteResponse: true}}, send: `{"action":"boom"}`, wantMs: "Internal server error"},
		{name: "5xx integration", routes: []Route{{Key: "err", Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }), RouteResponse: true}}, send: `{"action":"err"}`, wantMs: "Internal server error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, AppConfig{Routes: tt.routes})
			c, id := e.dial(ctx)
			typ := cws.MessageText
			if tt.binary {
				typ = cws.MessageBinary
			}
			if err := c.Write(ctx, typ, []byte(tt.send)); err != nil {
				t.Fatal(err)
			}
			if tt.wantMs != "" {
				m := readJSON(t, ctx, c)
				if m["message"] != tt.wantMs || m["connectionId"] != id || m["requestId"] == "" {
					t.Errorf("reply = %v, want message %q for connection %s", m, tt.wantMs, id)
				}
				return
			}
			_, b, err := c.Read(ctx)
			if err != nil || string(b) != tt.want {
				t.Errorf("reply = %q, %v; want %q", b, err, tt.want)
			}
		})
	}
}

func TestOneWayRouteSendsNothing(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, AppConfig{Routes: []Route{
		{Key: "quiet", Integration: echo("quiet:")},
		{Key: "loud", Integration: echo("loud:"), RouteResponse: true},
	}})
	c, _ := e.dial(ctx)
	for _, m := range []string{`{"action":"quiet"}`, `{"action":"loud"}`} {
		if err := c.Write(ctx, cws.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	_, b, err := c.Read(ctx)
	if err != nil || string(b) != `loud:{"action":"loud"}` {
		t.Errorf("first reply = %q, %v; want only the two-way route's", b, err)
	}
}

func TestFunctionEvent(t *testing.T) {
	ctx := testCtx(t)
	got := make(chan events.APIGatewayWebsocketProxyRequest, 4)
	fn := Function(func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		got <- ev
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: "got " + ev.RequestContext.RouteKey}, nil
	})
	// A map-typed function sees the same JSON.
	mapFn := Function(func(ctx context.Context, ev map[string]any) (map[string]any, error) {
		rcx := ev["requestContext"].(map[string]any)
		return map[string]any{"eventType": rcx["eventType"], "auth": rcx["authorizer"]}, nil
	})
	app, err := NewApp(AppConfig{Routes: []Route{
		{Key: RouteConnect, Integration: fn},
		{Key: "send", Integration: fn, RouteResponse: true},
		{Key: "map", Integration: mapFn, RouteResponse: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, AppConfig{})
	e.app = app
	// Stand in for the gateway's authorizer: a reqctx with its output.
	e.ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := &reqctx.Context{Stage: "prod", APIID: "chat", RequestID: "upgrade",
			Identity:   reqctx.Identity{SourceIP: "127.0.0.1", UserAgent: "test"},
			Authorizer: reqctx.Authorizer{Kind: "lambda", PrincipalID: "alice", Context: map[string]any{"room": "blue"}}}
		e.srv.Accept(w, r.WithContext(reqctx.With(r.Context(), rc)), app)
	})
	c, _, err := cws.Dial(ctx, e.url+"/?room=blue", &cws.DialOptions{HTTPHeader: http.Header{"X-Token": {"t1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	conn := <-got
	rcx := conn.RequestContext
	if rcx.EventType != EventConnect || rcx.RouteKey != RouteConnect || rcx.ConnectionID == "" || conn.Headers["X-Token"] != "t1" || conn.QueryStringParameters["room"] != "blue" {
		t.Errorf("CONNECT event = %+v", conn)
	}
	if rcx.ConnectedAt != testStart.UnixMilli() || rcx.Stage != "prod" || rcx.APIID != "chat" || rcx.Identity.SourceIP != "127.0.0.1" {
		t.Errorf("CONNECT context = %+v", rcx)
	}
	if err := c.Write(ctx, cws.MessageText, []byte(`{"action":"send","text":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	m := msg.RequestContext
	auth, _ := m.Authorizer.(map[string]any)
	if m.EventType != EventMessage || m.RouteKey != "send" || m.ConnectionID != rcx.ConnectionID || m.MessageID == nil || m.MessageDirection != "IN" ||
		msg.Body != `{"action":"send","text":"hi"}` || auth["principalId"] != "alice" || auth["room"] != "blue" || m.RequestTimeEpoch != testStart.UnixMilli() || m.RequestID == rcx.RequestID {
		t.Errorf("MESSAGE event = %+v", msg)
	}
	if msg.Headers != nil {
		t.Errorf("MESSAGE event has headers %v; they come only with $connect", msg.Headers)
	}
	if _, b, err := c.Read(ctx); err != nil || string(b) != "got send" {
		t.Errorf("reply = %q, %v", b, err)
	}
	if err := c.Write(ctx, cws.MessageText, []byte(`{"action":"map"}`)); err != nil {
		t.Fatal(err)
	}
	r := readJSON(t, ctx, c)
	if r["eventType"] != EventMessage || r["auth"].(map[string]any)["room"] != "blue" {
		t.Errorf("map function reply = %v", r)
	}
}

func TestConnectRejected(t *testing.T) {
	ctx := testCtx(t)
	tests := []struct {
		name   string
		h      http.Handler
		status int
	}{
		{"403 from integration", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) }), 403},
		{"function statusCode 401", Function(func(context.Context, map[string]any) (map[string]any, error) {
			return map[string]any{"statusCode": 401}, nil
		}), 401},
		{"function error", Function(func(context.Context, map[string]any) (map[string]any, error) { return nil, errors.New("down") }), 502},
		{"panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") }), 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, AppConfig{Routes: []Route{{Key: RouteConnect, Integration: tt.h}}})
			_, resp, err := cws.Dial(ctx, e.url, nil)
			if err == nil {
				t.Fatal("Dial succeeded; want the upgrade refused")
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("response = %v, want status %d", resp, tt.status)
			}
			if e.srv.Len() != 0 {
				t.Errorf("server holds %d connections after a refused $connect", e.srv.Len())
			}
			if n := e.disconnects(""); n != 0 {
				t.Errorf("$disconnect ran %d times for a refused connection", n)
			}
		})
	}
}

func TestNotAnUpgrade(t *testing.T) {
	e := newEnv(t, AppConfig{})
	resp, err := http.Get(e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Upgrade") != "websocket" {
		t.Errorf("plain GET = %d %v; want 400 with Upgrade: websocket", resp.StatusCode, resp.Header)
	}
}

func TestDisconnectExactlyOnce(t *testing.T) {
	ctx := testCtx(t)
	tests := []struct {
		name     string
		idle     time.Duration // 0: the default
		end      func(e *testEnv, c *cws.Conn, id string)
		wantCode int
	}{
		{"client close", 0, func(e *testEnv, c *cws.Conn, id string) { _ = c.Close(cws.StatusNormalClosure, "bye") }, 1000},
		{"abrupt close", 0, func(e *testEnv, c *cws.Conn, id string) { _ = c.CloseNow() }, 1006},
		{"server delete", 0, func(e *testEnv, c *cws.Conn, id string) {
			go func() { _, _, _ = c.Read(ctx) }()
			if err := e.srv.Disconnect(ctx, id); err != nil {
				t.Errorf("Disconnect: %v", err)
			}
		}, 1000},
		{"idle timeout", 0, func(e *testEnv, c *cws.Conn, id string) {
			go func() { _, _, _ = c.Read(ctx) }()
			e.clk.Advance(DefaultIdleTimeout)
		}, 1001},
		{"maximum duration", 24 * time.Hour, func(e *testEnv, c *cws.Conn, id string) {
			go func() { _, _, _ = c.Read(ctx) }()
			// Keep the connection busy so that only the duration applies.
			for i := 0; i < 13; i++ {
				if err := c.Write(ctx, cws.MessageText, []byte("{}")); err != nil {
					return
				}
				e.clk.Advance(DefaultMaxDuration / 12)
			}
		}, 1001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, AppConfig{Routes: []Route{{Key: RouteDefault, Integration: echo("")}}, Limits: Limits{PingInterval: -1, IdleTimeout: tt.idle}})
			c, id := e.dial(ctx)
			if !e.clk.WaitForTimers(3, 5*time.Second) { // heartbeat, idle, duration
				t.Fatal("connection timers never started")
			}
			tt.end(e, c, id)
			ev := e.waitGone(ctx, id)
			if ev.DisconnectStatusCode != tt.wantCode || ev.EventType != EventDisconnect || ev.RouteKey != RouteDisconnect {
				t.Errorf("$disconnect = %+v, want code %d", ev, tt.wantCode)
			}
			// Closing the server must not run it again.
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_ = e.srv.Close(cctx)
			if n := e.disconnects(id); n != 1 {
				t.Errorf("$disconnect ran %d times, want 1", n)
			}
			if err := e.srv.Post(ctx, id, []byte("x")); !errors.Is(err, ErrGone) {
				t.Errorf("Post after close = %v, want ErrGone", err)
			}
		})
	}
}

func TestSizeLimits(t *testing.T) {
	ctx := testCtx(t)
	tests := []struct {
		name   string
		limits Limits
		send   func(ctx context.Context, c *cws.Conn) error
	}{
		{"message over 128 KB in small frames", Limits{}, func(ctx context.Context, c *cws.Conn) error {
			w, err := c.Writer(ctx, cws.MessageText)
			if err != nil {
				return err
			}
			chunk := bytes.Repeat([]byte("a"), 16<<10)
			for i := 0; i < 9; i++ {
				if _, err := w.Write(chunk); err != nil {
					return err
				}
			}
			return w.Close()
		}},
		{"frame over 32 KB", Limits{}, func(ctx context.Context, c *cws.Conn) error {
			return c.Write(ctx, cws.MessageText, bytes.Repeat([]byte("b"), 40<<10))
		}},
		{"configured message limit", Limits{MaxMessageBytes: 1000, MaxFrameBytes: -1}, func(ctx context.Context, c *cws.Conn) error {
			return c.Write(ctx, cws.MessageText, bytes.Repeat([]byte("c"), 1001))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, AppConfig{Routes: []Route{{Key: RouteDefault, Integration: echo("ok:"), RouteResponse: true}}, Limits: tt.limits})
			c, id := e.dial(ctx)
			// A message within the limits still works first.
			if err := c.Write(ctx, cws.MessageText, []byte("small")); err != nil {
				t.Fatal(err)
			}
			if _, b, err := c.Read(ctx); err != nil || string(b) != "ok:small" {
				t.Fatalf("small message reply = %q, %v", b, err)
			}
			_ = tt.send(ctx, c)
			_, _, err := c.Read(ctx)
			if got := cws.CloseStatus(err); got != cws.StatusMessageTooBig {
				t.Errorf("close status = %v (%v), want 1009", got, err)
			}
			if ev := e.waitGone(ctx, id); ev.DisconnectStatusCode != 1009 {
				t.Errorf("$disconnect code = %d, want 1009", ev.DisconnectStatusCode)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, AppConfig{Routes: []Route{{Key: RouteDefault, Integration: echo("ok:"), RouteResponse: true}}, Limits: Limits{MessageRate: 2, MessageBurst: 2}})
	c, _ := e.dial(ctx)
	send := func(s string) {
		if err := c.Write(ctx, cws.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"ok:1", "ok:2", "Too Many Requests"} {
		send(want[len(want)-1:])
		_, b, err := c.Read(ctx)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("reply = %q, %v; want %q", b, err, want)
		}
	}
	e.clk.Advance(time.Second)
	send("4")
	if _, b, _ := c.Read(ctx); string(b) != "ok:4" {
		t.Errorf("after a second: %q, want ok:4", b)
	}
}

func TestPingWithoutPong(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, AppConfig{Limits: Limits{PingInterval: time.Minute, PongTimeout: 10 * time.Second}})
	pinging := make(chan string, 1)
	e.srv.pinging = func(id string) { pinging <- id }
	_, id := e.dial(ctx) // never reads, so never answers pings
	if !e.clk.WaitForTimers(4, 5*time.Second) {
		t.Fatal("timers never started")
	}
	e.clk.Advance(time.Minute)
	<-pinging
	e.clk.Advance(10 * time.Second)
	if ev := e.waitGone(ctx, id); ev.DisconnectStatusCode != 1008 {
		t.Errorf("$disconnect code = %d, want 1008", ev.DisconnectStatusCode)
	}
}

func TestPingAnswered(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, AppConfig{Routes: []Route{{Key: RouteDefault, Integration: echo("ok:"), RouteResponse: true}}, Limits: Limits{PingInterval: time.Minute}})
	ponged := make(chan string, 8)
	e.srv.ponged = func(id string) { ponged <- id }
	c, id := e.dial(ctx)
	read := make(chan string, 4)
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				close(read)
				return
			}
			read <- string(b)
		}
	}()
	if !e.clk.WaitForTimers(4, 5*time.Second) {
		t.Fatal("timers never started")
	}
	for i := 0; i < 3; i++ {
		e.clk.Advance(time.Minute)
		select {
		case <-ponged:
		case <-ctx.Done():
			t.Fatalf("ping %d never answered", i)
		}
	}
	if err := c.Write(ctx, cws.MessageText, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := <-read; got != "ok:x" {
		t.Errorf("after pings: %q", got)
	}
	if e.disconnects(id) != 0 {
		t.Error("a client answering pings was disconnected")
	}
}

func TestPostGetDelete(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, AppConfig{})
	c, id := e.dial(ctx)
	if err := e.srv.Post(ctx, id, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.Read(ctx); err != nil || string(b) != "hello" {
		t.Errorf("Read = %q, %v", b, err)
	}
	if err := e.srv.Post(ctx, id, make([]byte, DefaultMaxMessageBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize Post = %v, want ErrTooLarge", err)
	}
	info, err := e.srv.Get(ctx, id)
	if err != nil || !info.ConnectedAt.Equal(testStart) || info.SourceIP != "127.0.0.1" || info.ID != id {
		t.Errorf("Get = %+v, %v", info, err)
	}
	if err := e.srv.Post(ctx, "nope", []byte("x")); !errors.Is(err, ErrGone) {
		t.Errorf("Post to unknown = %v, want ErrGone", err)
	}
	go func() { _, _, _ = c.Read(ctx) }()
	if err := e.srv.Disconnect(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.waitGone(ctx, id)
	if _, err := e.srv.Get(ctx, id); !errors.Is(err, ErrGone) {
		t.Errorf("Get after delete = %v, want ErrGone", err)
	}
}

func TestManyMessagesInOrder(t *testing.T) {
	ctx := testCtx(t)
	const n = 10000
	e := newEnv(t, AppConfig{Routes: []Route{{Key: RouteDefault, Integration: echo(""), RouteResponse: true}}})
	c, id := e.dial(ctx)
	errc := make(chan error, 1)
	echoed := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			if err := c.Write(ctx, cws.MessageText, []byte(fmt.Sprint(i))); err != nil {
				errc <- err
				return
			}
		}
		// Then the other way: n posts through @connections.
		<-echoed
		for i := 0; i < n; i++ {
			if err := e.srv.Post(ctx, id, []byte(fmt.Sprint("p", i))); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < n; i++ {
		_, b, err := c.Read(ctx)
		if err != nil || string(b) != fmt.Sprint(i) {
			t.Fatalf("reply %d = %q, %v", i, b, err)
		}
	}
	close(echoed)
	for i := 0; i < n; i++ {
		_, b, err := c.Read(ctx)
		if err != nil || string(b) != fmt.Sprint("p", i) {
			t.Fatalf("post %d = %q, %v", i, b, err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestCloseDrains(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, AppConfig{})
	var ids []string
	var conns []*cws.Conn
	for i := 0; i < 5; i++ {
		c, id := e.dial(ctx)
		ids = append(ids, id)
		conns = append(conns, c)
	}
	codes := make(chan cws.StatusCode, len(conns))
	for _, c := range conns {
		go func() {
			_, _, err := c.Read(ctx)
			codes <- cws.CloseStatus(err)
		}()
	}
	if err := e.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for range conns {
		if code := <-codes; code != cws.StatusGoingAway {
			t.Errorf("client saw close %v, want 1001", code)
		}
	}
	for _, id := range ids {
		if n := e.disconnects(id); n != 1 {
			t.Errorf("$disconnect ran %d times for %s", n, id)
		}
	}
	if _, _, err := cws.Dial(ctx, e.url, nil); err == nil {
		t.Error("Dial after Close succeeded")
	}
}

func TestCrossInstanceMemory(t *testing.T) {
	ctx := testCtx(t)
	reg := NewMemoryRegistry()
	a := newEnv(t, AppConfig{}, WithRegistry(reg), WithInstanceID("a"))
	b := newEnv(t, AppConfig{}, WithRegistry(reg), WithInstanceID("b"), WithClock(a.clk))
	c, id := a.dial(ctx)
	if err := b.srv.Post(ctx, id, []byte("via b")); err != nil {
		t.Fatal(err)
	}
	if _, m, err := c.Read(ctx); err != nil || string(m) != "via b" {
		t.Errorf("Read = %q, %v", m, err)
	}
	info, err := b.srv.Get(ctx, id)
	if err != nil || info.Instance != "a" {
		t.Errorf("Get on b = %+v, %v", info, err)
	}
	go func() { _, _, _ = c.Read(ctx) }()
	if err := b.srv.Disconnect(ctx, id); err != nil {
		t.Fatal(err)
	}
	a.waitGone(ctx, id)
	if err := b.srv.Post(ctx, id, []byte("x")); !errors.Is(err, ErrGone) {
		t.Errorf("Post after delete = %v, want ErrGone", err)
	}
}

func TestManagementHTTP(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, AppConfig{})
	c, id := e.dial(ctx)
	url := e.ts.URL + "/prod/%40connections/" + strings.NewReplacer("=", "%3D", "+", "%2B", "/", "%2F").Replace(id)
	do := func(method string, body string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if r := do("POST", "hi"); r.StatusCode != 200 {
		t.Fatalf("POST = %d", r.StatusCode)
	}
	if _, b, err := c.Read(ctx); err != nil || string(b) != "hi" {
		t.Errorf("Read = %q, %v", b, err)
	}
	r := do("GET", "")
	var got map[string]any
	_ = json.NewDecoder(r.Body).Decode(&got)
	if r.StatusCode != 200 || got["connectedAt"] != "2026-01-02T03:04:05.000Z" || got["identity"].(map[string]any)["sourceIp"] != "127.0.0.1" {
		t.Errorf("GET = %d %v", r.StatusCode, got)
	}
	if r := do("POST", strings.Repeat("x", DefaultMaxMessageBytes+1)); r.StatusCode != 413 {
		t.Errorf("oversize POST = %d, want 413", r.StatusCode)
	}
	if r := do("PUT", ""); r.StatusCode != 405 {
		t.Errorf("PUT = %d, want 405", r.StatusCode)
	}
	go func() { _, _, _ = c.Read(ctx) }()
	if r := do("DELETE", ""); r.StatusCode != 204 {
		t.Errorf("DELETE = %d, want 204", r.StatusCode)
	}
	e.waitGone(ctx, id)
	r = do("POST", "late")
	if r.StatusCode != 410 || r.Header.Get("X-Amzn-Errortype") != "GoneException" {
		t.Errorf("POST to a gone connection = %d %v, want 410 GoneException", r.StatusCode, r.Header)
	}
}

func TestNewAppErrors(t *testing.T) {
	h := echo("")
	tests := []struct {
		name string
		cfg  AppConfig
		want string
	}{
		{"bad expression", AppConfig{RouteSelectionExpression: "$request.header.x"}, "route selection expression"},
		{"empty key", AppConfig{Routes: []Route{{Integration: h}}}, "empty route key"},
		{"dollar key", AppConfig{Routes: []Route{{Key: "$foo", Integration: h}}}, `route "$foo" Key`},
		{"no integration", AppConfig{Routes: []Route{{Key: "a"}}}, `route "a" Integration`},
		{"duplicate", AppConfig{Routes: []Route{{Key: "a", Integration: h}, {Key: "a", Integration: h}}}, "duplicate"},
		{"negative rate", AppConfig{Limits: Limits{MessageRate: -1}}, "MessageRate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewApp(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewApp error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestIntegrationTimeout(t *testing.T) {
	ctx := testCtx(t)
	started := make(chan struct{}, 2)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	})
	e := newEnv(t, AppConfig{Routes: []Route{{Key: "slow", Integration: slow, RouteResponse: true, Timeout: 5 * time.Second}}})
	c, _ := e.dial(ctx)
	if err := c.Write(ctx, cws.MessageText, []byte(`{"action":"slow"}`)); err != nil {
		t.Fatal(err)
	}
	<-started
	e.clk.Advance(5 * time.Second)
	if m := readJSON(t, ctx, c); m["message"] != "Internal server error" {
		t.Errorf("reply = %v, want Internal server error", m)
	}

	// A $connect that times out refuses the connection with 504.
	e2 := newEnv(t, AppConfig{Routes: []Route{{Key: RouteConnect, Integration: slow}}})
	res := make(chan *http.Response, 1)
	go func() {
		_, resp, _ := cws.Dial(ctx, e2.url, nil)
		res <- resp
	}()
	<-started
	e2.clk.Advance(DefaultTimeout)
	if resp := <-res; resp == nil || resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("$connect timeout: %v, want 504", resp)
	}
}
