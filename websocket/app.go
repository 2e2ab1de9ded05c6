package websocket

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Route is one route of a WebSocket API.
type Route struct {
	// Key is the route key: "$connect", "$disconnect", "$default", or a
	// custom key (which may not start with "$") that the route selection
	// expression yields.
	Key string
	// Integration serves the route; required. See [Server.Accept] for what
	// it receives.
	Integration http.Handler
	// RouteResponse makes the route two-way: a 2xx answer's body is sent
	// back to the client as a message. Ignored for $connect and
	// $disconnect.
	RouteResponse bool
	// Timeout bounds the integration; 0 means [Limits.Timeout]. When it
	// passes, the integration's context is cancelled and the client gets
	// {"message":"Internal server error",...} (on $connect: 504); an
	// integration that ignores its context runs on, and its answer is
	// dropped.
	Timeout time.Duration
}

// AppConfig describes a WebSocket API: its route selection expression,
// routes and limits.
type AppConfig struct {
	// RouteSelectionExpression selects a message's route; "" means
	// [DefaultRouteSelectionExpression]. See [Selector].
	RouteSelectionExpression string
	// Routes are the API's routes; keys must be unique.
	Routes []Route
	// Limits bound each connection; the zero value takes the defaults.
	Limits Limits
	// Stage and APIID label the connections in the [Registry]; optional.
	Stage, APIID string
}

// App is a compiled WebSocket API, made by [NewApp]. It is immutable and
// safe for concurrent use; a connection keeps the App it was accepted with
// until it closes.
type App struct {
	selector     *Selector
	routes       map[string]*Route
	limits       Limits
	stage, apiID string
}

// NewApp validates cfg and compiles it. Errors name the route and field at
// fault.
func NewApp(cfg AppConfig) (*App, error) {
	sel, err := ParseSelectionExpression(cfg.RouteSelectionExpression)
	if err != nil {
		return nil, err
	}
	lim, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &App{selector: sel, routes: make(map[string]*Route, len(cfg.Routes)), limits: lim, stage: cfg.Stage, apiID: cfg.APIID}
	for i := range cfg.Routes {
		rt := cfg.Routes[i]
		fail := func(field string, err error) error {
			return fmt.Errorf("websocket: route %q %s: %w", rt.Key, field, err)
		}
		switch {
		case rt.Key == "":
			return nil, fail("Key", errors.New("empty route key"))
		case strings.HasPrefix(rt.Key, "$") && rt.Key != RouteConnect && rt.Key != RouteDisconnect && rt.Key != RouteDefault:
			return nil, fail("Key", errors.New("custom route keys may not start with $ (special keys: $connect, $disconnect, $default)"))
		case rt.Integration == nil:
			return nil, fail("Integration", errors.New("no integration"))
		case rt.Timeout < 0:
			return nil, fail("Timeout", fmt.Errorf("negative timeout %v", rt.Timeout))
		}
		if _, dup := a.routes[rt.Key]; dup {
			return nil, fail("Key", errors.New("duplicate route"))
		}
		if rt.Key == RouteConnect || rt.Key == RouteDisconnect {
			rt.RouteResponse = false
		}
		if rt.Timeout == 0 {
			rt.Timeout = lim.Timeout
		}
		a.routes[rt.Key] = &rt
	}
	return a, nil
}

// Limits returns the app's limits with defaults applied.
func (a *App) Limits() Limits { return a.limits }

// selectRoute picks the route for a message: the selected key, else
// $default; nil and the key when neither exists.
func (a *App) selectRoute(msg []byte, binary bool) (*Route, string) {
	key := RouteDefault
	if !binary {
		if k, ok := a.selector.Select(msg); ok && k != "" {
			key = k
		}
	}
	if rt := a.routes[key]; rt != nil && key != RouteConnect && key != RouteDisconnect {
		return rt, key
	}
	if rt := a.routes[RouteDefault]; rt != nil {
		return rt, RouteDefault
	}
	return nil, key
}
