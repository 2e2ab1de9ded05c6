package websocket

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// DefaultHeartbeatTTL is how long an instance's heartbeat keeps its
// connections alive in the [Registry] (it is renewed every third of it).
const DefaultHeartbeatTTL = 30 * time.Second

// Option configures a [Server].
type Option func(*options)

type options struct {
	clock     clock.Clock
	logger    *slog.Logger
	registry  Registry
	instance  string
	heartbeat time.Duration
	maxPost   int64
}

// WithClock makes the server read time and run its timers (idle timeout,
// maximum duration, pings, heartbeats) on c; default real time.
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets where the server logs; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRegistry makes the server share the @connections space of reg with
// every other server using it; default a [MemoryRegistry] of its own.
func WithRegistry(reg Registry) Option { return func(o *options) { o.registry = reg } }

// WithInstanceID names the server in the registry; default a random id.
// Every server sharing a registry needs its own.
func WithInstanceID(id string) Option { return func(o *options) { o.instance = id } }

// WithHeartbeatTTL sets how long the server's registrations outlive it if
// it dies without closing (default [DefaultHeartbeatTTL]).
func WithHeartbeatTTL(d time.Duration) Option { return func(o *options) { o.heartbeat = d } }

// WithMaxPostBytes bounds a message posted through [Server.Post] and
// @connections (default 128 KB; larger ones get [ErrTooLarge], 413).
func WithMaxPostBytes(n int64) Option { return func(o *options) { o.maxPost = n } }

// Errors of the @connections calls besides [ErrGone].
var (
	// ErrTooLarge is returned by [Server.Post] for a message over the
	// limit (413 PayloadTooLarge over HTTP).
	ErrTooLarge = errors.New("websocket: message too large")
	// ErrClosed is returned after [Server.Close].
	ErrClosed = errors.New("websocket: server closed")
)

// Server holds WebSocket connections and serves the @connections calls for
// them. Create it with [NewServer]; stop it with [Server.Close], which
// drains its connections. A Server is safe for concurrent use.
type Server struct {
	clock    clock.Clock
	logger   *slog.Logger
	reg      Registry
	instance string
	ttl      time.Duration
	maxPost  int64
	stop     func()
	// registered, if set (by tests), is called with the id of every
	// connection once it is registered.
	registered func(id string)
	// ponged, if set (by tests), is called after every answered ping.
	ponged func(id string)
	// pinging, if set (by tests), is called once a ping waits for its pong.
	pinging func(id string)

	handlers sync.WaitGroup // one per accepted connection
	bg       sync.WaitGroup // heartbeat callbacks

	mu      sync.Mutex // guards the fields below
	conns   map[string]*conn
	closing bool
	hb      clock.Timer
}

