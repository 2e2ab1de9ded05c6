package upstream

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	t0    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	quiet = slog.New(slog.DiscardHandler)
)

// stub is a backend that answers with its name, or with the status it is
// told, and counts what it serves.
type stub struct {
	srv    *httptest.Server
	name   string
	hits   atomic.Int64
	probes atomic.Int64
	status atomic.Int32  // for requests
	health atomic.Int32  // for /health
	hang   chan struct{} // if set, requests wait on it
}

func newStub(t *testing.T, name string) *stub {
	t.Helper()
	s := &stub{name: name}
	s.status.Store(200)
	s.health.Store(200)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			s.probes.Add(1)
			w.WriteHeader(int(s.health.Load()))
			return
		}
		s.hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if s.hang != nil {
			select {
			case <-s.hang:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(int(s.status.Load()))
		fmt.Fprint(w, name)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func newPool(t *testing.T, cfg Config) *Pool {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func urls(stubs ...*stub) []string {
	out := make([]string, len(stubs))
	for i, s := range stubs {
		out[i] = s.srv.URL
	}
	return out
}

// get sends GET /x through rt and returns the status and body.
func get(t *testing.T, rt http.RoundTripper, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://pool.invalid/x", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err.Error()
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b)
}
