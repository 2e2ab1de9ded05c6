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
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/fakeclock"
	"github.com/portico-gw/portico/reqctx"
)

var quiet = slog.New(slog.DiscardHandler)

// proxyRequest builds a request as the gateway hands it over, with path
// parameters in the request context.
func proxyRequest(method, target string, body io.Reader, params map[string]string) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "203.0.113.9:5000"
	rc := &reqctx.Context{RequestID: "req-42", PathParams: params, Identity: reqctx.Identity{SourceIP: "203.0.113.9"}}
	return r.WithContext(reqctx.With(r.Context(), rc))
}

// echoBackend answers with what it received.
func echoBackend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Path", r.URL.EscapedPath())
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("X-Host", r.Host)
		for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-Id", "X-Custom", "Te", "Connection", "Keep-Alive", "Max-Forwards"} {
			w.Header().Set("Echo-"+h, strings.Join(r.Header.Values(h), "|"))
		}
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "must not pass")
		w.WriteHeader(207)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func bindProxy(t *testing.T, p *HTTPProxy, vars map[string]string) http.Handler {
	t.Helper()
	if p.Logger == nil {
		p.Logger = quiet
	}
	h, err := p.BindStage(vars)
	if err != nil {
		t.Fatalf("BindStage: %v", err)
	}
	return h
}

func TestHTTPProxyPassThrough(t *testing.T) {
	be := echoBackend(t)
	h := bindProxy(t, &HTTPProxy{Target: "http://${stageVariables.backend}/api/pets/{id}?fixed=1"}, map[string]string{"backend": strings.TrimPrefix(be.URL, "http://")})
	r := proxyRequest("PATCH", "http://gw.example/pets/7?q=a&q=b", strings.NewReader("payload"), map[string]string{"id": "7"})
	r.Header.Set("X-Custom", "yes")
	r.Header.Set("Connection", "Keep-Alive, X-Custom2")
	r.Header.Set("Keep-Alive", "timeout=5")
	r.Header.Set("Te", "trailers")
	r.Header.Set("Max-Forwards", "3")
	r.Header.Set("X-Forwarded-For", "6.6.6.6")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 207 || rec.Body.String() != "payload" {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	checks := map[string]string{
		"X-Method":               "PATCH",
		"X-Path":                 "/api/pets/7",
		"X-Query":                "fixed=1&q=a&q=b",
		"X-Host":                 strings.TrimPrefix(be.URL, "http://"),
		"Echo-X-Custom":          "yes",
		"Echo-X-Forwarded-For":   "203.0.113.9", // untrusted peer: its claim is dropped
		"Echo-X-Forwarded-Proto": "http",
		"Echo-X-Forwarded-Host":  "gw.example",
		"Echo-X-Request-Id":      "req-42",
		"Echo-Keep-Alive":        "",
		"Echo-Max-Forwards":      "",
		"X-Hop":                  "",
	}
	for k, want := range checks {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestHTTPProxyTrustedForwardedFor(t *testing.T) {
	be := echoBackend(t)
	h := bindProxy(t, &HTTPProxy{Target: be.URL + "/", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}, nil)
	r := proxyRequest("GET", "/", nil, nil)
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.Header.Set("X-Forwarded-Proto", "https")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if got := rec.Header().Get("Echo-X-Forwarded-For"); got != "198.51.100.1, 203.0.113.9" {
		t.Fatalf("X-Forwarded-For = %q", got)
	}
	if got := rec.Header().Get("Echo-X-Forwarded-Proto"); got != "https" {
		t.Fatalf("X-Forwarded-Proto = %q", got)
	}
}

func TestHTTPProxyPathParameters(t *testing.T) {
	be := echoBackend(t)
	host := strings.TrimPrefix(be.URL, "http://")
	tests := []struct {
		name, target string
		params       map[string]string
		status       int
		path         string
	}{
		{name: "plain", target: "http://" + host + "/pets/{id}", params: map[string]string{"id": "7"}, status: 207, path: "/pets/7"},
		{name: "slash escaped", target: "http://" + host + "/pets/{id}", params: map[string]string{"id": "a/b"}, status: 207, path: "/pets/a%2Fb"},
		{name: "dot-dot refused", target: "http://" + host + "/pets/{id}/x", params: map[string]string{"id": ".."}, status: 400},
		{name: "dot refused", target: "http://" + host + "/pets/{id}", params: map[string]string{"id": "."}, status: 400},
		{name: "empty refused", target: "http://" + host + "/pets/{id}", params: map[string]string{"id": ""}, status: 400},
		{name: "host cannot change", target: "http://" + host + "/{id}", params: map[string]string{"id": "@evil.example"}, status: 207, path: "/@evil.example"},
		{name: "question mark escaped", target: "http://" + host + "/{id}", params: map[string]string{"id": "a?b=c#d"}, status: 207, path: "/a%3Fb=c%23d"},
		{name: "greedy", target: "http://" + host + "/files/{proxy}", params: map[string]string{"proxy": "a/b c/d"}, status: 207, path: "/files/a/b%20c/d"},
		{name: "greedy plus form", target: "http://" + host + "/{rest+}", params: map[string]string{"rest": "x/y"}, status: 207, path: "/x/y"},
		{name: "greedy walking up", target: "http://" + host + "/files/{proxy}", params: map[string]string{"proxy": "a/../../etc"}, status: 400},
		{name: "missing parameter", target: "http://" + host + "/pets/{nope}", params: map[string]string{"id": "1"}, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := bindProxy(t, &HTTPProxy{Target: tt.target}, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, proxyRequest("GET", "/", nil, tt.params))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			if tt.path != "" && rec.Header().Get("X-Path") != tt.path {
				t.Fatalf("backend path %q, want %q", rec.Header().Get("X-Path"), tt.path)
			}
			if rec.Header().Get("X-Host") != "" && rec.Header().Get("X-Host") != host {
				t.Fatalf("host changed to %q", rec.Header().Get("X-Host"))
			}
		})
	}
}

func TestHTTPProxyBindErrors(t *testing.T) {
	tests := []struct{ name, target, want string }{
		{"undefined variable", "http://${stageVariables.nope}/x", `stage variable "nope"`},
		{"no scheme", "example.com/x", "scheme"},
		{"ftp", "ftp://example.com/x", "scheme"},
		{"no host", "http:///x", "no host"},
		{"param in host", "http://{id}.example.com/", "only in the path"},
		{"param in query", "http://example.com/?a={id}", "only in the path"},
		{"partial segment", "http://example.com/a{id}", "whole path segment"},
		{"unclosed", "http://example.com/{id", "unclosed"},
		{"user info", "http://u:p@example.com/", "user information"},
		{"dot segment", "http://example.com/a/../b", "dot segments"},
		{"empty", "", "empty target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&HTTPProxy{Target: tt.target}).BindStage(nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("BindStage(%q) = %v, want %q", tt.target, err, tt.want)
			}
		})
	}
	if _, err := (&HTTPProxy{Target: "http://x/", Timeouts: Timeouts{Total: -1}}).BindStage(nil); err == nil {
		t.Error("negative timeout accepted")
	}
	rec := httptest.NewRecorder()
	(&HTTPProxy{Target: "nope", Logger: quiet}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Errorf("unbindable standalone proxy answered %d", rec.Code)
	}
}

