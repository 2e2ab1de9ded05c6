package integration

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/reqctx"
)

var quiet = slog.New(slog.DiscardHandler)

// proxyRequest builds a request as the gateway hands it over: path
// parameters, request id and source IP in its request context.
func proxyRequest(method, target string, body io.Reader, params map[string]string) (*http.Request, *reqctx.Context) {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "203.0.113.9:5000"
	rc := &reqctx.Context{RequestID: "req-42", PathParams: params, Identity: reqctx.Identity{SourceIP: "203.0.113.9"}}
	return r.WithContext(reqctx.With(r.Context(), rc)), rc
}

// echoBackend answers 207 with the request body, echoing what it received
// in response headers; it also sends hop-by-hop headers that must not pass.
func echoBackend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h := w.Header()
		h.Set("X-Method", r.Method)
		h.Set("X-Path", r.URL.EscapedPath())
		h.Set("X-Query", r.URL.RawQuery)
		h.Set("X-Host", r.Host)
		h.Set("X-Content-Length", strconv.FormatInt(r.ContentLength, 10))
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "X-Request-Id", "X-Amzn-Requestid",
			"X-Custom", "Te", "Connection", "Keep-Alive", "Max-Forwards", "Expect", "Content-Md5", "Www-Authenticate", "Proxy-Authorization", "Accept-Encoding", "User-Agent"} {
			h.Set("Echo-"+k, strings.Join(r.Header.Values(k), "|"))
		}
		h.Set("Connection", "X-Hop")
		h.Set("X-Hop", "must not pass")
		h.Set("Keep-Alive", "timeout=5")
		w.WriteHeader(207)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func hostOf(srv *httptest.Server) string {
	return strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")
}

// bindProxy binds p to vars or fails the test.
func bindProxy(t *testing.T, p *HTTPProxy, vars map[string]string) http.Handler {
	t.Helper()
	h, err := p.BindStage(vars)
	if err != nil {
		t.Fatalf("BindStage: %v", err)
	}
	return h
}

