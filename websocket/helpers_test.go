package websocket

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico/internal/fakeclock"
)

var testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testEnv is a server on httptest with a fake clock and a record of the
// $disconnect events.
type testEnv struct {
	t     *testing.T
	clk   *fakeclock.Clock
	srv   *Server
	app   *App
	ts    *httptest.Server
	url   string
	mu    sync.Mutex
	gone  map[string][]Event // connection id → its $disconnect events
	gones chan Event
	ids   chan string // ids of registered connections, in order
}

// newEnv starts a server for cfg. A $disconnect route recording events is
// added unless cfg has one.
func newEnv(t *testing.T, cfg AppConfig, opts ...Option) *testEnv {
	t.Helper()
	e := &testEnv{t: t, clk: fakeclock.New(testStart), gone: map[string][]Event{}, gones: make(chan Event, 1024)}
	hasDisc := false
	for _, r := range cfg.Routes {
		hasDisc = hasDisc || r.Key == RouteDisconnect
	}
	if !hasDisc {
		cfg.Routes = append(cfg.Routes, Route{Key: RouteDisconnect, Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ev := *EventFrom(r.Context())
			e.mu.Lock()
			e.gone[ev.ConnectionID] = append(e.gone[ev.ConnectionID], ev)
			e.mu.Unlock()
			e.gones <- ev
		})})
	}
	app, err := NewApp(cfg)
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	e.app = app
	srv, err := NewServer(append([]Option{WithClock(e.clk)}, opts...)...)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	e.srv = srv
	e.ids = make(chan string, 1<<14)
	srv.registered = func(id string) { e.ids <- id }
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "connections/") {
			srv.ConnectionsHandler().ServeHTTP(w, r)
			return
		}
		srv.Accept(w, r, app)
	}))
	e.url = "ws" + strings.TrimPrefix(e.ts.URL, "http")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		e.ts.Close()
	})
	return e
}

// dial connects a client and returns it with its connection id (learnt
// from the server).
func (e *testEnv) dial(ctx context.Context) (*cws.Conn, string) {
	e.t.Helper()
	c, _, err := cws.Dial(ctx, e.url, nil)
	if err != nil {
		e.t.Fatalf("Dial: %v", err)
	}
	e.t.Cleanup(func() { _ = c.CloseNow() })
	select {
	case id := <-e.ids:
		return c, id
	case <-ctx.Done():
		e.t.Fatalf("connection never registered")
		return nil, ""
	}
}

// waitGone waits for the $disconnect of id and returns it.
func (e *testEnv) waitGone(ctx context.Context, id string) Event {
	e.t.Helper()
	for {
		e.mu.Lock()
		evs := e.gone[id]
		e.mu.Unlock()
		if len(evs) > 0 {
			return evs[0]
		}
		select {
		case <-e.gones:
		case <-ctx.Done():
			e.t.Fatalf("no $disconnect for %s", id)
		}
	}
}

func (e *testEnv) disconnects(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.gone[id])
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readJSON(t *testing.T, ctx context.Context, c *cws.Conn) map[string]any {
	t.Helper()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("reply %s is not JSON: %v", b, err)
	}
	return m
}

func echo(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 0, 256)
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		_, _ = w.Write(append([]byte(prefix), b...))
	})
}
