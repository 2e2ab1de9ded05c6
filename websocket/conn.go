package websocket

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// StatusCode is a WebSocket close code.
type StatusCode = cws.StatusCode

// The close codes the server sends.
const (
	StatusNormalClosure   = cws.StatusNormalClosure   // 1000: @connections DELETE
	StatusGoingAway       = cws.StatusGoingAway       // 1001: idle, maximum duration, shutdown
	StatusPolicyViolation = cws.StatusPolicyViolation // 1008: no pong
	StatusMessageTooBig   = cws.StatusMessageTooBig   // 1009: oversize frame or message
)

// touchInterval is how often a connection's activity is written to the
// registry at most.
const touchInterval = time.Minute

// conn is one accepted connection. Its read loop runs in the goroutine of
// the HTTP handler that accepted it ([Server.Accept]).
type conn struct {
	s    *Server
	app  *App
	ws   *cws.Conn
	fc   *frameConn
	rc   reqctx.Context // the $connect request's context, copied for every event
	info ConnectionInfo
	clk  clock.Clock

	cbs sync.WaitGroup // running timer callbacks

	mu          sync.Mutex // guards the fields below
	lastActive  time.Time
	lastTouch   time.Time
	ending      bool
	closeCode   StatusCode
	closeReason string
	idle, life  clock.Timer
	ping        clock.Timer
	queue       [][]byte // messages forwarded by other instances, in order
	draining    bool     // a goroutine is writing the queue
}

// maxQueued bounds the messages from other instances waiting for one
// connection: a client that falls that far behind is disconnected (1008)
// rather than holding up the deliveries to every other connection.
const maxQueued = 1024