// NewServer returns a server registered in its registry and listening for
// the @connections calls other instances forward to it. It returns an error
// for a bad option or when the registry cannot be reached.
func NewServer(opts ...Option) (*Server, error) {
	o := options{heartbeat: DefaultHeartbeatTTL, maxPost: DefaultMaxMessageBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.heartbeat <= 0 {
		return nil, fmt.Errorf("websocket: WithHeartbeatTTL(%v): must be positive", o.heartbeat)
	}
	if o.maxPost <= 0 {
		return nil, fmt.Errorf("websocket: WithMaxPostBytes(%d): must be positive", o.maxPost)
	}
	if o.registry == nil {
		o.registry = NewMemoryRegistry()
	}
	if o.instance == "" {
		o.instance = randomID(9)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	s := &Server{
		clock:    clock.OrReal(o.clock),
		logger:   o.logger,
		reg:      o.registry,
		instance: o.instance,
		ttl:      o.heartbeat,
		maxPost:  o.maxPost,
		conns:    map[string]*conn{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.reg.Heartbeat(ctx, s.instance, s.clock.Now().Add(s.ttl)); err != nil {
		return nil, fmt.Errorf("websocket: registry heartbeat: %w", err)
	}
	stop, err := s.reg.Listen(ctx, s.instance, s.handleCommand)
	if err != nil {
		return nil, fmt.Errorf("websocket: registry listen: %w", err)
	}
	s.stop = stop
	s.hb = s.clock.AfterFunc(s.ttl/3, s.beat)
	return s, nil
}

// Instance returns the server's instance id.
func (s *Server) Instance() string { return s.instance }

// beat renews the heartbeat and schedules the next one.
func (s *Server) beat() {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.bg.Add(1)
	s.mu.Unlock()
	defer s.bg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.reg.Heartbeat(ctx, s.instance, s.clock.Now().Add(s.ttl)); err != nil {
		s.logger.Error("portico: websocket registry heartbeat failed", "instance", s.instance, "err", err)
	}
	s.mu.Lock()
	if !s.closing {
		s.hb = s.clock.AfterFunc(s.ttl/3, s.beat)
	}
	s.mu.Unlock()
}

// handleCommand runs an @connections call another instance forwarded.
func (s *Server) handleCommand(cmd Command) {
	c := s.local(cmd.ConnectionID)
	if c == nil {
		return
	}
	switch cmd.Op {
	case OpPost:
		c.enqueue(cmd.Data)
	case OpDelete:
		c.closeAsync(StatusNormalClosure, "Connection deleted")
	}
}

func (s *Server) local(id string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

// Len returns the number of connections the server holds.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// ConnectionIDs returns the ids of the connections the server holds, in
// no particular order.
func (s *Server) ConnectionIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.conns))
	for id := range s.conns {
		ids = append(ids, id)
	}
	return ids
}

// scope restricts @connections calls to the connections of one API stage;
// the zero value allows every connection.
type scope struct{ apiID, stage string }

func (sc scope) allows(info ConnectionInfo) bool {
	return sc.apiID == "" || info.APIID == sc.apiID && info.Stage == sc.stage
}

// find returns the connection when this server holds it, else its record
// in the registry; [ErrGone] when it is unknown, dead, or outside sc.
func (s *Server) find(ctx context.Context, id string, sc scope) (*conn, ConnectionInfo, error) {
	if c := s.local(id); c != nil {
		if !sc.allows(c.info) {
			return nil, ConnectionInfo{}, ErrGone
		}
		return c, c.infoNow(), nil
	}
	info, err := s.reg.Lookup(ctx, id, s.clock.Now())
	if err != nil {
		return nil, ConnectionInfo{}, err
	}
	if info.Instance == s.instance || !sc.allows(info) {
		return nil, ConnectionInfo{}, ErrGone // a stale record of ours, or another API's
	}
	return nil, info, nil
}

// Post sends data to a connection as one message (text when it is valid
// UTF-8, else binary), wherever it is held. It returns [ErrGone] for a
// connection that does not exist (any more), [ErrTooLarge] for data over
// the limit, or the registry's error.
func (s *Server) Post(ctx context.Context, id string, data []byte) error {
	return s.post(ctx, id, data, scope{})
}

func (s *Server) post(ctx context.Context, id string, data []byte, sc scope) error {
	if int64(len(data)) > s.maxPost {
		return ErrTooLarge
	}
	c, info, err := s.find(ctx, id, sc)
	if err != nil {
		return err
	}
	if c != nil {
		return c.write(ctx, data)
	}
	return s.reg.Deliver(ctx, info.Instance, Command{Op: OpPost, ConnectionID: id, Data: data})
}

// Get returns a connection's info. For a connection this server holds,
// LastActiveAt is exact; for one held by another instance it is what the
// registry has, updated at most once a minute.
func (s *Server) Get(ctx context.Context, id string) (ConnectionInfo, error) {
	_, info, err := s.find(ctx, id, scope{})
	return info, err
}

// Disconnect closes a connection (close code 1000) wherever it is held;
// its $disconnect route runs. It returns [ErrGone] for an unknown
// connection, without waiting for the close handshake.
func (s *Server) Disconnect(ctx context.Context, id string) error {
	return s.disconnect(ctx, id, scope{})
}

func (s *Server) disconnect(ctx context.Context, id string, sc scope) error {
	c, info, err := s.find(ctx, id, sc)
	if err != nil {
		return err
	}
	if c != nil {
		c.closeAsync(StatusNormalClosure, "Connection deleted")
		return nil
	}
	return s.reg.Deliver(ctx, info.Instance, Command{Op: OpDelete, ConnectionID: id})
}

// Close drains the server: it refuses new connections (503), closes every
// connection with close code 1001 (going away), waits until their
// $disconnect routes have run or ctx is done, and leaves the registry.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	already := s.closing
	s.closing = true
	if s.hb != nil {
		s.hb.Stop()
	}
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeAsync(StatusGoingAway, "Server shutting down")
	}
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		s.bg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		for _, c := range conns {
			_ = c.ws.CloseNow()
		}
		<-done
		err = fmt.Errorf("websocket: close: %d connections did not drain in time: %w", len(conns), ctx.Err())
	}
	if !already && s.stop != nil {
		s.stop()
	}
	return err
}

// randomID returns n random bytes in base64: connection ids look like the
// model's ("L0SM9cOFvHcCIhw=").
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func newConnectionID() string { return randomID(11) }

// newRequestID returns a random UUID (version 4).
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], mrand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], mrand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdigits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexdigits[c>>4], hexdigits[c&0xf]
		j += 2
	}
	return string(out[:])
}

// writeError answers an HTTP request with a gateway error.
func writeError(w http.ResponseWriter, r *http.Request, t reqctx.ResponseType, msg string, err error) {
	e := reqctx.NewError(t, err)
	e.Message = msg
	reqctx.WriteError(w, r, e)
}