// serveProxy serves one request through h and returns the recording.
func serveProxy(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func wantHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestHTTPProxyPassThrough(t *testing.T) {
	be := echoBackend(t)
	h := bindProxy(t, &HTTPProxy{Target: "http://${stageVariables.backend}/api/pets/{id}?fixed=1"}, map[string]string{"backend": hostOf(be)})
	r, rc := proxyRequest("PATCH", "http://gw.example/prod/pets/7?q=a&q=b", strings.NewReader("payload"), map[string]string{"id": "7"})
	r.Header.Set("X-Custom", "yes")
	r.Header.Set("Connection", "Keep-Alive, X-Custom2")
	r.Header.Set("X-Custom2", "hop")
	r.Header.Set("Keep-Alive", "timeout=5")
	r.Header.Set("Te", "trailers")
	r.Header.Set("Max-Forwards", "3")
	r.Header.Set("Content-Md5", "xx")
	r.Header.Set("Www-Authenticate", "Basic")
	r.Header.Set("Proxy-Authorization", "Basic eA==")
	r.Header.Set("X-Forwarded-For", "6.6.6.6")
	r.Header.Set("X-Forwarded-Host", "evil.example")
	r.Header.Set("Forwarded", "for=6.6.6.6")
	r.Header.Set("X-Request-Id", "client-chosen")
	r.Header.Set("Accept-Encoding", "br")
	rec := serveProxy(h, r)
	if rec.Code != 207 || rec.Body.String() != "payload" {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	wantHeaders(t, rec.Header(), map[string]string{
		"X-Method":                 "PATCH",
		"X-Path":                   "/api/pets/7",
		"X-Query":                  "fixed=1&q=a&q=b",
		"X-Host":                   hostOf(be),
		"X-Content-Length":         "7",
		"Echo-X-Custom":            "yes",
		"Echo-Te":                  "trailers",
		"Echo-Connection":          "",
		"Echo-Keep-Alive":          "",
		"Echo-Max-Forwards":        "",
		"Echo-Content-Md5":         "",
		"Echo-Www-Authenticate":    "",
		"Echo-Proxy-Authorization": "",
		"Echo-X-Forwarded-For":     "203.0.113.9", // untrusted peer: its claims are dropped
		"Echo-X-Forwarded-Proto":   "http",
		"Echo-X-Forwarded-Host":    "gw.example",
		"Echo-Forwarded":           "",
		"Echo-X-Request-Id":        "req-42",
		"Echo-X-Amzn-Requestid":    "req-42",
		"Echo-Accept-Encoding":     "br", // passed as is; the transport adds and undoes no gzip
		"Echo-User-Agent":          "",
		"X-Hop":                    "",
		"Keep-Alive":               "",
	})
	if rc.IntegrationStatus != 207 || rc.IntegrationLatency <= 0 {
		t.Errorf("request context: status %d latency %v", rc.IntegrationStatus, rc.IntegrationLatency)
	}
}

func TestHTTPProxyForwardedFromTrustedProxies(t *testing.T) {
	be := echoBackend(t)
	h := bindProxy(t, &HTTPProxy{Target: be.URL + "/", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}}, nil)
	tests := []struct {
		name, remote string
		want         map[string]string
	}{
		{"trusted v4", "203.0.113.9:5000", map[string]string{
			"Echo-X-Forwarded-For": "198.51.100.1, 10.0.0.1, 203.0.113.9", "Echo-X-Forwarded-Proto": "https",
			"Echo-X-Forwarded-Host": "api.example", "Echo-Forwarded": "for=198.51.100.1"}},
		{"trusted v6", "[2001:db8::1]:5000", map[string]string{"Echo-X-Forwarded-For": "198.51.100.1, 10.0.0.1, 2001:db8::1"}},
		{"untrusted", "192.0.2.7:5000", map[string]string{
			"Echo-X-Forwarded-For": "192.0.2.7", "Echo-X-Forwarded-Proto": "http", "Echo-X-Forwarded-Host": "gw.example", "Echo-Forwarded": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := proxyRequest("GET", "http://gw.example/", nil, nil)
			r.RemoteAddr = tt.remote
			r.Header.Add("X-Forwarded-For", "198.51.100.1")
			r.Header.Add("X-Forwarded-For", "10.0.0.1")
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("X-Forwarded-Host", "api.example")
			r.Header.Set("Forwarded", "for=198.51.100.1")
			wantHeaders(t, serveProxy(h, r).Header(), tt.want)
		})
	}
}

func TestHTTPProxyPathParameters(t *testing.T) {
	be := echoBackend(t)
	host := hostOf(be)
	tests := []struct {
		name, target string
		params       map[string]string
		status       int
		path         string
	}{
		{name: "plain", target: "http://" + host + "/pets/{id}", params: map[string]string{"id": "7"}, status: 207, path: "/pets/7"},
		{name: "slash escaped", target: "http://" + host + "/pets/{id}", params: map[string]string{"id": "a/b"}, status: 207, path: "/pets/a%2Fb"},
		{name: "escaped dots stay one segment", target: "http://" + host + "/pets/{id}/x", params: map[string]string{"id": "../../etc"}, status: 207, path: "/pets/..%2F..%2Fetc/x"},
		{name: "dot-dot refused", target: "http://" + host + "/pets/{id}/x", params: map[string]string{"id": ".."}, status: 400},
		{name: "dot refused", target: "http://" + host + "/pets/{id}", params: map[string]string{"id": "."}, status: 400},
		{name: "empty refused", target: "http://" + host + "/pets/{id}", params: map[string]string{"id": ""}, status: 400},
		{name: "host cannot change", target: "http://" + host + "/{id}", params: map[string]string{"id": "@evil.example"}, status: 207, path: "/@evil.example"},
		{name: "authority cannot change", target: "http://" + host + "/{id}", params: map[string]string{"id": "//evil.example/x"}, status: 207, path: "/%2F%2Fevil.example%2Fx"},
		{name: "query and fragment escaped", target: "http://" + host + "/{id}", params: map[string]string{"id": "a?b=c#d"}, status: 207, path: "/a%3Fb=c%23d"},
		{name: "percent escaped", target: "http://" + host + "/{id}", params: map[string]string{"id": "%2e%2e"}, status: 207, path: "/%252e%252e"},
		{name: "backslash escaped", target: "http://" + host + "/{id}", params: map[string]string{"id": `..\..\x`}, status: 207, path: "/..%5C..%5Cx"},
		{name: "greedy", target: "http://" + host + "/files/{proxy}", params: map[string]string{"proxy": "a/b c/d"}, status: 207, path: "/files/a/b%20c/d"},
		{name: "greedy trailing slash", target: "http://" + host + "/files/{proxy}", params: map[string]string{"proxy": "a/b/"}, status: 207, path: "/files/a/b/"},
		{name: "greedy empty", target: "http://" + host + "/files/{proxy}", params: map[string]string{"proxy": ""}, status: 207, path: "/files"},
		{name: "greedy plus form", target: "http://" + host + "/{rest+}", params: map[string]string{"rest": "x/y"}, status: 207, path: "/x/y"},
		{name: "greedy walking up", target: "http://" + host + "/files/{proxy}", params: map[string]string{"proxy": "a/../../etc"}, status: 400},
		{name: "greedy dot", target: "http://" + host + "/files/{proxy}", params: map[string]string{"proxy": "./a"}, status: 400},
		{name: "literal escapes kept", target: "http://" + host + "/a%2Fb/{id}/", params: map[string]string{"id": "c d"}, status: 207, path: "/a%2Fb/c%20d/"},
		{name: "missing parameter", target: "http://" + host + "/pets/{nope}", params: map[string]string{"id": "1"}, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := bindProxy(t, &HTTPProxy{Target: tt.target}, nil)
			r, _ := proxyRequest("GET", "/", nil, tt.params)
			rec := serveProxy(h, r)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			if tt.path != "" && rec.Header().Get("X-Path") != tt.path {
				t.Fatalf("backend path %q, want %q", rec.Header().Get("X-Path"), tt.path)
			}
			if got := rec.Header().Get("X-Host"); got != "" && got != host {
				t.Fatalf("host changed to %q", got)
			}
			if tt.status == 400 && rec.Header().Get("X-Amzn-Errortype") != "BadRequestException" {
				t.Fatalf("error type %q", rec.Header().Get("X-Amzn-Errortype"))
			}
		})
	}
}

