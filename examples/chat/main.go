// Command chat serves a chat room as a WebSocket API on 127.0.0.1:8080:
// $connect lets in callers with the demo token (a custom authorizer), the
// sendmessage route broadcasts a message to everyone in the room through
// @connections, and $disconnect takes the caller out of the room.
//
//	go run ./examples/chat
//
//	# in two terminals (any WebSocket client; wscat is on npm)
//	npx wscat -c 'ws://127.0.0.1:8080/prod?name=alice&token=letmein'
//	npx wscat -c 'ws://127.0.0.1:8080/prod?name=bob&token=letmein'
//	> {"action":"sendmessage","text":"hello"}
//	< {"from":"alice","text":"hello"}
//
//	# any other message gets help back; a bad token gets 401 before the upgrade
//	npx wscat -c 'ws://127.0.0.1:8080/prod?name=eve&token=nope'
//
//	# a backend uses @connections with SigV4, e.g. with the AWS CLI (any
//	# message gets the connection id back)
//	export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=example-secret
//	aws apigatewaymanagementapi post-to-connection --endpoint-url http://127.0.0.1:8080/prod \
//	    --region us-east-1 --connection-id "$ID" --data psst
//	aws apigatewaymanagementapi get-connection --endpoint-url http://127.0.0.1:8080/prod \
//	    --region us-east-1 --connection-id "$ID"
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/websocket"
)

// The demo's fixed secrets (shown in the command's comment).
const (
	demoToken     = "letmein"
	demoAccessKey = "AKIDEXAMPLE"
	demoSecret    = "example-secret"
)

// room is the chat room: connection id → name. Safe for concurrent use.
type room struct {
	mu      sync.Mutex
	members map[string]string
}

func (r *room) join(id, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.members[id] = name
}

func (r *room) leave(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members, id)
}

func (r *room) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.members))
	for id := range r.members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// connectAuthorizer lets in callers with the demo token; their name is in
// the authorizer context, which every later message of the connection sees.
func connectAuthorizer(ctx context.Context, ev *auth.AuthorizerEvent) (*auth.AuthorizerResponse, error) {
	if ev.QueryStringParameters["token"] != demoToken || ev.QueryStringParameters["name"] == "" {
		return nil, auth.ErrUnauthorized
	}
	return &auth.AuthorizerResponse{
		PrincipalID:    ev.QueryStringParameters["name"],
		PolicyDocument: auth.AllowPolicy("arn:aws:execute-api:*:*:*/*/*"),
		Context:        map[string]any{"name": ev.QueryStringParameters["name"]},
	}, nil
}

// chat holds the room and the gateway whose @connections it posts to.
type chat struct {
	room room
	gw   *portico.Gateway
}

// broadcast posts msg to every member through @connections (in-process),
// dropping members that are gone.
func (c *chat) broadcast(ctx context.Context, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	conns, err := c.gw.WebSocket()
	if err != nil {
		return err
	}
	for _, id := range c.room.ids() {
		if err := conns.Post(ctx, id, b); errors.Is(err, websocket.ErrGone) {
			c.room.leave(id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

func name(ev events.APIGatewayWebsocketProxyRequest) string {
	m, _ := ev.RequestContext.Authorizer.(map[string]any)
	s, _ := m["name"].(string)
	return s
}

func (c *chat) connect(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	c.room.join(ev.RequestContext.ConnectionID, name(ev))
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}

func (c *chat) disconnect(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	c.room.leave(ev.RequestContext.ConnectionID)
	return events.APIGatewayProxyResponse{StatusCode: 200}, c.broadcast(ctx, map[string]string{"left": name(ev)})
}

func (c *chat) send(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	var in struct{ Text string }
	if err := json.Unmarshal([]byte(ev.Body), &in); err != nil || in.Text == "" {
		return events.APIGatewayProxyResponse{StatusCode: 400}, nil
	}
	return events.APIGatewayProxyResponse{StatusCode: 200}, c.broadcast(ctx, map[string]string{"from": name(ev), "text": in.Text})
}

// help answers any other message (a two-way route) with the connection id
// and how to talk.
func (c *chat) help(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (map[string]string, error) {
	return map[string]string{"connectionId": ev.RequestContext.ConnectionID, "usage": `{"action":"sendmessage","text":"..."}`}, nil
}

// newGateway builds the gateway and deploys the chat API on stage prod.
func newGateway(opts ...portico.Option) (*portico.Gateway, error) {
	creds, err := auth.NewStaticCredentials(auth.Credential{AccessKeyID: demoAccessKey, SecretAccessKey: demoSecret, AccountID: "000000000000"})
	if err != nil {
		return nil, err
	}
	gw, err := portico.New(append([]portico.Option{portico.WithCredentials(creds)}, opts...)...)
	if err != nil {
		return nil, err
	}
	c := &chat{room: room{members: map[string]string{}}, gw: gw}
	api := portico.NewAPI("chat", portico.WebSocket)
	api.Auth.Authorizers = map[string]portico.Authorizer{
		"token": {Type: portico.AuthorizerRequest, Function: connectAuthorizer, IdentitySources: []string{"$request.querystring.token", "$request.querystring.name"}},
	}
	api.AddRoute(portico.Route{Path: "$connect", Integration: websocket.Function(c.connect), Auth: portico.RouteAuth{Authorizer: "token"}})
	api.Handle("$disconnect", websocket.Function(c.disconnect))
	api.Handle("sendmessage", websocket.Function(c.send))
	api.Handle("$default", websocket.Function(c.help))
	if err := gw.SetWebSocketSettings("chat", portico.WebSocketSettings{RouteResponses: []string{"$default"}}); err != nil {
		return nil, err
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		_ = gw.Shutdown(context.Background())
		return nil, err
	}
	return gw, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	gw, err := newGateway()
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		<-ch
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // hijacked WebSocket connections are the gateway's to drain
		_ = gw.Shutdown(ctx)
	}()
	log.Printf("chat example on ws://%s/prod?name=alice&token=%s", ln.Addr(), demoToken)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
