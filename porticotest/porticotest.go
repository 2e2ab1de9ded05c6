// Package porticotest helps users test their Portico set-up without a
// network: start an API's stage in memory, drive time with a fake clock, and
// send requests.
//
//	func TestGetPet(t *testing.T) {
//		st := porticotest.NewStage(t, myAPI(), portico.StageConfig{Name: "test"})
//		res := st.Do(httptest.NewRequest("GET", "/pets/7", nil))
//		if res.Code != 200 { t.Fatalf("status %d: %s", res.Code, res.Body) }
//	}
package porticotest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/internal/fakeclock"
)

// Clock is a fake clock that moves only when told to: Advance, AdvanceTo,
// WaitForTimers. Every part of Portico that reads time accepts it
// ([portico.WithClock]). Safe for concurrent use.
type Clock = fakeclock.Clock

// NewClock returns a fake clock reading start.
func NewClock(start time.Time) *Clock { return fakeclock.New(start) }

// Stage is a deployed stage of an API on its own gateway, reachable both in
// memory ([Stage.Do]) and over loopback HTTP ([Stage.Server]).
type Stage struct {
	// Gateway is the gateway serving the stage.
	Gateway *portico.Gateway
	// Stage is the deployed stage.
	Stage *portico.Stage
	// Server serves Gateway on a loopback address; it starts on first use
	// of [Stage.URL] or [Stage.Client] and closes when the test ends.
	server *httptest.Server
	tb     testing.TB
	prefix string
}

// NewStage deploys api on a new gateway (made with opts) as the stage cfg
// and returns it; a deploy error fails the test. The gateway shuts down when
// the test ends.
func NewStage(tb testing.TB, api *portico.API, cfg portico.StageConfig, opts ...portico.Option) *Stage {
	tb.Helper()
	gw, err := portico.New(opts...)
	if err != nil {
		tb.Fatalf("porticotest: portico.New: %v", err)
	}
	st, err := gw.Deploy(api, cfg)
	if err != nil {
		tb.Fatalf("porticotest: deploy: %v", err)
	}
	s := &Stage{Gateway: gw, Stage: st, tb: tb, prefix: "/" + cfg.Name}
	if api.Version != "" {
		s.prefix += "/" + api.Version
	}
	tb.Cleanup(func() {
		if s.server != nil {
			s.server.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})
	return s
}

// Do serves req in memory and returns the recorded response. req's path is
// relative to the stage ("/pets/7"); Do adds the stage (and version) prefix.
func (s *Stage) Do(req *http.Request) *httptest.ResponseRecorder {
	s.tb.Helper()
	req.URL.Path = s.prefix + req.URL.Path
	if req.URL.RawPath != "" {
		req.URL.RawPath = s.prefix + req.URL.RawPath
	}
	req.RequestURI = ""
	rec := httptest.NewRecorder()
	s.Gateway.ServeHTTP(rec, req)
	return rec
}

// Get serves GET path in memory.
func (s *Stage) Get(path string) *httptest.ResponseRecorder {
	s.tb.Helper()
	return s.Do(httptest.NewRequest(http.MethodGet, path, nil))
}

// Send serves a request with the given method, path and body in memory; a
// non-empty body is sent as application/json.
func (s *Stage) Send(method, path, body string) *httptest.ResponseRecorder {
	s.tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.Do(req)
}

// Server returns the loopback HTTP server serving the gateway, starting it
// on first use.
func (s *Stage) Server() *httptest.Server {
	if s.server == nil {
		s.server = httptest.NewServer(s.Gateway)
	}
	return s.server
}

// URL returns the absolute URL of path on the stage over loopback HTTP.
func (s *Stage) URL(path string) string {
	return s.Server().URL + s.prefix + path
}

// Client returns an HTTP client for the loopback server.
func (s *Stage) Client() *http.Client { return s.Server().Client() }