func TestHTTPProxyStreamsResponses(t *testing.T) {
	next := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			<-next
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
		next <- struct{}{} // the backend sends the next event only now: each arrived unbuffered
	}
}

func TestHTTPProxyChunkedUpload(t *testing.T) {
	be := echoBackend(t)
	h := bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil)
	pr, pw := io.Pipe()
	go func() {
		for i := range 100 {
			fmt.Fprintf(pw, "chunk%03d;", i)
		}
		pw.Close()
	}()
	r := proxyRequest("POST", "/", pr, nil)
	r.ContentLength = -1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 207 || rec.Body.Len() != 900 || !strings.HasSuffix(rec.Body.String(), "chunk099;") {
		t.Fatalf("%d %d", rec.Code, rec.Body.Len())
	}
}

func TestHTTPProxyFailures(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slowHeaders := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slowHeaders.Close()
	slowBody := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slowBody.Close()
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conn.Close()
		}
	}))
	defer reset.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()

	tests := []struct {
		name   string
		proxy  *HTTPProxy
		status int
		errTyp string
	}{
		{name: "response header timeout", proxy: &HTTPProxy{Target: slowHeaders.URL + "/", Timeouts: Timeouts{ResponseHeader: 50 * time.Millisecond}}, status: 504, errTyp: "IntegrationTimeoutException"},
		{name: "total timeout", proxy: &HTTPProxy{Target: slowHeaders.URL + "/", Timeouts: Timeouts{Total: 50 * time.Millisecond}}, status: 504, errTyp: "IntegrationTimeoutException"},
		{name: "refused", proxy: &HTTPProxy{Target: refused}, status: 502, errTyp: "IntegrationFailureException"},
		{name: "reset", proxy: &HTTPProxy{Target: reset.URL + "/"}, status: 502, errTyp: "IntegrationFailureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := bindProxy(t, tt.proxy, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
			if rec.Code != tt.status || rec.Header().Get("X-Amzn-Errortype") != tt.errTyp {
				t.Fatalf("%d %v %q", rec.Code, rec.Header(), rec.Body)
			}
		})
	}
	t.Run("total timeout while streaming aborts the response", func(t *testing.T) {
		front := httptest.NewServer(bindProxy(t, &HTTPProxy{Target: slowBody.URL + "/", Timeouts: Timeouts{Total: 50 * time.Millisecond}}, nil))
		defer front.Close()
		res, err := front.Client().Get(front.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Fatal("a response cut by the timeout read as complete")
		}
	})
	t.Run("connect timeout", func(t *testing.T) {
		// A dial that never completes until the test ends.
		stop := make(chan struct{})
		defer close(stop)
		h := bindProxy(t, &HTTPProxy{Target: "http://127.0.0.1:1/", RoundTripper: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			select {
			case <-ctx.Done():
			case <-stop:
			}
			return nil, &net.OpError{Op: "dial", Err: timeoutErr{}}
		}}, Timeouts: Timeouts{Total: 20 * time.Millisecond}}, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
		if rec.Code != 504 {
			t.Fatalf("%d", rec.Code)
		}
	})
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

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
	r := proxyRequest("GET", "/", nil, nil)
	r = r.WithContext(ctx)
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		done <- rec
	}()
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

