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
// the handler ignores its context, and cancels the handler's context with
// [ErrIntegrationTimeout]. A panic is answered with 502 INTEGRATION_FAILURE
// instead of killing the process.
type invoker struct {
	h       http.Handler
	timeout time.Duration
	clock   clock.Clock
	logger  *slog.Logger
}

func (iv *invoker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := reqctx.From(r.Context())
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(context.Canceled)

	// The integration gets its own copy of the request context, merged back
	// once it returns, so that the timeout path and a late integration
	// never write the same one.
	var irc *reqctx.Context
	if rc != nil {
		cp := *rc
		irc = &cp
		ctx = reqctx.With(ctx, irc)
	}
	g := &guardedWriter{w: w, h: make(http.Header)}
	start := iv.clock.Now()
	timer := iv.clock.AfterFunc(iv.timeout, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.finished || g.hijacked {
			return
		}
		g.timedOut = true
		cancel(ErrIntegrationTimeout)
		if g.wrote {
			return // the request goroutine aborts the response when the handler returns
		}
		if rc != nil {
			rc.IntegrationLatency = iv.clock.Now().Sub(start)
		}
		w.Header().Set("Connection", "close")
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationTimeout, fmt.Errorf("no response within %v", iv.timeout)))
		_ = http.NewResponseController(w).Flush()
	})
	panicked, stack := iv.run(g, r.WithContext(ctx))
	timer.Stop()

	g.mu.Lock()
	g.finished = true
	timedOut, wrote := g.timedOut, g.wrote
	g.mu.Unlock()
	if panicked != nil && panicked != http.ErrAbortHandler {
		reqID := ""
		if rc != nil {
			reqID = rc.RequestID
		}
		iv.logger.Error("portico: integration panicked", "requestId", reqID, "panic", fmt.Sprint(panicked), "stack", string(stack))
	}
	if timedOut {
		if wrote {
			panic(http.ErrAbortHandler) // part of the response went out: don't let it pass for a whole one
		}
		return
	}
	if rc != nil {
		rc.IntegrationLatency = iv.clock.Now().Sub(start)
		rc.IntegrationStatus = irc.IntegrationStatus
		if rc.IntegrationStatus == 0 {
			rc.IntegrationStatus = g.status
		}
		rc.Error = irc.Error
	}
	switch {
	case panicked == nil:
	case panicked == http.ErrAbortHandler || wrote:
		panic(http.ErrAbortHandler)
	default:
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationFailure, fmt.Errorf("integration panicked: %v", panicked)))
	}
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
