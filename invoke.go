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

// invoker runs an integration under its timeout. The integration runs in its
// own goroutine behind a guarded writer, so that a handler that ignores its
// context still cannot hold the response past the timeout, and a panic is
// answered with 502 INTEGRATION_FAILURE instead of killing the process.
type invoker struct {
	h       http.Handler
	timeout time.Duration
	clock   clock.Clock
	logger  *slog.Logger
}

type invokeResult struct {
	panicked any
	stack    []byte
}

func (iv *invoker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(context.Canceled)

	// The integration gets its own copy of the request context, merged back
	// if it finishes in time, so a late integration never races with the
	// gateway's own use of it.
	var irc *reqctx.Context
	if rc != nil {
		cp := *rc
		irc = &cp
		ctx = reqctx.With(ctx, irc)
	}
	gw := &guardedWriter{w: w, h: make(http.Header)}
	ir := r.WithContext(ctx)
	done := make(chan invokeResult, 1)
	start := iv.clock.Now()
	go func() {
		var res invokeResult
		defer func() {
			if p := recover(); p != nil {
				res.panicked = p
				if p != http.ErrAbortHandler {
					res.stack = debug.Stack()
				}
			}
			done <- res
		}()
		iv.h.ServeHTTP(gw, ir)
	}()

	timer := iv.clock.NewTimer(iv.timeout)
	var res invokeResult
	select {
	case res = <-done:
		timer.Stop()
	case <-timer.C():
		if !gw.timeout() {
			// Hijacked (a protocol upgrade): the connection is the
			// integration's now; wait for it.
			res = <-done
			break
		}
		cancel(ErrIntegrationTimeout)
		if rc != nil {
			rc.IntegrationLatency = iv.clock.Now().Sub(start)
		}
		if gw.headerWritten() {
			// Part of the response has gone out: abort the connection so
			// the client cannot take it for a whole one.
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("Connection", "close")
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationTimeout, fmt.Errorf("no response within %v", iv.timeout)))
		return
	}
	if rc != nil {
		rc.IntegrationLatency = iv.clock.Now().Sub(start)
		rc.IntegrationStatus = irc.IntegrationStatus
		if rc.IntegrationStatus == 0 {
			rc.IntegrationStatus = gw.status
		}
		rc.Error = irc.Error
		rc.Authorizer = irc.Authorizer
	}
	if res.panicked != nil {
		if res.panicked == http.ErrAbortHandler {
			panic(http.ErrAbortHandler)
		}
		reqID := ""
		if rc != nil {
			reqID = rc.RequestID
		}
		iv.logger.Error("portico: integration panicked", "requestId", reqID, "panic", fmt.Sprint(res.panicked), "stack", string(res.stack))
		if gw.headerWritten() {
			panic(http.ErrAbortHandler)
		}
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("integration panicked: %v", res.panicked)))
	}
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
}

func (g *guardedWriter) Header() http.Header { return g.h }

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

// timeout marks the writer timed out unless the connection was hijacked; it
// reports whether it did.
func (g *guardedWriter) timeout() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hijacked {
		return false
	}
	g.timedOut = true
	return true
}

func (g *guardedWriter) headerWritten() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.wrote
}