// TestHTTPProxyPathValueWithoutGateway: outside a gateway, parameters come
// from the request's PathValue (a ServeMux pattern).
func TestHTTPProxyPathValueWithoutGateway(t *testing.T) {
	be := echoBackend(t)
	mux := http.NewServeMux()
	mux.Handle("GET /pets/{id}/{rest...}", &HTTPProxy{Target: be.URL + "/v2/pets/{id}/{rest+}"})
	rec := serveProxy(mux, httptest.NewRequest("GET", "/pets/a%2Fb/x/y?z=1", nil))
	if rec.Code != 207 || rec.Header().Get("X-Path") != "/v2/pets/a%2Fb/x/y" || rec.Header().Get("X-Query") != "z=1" {
		t.Fatalf("%d %q %q", rec.Code, rec.Header().Get("X-Path"), rec.Header().Get("X-Query"))
	}
}

func TestHTTPProxyBindErrors(t *testing.T) {
	tests := []struct {
		name string
		p    *HTTPProxy
		vars map[string]string
		want string
	}{
		{"undefined variable", &HTTPProxy{Target: "http://${stageVariables.nope}/x"}, nil, `stage variable "nope"`},
		{"no scheme", &HTTPProxy{Target: "example.com/x"}, nil, "absolute http"},
		{"ftp", &HTTPProxy{Target: "ftp://example.com/x"}, nil, "scheme"},
		{"no host", &HTTPProxy{Target: "http:///x"}, nil, "no host"},
		{"variable makes no host", &HTTPProxy{Target: "http://${stageVariables.h}/x"}, map[string]string{"h": "/evil"}, "no host"},
		{"param in host", &HTTPProxy{Target: "http://{id}.example.com/"}, nil, "only in the path"},
		{"param in query", &HTTPProxy{Target: "http://example.com/?a={id}"}, nil, "only in the path"},
		{"partial segment", &HTTPProxy{Target: "http://example.com/a{id}"}, nil, "whole path segment"},
		{"bad param name", &HTTPProxy{Target: "http://example.com/{a b}"}, nil, "parameter name"},
		{"user info", &HTTPProxy{Target: "http://u:p@example.com/"}, nil, "user information"},
		{"dot segment", &HTTPProxy{Target: "http://example.com/a/../b"}, nil, "dot segments"},
		{"escaped dot segment", &HTTPProxy{Target: "http://example.com/a/%2e%2e/b"}, nil, "dot segments"},
		{"bad escape", &HTTPProxy{Target: "http://example.com/%zz"}, nil, "invalid URL escape"},
		{"unescaped space", &HTTPProxy{Target: "http://example.com/a b"}, nil, "must be escaped"},
		{"fragment", &HTTPProxy{Target: "http://example.com/a#b"}, nil, "fragment"},
		{"control character in query", &HTTPProxy{Target: "http://example.com/?a=\b"}, nil, "query must be escaped"},
		{"bad port", &HTTPProxy{Target: "http://example.com:port/"}, nil, "bad host"},
		{"empty", &HTTPProxy{}, nil, "empty target"},
		{"pool wants a path", &HTTPProxy{Target: "http://example.com/x", Pool: &Pool{}}, nil, "with a Pool"},
		{"negative total", &HTTPProxy{Target: "http://x/", Timeouts: Timeouts{Total: -1}}, nil, "Timeouts.Total"},
		{"bad trusted proxy", &HTTPProxy{Target: "http://x/", TrustedProxies: []netip.Prefix{{}}}, nil, "TrustedProxies[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.BindStage(tt.vars)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("BindStage = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	r, _ := proxyRequest("GET", "/", nil, nil)
	if rec := serveProxy(&HTTPProxy{Target: "nope"}, r); rec.Code != 500 || rec.Header().Get("X-Amzn-Errortype") != "InternalServerErrorException" {
		t.Errorf("unbindable standalone proxy answered %d", rec.Code)
	}
}

// TestHTTPProxyBindsPerStage: one HTTPProxy bound to two stages reaches
// each stage's backend.
func TestHTTPProxyBindsPerStage(t *testing.T) {
	dev, prod := echoBackend(t), echoBackend(t)
	p := &HTTPProxy{Target: "http://${stageVariables.backend}/x"}
	hd := bindProxy(t, p, map[string]string{"backend": hostOf(dev)})
	hp := bindProxy(t, p, map[string]string{"backend": hostOf(prod)})
	for h, want := range map[http.Handler]string{hd: hostOf(dev), hp: hostOf(prod)} {
		r, _ := proxyRequest("GET", "/", nil, nil)
		if got := serveProxy(h, r).Header().Get("X-Host"); got != want {
			t.Errorf("stage reached %q, want %q", got, want)
		}
	}
}

func TestHTTPProxyStreamsServerSentEvents(t *testing.T) {
	next := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer be.Close()
	front := httptest.NewServer(bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil))
	defer front.Close()
	res, err := front.Client().Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	for i := range 3 {
		line, err := rd.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q %v", i, line, err)
		}
		_, _ = rd.ReadString('\n')
		if i < 2 {
			next <- struct{}{} // the backend sends the next event only now: each arrived unbuffered
		}
	}
}

