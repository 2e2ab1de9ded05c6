package upstream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/fakeclock"
)

func TestRoundTripperRetries(t *testing.T) {
	clk := fakeclock.New(t0)
	bad, good := newStub(t, "bad"), newStub(t, "good")
	bad.status.Store(503)
	p := newPool(t, Config{Targets: urls(bad, good), Retry: &RetryConfig{Attempts: 2, MinPerSecond: 100}, Clock: clk})
	rt := &RoundTripper{Pool: p}
	for i := range 4 {
		if code, body := get(t, rt); code != 200 || body != "good" {
			t.Fatalf("GET %d: %d %q", i, code, body)
		}
	}
	if bad.hits.Load() == 0 {
		t.Fatal("bad was never tried")
	}
	// POST with a body that cannot be replayed is not retried: one of two
	// gets bad's 503.
	var got503 int
	for range 2 {
		req, _ := http.NewRequest("POST", "http://pool.invalid/x", io.NopCloser(strings.NewReader("x")))
		res, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 503 {
			got503++
		}
	}
	if got503 != 1 {
		t.Fatalf("%d of 2 POSTs answered 503, want 1", got503)
	}
	// PUT with GetBody is retried and the body replayed.
	var seen atomic.Value
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen.Store(string(b))
	}))
	defer echo.Close()
	p2 := newPool(t, Config{Targets: []string{bad.srv.URL, echo.URL}, Retry: &RetryConfig{MinPerSecond: 100}, Clock: clk})
	for range 2 {
		req, _ := http.NewRequest("PUT", "http://pool.invalid/x", strings.NewReader("replayed"))
		res, err := (&RoundTripper{Pool: p2}).RoundTrip(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("PUT: %v %v", res, err)
		}
		res.Body.Close()
		if seen.Load() != "replayed" {
			t.Fatalf("echo saw %q", seen.Load())
		}
	}
}

func TestRoundTripperRetriesConnectFailuresOfAnyMethod(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + ln.Addr().String()
	ln.Close()
	good := newStub(t, "good")
	p := newPool(t, Config{Targets: []string{refused, good.srv.URL}, Retry: &RetryConfig{}})
	rt := &RoundTripper{Pool: p}
	for range 4 {
		req, _ := http.NewRequest("POST", "http://pool.invalid/x", nil)
		res, err := rt.RoundTrip(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("POST after a refused connection: %v %v", res, err)
		}
		res.Body.Close()
	}
	if st := p.Status()[0]; st.Failures != 2 {
		t.Fatalf("refused target recorded %d failures, want 2", st.Failures)
	}
	// Every attempt refused: the error says so.
	only := newPool(t, Config{Targets: []string{refused}, Retry: &RetryConfig{Attempts: 3}})
	_, err := (&RoundTripper{Pool: only}).RoundTrip(mustRequest("GET"))
	var re *RetriedError
	if !errors.As(err, &re) || re.Attempts != 3 || !isDialError(err) {
		t.Fatalf("all refused: %v", err)
	}
}

func mustRequest(method string) *http.Request {
	req, _ := http.NewRequest(method, "http://pool.invalid/x", nil)
	return req
}

func TestRoundTripperBudget(t *testing.T) {
	clk := fakeclock.New(t0)
	bad := newStub(t, "bad")
	bad.status.Store(502)
	// Budget 0.1 per request, floor 1/s over 10 s: 10 retries to start
	// with, one more per 10 requests.
	p := newPool(t, Config{Targets: urls(bad), Retry: &RetryConfig{Attempts: 2, Budget: 0.1, MinPerSecond: 1}, Clock: clk})
	rt := &RoundTripper{Pool: p}
	for range 30 {
		if code, _ := get(t, rt); code != 502 {
			t.Fatalf("status %d", code)
		}
	}
	// 30 requests: 10 (floor) + 30×0.1 = 13 retries at most.
	if got := bad.hits.Load(); got != 30+13 {
		t.Fatalf("%d attempts for 30 requests, want 43", got)
	}
}

func TestRoundTripperOutstandingUntilBodyClosed(t *testing.T) {
	s := newStub(t, "s")
	p := newPool(t, Config{Targets: urls(s)})
	res, err := (&RoundTripper{Pool: p}).RoundTrip(mustRequest("GET"))
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Status()[0].Outstanding; n != 1 {
		t.Fatalf("outstanding with the body open: %d", n)
	}
	res.Body.Close()
	res.Body.Close()
	if n := p.Status()[0].Outstanding; n != 0 {
		t.Fatalf("outstanding after close: %d", n)
	}
}

func TestRoundTripperClientGoneIsNotAFailure(t *testing.T) {
	entered := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	}))
	defer hang.Close()
	p := newPool(t, Config{Targets: []string{hang.URL}, Outlier: &OutlierConfig{ConsecutiveFailures: 1}, Retry: &RetryConfig{}})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://pool.invalid/x", nil)
	if _, err := (&RoundTripper{Pool: p}).RoundTrip(req); err == nil {
		t.Fatal("cancelled request succeeded")
	}
	if st := p.Status()[0]; st.Failures != 0 || !st.Available || st.Outstanding != 0 {
		t.Fatalf("client cancel counted against the target: %+v", st)
	}
}

func TestTransportUpgradeOverTLSWithHTTP2(t *testing.T) {
	var protos atomic.Value
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos.Store(r.Proto)
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
	}))
	be.EnableHTTP2 = true
	be.Config.ErrorLog = log.New(io.Discard, "", 0)
	be.StartTLS()
	defer be.Close()
	cas := be.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	tr, err := NewTransport(TransportConfig{RootCAs: cas})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", be.URL, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "HTTP/2.0" {
		t.Fatalf("plain request over %s, want HTTP/2.0", b)
	}
	req, _ = http.NewRequest("GET", be.URL, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	res, err = tr.RoundTrip(req)
	if err != nil || res.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	rwc := res.Body.(io.ReadWriteCloser)
	defer rwc.Close()
	fmt.Fprint(rwc, "hi\n")
	line, err := bufio.NewReader(rwc).ReadString('\n')
	if line != "echo: hi\n" {
		t.Fatalf("after upgrade: %q %v", line, err)
	}
}

func TestTransportResponseHeaderTimeoutOverHTTP2(t *testing.T) {
	release := make(chan struct{})
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	be.EnableHTTP2 = true
	be.Config.ErrorLog = log.New(io.Discard, "", 0)
	be.StartTLS()
	defer be.Close()
	defer close(release)
	tr, err := NewTransport(TransportConfig{RootCAs: be.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, ResponseHeaderTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", be.URL, nil)
	_, err = tr.RoundTrip(req)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("slow HTTP/2 headers: %v, want a timeout", err)
	}
}

// TestRetriedAnswersKeepTheirConnection: a 503 that is retried is read to
// its end, so its connection is reused, not leaked or reopened.
func TestRetriedAnswersKeepTheirConnection(t *testing.T) {
	var opened atomic.Int32
	bad := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "try elsewhere", http.StatusServiceUnavailable)
	}))
	bad.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	bad.Start()
	defer bad.Close()
	good := newStub(t, "good")
	p := newPool(t, Config{Targets: []string{bad.URL, good.srv.URL}, Retry: &RetryConfig{MinPerSecond: 100}})
	tr, err := NewTransport(TransportConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	rt := &RoundTripper{Pool: p, Base: tr}
	for range 20 {
		if code, body := get(t, rt); code != 200 || body != "good" {
			t.Fatalf("%d %q", code, body)
		}
	}
	if n := opened.Load(); n != 1 {
		t.Fatalf("retried 503s opened %d connections, want 1", n)
	}
}
