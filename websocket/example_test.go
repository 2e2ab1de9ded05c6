package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	cws "github.com/coder/websocket"
	"github.com/portico-gw/portico/websocket"
)

// A two-way route served by a function written for aws-lambda-go, and a
// message pushed to the client through the server's @connections API.
func Example() {
	echo := websocket.Function(func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: ev.RequestContext.RouteKey + ": " + ev.Body}, nil
	})
	app, err := websocket.NewApp(websocket.AppConfig{Routes: []websocket.Route{
		{Key: "echo", Integration: echo, RouteResponse: true},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := websocket.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.Accept(w, r, app) }))
	defer ts.Close()
	defer srv.Close(context.Background())

	ctx := context.Background()
	c, _, err := cws.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_ = c.Write(ctx, cws.MessageText, []byte(`{"action":"echo"}`))
	_, reply, _ := c.Read(ctx)
	fmt.Println(string(reply))

	for _, id := range srv.ConnectionIDs() {
		_ = srv.Post(ctx, id, []byte("pushed"))
	}
	_, pushed, _ := c.Read(ctx)
	fmt.Println(string(pushed))
	// Output:
	// echo: {"action":"echo"}
	// pushed
}

func ExampleParseSelectionExpression() {
	s, err := websocket.ParseSelectionExpression("${request.body.type}/${request.body.action}")
	if err != nil {
		fmt.Println(err)
		return
	}
	key, ok := s.Select([]byte(`{"type":"chat","action":"send"}`))
	fmt.Println(key, ok)
	_, ok = s.Select([]byte(`not JSON`))
	fmt.Println(ok)
	// Output:
	// chat/send true
	// false
}

func ExampleParseConnectionsPath() {
	id, ok, err := websocket.ParseConnectionsPath("/%40connections/L0SM9cOFvHcCIhw%3D")
	fmt.Println(id, ok, err)
	// Output: L0SM9cOFvHcCIhw= true <nil>
}