func TestHTTPProxyChunkedBothWays(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Take the chunked upload, then send it back as a chunked
		// download, piece by piece.
		if len(r.TransferEncoding) == 0 || r.TransferEncoding[0] != "chunked" {
			http.Error(w, "want a chunked upload", 400)
			return
		}
		b, _ := io.ReadAll(r.Body)
		for len(b) > 0 {
			n := min(100, len(b))
			_, _ = w.Write(b[:n])
			w.(http.Flusher).Flush()
			b = b[n:]
		}
	}))
	defer be.Close()
	front := httptest.NewServer(bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil))
	defer front.Close()
	pr, pw := io.Pipe()
	go func() {
		for i := range 100 {
			fmt.Fprintf(pw, "chunk%03d;", i)
		}
		pw.Close()
	}()
	res, err := front.Client().Post(front.URL, "text/plain", pr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || len(b) != 900 || !strings.HasSuffix(string(b), "chunk099;") || res.ContentLength != -1 {
		t.Fatalf("%d len %d cl %d %v", res.StatusCode, len(b), res.ContentLength, err)
	}
}

func TestHTTPProxyTrailers(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		fmt.Fprint(w, "body")
		w.Header().Set("X-Checksum", "abc")
	}))
	defer be.Close()
	front := httptest.NewServer(bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil))
	defer front.Close()
	res, err := front.Client().Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if got := res.Trailer.Get("X-Checksum"); got != "abc" {
		t.Fatalf("trailer %q", got)
	}
}

