// Package websocket serves WebSocket APIs the way the model gateway does:
// messages are routed by a route selection expression ($request.body.action
// by default) to per-route integrations, the special routes $connect and
// $disconnect run when a connection opens and closes, and the @connections
// API (POST, GET, DELETE /{stage}/@connections/{id}) lets a backend push
// messages to clients, read their connection info and disconnect them.
//
// Integrations are http.Handlers: each message is a POST whose body is the
// message, with the connection's [Event] in [EventFrom] and the request
// context of $connect (identity, authorizer output) in reqctx.From.
// [Function] adapts a function taking the model's WebSocket event
// (aws-lambda-go's events.APIGatewayWebsocketProxyRequest):
//
//	app, _ := websocket.NewApp(websocket.AppConfig{Routes: []websocket.Route{
//		{Key: "$connect", Integration: connect},
//		{Key: "echo", Integration: websocket.Function(echo), RouteResponse: true},
//	}})
//	srv, _ := websocket.NewServer()
//	defer srv.Close(ctx)
//	http.Handle("/ws", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		srv.Accept(w, r, app)
//	}))
//
// Most programs use it through the root package: an API of type WebSocket
// deployed on a gateway is served on its stage, with authorizers and API
// keys checked on $connect and SigV4 on @connections.
//
// Connections obey [Limits] (idle timeout, maximum duration, frame and
// message sizes, message rate, ping/pong keep-alive) on the server's
// injected clock. A [Registry] maps connection ids to the instance that
// holds them, so that instances sharing one (redisstore's, in Redis) form
// one @connections space.
package websocket
