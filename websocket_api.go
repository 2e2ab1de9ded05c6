package portico

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/websocket"
)

// WebSocketSettings are the settings of a WebSocket API that its routes do
// not carry. The zero value selects routes by $request.body.action, has no
// two-way routes and takes the default limits.
type WebSocketSettings struct {
	// RouteSelectionExpression selects a message's route; "" means
	// "$request.body.action". See websocket.Selector.
	RouteSelectionExpression string
	// RouteResponses are the keys of the two-way routes: their
	// integration's 2xx answer is sent back to the client.
	RouteResponses []string
	// Limits bound each connection (idle timeout, duration, frame and
	// message sizes, message rate, ping/pong); zero fields take the
	// defaults of websocket.Limits.
	Limits websocket.Limits
}

// WithWebSocket configures the gateway's WebSocket server: e.g.
// websocket.WithRegistry(redisstore's) to share one @connections space
// between instances. The gateway adds its clock and logger first.
func WithWebSocket(opts ...websocket.Option) Option {
	return func(o *options) { o.ws = append(o.ws, opts...) }
}

// wsState is the gateway's WebSocket server and per-API settings. The zero
// value is ready.
type wsState struct {
	mu       sync.Mutex // guards the fields below
	server   *websocket.Server
	settings map[string]WebSocketSettings
	closed   bool
}

// wsDeployment is a deployed WebSocket API: its routes and its $connect
// handler (guard and authorization, then the upgrade).
type wsDeployment struct {
	app     *websocket.App
	connect http.Handler
}

// SetWebSocketSettings sets the settings of the WebSocket API named
// apiName, used by its next deploys. It returns an error for a bad route
// selection expression or limits.
func (g *Gateway) SetWebSocketSettings(apiName string, s WebSocketSettings) error {
	if apiName == "" {
		return errors.New("portico: SetWebSocketSettings: empty API name")
	}
	if _, err := websocket.NewApp(websocket.AppConfig{RouteSelectionExpression: s.RouteSelectionExpression, Limits: s.Limits}); err != nil {
		return fmt.Errorf("portico: SetWebSocketSettings(%q): %w", apiName, err)
	}
	s.RouteResponses = slices.Clone(s.RouteResponses)
	g.ws.mu.Lock()
	defer g.ws.mu.Unlock()
	if g.ws.settings == nil {
		g.ws.settings = map[string]WebSocketSettings{}
	}
	g.ws.settings[apiName] = s
	return nil
}

// WebSocket returns the gateway's WebSocket server, creating it on first
// use: it holds the connections of every WebSocket API of the gateway and
// posts to, reads and disconnects them from inside the process (the Go
// side of @connections). It returns an error for bad [WithWebSocket]
// options, an unreachable registry, or after [Gateway.Shutdown].
func (g *Gateway) WebSocket() (*websocket.Server, error) {
	g.ws.mu.Lock()
	defer g.ws.mu.Unlock()
	if g.ws.closed {
		return nil, ErrClosed
	}
	if g.ws.server == nil {
		opts := append([]websocket.Option{websocket.WithClock(g.clock), websocket.WithLogger(g.logger)}, g.opts.ws...)
		s, err := websocket.NewServer(opts...)
		if err != nil {
			return nil, fmt.Errorf("portico: %w", err)
		}
		g.ws.server = s
	}
	return g.ws.server, nil
}

// closeWebSocket drains the WebSocket connections; Shutdown calls it.
func (g *Gateway) closeWebSocket(ctx context.Context) error {
	g.ws.mu.Lock()
	s := g.ws.server
	g.ws.closed = true
	g.ws.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.Close(ctx)
}