func TestHTTPProxyUpgrade(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want upgrade", 400)
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
	}))
	defer be.Close()
	front := httptest.NewServer(bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil))
	defer front.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
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

func TestHTTPProxyTLS(t *testing.T) {
	var proto atomic.Int32
	var clientCN atomic.Value
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(int32(r.ProtoMajor))
		if len(r.TLS.PeerCertificates) > 0 {
			clientCN.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		fmt.Fprint(w, "secure")
	}))
	be.EnableHTTP2 = true
	be.Config.ErrorLog = log.New(io.Discard, "", 0)
	be.StartTLS()
	defer be.Close()
	pool := x509.NewCertPool()
	pool.AddCert(be.Certificate())
	t.Run("unknown CA fails", func(t *testing.T) {
		h := bindProxy(t, &HTTPProxy{Target: be.URL + "/"}, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
		if rec.Code != 502 {
			t.Fatalf("%d", rec.Code)
		}
	})
	t.Run("custom CA, HTTP/2", func(t *testing.T) {
		h := bindProxy(t, &HTTPProxy{Target: be.URL + "/", Transport: TransportConfig{RootCAs: pool}}, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
		if rec.Code != 200 || rec.Body.String() != "secure" || proto.Load() != 2 {
			t.Fatalf("%d %q proto %d", rec.Code, rec.Body, proto.Load())
		}
	})
	t.Run("HTTP/2 off", func(t *testing.T) {
		h := bindProxy(t, &HTTPProxy{Target: be.URL + "/", Transport: TransportConfig{RootCAs: pool, DisableHTTP2: true}}, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
		if rec.Code != 200 || proto.Load() != 1 {
			t.Fatalf("%d proto %d", rec.Code, proto.Load())
		}
	})
	t.Run("server name override", func(t *testing.T) {
		// httptest certificates are for example.com and 127.0.0.1.
		h := bindProxy(t, &HTTPProxy{Target: be.URL + "/", Transport: TransportConfig{RootCAs: pool, ServerName: "example.com"}}, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
		if rec.Code != 200 {
			t.Fatalf("%d", rec.Code)
		}
		h = bindProxy(t, &HTTPProxy{Target: be.URL + "/", Transport: TransportConfig{RootCAs: pool, ServerName: "other.test"}}, nil)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
		if rec.Code != 502 {
			t.Fatalf("wrong server name accepted: %d", rec.Code)
		}
	})
	t.Run("client certificate", func(t *testing.T) {
		ca, clientCert := testClientCert(t)
		mtls := httptest.NewUnstartedServer(be.Config.Handler)
		cp := x509.NewCertPool()
		cp.AddCert(ca)
		mtls.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: cp}
		mtls.Config.ErrorLog = log.New(io.Discard, "", 0)
		mtls.StartTLS()
		defer mtls.Close()
		sp := x509.NewCertPool()
		sp.AddCert(mtls.Certificate())
		h := bindProxy(t, &HTTPProxy{Target: mtls.URL + "/", Transport: TransportConfig{RootCAs: sp}}, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
		if rec.Code != 502 {
			t.Fatalf("without a client certificate: %d", rec.Code)
		}
		h = bindProxy(t, &HTTPProxy{Target: mtls.URL + "/", Transport: TransportConfig{RootCAs: sp, Certificates: []tls.Certificate{clientCert}}}, nil)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
		if rec.Code != 200 || clientCN.Load() != "portico-client" {
			t.Fatalf("with a client certificate: %d %v", rec.Code, clientCN.Load())
		}
	})
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

func TestHTTPMapping(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := 200
		fmt.Sscan(r.URL.Query().Get("status"), &status)
		w.Header().Set("X-Seen", r.Header.Get("X-Mapped"))
		w.WriteHeader(status)
		fmt.Fprint(w, strings.Repeat("x", 10))
	}))
	defer be.Close()
	h := &HTTP{
		HTTPProxy:  HTTPProxy{Target: be.URL + "/", Logger: quiet},
		MapRequest: func(r *http.Request) error { r.Header.Set("X-Mapped", "in"); return nil },
		MapResponse: func(res *http.Response) error {
			b, err := io.ReadAll(res.Body)
			if err != nil {
				return err
			}
			res.Body = io.NopCloser(strings.NewReader("<" + string(b) + ">"))
			res.ContentLength = -1
			res.Header.Del("Content-Length")
			return nil
		},
		Responses: []IntegrationResponse{{Pattern: "4\\d\\d", StatusCode: 400}, {Pattern: "", StatusCode: 200}, {Pattern: "5\\d\\d", StatusCode: 502}},
	}
	bound, err := h.BindStage(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ backend, want int }{{200, 200}, {201, 200}, {404, 400}, {503, 502}} {
		rec := httptest.NewRecorder()
		bound.ServeHTTP(rec, proxyRequest("GET", fmt.Sprintf("/?status=%d", tt.backend), nil, nil))
		if rec.Code != tt.want || rec.Body.String() != "<xxxxxxxxxx>" || rec.Header().Get("X-Seen") != "in" {
			t.Errorf("backend %d: %d %q %v", tt.backend, rec.Code, rec.Body, rec.Header())
		}
	}
	small := &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/", Logger: quiet}, MaxResponseBytes: 5,
		MapResponse: func(res *http.Response) error { _, err := io.ReadAll(res.Body); return err }}
	rec := httptest.NewRecorder()
	small.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
	if rec.Code != 502 {
		t.Errorf("oversize response for mapping: %d", rec.Code)
	}
	failing := &HTTP{HTTPProxy: HTTPProxy{Target: be.URL + "/", Logger: quiet}, MapRequest: func(*http.Request) error {
		return reqctx.NewError(reqctx.BadRequestBody, errors.New("no"))
	}}
	rec = httptest.NewRecorder()
	failing.ServeHTTP(rec, proxyRequest("GET", "/", nil, nil))
	if rec.Code != 400 {
		t.Errorf("mapping error: %d", rec.Code)
	}
	for _, bad := range [][]IntegrationResponse{{{Pattern: "("}}, {{StatusCode: 99}}, {{}, {}}} {
		if _, err := (&HTTP{HTTPProxy: HTTPProxy{Target: be.URL}, Responses: bad}).BindStage(nil); err == nil {
			t.Errorf("Responses %v accepted", bad)
		}
	}
}

