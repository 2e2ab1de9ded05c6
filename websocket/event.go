package websocket

import (
	"context"
	"time"
)

// The event types of [Event.EventType].
const (
	EventConnect    = "CONNECT"
	EventMessage    = "MESSAGE"
	EventDisconnect = "DISCONNECT"
)

// Event describes the WebSocket event an integration is serving: the
// model's $context.connectionId, routeKey, eventType, messageId,
// connectedAt and requestTimeEpoch. The authorizer output of $connect is in
// reqctx.From(ctx).Authorizer for every event of the connection.
type Event struct {
	// ConnectionID is the connection's id, the one @connections takes.
	ConnectionID string
	// RouteKey is the selected route: "$connect", "$disconnect", "$default"
	// or a custom key.
	RouteKey string
	// EventType is EventConnect, EventMessage or EventDisconnect.
	EventType string
	// MessageID identifies a message; "" for CONNECT and DISCONNECT.
	MessageID string
	// ConnectedAt is when the connection was opened.
	ConnectedAt time.Time
	// RequestTime is when the event happened.
	RequestTime time.Time
	// Binary is true for a binary message (the body is the raw bytes).
	Binary bool
	// DisconnectStatusCode and DisconnectReason are, for DISCONNECT, the
	// close code and reason (1006 and "" when the connection broke without
	// a close frame).
	DisconnectStatusCode int
	DisconnectReason     string
}

type eventKey struct{}

// WithEvent returns a context carrying ev.
func WithEvent(ctx context.Context, ev *Event) context.Context {
	return context.WithValue(ctx, eventKey{}, ev)
}

// EventFrom returns the event ctx carries, or nil outside a WebSocket
// integration.
func EventFrom(ctx context.Context) *Event {
	ev, _ := ctx.Value(eventKey{}).(*Event)
	return ev
}
