package portico

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/internal/fakeclock"
)

func TestGatewayHTTPProxy(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.EscapedPath(), r.Header.Get("X-Request-Id"))
	}))
	defer be.Close()
	gw := newGateway(t)
	api := NewAPI("svc", HTTP)
	api.Handle("GET /pets/{id}", &integration.HTTPProxy{Target: "http://${stageVariables.backend}/v1/pets/{id}"})
	api.Handle("ANY /files/{proxy+}", &integration.HTTPProxy{Target: "http://${stageVariables.backend}/storage/{proxy}"})
	mustDeploy(t, gw, api, StageConfig{Name: "prod", Variables: map[string]string{"backend": strings.TrimPrefix(be.URL, "http://")}})
	tests := []struct{ method, path, want string }{
		{"GET", "/prod/pets/7", "GET /v1/pets/7 "},
		{"GET", "/prod/pets/a%2Fb", "GET /v1/pets/a%2Fb "},
		{"PUT", "/prod/files/a/b/c.txt", "PUT /storage/a/b/c.txt "},
	}
	for _, tt := range tests {
		rec := serve(gw, tt.method, tt.path, nil)
		if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), tt.want) || !strings.HasSuffix(rec.Body.String(), rec.Header().Get("X-Amzn-Requestid")) {
			t.Errorf("%s %s = %d %q", tt.method, tt.path, rec.Code, rec.Body)
		}
	}
	if rec := serve(gw, "GET", "/prod/files/a/../../etc", nil); rec.Code != 404 && rec.Code != 400 {
		t.Errorf("path walk: %d %q", rec.Code, rec.Body)
	}
	if rec := serve(gw, "GET", "/prod/files/a/%2E%2E/etc", nil); rec.Code != 400 {
		t.Errorf("escaped path walk: %d %q", rec.Code, rec.Body)
	}
	bad := NewAPI("svc2", HTTP)
	bad.Handle("GET /x", &integration.HTTPProxy{Target: "http://${stageVariables.nope}/"})
	if _, err := gw.Deploy(bad, StageConfig{Name: "prod"}); err == nil || !strings.Contains(err.Error(), `stage variable "nope"`) {
		t.Errorf("undefined backend variable: %v", err)
	}
}

// TestGatewayTimeoutWithSlowBackend: the gateway's integration timeout
// answers 504 and cancels the backend call.
func TestGatewayTimeoutWithSlowBackend(t *testing.T) {
	clk := fakeclock.New(t0)
	cancelled := make(chan struct{})
	entered := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		close(cancelled)
	}))
	defer be.Close()
	gw := newGateway(t, WithClock(clk))
	api := NewAPI("svc", REST)
	api.Handle("GET /slow", &integration.HTTPProxy{Target: be.URL + "/"})
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(gw, "GET", "/prod/slow", nil) }()
	<-entered
	clk.Advance(DefaultIntegrationTimeout)
	if rec := <-done; rec.Code != 504 {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	<-cancelled
}

// peakRSS reads the process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status on this system: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	p.left -= int64(len(b))
	return len(b), nil
}

// TestProxyStreamsLargeBodies sends a large upload and a large download
// through the gateway and its proxy integration and checks that the
// process's peak memory grows by far less than the body size. The size is
// 128 MB; PORTICO_BIG=1 makes it 1 GB.
func TestProxyStreamsLargeBodies(t *testing.T) {
	size := int64(128 << 20)
	if os.Getenv("PORTICO_BIG") == "1" {
		size = 1 << 30
	}
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %x %v", n, h.Sum(nil), err)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		_, _ = io.Copy(w, &patternReader{left: size})
	}))
	defer be.Close()
	gw := newGateway(t, WithMaxBodyBytes(size+1))
	api := NewAPI("big", REST)
	api.Handle("ANY /blob", &integration.HTTPProxy{Target: be.URL + "/blob"})
	mustDeploy(t, gw, api, StageConfig{Name: "prod"})
	front := httptest.NewServer(gw)
	defer front.Close()

	want := sha256.New()
	_, _ = io.Copy(want, &patternReader{left: size})
	before := peakRSS(t)

	res, err := front.Client().Post(front.URL+"/prod/blob", "application/octet-stream", io.NopCloser(&patternReader{left: size}))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if got := fmt.Sprintf("%d %x <nil>", size, want.Sum(nil)); string(body) != got {
		t.Fatalf("upload: backend saw %q, want %q", body, got)
	}
	res, err = front.Client().Get(front.URL + "/prod/blob")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, bufio.NewReader(res.Body))
	res.Body.Close()
	if err != nil || n != size {
		t.Fatalf("download: %d bytes, %v", n, err)
	}
	growth := peakRSS(t) - before
	t.Logf("streamed %d MB each way; peak RSS grew by %.1f MB", size>>20, float64(growth)/(1<<20))
	if growth > size/4 {
		t.Fatalf("peak RSS grew by %d bytes streaming %d: bodies are being buffered", growth, size)
	}
}
