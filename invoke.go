package portico

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// ErrIntegrationTimeout is the cause of the context cancellation an
// integration sees when it runs past its timeout. It matches
// context.DeadlineExceeded with errors.Is.
var ErrIntegrationTimeout = fmt.Errorf("portico: integration timed out: %w", context.DeadlineExceeded)

// invoker runs an integration under its timeout. The integration runs in
// the request's goroutine behind a guarded writer; when the timeout fires
// first, a timer callback takes the response back, answers 504
// INTEGRATION_TIMEOUT and flushes it, so the client has its answer even if
// the handler ignores its context, and cancels the request's context with
// [ErrIntegrationTimeout]. A panic is answered with 502 INTEGRATION_FAILURE
// instead of killing the process.
//
// The request's context is the gateway's, which the gateway made
// cancellable (reqctx's SetCancel), so the invoker derives no context and
// copies no request. The per-request state (guarded writer, timer, the
// snapshot the timeout answer renders from) is pooled; an invocation that
// timed out or was hijacked is left to the garbage collector, since a late
// integration or the timer may still hold it.
type invoker struct {
	h       http.Handler
	timeout time.Duration
	clock   clock.Clock
	logger  *slog.Logger
	pool    sync.Pool // of *invocation
}

// invocation is one call of an integration.
type invocation struct {
	iv    *invoker
	g     guardedWriter
	w     http.ResponseWriter
	r     *http.Request
	rc    *reqctx.Context
	own   context.CancelCauseFunc // the invoker's own context, when r has no reqctx
	start time.Time
	timer clock.Timer
	fire  func()
	// Written by the timeout path under g.mu and read by the request
	// goroutine once the integration has returned: the request context as
	// the integration started (with the timeout error recorded in it) and
	// the latency at the timeout.
	snap    reqctx.Context
	latency time.Duration
}

func (iv *invoker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	inv, _ := iv.pool.Get().(*invocation)
	if inv == nil {
		inv = &invocation{iv: iv}
		inv.fire = inv.onTimeout
		inv.g.h = make(http.Header)
	}
	inv.g.w = w
	inv.w, inv.r = w, r
	inv.rc = reqctx.From(r.Context())
	if inv.rc == nil {
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(context.Canceled)
		r = r.WithContext(ctx)
		inv.r, inv.own = r, cancel
	} else {
		inv.snap = *inv.rc
	}
	inv.start = iv.clock.Now()
	if inv.timer == nil {
		inv.timer = iv.clock.AfterFunc(iv.timeout, inv.fire)
	} else {
		inv.timer.Reset(iv.timeout)
	}
	panicked, stack := iv.run(&inv.g, r)
	stopped := inv.timer.Stop()

	g := &inv.g
	g.mu.Lock()
	g.finished = true
	timedOut, wrote, hijacked, status := g.timedOut, g.wrote, g.hijacked, g.status
	g.mu.Unlock()
	rc := inv.rc
	if panicked != nil && panicked != http.ErrAbortHandler {
		reqID := ""
		if rc != nil {
			reqID = rc.RequestID
		}
		iv.logger.Error("portico: integration panicked", "requestId", reqID, "panic", fmt.Sprint(panicked), "stack", string(stack))
	}
	if timedOut {
		if rc != nil && !wrote {
			rc.IntegrationLatency = inv.latency
			rc.Error = inv.snap.Error
		}
		if wrote {
			panic(http.ErrAbortHandler) // part of the response went out: don't let it pass for a whole one
		}
		return
	}
	if rc != nil {
		rc.IntegrationLatency = iv.clock.Now().Sub(inv.start)
		if rc.IntegrationStatus == 0 {
			rc.IntegrationStatus = status
		}
	}
	if stopped && !hijacked {
		inv.release()
	}
	switch {
	case panicked == nil:
	case panicked == http.ErrAbortHandler || wrote:
		panic(http.ErrAbortHandler)
	default:
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("integration panicked: %v", panicked)))
	}
}