// Accept serves a WebSocket upgrade request with app. It runs the $connect
// route first: a status of 300 or more (or an integration failure) is the
// answer and the connection is refused without an upgrade. Otherwise it
// upgrades, registers the connection and returns: the connection is served
// on a goroutine of its own until it closes, then $disconnect runs exactly
// once. [Server.Close] waits for those goroutines.
//
// Integrations get a POST whose body is the message (the $connect route:
// the upgrade request itself, with its headers and query), the [Event] in
// [EventFrom], and a copy of the upgrade request's reqctx.Context (so the
// authorizer output of $connect) with a fresh request id and the route
// key. A connection's messages are served one at a time, in the order they
// came, so replies keep that order too. A message that selects no route
// when there is no $default route
// gets {"message":"Forbidden",...} back; a failed integration
// {"message":"Internal server error",...}.
func (s *Server) Accept(w http.ResponseWriter, r *http.Request, app *App) {
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.handlers.Add(1)
	}
	s.mu.Unlock()
	if closing {
		w.Header().Set("Connection", "close")
		writeError(w, r, reqctx.ServiceUnavailable, "", ErrClosed)
		return
	}
	served := false // once true, c.serve owns the handlers count
	defer func() {
		if !served {
			s.handlers.Done()
		}
	}()
	if app == nil {
		writeError(w, r, reqctx.APIConfigurationError, "", errors.New("websocket: Accept: nil App"))
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		writeError(w, r, reqctx.BadRequestParameters, "WebSocket upgrade required", errors.New("not a WebSocket upgrade request"))
		return
	}
	now := s.clock.Now()
	c := &conn{s: s, app: app, clk: s.clock, lastActive: now}
	if rc := reqctx.From(r.Context()); rc != nil {
		c.rc = *rc
	} else {
		c.rc = reqctx.Context{Identity: reqctx.Identity{SourceIP: remoteIP(r.RemoteAddr), UserAgent: r.UserAgent()}}
	}
	c.rc.Query = nil
	c.info = ConnectionInfo{
		ID: newConnectionID(), Instance: s.instance, APIID: app.apiID, Stage: app.stage,
		ConnectedAt: now, LastActiveAt: now, SourceIP: c.rc.Identity.SourceIP, UserAgent: c.rc.Identity.UserAgent,
	}
	var subprotocols []string
	if rt := app.routes[RouteConnect]; rt != nil {
		res := c.invoke(rt, RouteConnect, EventConnect, r, nil, false, nil)
		if res.err != nil {
			reqctx.WriteError(w, r, res.err)
			return
		}
		if res.status >= 300 {
			for k, v := range res.header {
				w.Header()[k] = v
			}
			w.WriteHeader(res.status)
			_, _ = w.Write(res.body)
			return
		}
		if p := res.header.Get("Sec-WebSocket-Protocol"); p != "" {
			subprotocols = []string{p}
		}
	}
	hw := &hijackWriter{ResponseWriter: w, maxFrame: app.limits.MaxFrameBytes}
	ws, err := cws.Accept(hw, r, &cws.AcceptOptions{
		Subprotocols:       subprotocols,
		InsecureSkipVerify: true, // the model gateway does not check Origin; $connect can
		CompressionMode:    cws.CompressionDisabled,
	})
	if err != nil {
		s.logger.Info("portico: websocket upgrade failed", "err", err)
		return // Accept has answered
	}
	c.ws, c.fc = ws, hw.fc
	if app.limits.MaxMessageBytes > 0 {
		ws.SetReadLimit(app.limits.MaxMessageBytes)
	} else {
		ws.SetReadLimit(-1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = s.reg.Register(ctx, c.info)
	cancel()
	if err != nil {
		s.logger.Error("portico: websocket registry register failed", "connectionId", c.info.ID, "err", err)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.closeWith(StatusGoingAway, "Server shutting down")
	} else {
		s.conns[c.info.ID] = c
		s.mu.Unlock()
		if s.registered != nil {
			s.registered(c.info.ID)
		}
	}
	// The connection is served on a goroutine of its own, so that the
	// handler's goroutine, its deep stack and the request go away.
	served = true
	go c.serve()
}

// serve runs the connection until it ends, then $disconnect, exactly once.
func (c *conn) serve() {
	s, app, ws := c.s, c.app, c.ws
	defer s.handlers.Done()
	c.startTimers()
	code, reason := c.readLoop()
	c.stopTimers()

	s.mu.Lock()
	delete(s.conns, c.info.ID)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := s.reg.Unregister(ctx, c.info.ID); err != nil {
		s.logger.Error("portico: websocket registry unregister failed", "connectionId", c.info.ID, "err", err)
	}
	cancel()
	if rt := app.routes[RouteDisconnect]; rt != nil {
		c.invoke(rt, RouteDisconnect, EventDisconnect, nil, nil, false, func(ev *Event) {
			ev.DisconnectStatusCode, ev.DisconnectReason = int(code), reason
		})
	}
	_ = ws.CloseNow()
}

// readLoop serves messages until the connection ends and returns the
// close code and reason.
func (c *conn) readLoop() (StatusCode, string) {
	var b bucket
	b.rate, b.burst = c.app.limits.MessageRate, float64(c.app.limits.MessageBurst)
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			return c.endCode(err)
		}
		now := c.clk.Now()
		c.activity(now)
		if !b.allow(now) {
			c.reply("Too Many Requests", newRequestID())
			continue
		}
		binary := typ == cws.MessageBinary
		rt, key := c.app.selectRoute(data, binary)
		if rt == nil {
			c.reply("Forbidden", newRequestID())
			continue
		}
		res := c.invoke(rt, key, EventMessage, nil, data, binary, nil)
		switch {
		case res.err != nil || res.status >= 500:
			c.reply("Internal server error", res.requestID)
		case rt.RouteResponse && res.status < 300 && len(res.body) > 0:
			_ = c.write(context.Background(), res.body)
		}
	}
}

// endCode works out how the connection ended.
func (c *conn) endCode(err error) (StatusCode, string) {
	c.mu.Lock()
	code, reason := c.closeCode, c.closeReason
	c.ending = true
	c.mu.Unlock()
	if c.fc != nil && c.fc.tooBig.Load() {
		_ = c.ws.Close(StatusMessageTooBig, "Frame too big")
		return StatusMessageTooBig, "Frame too big"
	}
	if code != 0 {
		return code, reason
	}
	var ce cws.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason
	}
	if strings.Contains(err.Error(), "read limited at") {
		return StatusMessageTooBig, "Message too big"
	}
	return cws.StatusAbnormalClosure, ""
}

