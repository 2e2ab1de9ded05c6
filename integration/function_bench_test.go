package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico/reqctx"
)

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchRequest is a request as the gateway passes it on: reqctx filled and a
// context that can be cancelled, as a server request's is (so the function
// runs on its own goroutine).
func benchRequest(b *testing.B, apiType string) *http.Request {
	r, rc := gatewayRequest("GET", "/pets/7?fields=name&fields=age", nil, apiType)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Authorization", "Bearer x")
	ctx, cancel := context.WithCancel(r.Context())
	b.Cleanup(cancel)
	return r.WithContext(reqctx.With(ctx, rc))
}

func runBench(b *testing.B, h http.Handler, r *http.Request) {
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkFunctionV1(b *testing.B) {
	b.Run("events types", func(b *testing.B) {
		h := Function(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"id":"` + ev.PathParameters["id"] + `"}`}, nil
		})
		runBench(b, h, benchRequest(b, "REST"))
	})
	b.Run("JSON", func(b *testing.B) {
		h := RawFunction(func(ctx context.Context, ev []byte) ([]byte, error) {
			var in struct {
				PathParameters map[string]string `json:"pathParameters"`
			}
			if err := json.Unmarshal(ev, &in); err != nil {
				return nil, err
			}
			return []byte(`{"statusCode":200,"body":"{\"id\":\"` + in.PathParameters["id"] + `\"}"}`), nil
		})
		runBench(b, h, benchRequest(b, "REST"))
	})
}

func BenchmarkFunctionV2(b *testing.B) {
	b.Run("events types", func(b *testing.B) {
		h := Function(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"id":"` + ev.PathParameters["id"] + `"}`}, nil
		})
		runBench(b, h, benchRequest(b, "HTTP"))
	})
	b.Run("plain JSON out", func(b *testing.B) {
		h := Function(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (map[string]string, error) {
			return map[string]string{"id": ev.PathParameters["id"]}, nil
		})
		runBench(b, h, benchRequest(b, "HTTP"))
	})
}
