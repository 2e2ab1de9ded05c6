package websocket

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrGone is returned for a connection that no longer exists, or whose
// instance is gone; @connections answers it with 410 GoneException.
var ErrGone = errors.New("websocket: connection is gone")

// ConnectionInfo describes one connection: who holds it and what the
// @connections GET answers.
type ConnectionInfo struct {
	// ID is the connection id.
	ID string
	// Instance is the id of the server instance holding the connection.
	Instance string
	// APIID and Stage name the API stage the connection was made to.
	APIID, Stage string
	// ConnectedAt is when the connection was opened; LastActiveAt when it
	// last received a message (a [Registry] may hold an older value, see
	// [Server.Get]).
	ConnectedAt, LastActiveAt time.Time
	// SourceIP and UserAgent identify the client.
	SourceIP, UserAgent string
}

// Command is an @connections call forwarded to the instance holding the
// connection.
type Command struct {
	// Op is OpPost or OpDelete.
	Op string
	// ConnectionID is the target connection.
	ConnectionID string
	// Data is the message of a post.
	Data []byte
}

// The operations of [Command.Op].
const (
	OpPost   = "post"
	OpDelete = "delete"
)

// Registry records which instance holds each connection and carries
// @connections calls to it. Instances that share a Registry share one
// @connections space: a POST on any of them reaches a client connected to
// any other. [MemoryRegistry] serves the instances of one process;
// redisstore has one for instances on one Redis. Implementations are safe
// for concurrent use.
//
// A connection is live when its record exists and its instance's
// heartbeat has not expired: when an instance dies, its connections are
// gone (410) once its last heartbeat expires, and at once for calls that
// find nobody listening for the instance.
type Registry interface {
	// Register records a connection.
	Register(ctx context.Context, c ConnectionInfo) error
	// Unregister forgets a connection; forgetting an unknown one is not an
	// error.
	Unregister(ctx context.Context, id string) error
	// Touch records a connection's last activity.
	Touch(ctx context.Context, id string, lastActive time.Time) error
	// Lookup returns a live connection's record, or [ErrGone].
	Lookup(ctx context.Context, id string, now time.Time) (ConnectionInfo, error)
	// Heartbeat keeps an instance alive until the given time.
	Heartbeat(ctx context.Context, instance string, until time.Time) error
	// Deliver carries cmd to the instance, in order with the other
	// commands delivered to it by this caller; [ErrGone] when nobody
	// listens for the instance.
	Deliver(ctx context.Context, instance string, cmd Command) error
	// Listen calls handle, one command at a time, for every command
	// delivered to the instance, until stop is called. stop waits for a
	// running handle to return. ctx bounds setting the listener up.
	Listen(ctx context.Context, instance string, handle func(Command)) (stop func(), err error)
}

// MemoryRegistry is a [Registry] in memory, for the instances (servers,
// gateways) of one process. The zero value is not usable; call
// [NewMemoryRegistry]. Safe for concurrent use.
type MemoryRegistry struct {
	mu        sync.Mutex // guards the fields below
	conns     map[string]ConnectionInfo
	alive     map[string]time.Time
	listeners map[string]*memListener
}

type memListener struct {
	mu     sync.Mutex // serialises handle calls
	handle func(Command)
	closed bool
}

var _ Registry = (*MemoryRegistry)(nil)

// NewMemoryRegistry returns an empty registry.
func NewMemoryRegistry() *MemoryRegistry {
	return &MemoryRegistry{conns: map[string]ConnectionInfo{}, alive: map[string]time.Time{}, listeners: map[string]*memListener{}}
}

// Register implements [Registry].
func (m *MemoryRegistry) Register(_ context.Context, c ConnectionInfo) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conns[c.ID] = c
	return nil
}

// Unregister implements [Registry].
func (m *MemoryRegistry) Unregister(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.conns, id)
	return nil
}

// Touch implements [Registry].
func (m *MemoryRegistry) Touch(_ context.Context, id string, lastActive time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.conns[id]; ok {
		c.LastActiveAt = lastActive
		m.conns[id] = c
	}
	return nil
}

// Lookup implements [Registry].
func (m *MemoryRegistry) Lookup(_ context.Context, id string, now time.Time) (ConnectionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.conns[id]
	if !ok || !m.alive[c.Instance].After(now) {
		return ConnectionInfo{}, ErrGone
	}
	return c, nil
}

// Heartbeat implements [Registry].
func (m *MemoryRegistry) Heartbeat(_ context.Context, instance string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.alive[instance] = until
	return nil
}

// Deliver implements [Registry]: it calls the instance's handler in the
// caller's goroutine.
func (m *MemoryRegistry) Deliver(_ context.Context, instance string, cmd Command) error {
	m.mu.Lock()
	l := m.listeners[instance]
	m.mu.Unlock()
	if l == nil {
		return ErrGone
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrGone
	}
	l.handle(cmd)
	return nil
}

// Listen implements [Registry]. A second Listen for the same instance
// replaces the first.
func (m *MemoryRegistry) Listen(_ context.Context, instance string, handle func(Command)) (func(), error) {
	if handle == nil {
		return nil, errors.New("websocket: Listen: nil handler")
	}
	l := &memListener{handle: handle}
	m.mu.Lock()
	m.listeners[instance] = l
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		if m.listeners[instance] == l {
			delete(m.listeners, instance)
		}
		m.mu.Unlock()
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
	}, nil
}