// stubBackend counts requests and answers with its name or a status.
type stubBackend struct {
	srv    *httptest.Server
	hits   atomic.Int64
	status atomic.Int32
	block  chan struct{}
}

func newStub(t *testing.T, name string) *stubBackend {
	s := &stubBackend{}
	s.status.Store(200)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			w.WriteHeader(int(s.status.Load()))
			return
		}
		s.hits.Add(1)
		if s.block != nil {
			<-s.block
		}
		w.WriteHeader(int(s.status.Load()))
		fmt.Fprint(w, name)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func newTestPool(t *testing.T, cfg PoolConfig, opts ...PoolOption) *Pool {
	t.Helper()
	p, err := NewPool(cfg, append([]PoolOption{WithPoolLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func get(h http.Handler, hdr ...string) *httptest.ResponseRecorder {
	r := proxyRequest("GET", "/x", nil, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestPoolRoundRobin(t *testing.T) {
	a, b, c := newStub(t, "a"), newStub(t, "b"), newStub(t, "c")
	p := newTestPool(t, PoolConfig{Targets: []string{a.srv.URL, b.srv.URL, c.srv.URL}})
	h := bindProxy(t, &HTTPProxy{Target: "http:///", Pool: p}, nil)
	var seq []string
	for range 6 {
		seq = append(seq, get(h).Body.String())
	}
	if strings.Join(seq, "") != "abcabc" {
		t.Fatalf("round robin order %v", seq)
	}
	st := p.Status()
	if len(st) != 3 || st[0].Requests != 2 || !st[0].Healthy || st[0].Breaker != "closed" || st[0].Outstanding != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestPoolLeastOutstanding(t *testing.T) {
	a, b := newStub(t, "a"), newStub(t, "b")
	a.block, b.block = make(chan struct{}), make(chan struct{})
	p := newTestPool(t, PoolConfig{Targets: []string{a.srv.URL, b.srv.URL}, Balancer: LeastOutstanding})
	h := bindProxy(t, &HTTPProxy{Target: "http:///", Pool: p}, nil)
	outstanding := func() (int64, int64) { st := p.Status(); return st[0].Outstanding, st[1].Outstanding }
	done := make(chan string, 3)
	send := func() { go func() { done <- get(h).Body.String() }() }
	send()
	waitFor(t, func() bool { x, y := outstanding(); return x+y == 1 })
	send()
	waitFor(t, func() bool { x, y := outstanding(); return x+y == 2 })
	if x, y := outstanding(); x != 1 || y != 1 {
		t.Fatalf("two requests in flight on targets %d and %d; want one each", x, y)
	}
	close(a.block)
	close(b.block)
	got := []string{<-done, <-done}
	if !(got[0] == "a" && got[1] == "b" || got[0] == "b" && got[1] == "a") {
		t.Fatalf("answers %v", got)
	}
}

func TestPoolConsistentHash(t *testing.T) {
	stubs := []*stubBackend{newStub(t, "a"), newStub(t, "b"), newStub(t, "c")}
	var targets []string
	for _, s := range stubs {
		targets = append(targets, s.srv.URL)
	}
	p := newTestPool(t, PoolConfig{Targets: targets, Balancer: ConsistentHash, HashHeader: "X-User"})
	h := bindProxy(t, &HTTPProxy{Target: "http:///", Pool: p}, nil)
	seen := map[string]bool{}
	for i := range 30 {
		user := fmt.Sprintf("user-%d", i)
		first := get(h, "X-User", user).Body.String()
		for range 3 {
			if got := get(h, "X-User", user).Body.String(); got != first {
				t.Fatalf("%s moved from %s to %s", user, first, got)
			}
		}
		seen[first] = true
	}
	if len(seen) != 3 {
		t.Fatalf("30 users landed on %d targets", len(seen))
	}
}

func TestPoolHealthChecks(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b := newStub(t, "a"), newStub(t, "b")
	p := newTestPool(t, PoolConfig{Targets: []string{a.srv.URL, b.srv.URL}, HealthCheck: HealthCheck{Path: "/health", Interval: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2}}, WithPoolClock(clk))
	h := bindProxy(t, &HTTPProxy{Target: "http:///", Pool: p}, nil)
	tick := func() {
		t.Helper()
		if !clk.WaitForTimers(2, 5*time.Second) {
			t.Fatal("health loops did not re-arm")
		}
		clk.Advance(time.Second)
	}
	a.status.Store(500) // a flaps down
	tick()
	if !p.Status()[0].Healthy {
		t.Fatal("unhealthy after one failure; threshold is 2")
	}
	tick()
	waitFor(t, func() bool { return !p.Status()[0].Healthy })
	for range 4 {
		if got := get(h).Body.String(); got != "b" {
			t.Fatalf("unhealthy target served: %q", got)
		}
	}
	a.status.Store(200) // and back up
	tick()
	tick()
	waitFor(t, func() bool { return p.Status()[0].Healthy })
	b.status.Store(500)
	tick()
	tick()
	waitFor(t, func() bool { return !p.Status()[1].Healthy })
	a.status.Store(500)
	tick()
	tick()
	waitFor(t, func() bool { return !p.Status()[0].Healthy })
	if rec := get(h); rec.Code != 503 || rec.Header().Get("X-Amzn-Errortype") != "ServiceUnavailableException" {
		t.Fatalf("no healthy target: %d %v", rec.Code, rec.Header())
	}
}

// waitFor waits (in real time, bounded) for a health probe's effect.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		runtimeGosched()
	}
}

func TestPoolBreakerAndRetries(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	bad, good := newStub(t, "bad"), newStub(t, "good")
	bad.status.Store(503)
	p := newTestPool(t, PoolConfig{
		Targets: []string{bad.srv.URL, good.srv.URL},
		Breaker: CircuitBreaker{Failures: 2, OpenFor: 10 * time.Second},
		Retry:   RetryPolicy{Attempts: 2, MinPerSecond: 100},
	}, WithPoolClock(clk))
	h := bindProxy(t, &HTTPProxy{Target: "http:///", Pool: p}, nil)
	// Every GET is answered by good: a 503 from bad is retried.
	for i := range 4 {
		if rec := get(h); rec.Code != 200 || rec.Body.String() != "good" {
			t.Fatalf("request %d: %d %q", i, rec.Code, rec.Body)
		}
	}
	if st := p.Status()[0]; st.Breaker != "open" {
		t.Fatalf("bad target breaker %q after failures", st.Breaker)
	}
	hits := bad.hits.Load()
	for range 4 {
		get(h)
	}
	if bad.hits.Load() != hits {
		t.Fatal("open breaker let requests through")
	}
	// POST is not idempotent: not retried.
	clk.Advance(11 * time.Second)
	if st := p.Status()[0]; st.Breaker != "half-open" {
		t.Fatalf("breaker %q after OpenFor", st.Breaker)
	}
	bad.status.Store(200)
	for range 2 {
		get(h)
	}
	if st := p.Status()[0]; st.Breaker != "closed" {
		t.Fatalf("breaker %q after a good trial", st.Breaker)
	}
}

func TestPoolRetryOnlyIdempotentWithinBudget(t *testing.T) {
	bad, good := newStub(t, "bad"), newStub(t, "good")
	bad.status.Store(503)
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newTestPool(t, PoolConfig{Targets: []string{bad.srv.URL, good.srv.URL}, Retry: RetryPolicy{Attempts: 3, Budget: 0.1, MinPerSecond: 1}}, WithPoolClock(clk))
	h := bindProxy(t, &HTTPProxy{Target: "http:///", Pool: p}, nil)
	r := proxyRequest("POST", "/x", strings.NewReader("body"), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r) // round robin starts at bad
	if rec.Code != 503 {
		t.Fatalf("POST was retried: %d %q", rec.Code, rec.Body)
	}
	// Within one second: the minimum allows one retry, then the ratio
	// (0.1 per request) allows one more after ten requests.
	retried := 0
	for range 10 {
		before := good.hits.Load()
		rec := get(h)
		if rec.Code == 200 && good.hits.Load() > before && bad.hits.Load() > 0 {
			retried++
		}
	}
	if retried == 0 || retried > 7 {
		t.Fatalf("retries within budget: %d", retried)
	}
}

func TestPoolConfigErrors(t *testing.T) {
	for _, cfg := range []PoolConfig{
		{},
		{Targets: []string{"ftp://x"}},
		{Targets: []string{"http://"}},
		{Targets: []string{"http://x"}, Balancer: "random"},
		{Targets: []string{"http://x"}, HealthCheck: HealthCheck{Path: "health"}},
		{Targets: []string{"http://x"}, Breaker: CircuitBreaker{Failures: -1}},
		{Targets: []string{"http://x"}, Retry: RetryPolicy{Attempts: -1}},
	} {
		if p, err := NewPool(cfg); err == nil {
			p.Close()
			t.Errorf("NewPool(%+v) succeeded", cfg)
		}
	}
}

// runtimeGosched yields while a test polls for a state another goroutine
// reaches.
func runtimeGosched() { runtime.Gosched() }