// failingBackends are backends that fail in each way a backend can.
type failingBackends struct {
	slowHeaders, slowBody, resetBeforeHeaders, resetInBody *httptest.Server
	refused                                                string
	release                                                chan struct{}
}

func newFailingBackends(t *testing.T) *failingBackends {
	f := &failingBackends{release: make(chan struct{})}
	wait := func(r *http.Request) {
		select {
		case <-f.release:
		case <-r.Context().Done():
		}
	}
	reset := func(w http.ResponseWriter, partial string) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		if partial != "" {
			_, _ = brw.WriteString(partial)
			_ = brw.Flush()
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		conn.Close()
	}
	f.slowHeaders = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wait(r) }))
	f.slowBody = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		fmt.Fprint(w, "partial")
		w.(http.Flusher).Flush()
		wait(r)
	}))
	f.resetBeforeHeaders = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reset(w, "") }))
	f.resetInBody = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reset(w, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.refused = "http://" + ln.Addr().String() + "/"
	ln.Close()
	t.Cleanup(func() {
		close(f.release)
		for _, s := range []*httptest.Server{f.slowHeaders, f.slowBody, f.resetBeforeHeaders, f.resetInBody} {
			s.Close()
		}
	})
	return f
}

func TestHTTPProxyFailures(t *testing.T) {
	f := newFailingBackends(t)
	// Transports whose connects never complete, or time out at once (as
	// the dialer does after Timeouts.Connect).
	stop := make(chan struct{})
	defer close(stop)
	blackhole := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		select { // the transport's dial outlives the request; the test ends it
		case <-ctx.Done():
		case <-stop:
		}
		return nil, errors.New("never connected")
	}}
	dialTimeout := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}}
	tests := []struct {
		name   string
		proxy  *HTTPProxy
		status int
		errTyp string
	}{
		{"response header timeout", &HTTPProxy{Target: f.slowHeaders.URL + "/", Timeouts: Timeouts{ResponseHeader: 50 * time.Millisecond}}, 504, "IntegrationTimeoutException"},
		{"total timeout before headers", &HTTPProxy{Target: f.slowHeaders.URL + "/", Timeouts: Timeouts{Total: 50 * time.Millisecond}}, 504, "IntegrationTimeoutException"},
		{"connect never completes", &HTTPProxy{Target: "http://127.0.0.1:1/", Transport: blackhole, Timeouts: Timeouts{Total: 50 * time.Millisecond}}, 504, "IntegrationTimeoutException"},
		{"connect timeout", &HTTPProxy{Target: "http://127.0.0.1:1/", Transport: dialTimeout}, 504, "IntegrationTimeoutException"},
		{"refused", &HTTPProxy{Target: f.refused}, 502, "IntegrationFailureException"},
		{"reset before headers", &HTTPProxy{Target: f.resetBeforeHeaders.URL + "/"}, 502, "IntegrationFailureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := bindProxy(t, tt.proxy, nil)
			r, rc := proxyRequest("GET", "/", nil, nil)
			rec := serveProxy(h, r)
			if rec.Code != tt.status || rec.Header().Get("X-Amzn-Errortype") != tt.errTyp {
				t.Fatalf("%d %v %q", rec.Code, rec.Header(), rec.Body)
			}
			if rc.IntegrationStatus != 0 || rc.Error.Type == "" {
				t.Fatalf("request context: status %d error %+v", rc.IntegrationStatus, rc.Error)
			}
		})
	}
	// Once the response has started, a failure can only abort it: the
	// client sees a body shorter than announced.
	for _, tt := range []struct {
		name  string
		proxy *HTTPProxy
	}{
		{"total timeout in the body", &HTTPProxy{Target: f.slowBody.URL + "/", Timeouts: Timeouts{Total: 50 * time.Millisecond}}},
		{"reset in the body", &HTTPProxy{Target: f.resetInBody.URL + "/"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			front := httptest.NewServer(bindProxy(t, tt.proxy, nil))
			defer front.Close()
			front.Config.ErrorLog = log.New(io.Discard, "", 0)
			res, err := front.Client().Get(front.URL)
			if err != nil {
				return // cut before the headers left the proxy's buffer
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err == nil {
				t.Fatalf("a cut response read as complete: %d %q", res.StatusCode, b)
			}
		})
	}
}

