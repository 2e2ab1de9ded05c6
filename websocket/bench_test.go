package websocket

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cws "github.com/coder/websocket"
)

func BenchmarkSelect(b *testing.B) {
	s, err := ParseSelectionExpression("")
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte(`{"action":"sendmessage","text":"hello, world","n":12}`)
	b.ReportAllocs()
	for b.Loop() {
		if k, _ := s.Select(msg); k != "sendmessage" {
			b.Fatal(k)
		}
	}
}

// BenchmarkEchoRoundTrip is one message to a two-way route and its reply,
// over loopback.
func BenchmarkEchoRoundTrip(b *testing.B) {
	ctx := context.Background()
	app, err := NewApp(AppConfig{Routes: []Route{{Key: RouteDefault, Integration: echo(""), RouteResponse: true}}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := NewServer()
	if err != nil {
		b.Fatal(err)
	}
	ts := newBenchServer(srv, app)
	defer ts.Close()
	defer srv.Close(ctx)
	c, _, err := cws.Dial(ctx, ts.url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	msg := []byte(`{"action":"echo"}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Write(ctx, cws.MessageText, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

type benchServer struct {
	*httptest.Server
	url string
}

func newBenchServer(srv *Server, app *App) benchServer {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.Accept(w, r, app) }))
	return benchServer{ts, "ws" + strings.TrimPrefix(ts.URL, "http")}
}
