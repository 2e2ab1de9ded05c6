package integration

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/reqctx"
)

// cannedTransport answers every request in memory, so that a benchmark
// measures the proxy, not the network.
type cannedTransport struct{}

var cannedBody = `{"id":"7","name":"Rex"}`

func (cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		StatusCode:    200,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {"23"}},
		Body:          io.NopCloser(strings.NewReader(cannedBody)),
		ContentLength: int64(len(cannedBody)),
		Request:       req,
	}, nil
}

// proxyBenchWriter is a ResponseWriter that keeps only its header map.
type proxyBenchWriter struct{ h http.Header }

func (w *proxyBenchWriter) Header() http.Header         { return w.h }
func (w *proxyBenchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *proxyBenchWriter) WriteHeader(int)             {}

func benchServe(b *testing.B, h http.Handler, withCtx bool) {
	r := httptest.NewRequest("GET", "http://gw.example/prod/pets/7?x=1", nil)
	r.RemoteAddr = "203.0.113.9:5000"
	r.Header.Set("User-Agent", "bench")
	r.Header.Set("Accept", "application/json")
	if withCtx {
		rc := &reqctx.Context{RequestID: "req-42", PathParams: map[string]string{"id": "7"}}
		r = r.WithContext(reqctx.With(r.Context(), rc))
	}
	w := &proxyBenchWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkProxyPath compares the bare httputil.ReverseProxy and
// HTTPProxy on the same in-memory backend: the difference is what Portico
// adds per request (target expansion, forwarded headers, request id,
// error and status hooks).
func BenchmarkProxyPath(b *testing.B) {
	target, _ := url.Parse("http://backend.internal:8080")
	b.Run("bare-ReverseProxy", func(b *testing.B) {
		rp := &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
			Transport: cannedTransport{},
		}
		benchServe(b, rp, true)
	})
	b.Run("bare-ReverseProxy-with-BufferPool", func(b *testing.B) {
		rp := &httputil.ReverseProxy{
			Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
			Transport:  cannedTransport{},
			BufferPool: &bufferPool{},
		}
		benchServe(b, rp, true)
	})
	b.Run("HTTPProxy", func(b *testing.B) {
		h, err := (&HTTPProxy{Target: "http://backend.internal:8080/pets/{id}", Transport: cannedTransport{}}).BindStage(nil)
		if err != nil {
			b.Fatal(err)
		}
		benchServe(b, h, true)
	})
	b.Run("HTTPProxy-pool", func(b *testing.B) {
		pool, err := NewPool([]string{"http://b1.internal", "http://b2.internal", "http://b3.internal"}, WithBalancer(LeastOutstanding))
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		h, err := (&HTTPProxy{Target: "/pets/{id}", Pool: pool, Transport: cannedTransport{}}).BindStage(nil)
		if err != nil {
			b.Fatal(err)
		}
		benchServe(b, h, true)
	})
	b.Run("HTTP-status-mapping", func(b *testing.B) {
		h, err := (&HTTP{HTTPProxy: HTTPProxy{Target: "http://backend.internal:8080/pets/{id}", Transport: cannedTransport{}},
			Responses: []IntegrationResponse{{Pattern: `5\d\d`, StatusCode: 502}, {}}}).BindStage(nil)
		if err != nil {
			b.Fatal(err)
		}
		benchServe(b, h, true)
	})
}

// BenchmarkProxyLoopback is the same comparison over loopback HTTP to a
// real backend, with the tuned transport on both sides.
func BenchmarkProxyLoopback(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, cannedBody)
	}))
	defer be.Close()
	target, _ := url.Parse(be.URL)
	tr, err := sharedTransport()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("bare-ReverseProxy", func(b *testing.B) {
		rp := &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
			Transport: tr,
		}
		benchServe(b, rp, true)
	})
	b.Run("HTTPProxy", func(b *testing.B) {
		h, err := (&HTTPProxy{Target: be.URL + "/pets/{id}"}).BindStage(nil)
		if err != nil {
			b.Fatal(err)
		}
		benchServe(b, h, true)
	})
}

func BenchmarkTargetExpand(b *testing.B) {
	for _, bb := range []struct {
		name, target string
		params       map[string]string
	}{
		{"literal", "http://backend.internal/pets", nil},
		{"param", "http://backend.internal/v1/pets/{id}", map[string]string{"id": "7"}},
		{"param-escaped", "http://backend.internal/v1/pets/{id}", map[string]string{"id": "a b/c"}},
		{"greedy", "http://backend.internal/files/{proxy}", map[string]string{"proxy": "a/b/c/d.txt"}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			t, err := parseTarget(bb.target, false)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := t.expand(bb.params, nil, "q=1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