// TestHTTPProxyErrorLog: with ErrorLog set, failures are logged with the
// request id.
func TestHTTPProxyErrorLog(t *testing.T) {
	f := newFailingBackends(t)
	var buf strings.Builder
	h := bindProxy(t, &HTTPProxy{Target: f.refused, ErrorLog: slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, nil))}, nil)
	r, _ := proxyRequest("GET", "/", nil, nil)
	serveProxy(h, r)
	if s := buf.String(); !strings.Contains(s, "requestId=req-42") || !strings.Contains(s, "INTEGRATION_FAILURE") || !strings.Contains(s, "refused") {
		t.Fatalf("log: %s", s)
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestHTTPProxyClientGoneCancelsBackend(t *testing.T) {
	backendSaw := make(chan error, 1)
	entered := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		backendSaw <- r.Context().Err()
	}))
	defer be.Close()
	h := bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r, _ := proxyRequest("GET", "/", nil, nil)
	r = r.WithContext(reqctx.With(ctx, reqctx.From(r.Context())))
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serveProxy(h, r) }()
	<-entered
	cancel()
	rec := <-done
	if err := <-backendSaw; !errors.Is(err, context.Canceled) {
		t.Fatalf("backend saw %v", err)
	}
	if rec.Body.Len() != 0 {
		t.Fatalf("answered a client that went away: %q", rec.Body)
	}
}

// upgradeEcho answers an "Upgrade: echo" request with 101 and then echoes
// one line.
func upgradeEcho(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") != "echo" {
		fmt.Fprint(w, r.Proto)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	_ = brw.Flush()
	line, _ := brw.ReadString('\n')
	_, _ = brw.WriteString("echo: " + line)
	_ = brw.Flush()
}

// dialUpgrade sends an upgrade request to front and checks the echo.
func dialUpgrade(t *testing.T, front *httptest.Server) {
	t.Helper()
	conn, err := net.Dial("tcp", hostOf(front))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	rd := bufio.NewReader(conn)
	res, err := http.ReadResponse(rd, nil)
	if err != nil || res.StatusCode != 101 {
		t.Fatalf("upgrade response %v %v", res, err)
	}
	fmt.Fprint(conn, "hello\n")
	line, err := rd.ReadString('\n')
	if err != nil || line != "echo: hello\n" {
		t.Fatalf("after upgrade: %q %v", line, err)
	}
}

func TestHTTPProxyUpgrade(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		be := httptest.NewServer(http.HandlerFunc(upgradeEcho))
		defer be.Close()
		front := httptest.NewServer(bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil))
		defer front.Close()
		dialUpgrade(t, front)
	})
	t.Run("TLS backend that speaks HTTP/2", func(t *testing.T) {
		be := httptest.NewUnstartedServer(http.HandlerFunc(upgradeEcho))
		be.EnableHTTP2 = true
		be.Config.ErrorLog = log.New(io.Discard, "", 0)
		be.StartTLS()
		defer be.Close()
		p := &HTTPProxy{Target: be.URL + "/", TLS: &BackendTLS{RootCAs: certPool(be)}}
		defer p.CloseIdleConnections()
		front := httptest.NewServer(bindProxy(t, p, nil))
		defer front.Close()
		dialUpgrade(t, front)
		// Plain requests still go over HTTP/2.
		r, _ := proxyRequest("GET", "/", nil, nil)
		if rec := serveProxy(bindProxy(t, p, nil), r); rec.Body.String() != "HTTP/2.0" {
			t.Fatalf("plain request over %q", rec.Body)
		}
	})
}

func certPool(srv *httptest.Server) *x509.CertPool {
	cp := x509.NewCertPool()
	cp.AddCert(srv.Certificate())
	return cp
}

