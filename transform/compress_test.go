package transform

import (
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

func TestCompress(t *testing.T) {
	big := strings.Repeat("portico ", 200) // 1600 bytes
	tests := []struct {
		name     string
		min      int
		accept   string
		method   string
		status   int
		header   http.Header
		body     string
		encoding string
		encoded  bool // the handler's own encoding: not decoded
	}{
		{name: "gzip above the minimum", min: 1000, accept: "gzip, deflate", body: big, encoding: "gzip"},
		{name: "deflate preferred by q", min: 1000, accept: "gzip;q=0.5, deflate", body: big, encoding: "deflate"},
		{name: "below the minimum", min: 1000, accept: "gzip", body: "small"},
		{name: "minimum zero compresses all", min: 0, accept: "gzip", body: "small", encoding: "gzip"},
		{name: "not accepted", min: 0, accept: "compress", body: big},
		{name: "br", min: 0, accept: "br", body: big, encoding: "br"},
		{name: "zstd", min: 0, accept: "zstd", body: big, encoding: "zstd"},
		{name: "tie: zstd first", min: 0, accept: "gzip, deflate, br, zstd", body: big, encoding: "zstd"},
		{name: "br preferred by q", min: 0, accept: "zstd;q=0.8, br, gzip", body: big, encoding: "br"},
		{name: "star with gzip refused", min: 0, accept: "gzip;q=0, *", body: big, encoding: "deflate"},
		{name: "star below an explicit one", min: 0, accept: "*;q=0.1, br", body: big, encoding: "br"},
		{name: "refused with q=0", min: 0, accept: "gzip;q=0, identity", body: big},
		{name: "star", min: 0, accept: "*", body: big, encoding: "gzip"},
		{name: "no accept-encoding", min: 0, body: big},
		{name: "already encoded", min: 0, accept: "gzip", header: http.Header{"Content-Encoding": {"br"}}, body: big, encoding: "br", encoded: true},
		{name: "no-transform", min: 0, accept: "gzip", header: http.Header{"Cache-Control": {"no-transform"}}, body: big},
		{name: "HEAD", min: 0, accept: "gzip", method: "HEAD", body: ""},
		{name: "204", min: 0, accept: "gzip", status: 204},
		{name: "content-length below minimum", min: 1000, accept: "gzip", header: http.Header{"Content-Length": {"5"}}, body: "small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := Compress(tt.min)
			if err != nil {
				t.Fatal(err)
			}
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				// Write in pieces, as a streaming handler would.
				for i := 0; i < len(tt.body); i += 100 {
					_, _ = io.WriteString(w, tt.body[i:min(i+100, len(tt.body))])
				}
			}))
			method := tt.method
			if method == "" {
				method = "GET"
			}
			r := httptest.NewRequest(method, "/", nil)
			if tt.accept != "" {
				r.Header.Set("Accept-Encoding", tt.accept)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Header().Get("Content-Encoding"); got != tt.encoding {
				t.Fatalf("Content-Encoding = %q, want %q", got, tt.encoding)
			}
			if w.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding", w.Header().Get("Vary"))
			}
			var rd io.Reader = w.Body
			enc := tt.encoding
			if tt.encoded {
				enc = ""
			}
			switch enc {
			case "gzip":
				zr, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Fatal(err)
				}
				rd = zr
			case "deflate":
				rd = flate.NewReader(w.Body)
			case "br":
				rd = brotli.NewReader(w.Body)
			case "zstd":
				zr, err := zstd.NewReader(w.Body, zstd.WithDecoderConcurrency(1))
				if err != nil {
					t.Fatal(err)
				}
				defer zr.Close()
				rd = zr
			}
			got, err := io.ReadAll(rd)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.body {
				t.Errorf("decoded body of %d bytes, want %d", len(got), len(tt.body))
			}
			if tt.status != 0 && w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
		})
	}
}

func TestCompressBadSize(t *testing.T) {
	for _, n := range []int{-1, MaxCompressionSize + 1} {
		if _, err := Compress(n); err == nil {
			t.Errorf("Compress(%d) = nil error, want one", n)
		}
	}
}

func TestCompressFlushStreams(t *testing.T) {
	mw, _ := Compress(10)
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first chunk, long enough")
		http.NewResponseController(w).Flush()
		_, _ = io.WriteString(w, " and the rest")
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != "first chunk, long enough and the rest" {
		t.Errorf("body = %q", got)
	}
}

// TestCompressReusesEncoders sends several responses through one
// middleware, so that pooled encoders are reset and reused.
func TestCompressReusesEncoders(t *testing.T) {
	mw, err := Compress(0)
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat(r.URL.Query().Get("s"), 300))
	}))
	for i := range 6 {
		for _, enc := range []string{"zstd", "br", "gzip", "deflate"} {
			want := strings.Repeat(fmt.Sprintf("response %d %s;", i, enc), 300)
			r := httptest.NewRequest("GET", "/?s="+url.QueryEscape(fmt.Sprintf("response %d %s;", i, enc)), nil)
			r.Header.Set("Accept-Encoding", enc)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var rd io.Reader
			switch enc {
			case "zstd":
				zr, err := zstd.NewReader(w.Body, zstd.WithDecoderConcurrency(1))
				if err != nil {
					t.Fatal(err)
				}
				defer zr.Close()
				rd = zr
			case "br":
				rd = brotli.NewReader(w.Body)
			case "gzip":
				zr, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Fatal(err)
				}
				rd = zr
			default:
				rd = flate.NewReader(w.Body)
			}
			got, err := io.ReadAll(rd)
			if err != nil || string(got) != want {
				t.Fatalf("%s response %d: %v, %d bytes, want %d", enc, i, err, len(got), len(want))
			}
		}
	}
}
