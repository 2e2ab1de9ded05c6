package redisstore

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/porticotest"
	"github.com/portico-gw/portico/websocket"
)

func TestWebSocketRegistry(t *testing.T) {
	rdb, prefix := testClient(t)
	ctx := context.Background()
	reg, err := NewWebSocketRegistry(rdb, prefix)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	info := websocket.ConnectionInfo{ID: "L0S=", Instance: "a", APIID: "chat", Stage: "prod", ConnectedAt: now, LastActiveAt: now, SourceIP: "10.0.0.1", UserAgent: "ua"}
	if _, err := reg.Lookup(ctx, "L0S=", now); !errors.Is(err, websocket.ErrGone) {
		t.Errorf("Lookup before Register = %v, want ErrGone", err)
	}
	if err := reg.Register(ctx, info); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Lookup(ctx, "L0S=", now); !errors.Is(err, websocket.ErrGone) {
		t.Errorf("Lookup without a heartbeat = %v, want ErrGone", err)
	}
	if err := reg.Heartbeat(ctx, "a", now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := reg.Touch(ctx, "L0S=", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := reg.Lookup(ctx, "L0S=", now.Add(29*time.Second))
	want := info
	want.LastActiveAt = now.Add(time.Second)
	if err != nil || got != want {
		t.Errorf("Lookup = %+v, %v; want %+v", got, err, want)
	}
	if _, err := reg.Lookup(ctx, "L0S=", now.Add(30*time.Second)); !errors.Is(err, websocket.ErrGone) {
		t.Errorf("Lookup after the heartbeat expired = %v, want ErrGone", err)
	}
	if err := reg.Touch(ctx, "unknown", now); err != nil {
		t.Errorf("Touch of an unknown id: %v", err)
	}
	if err := reg.Unregister(ctx, "L0S="); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Lookup(ctx, "L0S=", now); !errors.Is(err, websocket.ErrGone) {
		t.Errorf("Lookup after Unregister = %v, want ErrGone", err)
	}

	// Deliver reaches the listener in order, and nobody listening is ErrGone.
	if err := reg.Deliver(ctx, "b", websocket.Command{Op: websocket.OpPost, ConnectionID: "x"}); !errors.Is(err, websocket.ErrGone) {
		t.Errorf("Deliver with no listener = %v, want ErrGone", err)
	}
	got2 := make(chan websocket.Command, 100)
	stop, err := reg.Listen(ctx, "b", func(c websocket.Command) { got2 <- c })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for i := 0; i < 50; i++ {
		op := websocket.OpPost
		if i == 49 {
			op = websocket.OpDelete
		}
		if err := reg.Deliver(ctx, "b", websocket.Command{Op: op, ConnectionID: "id/+=", Data: []byte{byte(i), '\n', 0}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ {
		c := <-got2
		if c.ConnectionID != "id/+=" || len(c.Data) != 3 || c.Data[0] != byte(i) || (i == 49) != (c.Op == websocket.OpDelete) {
			t.Fatalf("command %d = %+v", i, c)
		}
	}
}

func TestDecodeCommandRejectsGarbage(t *testing.T) {
	for _, b := range []string{"", "p", "x\x01a", "p\x05ab", "p\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"} {
		if _, err := decodeCommand([]byte(b)); err == nil {
			t.Errorf("decodeCommand(%q) succeeded", b)
		}
	}
}

// dyingRegistry lets a test kill an instance: its subscription ends and
// its heartbeats stop, while its records stay in Redis.
type dyingRegistry struct {
	*WebSocketRegistry
	mu   sync.Mutex
	dead bool
	stop func()
}

func (d *dyingRegistry) Listen(ctx context.Context, instance string, handle func(websocket.Command)) (func(), error) {
	stop, err := d.WebSocketRegistry.Listen(ctx, instance, handle)
	d.mu.Lock()
	d.stop = stop
	d.mu.Unlock()
	return stop, err
}

func (d *dyingRegistry) Heartbeat(ctx context.Context, instance string, until time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return nil
	}
	return d.WebSocketRegistry.Heartbeat(ctx, instance, until)
}

func (d *dyingRegistry) Unregister(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return nil // a dead instance cleans nothing up
	}
	return d.WebSocketRegistry.Unregister(ctx, id)
}

func (d *dyingRegistry) die() {
	d.mu.Lock()
	d.dead = true
	stop := d.stop
	d.mu.Unlock()
	stop()
}

// TestWebSocketAcrossGateways runs two gateways on one Redis, each with its
// own client: a client connects to A, @connections calls on B reach it, and
// once A dies B answers 410, first because nobody receives A's commands,
// then because A's registrations have expired.
func TestWebSocketAcrossGateways(t *testing.T) {
	rdbA, prefix := testClient(t)
	rdbB, _ := testClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	clk := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	creds, _ := auth.NewStaticCredentials(auth.Credential{AccessKeyID: "AKIDADMIN", SecretAccessKey: "secret", AccountID: "000000000000"})
	admin := porticotest.SigV4Credentials{AccessKeyID: "AKIDADMIN", SecretAccessKey: "secret"}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	regA, _ := NewWebSocketRegistry(rdbA, prefix)
	dying := &dyingRegistry{WebSocketRegistry: regA}
	regB, _ := NewWebSocketRegistry(rdbB, prefix)
	start := func(name string, reg websocket.Registry) (*httptest.Server, *portico.Gateway) {
		gw, err := portico.New(portico.WithClock(clk), portico.WithCredentials(creds), portico.WithLogger(quiet),
			portico.WithWebSocket(websocket.WithRegistry(reg), websocket.WithInstanceID(name), websocket.WithLogger(quiet)))
		if err != nil {
			t.Fatal(err)
		}
		api := portico.NewAPI("chat", portico.WebSocket)
		api.Handle("$default", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, websocket.EventFrom(r.Context()).ConnectionID)
		}))
		if err := gw.SetWebSocketSettings("chat", portico.WebSocketSettings{RouteResponses: []string{"$default"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(gw)
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = gw.Shutdown(cctx)
			ts.Close()
		})
		return ts, gw
	}
	a, _ := start("a", dying)
	b, gwB := start("b", regB)

	c, _, err := cws.Dial(ctx, "ws"+strings.TrimPrefix(a.URL, "http")+"/prod", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// The $default route answers the connection id.
	if err := c.Write(ctx, cws.MessageText, []byte("who am I")); err != nil {
		t.Fatal(err)
	}
	_, idb, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := string(idb)
	if n, err := rdbA.Exists(ctx, prefix+"ws:conn:"+id).Result(); err != nil || n != 1 {
		t.Fatalf("no record for connection %q in Redis: %v", id, err)
	}
	call := func(method, body string) *http.Response {
		r, _ := http.NewRequestWithContext(ctx, method, b.URL+"/prod/%40connections/"+url.PathEscape(id), strings.NewReader(body))
		porticotest.SignRequest(t, r, admin, "us-east-1", clk.Now())
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	for _, msg := range []string{"one", "two", "three"} {
		if res := call("POST", msg); res.StatusCode != 200 {
			t.Fatalf("POST on B = %d", res.StatusCode)
		}
	}
	for _, want := range []string{"one", "two", "three"} {
		if _, got, err := c.Read(ctx); err != nil || string(got) != want {
			t.Fatalf("client on A read %q, %v; want %q", got, err, want)
		}
	}
	if res := call("GET", ""); res.StatusCode != 200 {
		t.Errorf("GET on B = %d", res.StatusCode)
	}
	// Many messages through B's in-process API arrive in order, none lost.
	const n = 10000
	srvB, err := gwB.WebSocket()
	if err != nil {
		t.Fatal(err)
	}
	posted := make(chan error, 1)
	go func() {
		for i := range n {
			if err := srvB.Post(ctx, id, []byte(strconv.Itoa(i))); err != nil {
				posted <- err
				return
			}
		}
		posted <- nil
	}()
	for i := range n {
		if _, got, err := c.Read(ctx); err != nil || string(got) != strconv.Itoa(i) {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
	}
	if err := <-posted; err != nil {
		t.Fatal(err)
	}

	dying.die()
	if res := call("POST", "lost"); res.StatusCode != 410 || res.Header.Get("X-Amzn-Errortype") != "GoneException" {
		t.Errorf("POST after A died = %d %s, want 410 GoneException", res.StatusCode, res.Header.Get("X-Amzn-Errortype"))
	}
	if res := call("GET", ""); res.StatusCode != 200 {
		t.Errorf("GET before A's registrations expire = %d, want 200 (the record is still there)", res.StatusCode)
	}
	clk.Advance(websocket.DefaultHeartbeatTTL)
	for _, m := range []string{"GET", "POST", "DELETE"} {
		if res := call(m, "x"); res.StatusCode != 410 {
			t.Errorf("%s after A's registrations expired = %d, want 410", m, res.StatusCode)
		}
	}
}

// FuzzDecodeCommand: decoding never panics, and what decodes survives an
// encode and decode unchanged.
func FuzzDecodeCommand(f *testing.F) {
	f.Add(encodeCommand(websocket.Command{Op: websocket.OpPost, ConnectionID: "L0S=", Data: []byte("hi")}))
	f.Add(encodeCommand(websocket.Command{Op: websocket.OpDelete, ConnectionID: "x"}))
	f.Add([]byte("p\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCommand(b)
		if err != nil {
			return
		}
		again, err := decodeCommand(encodeCommand(c))
		if err != nil || again.Op != c.Op || again.ConnectionID != c.ConnectionID || string(again.Data) != string(c.Data) {
			t.Fatalf("%q decodes to %+v, which round-trips to %+v, %v", b, c, again, err)
		}
	})
}