// reply sends the gateway's JSON error message to the client.
func (c *conn) reply(msg, requestID string) {
	b, _ := json.Marshal(map[string]string{"message": msg, "connectionId": c.info.ID, "requestId": requestID})
	_ = c.write(context.Background(), b)
}

// activity records a message: resets the idle timer and, at most once per
// touchInterval, the registry's lastActiveAt.
func (c *conn) activity(now time.Time) {
	c.mu.Lock()
	c.lastActive = now
	if c.idle != nil {
		c.idle.Reset(c.app.limits.IdleTimeout)
	}
	touch := now.Sub(c.lastTouch) >= touchInterval
	if touch {
		c.lastTouch = now
	}
	c.mu.Unlock()
	if touch {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.s.reg.Touch(ctx, c.info.ID, now); err != nil {
			c.s.logger.Warn("portico: websocket registry touch failed", "connectionId", c.info.ID, "err", err)
		}
	}
}

func (c *conn) infoNow() ConnectionInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	info := c.info
	info.LastActiveAt = c.lastActive
	return info
}

// write sends one message to the client.
func (c *conn) write(ctx context.Context, data []byte) error {
	if d := c.app.limits.WriteTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	typ := cws.MessageText
	if !utf8.Valid(data) {
		typ = cws.MessageBinary
	}
	if err := c.ws.Write(ctx, typ, data); err != nil {
		if ctx.Err() != nil {
			_ = c.ws.CloseNow() // a client that does not read is dropped
		}
		return ErrGone
	}
	return nil
}

// closeWith closes the connection with a close code; the first code wins.
func (c *conn) closeWith(code StatusCode, reason string) {
	c.mu.Lock()
	if c.closeCode != 0 || c.ending {
		c.mu.Unlock()
		return
	}
	c.closeCode, c.closeReason = code, reason
	c.mu.Unlock()
	_ = c.ws.Close(code, reason)
}

// enqueue writes a message forwarded by another instance, in order, on a
// goroutine of the connection's, so that the registry's delivery loop
// never waits for one slow client.
func (c *conn) enqueue(data []byte) {
	c.mu.Lock()
	if c.ending {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= maxQueued {
		c.mu.Unlock()
		c.closeAsync(StatusPolicyViolation, "Slow consumer")
		return
	}
	c.queue = append(c.queue, data)
	start := !c.draining
	c.draining = true
	c.mu.Unlock()
	if start {
		go c.callback(c.drain)()
	}
}

func (c *conn) drain() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.ending {
			c.queue, c.draining = nil, false
			c.mu.Unlock()
			return
		}
		data := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.mu.Unlock()
		if err := c.write(context.Background(), data); err != nil {
			c.mu.Lock()
			c.queue, c.draining = nil, false
			c.mu.Unlock()
			return
		}
	}
}

// closeAsync starts closing the connection without waiting for the close
// handshake; the connection waits for it before it ends.
func (c *conn) closeAsync(code StatusCode, reason string) {
	go c.callback(func() { c.closeWith(code, reason) })()
}

// callback wraps a timer callback so that the connection waits for it.
func (c *conn) callback(f func()) func() {
	return func() {
		c.mu.Lock()
		if c.ending {
			c.mu.Unlock()
			return
		}
		c.cbs.Add(1)
		c.mu.Unlock()
		defer c.cbs.Done()
		f()
	}
}

func (c *conn) startTimers() {
	l := c.app.limits
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.IdleTimeout > 0 {
		c.idle = c.clk.AfterFunc(l.IdleTimeout, c.callback(func() { c.closeWith(StatusGoingAway, "Idle timeout") }))
	}
	if l.MaxDuration > 0 {
		c.life = c.clk.AfterFunc(l.MaxDuration, c.callback(func() { c.closeWith(StatusGoingAway, "Maximum connection duration reached") }))
	}
	if l.PingInterval > 0 {
		c.ping = c.clk.AfterFunc(l.PingInterval, c.callback(c.pingOnce))
	}
}