// compileWebSocket compiles the routes of a WebSocket API into d. Route
// keys are the Path of routes without a Method ("$connect", "sendmessage",
// as API.Handle makes them); only $connect may have RouteAuth.
func (g *Gateway) compileWebSocket(d *Deployment, stageTimeout time.Duration) error {
	api := d.api
	g.ws.mu.Lock()
	set := g.ws.settings[api.Name]
	g.ws.mu.Unlock()
	cfg := websocket.AppConfig{
		RouteSelectionExpression: set.RouteSelectionExpression,
		Limits:                   set.Limits,
		Stage:                    d.stage.Name,
		APIID:                    api.apiID(),
	}
	connect := Route{Path: websocket.RouteConnect}
	for i, rt := range api.Routes {
		key := rt.Path
		fail := func(field string, err error) error {
			return &RouteError{API: api.Name, Route: key, Field: field, Err: err}
		}
		if rt.Method != "" {
			key = rt.Method + " " + rt.Path
			return fail("Method", errors.New("WebSocket routes have a route key and no method"))
		}
		if rt.Integration == nil {
			return fail("Integration", errors.New("no integration"))
		}
		if rt.Timeout < 0 {
			return fail("Timeout", fmt.Errorf("negative timeout %v", rt.Timeout))
		}
		if key == websocket.RouteConnect {
			connect = rt
		} else if rt.Auth.Authorizer != "" && rt.Auth.Authorizer != "NONE" || rt.Auth.APIKeyRequired || len(rt.Auth.Scopes) > 0 {
			return fail("Auth", errors.New("authorizers and API keys apply only to the $connect route of a WebSocket API"))
		}
		h := rt.Integration
		if binder, ok := h.(integration.Binder); ok {
			var err error
			if h, err = binder.BindStage(d.stage.Variables); err != nil {
				return fail("Integration", err)
			}
			if h == nil {
				return fail("Integration", errors.New("BindStage returned no handler"))
			}
		}
		timeout := rt.Timeout
		if timeout == 0 {
			timeout = stageTimeout
		}
		cfg.Routes = append(cfg.Routes, websocket.Route{
			Key: key, Integration: h, Timeout: timeout,
			RouteResponse: slices.Contains(set.RouteResponses, key),
		})
		d.routes = append(d.routes, compiledRoute{key: key, template: key, resourceID: fmt.Sprintf("r%03d", i)})
	}
	app, err := websocket.NewApp(cfg)
	if err != nil {
		return fmt.Errorf("portico: API %q: %w", api.Name, err)
	}
	if _, err := g.WebSocket(); err != nil {
		return err
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := g.WebSocket()
		if err != nil {
			w.Header().Set("Connection", "close")
			reqctx.WriteError(w, r, reqctx.NewError(reqctx.ServiceUnavailable, err))
			return
		}
		s.Accept(w, r, app)
	})
	for _, build := range []step{g.authorizeStep, g.guardStep} {
		mw, err := build(d, &connect)
		if err != nil {
			return &RouteError{API: api.Name, Route: websocket.RouteConnect, Field: "Auth", Err: err}
		}
		if mw != nil {
			h = mw(h)
		}
	}
	d.ws = &wsDeployment{app: app, connect: h}
	return nil
}

// serveWebSocket serves a request to a WebSocket API's stage: the
// @connections API below it, or a connection at its root.
func (g *Gateway) serveWebSocket(w http.ResponseWriter, r *http.Request, d *Deployment, rest string) {
	rc := reqctx.From(r.Context())
	id, ok, err := websocket.ParseConnectionsPath(rest)
	if ok {
		rc.RouteKey = "@connections"
		if err != nil {
			reqctx.WriteError(w, r, reqctx.NewError(reqctx.BadRequestParameters, err))
			return
		}
		g.serveConnections(w, r, id)
		return
	}
	if rest != "" && rest != "/" {
		reqctx.WriteError(w, r, reqctx.NewError(d.notFound, fmt.Errorf("a WebSocket API serves connections at its stage root and @connections/{id}, not %q", rest)))
		return
	}
	rc.RouteKey = websocket.RouteConnect
	rc.ResourcePath = "/"
	d.ws.connect.ServeHTTP(w, r)
}

// ActionManageConnections is the action of @connections calls, which a
// credential's policy must allow when it has one.
const ActionManageConnections = "execute-api:ManageConnections"

// serveConnections serves an @connections call after checking its SigV4
// signature (service execute-api) against [WithCredentials]. A credential
// with no policy may manage every connection; one with a policy needs it to
// allow execute-api:ManageConnections on
// arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}/@connections/{id}.
func (g *Gateway) serveConnections(w http.ResponseWriter, r *http.Request, id string) {
	v, err := g.sigV4()
	if err != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.MissingAuthenticationToken, fmt.Errorf("@connections: %w", err)))
		return
	}
	cred, err := v.Verify(r)
	if err != nil {
		reqctx.WriteError(w, r, err)
		return
	}
	if cred.Policy != nil {
		rc := reqctx.From(r.Context())
		arn := auth.MethodARN(g.region(), g.opts.accountID, rc.APIID, rc.Stage, r.Method, "@connections/"+id)
		p := &auth.Principal{Kind: auth.KindIAM, ID: cred.AccessKeyID, ARN: cred.ARN, AccountID: cred.AccountID, AccessKey: cred.AccessKeyID}
		if cred.Policy.Evaluate(&auth.Request{Action: ActionManageConnections, Resource: arn, Principal: p, Time: g.clock.Now()}) != auth.Allow {
			who := cred.ARN
			if who == "" {
				who = cred.AccessKeyID
			}
			e := reqctx.NewError(reqctx.AccessDenied, fmt.Errorf("@connections: %s may not %s on %s", who, ActionManageConnections, arn))
			e.Message = "User: " + who + " is not authorized to perform: " + ActionManageConnections + " on resource: " + arn
			reqctx.WriteError(w, r, e)
			return
		}
	}
	s, err := g.WebSocket()
	if err != nil {
		reqctx.WriteError(w, r, reqctx.NewError(reqctx.ServiceUnavailable, err))
		return
	}
	s.ServeConnection(w, r, id)
}