// onTimeout is the timer callback: it takes the response back from the
// integration and answers 504, unless the integration has finished, taken
// the connection or already started its response.
func (inv *invocation) onTimeout() {
	g := &inv.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished || g.hijacked {
		return
	}
	g.timedOut = true
	if inv.own != nil {
		inv.own(ErrIntegrationTimeout)
	} else {
		inv.rc.Cancel(ErrIntegrationTimeout)
	}
	if g.wrote {
		return // the request goroutine aborts the response when the handler returns
	}
	inv.latency = inv.iv.clock.Now().Sub(inv.start)
	w, r := inv.w, inv.r
	if inv.rc != nil {
		// Render from the snapshot: the integration may still be writing
		// the request's own context.
		inv.snap.IntegrationLatency = inv.latency
		r = r.WithContext(reqctx.With(r.Context(), &inv.snap))
	}
	w.Header().Set("Connection", "close")
	reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationTimeout, fmt.Errorf("no response within %v", inv.iv.timeout)))
	_ = http.NewResponseController(w).Flush()
}

// release returns an invocation whose integration has returned and whose
// timer never fired to the pool.
func (inv *invocation) release() {
	inv.g.reset()
	inv.w, inv.r, inv.rc, inv.own = nil, nil, nil, nil
	inv.snap = reqctx.Context{}
	inv.latency = 0
	inv.iv.pool.Put(inv)
}

// run calls the integration and recovers a panic.
func (iv *invoker) run(w http.ResponseWriter, r *http.Request) (panicked any, stack []byte) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
			if p != http.ErrAbortHandler {
				stack = debug.Stack()
			}
		}
	}()
	iv.h.ServeHTTP(w, r)
	return nil, nil
}

// guardedWriter passes an integration's writes through to the real writer
// until the gateway takes the response back on a timeout; from then on writes
// fail with http.ErrHandlerTimeout. It keeps its own header map so that the
// gateway and a late integration never share one.
type guardedWriter struct {
	mu       sync.Mutex
	w        http.ResponseWriter
	h        http.Header
	status   int
	wrote    bool
	timedOut bool
	hijacked bool
	finished bool
}

// Header returns the writer's own header map until the response has
// started, so that the gateway's timeout answer never shares one with the
// integration; then the real one, where trailers go.
func (g *guardedWriter) Header() http.Header {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.wrote {
		return g.w.Header()
	}
	return g.h
}

// reset readies the writer for another request.
func (g *guardedWriter) reset() {
	clear(g.h)
	g.w = nil
	g.status = 0
	g.wrote, g.timedOut, g.hijacked, g.finished = false, false, false, false
}

func (g *guardedWriter) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writeHeaderLocked(code)
}

func (g *guardedWriter) writeHeaderLocked(code int) {
	if g.timedOut || g.hijacked {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		copyHeader(g.w.Header(), g.h)
		g.w.WriteHeader(code)
		return
	}
	if g.wrote {
		return
	}
	g.wrote = true
	g.status = code
	copyHeader(g.w.Header(), g.h)
	g.w.WriteHeader(code)
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if !g.wrote {
		g.writeHeaderLocked(http.StatusOK)
	}
	return g.w.Write(p)
}

// Flush implements http.Flusher.
func (g *guardedWriter) Flush() { _ = g.FlushError() }

// FlushError flushes the response to the client.
func (g *guardedWriter) FlushError() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timedOut {
		return http.ErrHandlerTimeout
	}
	if !g.wrote {
		g.writeHeaderLocked(http.StatusOK)
	}
	return http.NewResponseController(g.w).Flush()
}

// Hijack lets an integration take over the connection (protocol upgrades).
// A hijacked connection is no longer subject to the integration timeout.
func (g *guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timedOut {
		return nil, nil, http.ErrHandlerTimeout
	}
	c, brw, err := http.NewResponseController(g.w).Hijack()
	if err == nil {
		g.hijacked = true
	}
	return c, brw, err
}

// SetReadDeadline and SetWriteDeadline let integrations extend deadlines
// through http.ResponseController.
func (g *guardedWriter) SetReadDeadline(t time.Time) error {
	return http.NewResponseController(g.w).SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline of the underlying connection.
func (g *guardedWriter) SetWriteDeadline(t time.Time) error {
	return http.NewResponseController(g.w).SetWriteDeadline(t)
}

// EnableFullDuplex lets an integration read the request while writing the
// response.
func (g *guardedWriter) EnableFullDuplex() error {
	return http.NewResponseController(g.w).EnableFullDuplex()
}