func (c *conn) stopTimers() {
	c.mu.Lock()
	c.ending = true
	for _, t := range []clock.Timer{c.idle, c.life, c.ping} {
		if t != nil {
			t.Stop()
		}
	}
	c.mu.Unlock()
	c.cbs.Wait()
}

// pingOnce pings the client and closes the connection when no pong comes
// within the pong timeout (measured on the server's clock).
func (c *conn) pingOnce() {
	l := c.app.limits
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t := c.clk.AfterFunc(l.PongTimeout, cancel)
	if c.s.pinging != nil {
		c.s.pinging(c.info.ID)
	}
	err := c.ws.Ping(ctx)
	t.Stop()
	if err != nil {
		c.closeWith(StatusPolicyViolation, "No pong")
		return
	}
	c.mu.Lock()
	if !c.ending {
		c.ping.Reset(l.PingInterval)
	}
	c.mu.Unlock()
	if c.s.ponged != nil {
		c.s.ponged(c.info.ID)
	}
}

// result is what an integration answered.
type result struct {
	status    int
	header    http.Header
	body      []byte
	err       error
	requestID string
}

// invoke calls a route's integration for one event, under the route's
// timeout, recovering a panic. base is the request to serve ($connect) or
// nil for a POST of body.
func (c *conn) invoke(rt *Route, key, eventType string, base *http.Request, body []byte, binary bool, edit func(*Event)) result {
	now := c.clk.Now()
	rc := c.rc
	rc.RequestID = newRequestID()
	rc.ExtendedRequestID = randomID(6)
	rc.RequestTime = now
	rc.RouteKey = key
	rc.ResourcePath = key
	ev := &Event{
		ConnectionID: c.info.ID, RouteKey: key, EventType: eventType,
		ConnectedAt: c.info.ConnectedAt, RequestTime: now, Binary: binary,
	}
	if eventType == EventMessage {
		ev.MessageID = randomID(6)
	}
	if edit != nil {
		edit(ev)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(context.Canceled)
	ctx = WithEvent(reqctx.With(ctx, &rc), ev)
	var req *http.Request
	if base != nil {
		req = base.Clone(ctx)
	} else {
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(body)) // a fixed URL always parses
		if binary {
			req.Header.Set("Content-Type", "application/octet-stream")
		} else {
			req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		}
		req.RemoteAddr = rc.Identity.SourceIP
		req.Header.Set("User-Agent", rc.Identity.UserAgent)
	}
	timeout := errors.New("websocket: integration timed out")
	t := c.clk.AfterFunc(rt.Timeout, func() { cancel(timeout) })
	rec := &recorder{h: http.Header{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				c.s.logger.Error("portico: websocket integration panicked", "requestId", rc.RequestID, "panic", p, "stack", string(debug.Stack()))
				rec.fail(fmt.Errorf("integration panicked: %v", p))
			}
		}()
		rt.Integration.ServeHTTP(rec, req)
	}()
	timedOut := false
	select {
	case <-done:
		// An integration that returns because the timeout cancelled it
		// has timed out too.
		timedOut = !t.Stop()
	case <-ctx.Done():
		timedOut = true
	}
	if timedOut {
		return result{err: reqctx.NewError(reqctx.IntegrationTimeout, timeout), requestID: rc.RequestID}
	}
	if rec.err != nil {
		return result{err: reqctx.NewError(reqctx.IntegrationFailure, rec.err), requestID: rc.RequestID}
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	return result{status: status, header: rec.h, body: rec.buf.Bytes(), requestID: rc.RequestID}
}

// recorder captures an integration's answer.
type recorder struct {
	h      http.Header
	status int
	buf    bytes.Buffer
	err    error
}

func (r *recorder) Header() http.Header { return r.h }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(p)
}

func (r *recorder) fail(err error) { r.err = err }

func remoteIP(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.Contains(addr[i:], "]") {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}
