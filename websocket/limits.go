package websocket

import (
	"fmt"
	"time"
)

// Defaults of [Limits], the model gateway's.
const (
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultMaxDuration     = 2 * time.Hour
	DefaultMaxFrameBytes   = 32 << 10
	DefaultMaxMessageBytes = 128 << 10
	DefaultPingInterval    = time.Minute
	DefaultPongTimeout     = 30 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultTimeout         = 29 * time.Second
)

// Limits bound a connection. Zero fields take the defaults; a negative
// duration or size turns that limit off. Close codes follow the model:
// 1001 (going away) for the idle timeout and the maximum duration, 1009
// (message too big) for an oversize frame or message, 1008 (policy
// violation) for a client that stops answering pings.
type Limits struct {
	// IdleTimeout closes a connection that has received no message for
	// this long (default 10 min). Pings and pongs do not count as
	// messages.
	IdleTimeout time.Duration
	// MaxDuration closes a connection this long after it opened (default
	// 2 h).
	MaxDuration time.Duration
	// MaxFrameBytes bounds the payload of one frame a client sends
	// (default 32 KB).
	MaxFrameBytes int64
	// MaxMessageBytes bounds a message a client sends, all its frames
	// together (default 128 KB). Messages posted through @connections
	// have the server's own limit, [WithMaxPostBytes].
	MaxMessageBytes int64
	// MessageRate is how many messages per second a connection may send,
	// with bursts of MessageBurst; 0 means no limit. A message over the
	// limit is not routed: the client gets {"message":"Too Many
	// Requests",...} back.
	MessageRate float64
	// MessageBurst is the burst of MessageRate; 0 means max(1,
	// MessageRate).
	MessageBurst int
	// PingInterval is how often the server pings a connection (default
	// 1 min); a client that has not answered within PongTimeout (default
	// 30 s) is disconnected.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// WriteTimeout bounds a write to a client (default 10 s); a client
	// that does not take a message in time is disconnected.
	WriteTimeout time.Duration
	// Timeout bounds an integration call (default 29 s); a route's own
	// [Route.Timeout] wins.
	Timeout time.Duration
}

// withDefaults returns l with zero fields set to their defaults and
// negative ones to 0 (off), or an error for a bad combination.
func (l Limits) withDefaults() (Limits, error) {
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	size := func(n *int64, def int64) {
		switch {
		case *n == 0:
			*n = def
		case *n < 0:
			*n = 0
		}
	}
	dur(&l.IdleTimeout, DefaultIdleTimeout)
	dur(&l.MaxDuration, DefaultMaxDuration)
	dur(&l.PingInterval, DefaultPingInterval)
	dur(&l.PongTimeout, DefaultPongTimeout)
	dur(&l.WriteTimeout, DefaultWriteTimeout)
	dur(&l.Timeout, DefaultTimeout)
	size(&l.MaxFrameBytes, DefaultMaxFrameBytes)
	size(&l.MaxMessageBytes, DefaultMaxMessageBytes)
	if l.MessageRate < 0 {
		return l, fmt.Errorf("websocket: Limits.MessageRate %v is negative", l.MessageRate)
	}
	if l.MessageBurst < 0 {
		return l, fmt.Errorf("websocket: Limits.MessageBurst %d is negative", l.MessageBurst)
	}
	if l.MessageBurst == 0 {
		l.MessageBurst = max(1, int(l.MessageRate))
	}
	if l.PingInterval > 0 && l.PongTimeout == 0 {
		l.PongTimeout = DefaultPongTimeout
	}
	return l, nil
}

// bucket is a token bucket for a connection's message rate. Not safe for
// concurrent use: the connection's read loop owns it.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *bucket) allow(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	if b.last.IsZero() {
		b.tokens = b.burst
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