func TestHTTPProxyTLS(t *testing.T) {
	var proto atomic.Int32
	var clientCN atomic.Value
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(int32(r.ProtoMajor))
		if len(r.TLS.PeerCertificates) > 0 {
			clientCN.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		fmt.Fprint(w, "secure")
	})
	be := httptest.NewUnstartedServer(handler)
	be.EnableHTTP2 = true
	be.Config.ErrorLog = log.New(io.Discard, "", 0)
	be.StartTLS()
	defer be.Close()
	ca, clientCert := testClientCert(t)
	mtls := httptest.NewUnstartedServer(handler)
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(ca)
	mtls.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	mtls.Config.ErrorLog = log.New(io.Discard, "", 0)
	mtls.StartTLS()
	defer mtls.Close()
	tests := []struct {
		name      string
		p         *HTTPProxy
		status    int
		wantProto int32
	}{
		{"unknown CA fails", &HTTPProxy{Target: be.URL + "/"}, 502, 0},
		{"custom CA over HTTP/2", &HTTPProxy{Target: be.URL + "/", TLS: &BackendTLS{RootCAs: certPool(be)}}, 200, 2},
		{"HTTP/2 off", &HTTPProxy{Target: be.URL + "/", TLS: &BackendTLS{RootCAs: certPool(be), DisableHTTP2: true}}, 200, 1},
		// httptest certificates are for example.com and 127.0.0.1.
		{"server name override", &HTTPProxy{Target: be.URL + "/", TLS: &BackendTLS{RootCAs: certPool(be), ServerName: "example.com"}}, 200, 2},
		{"wrong server name fails", &HTTPProxy{Target: be.URL + "/", TLS: &BackendTLS{RootCAs: certPool(be), ServerName: "other.test"}}, 502, 0},
		{"insecure skip verify", &HTTPProxy{Target: be.URL + "/", TLS: &BackendTLS{InsecureSkipVerify: true}}, 200, 2},
		{"mTLS without a client certificate fails", &HTTPProxy{Target: mtls.URL + "/", TLS: &BackendTLS{RootCAs: certPool(mtls)}}, 502, 0},
		{"mTLS with a client certificate", &HTTPProxy{Target: mtls.URL + "/", TLS: &BackendTLS{RootCAs: certPool(mtls), Certificates: []tls.Certificate{clientCert}}}, 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.p.CloseIdleConnections()
			proto.Store(0)
			r, _ := proxyRequest("GET", "/", nil, nil)
			rec := serveProxy(bindProxy(t, tt.p, nil), r)
			if rec.Code != tt.status || (tt.wantProto != 0 && proto.Load() != tt.wantProto) {
				t.Fatalf("%d %q over HTTP/%d", rec.Code, rec.Body, proto.Load())
			}
		})
	}
	if clientCN.Load() != "portico-client" {
		t.Errorf("backend saw client certificate %v", clientCN.Load())
	}
}

// testClientCert makes a CA and a client certificate it signed.
func testClientCert(t *testing.T) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "portico-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return ca, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestHTTPProxyRequestTooLarge: the gateway's body limit (MaxBytesReader)
// hit while streaming the upload is 413.
func TestHTTPProxyRequestTooLarge(t *testing.T) {
	be := echoBackend(t)
	h := bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil)
	r, _ := proxyRequest("POST", "/", nil, nil)
	rec := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(strings.Repeat("x", 100))), 10)
	r.ContentLength = -1
	h.ServeHTTP(rec, r)
	if rec.Code != 413 {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
}

// TestHTTPProxyReusesConnections: sequential requests, whatever their
// status, reuse one backend connection, and CloseIdleConnections closes it.
func TestHTTPProxyReusesConnections(t *testing.T) {
	var opened, closed atomic.Int32
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(status)
		fmt.Fprint(w, strings.Repeat("x", 100))
	}))
	be.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	be.Start()
	defer be.Close()
	p := &HTTPProxy{Target: be.URL + "/", Timeouts: Timeouts{Connect: time.Second}} // its own transport
	h := bindProxy(t, p, nil)
	for i := range 30 {
		status := []int{200, 404, 500, 503, 204}[i%5]
		r, _ := proxyRequest("GET", fmt.Sprintf("/?status=%d", status), nil, nil)
		if rec := serveProxy(h, r); rec.Code != status {
			t.Fatalf("status %d, want %d", rec.Code, status)
		}
	}
	if n := opened.Load(); n != 1 {
		t.Fatalf("30 sequential requests opened %d connections", n)
	}
	p.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the idle connection was not closed")
		}
		runtime.Gosched()
	}
}
