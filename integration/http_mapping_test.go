package integration

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/portico-gw/portico/reqctx"
)

// statusBackend answers with the status in ?status= and ten x's.
func statusBackend(t *testing.T) *httptest.Server {
	t.Helper()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := 200
		if s := r.URL.Query().Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Header.Get("X-Mapped"))
		w.Header().Set("X-Body", string(b))
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(status)
		fmt.Fprint(w, strings.Repeat("x", 10))
	}))
	t.Cleanup(be.Close)
	return be
}

func TestHTTPIdentityMapping(t *testing.T) {
	be := statusBackend(t)
	h := &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/"}}
	for _, status := range []int{200, 404, 503} {
		r, rc := proxyRequest("POST", fmt.Sprintf("/?status=%d", status), strings.NewReader("in"), nil)
		rec := serveProxy(h, r)
		if rec.Code != status || rec.Body.String() != "xxxxxxxxxx" || rec.Header().Get("X-Body") != "in" || rc.IntegrationStatus != status {
			t.Errorf("backend %d: %d %q %v", status, rec.Code, rec.Body, rec.Header())
		}
	}
}

func TestHTTPMapping(t *testing.T) {
	be := statusBackend(t)
	var callerHeader http.Header
	h := &HTTP{
		HTTPProxy: HTTPProxy{Target: be.URL + "/"},
		MapRequest: func(r *http.Request) error {
			r.Header.Set("X-Mapped", "in")
			r.URL.Host = "evil.example" // ignored: the target's host stays
			r.URL.Path = "/mapped"
			return nil
		},
		MapResponse: func(res *http.Response) error {
			b, err := io.ReadAll(res.Body)
			if err != nil {
				return err
			}
			res.Body = io.NopCloser(strings.NewReader("<" + string(b) + ">"))
			res.ContentLength = -1
			return nil
		},
		Responses: []IntegrationResponse{{Pattern: `4\d\d`, StatusCode: 400}, {Pattern: "", StatusCode: 200}, {Pattern: `5\d\d`, StatusCode: 502}, {Pattern: `50`, StatusCode: 418}},
	}
	bound, err := h.BindStage(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ backend, want int }{{200, 200}, {201, 200}, {404, 400}, {503, 502}} {
		r, rc := proxyRequest("GET", fmt.Sprintf("/?status=%d", tt.backend), nil, nil)
		callerHeader = r.Header
		rec := serveProxy(bound, r)
		if rec.Code != tt.want || rec.Body.String() != "<xxxxxxxxxx>" || rec.Header().Get("X-Seen") != "in" || rec.Header().Get("X-Path") != "/mapped" {
			t.Errorf("backend %d: %d %q %v", tt.backend, rec.Code, rec.Body, rec.Header())
		}
		if rec.Header().Get("Content-Length") != "" {
			t.Errorf("backend %d: stale Content-Length %q", tt.backend, rec.Header().Get("Content-Length"))
		}
		if rc.IntegrationStatus != tt.backend {
			t.Errorf("IntegrationStatus %d, want the backend's %d", rc.IntegrationStatus, tt.backend)
		}
		if callerHeader.Get("X-Mapped") != "" {
			t.Error("MapRequest changed the caller's header")
		}
	}
}

func TestHTTPStatusMappingWithoutDefault(t *testing.T) {
	be := statusBackend(t)
	h := &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/"}, Responses: []IntegrationResponse{{Pattern: `2\d\d`}}}
	r, _ := proxyRequest("GET", "/?status=200", nil, nil)
	if rec := serveProxy(h, r); rec.Code != 200 {
		t.Fatalf("matched entry with StatusCode 0: %d", rec.Code)
	}
	r, _ = proxyRequest("GET", "/?status=404", nil, nil)
	if rec := serveProxy(h, r); rec.Code != 500 || rec.Header().Get("X-Amzn-Errortype") != "InternalServerErrorException" {
		t.Fatalf("no match and no default: %d %q", rec.Code, rec.Body)
	}
}

func TestHTTPMappingLimits(t *testing.T) {
	be := statusBackend(t)
	readAll := func(r io.Reader) error { _, err := io.ReadAll(r); return err }
	tests := []struct {
		name   string
		h      *HTTP
		body   string
		status int
	}{
		{"response over the limit", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/"}, MaxResponseBytes: 5,
			MapResponse: func(res *http.Response) error { return readAll(res.Body) }}, "", 502},
		{"response at the limit", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/"}, MaxResponseBytes: 10,
			MapResponse: func(res *http.Response) error { return readAll(res.Body) }}, "", 200},
		{"request over the limit", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/"}, MaxRequestBytes: 5,
			MapRequest: func(r *http.Request) error { return readAll(r.Body) }}, "0123456789", 413},
		{"request hook error", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/"},
			MapRequest: func(*http.Request) error { return errors.New("template failed") }}, "", 500},
		{"request hook gateway error", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/"},
			MapRequest: func(*http.Request) error { return reqctx.NewError(reqctx.BadRequestBody, errors.New("no")) }}, "", 400},
		{"response hook error", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/"},
			MapResponse: func(*http.Response) error { return errors.New("template failed") }}, "", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := proxyRequest("POST", "/", strings.NewReader(tt.body), nil)
			if rec := serveProxy(tt.h, r); rec.Code != tt.status {
				t.Fatalf("%d %q, want %d", rec.Code, rec.Body, tt.status)
			}
		})
	}
}

func TestHTTPBindErrors(t *testing.T) {
	be := statusBackend(t)
	tests := []struct {
		name string
		h    *HTTP
		want string
	}{
		{"bad pattern", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL}, Responses: []IntegrationResponse{{Pattern: "("}}}, "Responses[0].Pattern"},
		{"bad status", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL}, Responses: []IntegrationResponse{{}, {StatusCode: 99}}}, "Responses[1].StatusCode"},
		{"two defaults", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL}, Responses: []IntegrationResponse{{}, {}}}, "Responses[1]"},
		{"negative limit", &HTTP{HTTPProxy: HTTPProxy{Target: be.URL}, MaxResponseBytes: -1}, "MaxResponseBytes"},
		{"bad target", &HTTP{HTTPProxy: HTTPProxy{Target: "nope"}}, "target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.h.BindStage(nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("BindStage: %v, want %q", err, tt.want)
			}
		})
	}
}
