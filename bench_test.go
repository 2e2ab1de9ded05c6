package portico

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico/integration"
)

// okHandler writes a small JSON body.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
})

// discardWriter is a ResponseWriter that keeps nothing, so benchmarks
// measure the gateway, not the recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchGateway(b *testing.B, routes int) *Gateway {
	b.Helper()
	gw, err := New(WithLogger(slog.New(slog.DiscardHandler)), WithAccountThrottle(1e9, 1<<30))
	if err != nil {
		b.Fatal(err)
	}
	api := NewAPI("bench", REST)
	for i := range routes {
		api.Handle(fmt.Sprintf("GET /r%d/items/{id}", i), okHandler)
	}
	api.Handle("GET /pets/{id}", okHandler)
	if _, err := gw.Deploy(api, StageConfig{Name: "prod"}); err != nil {
		b.Fatal(err)
	}
	return gw
}

// BenchmarkGateway measures a request through the whole gateway (resolve,
// match, request context, timeout guard) around a trivial handler, against
// the handler called bare.
func BenchmarkGateway(b *testing.B) {
	req := httptest.NewRequest("GET", "/prod/pets/7", nil)
	b.Run("bare handler", func(b *testing.B) {
		w := &discardWriter{h: http.Header{}}
		bare := httptest.NewRequest("GET", "/pets/7", nil)
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			okHandler.ServeHTTP(w, bare)
		}
	})
	b.Run("gateway 200 routes", func(b *testing.B) {
		gw := benchGateway(b, 200)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			gw.ServeHTTP(w, req)
		}
	})
	b.Run("gateway 200 routes parallel", func(b *testing.B) {
		gw := benchGateway(b, 200)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				clear(w.h)
				gw.ServeHTTP(w, req)
			}
		})
	})
	b.Run("not found", func(b *testing.B) {
		gw := benchGateway(b, 200)
		nf := httptest.NewRequest("GET", "/prod/nothing/here", nil)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			gw.ServeHTTP(w, nf)
		}
	})
}

// BenchmarkFunction compares a payload 1.0 function called bare with the
// same function behind the gateway (event building, JSON-free fast path,
// response writing, and the whole gateway).
func BenchmarkFunction(b *testing.B) {
	fn := func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"id":"` + ev.PathParameters["id"] + `"}`}, nil
	}
	b.Run("bare function", func(b *testing.B) {
		ev := events.APIGatewayProxyRequest{PathParameters: map[string]string{"id": "7"}}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fn(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("function integration alone", func(b *testing.B) {
		h := integration.Function(fn)
		req := httptest.NewRequest("GET", "/pets/7", nil)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
	b.Run("gateway with function", func(b *testing.B) {
		gw, _ := New(WithLogger(slog.New(slog.DiscardHandler)), WithAccountThrottle(1e9, 1<<30))
		api := NewAPI("bench", REST)
		api.Handle("GET /pets/{id}", integration.Function(fn))
		if _, err := gw.Deploy(api, StageConfig{Name: "prod"}); err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/prod/pets/7", nil)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			gw.ServeHTTP(w, req)
		}
	})
}

// BenchmarkHTTPProxy compares a bare httputil.ReverseProxy, Portico's proxy
// integration alone, and the proxy integration behind the gateway, all
// against one loopback backend.
func BenchmarkHTTPProxy(b *testing.B) {
	be := httptest.NewServer(okHandler)
	defer be.Close()
	target, _ := url.Parse(be.URL)
	run := func(b *testing.B, h http.Handler, path string) {
		req := httptest.NewRequest("GET", path, nil)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	}
	b.Run("bare ReverseProxy", func(b *testing.B) {
		rp := httputil.NewSingleHostReverseProxy(target)
		run(b, rp, "/pets/7")
	})
	b.Run("HTTPProxy alone", func(b *testing.B) {
		h, err := (&integration.HTTPProxy{Target: be.URL + "/pets/7"}).BindStage(nil)
		if err != nil {
			b.Fatal(err)
		}
		run(b, h, "/pets/7")
	})
	b.Run("gateway with HTTPProxy", func(b *testing.B) {
		gw, _ := New(WithLogger(slog.New(slog.DiscardHandler)), WithAccountThrottle(1e9, 1<<30))
		api := NewAPI("bench", HTTP)
		api.Handle("ANY /{proxy+}", &integration.HTTPProxy{Target: be.URL + "/{proxy}"})
		if _, err := gw.Deploy(api, StageConfig{Name: "prod"}); err != nil {
			b.Fatal(err)
		}
		run(b, gw, "/prod/pets/7")
	})
}
