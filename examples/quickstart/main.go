// Command quickstart serves one API, "pets", in two versions (v1 and v2) on
// two stages (dev and prod), with stage variables and in-process function
// integrations, on 127.0.0.1:8080.
//
//	go run ./examples/quickstart
//	curl -s http://127.0.0.1:8080/prod/v1/pets/1
//	curl -s http://127.0.0.1:8080/dev/v2/pets/1
//
// v1 is a REST API whose functions take and return the Lambda proxy
// payload 1.0 types of github.com/aws/aws-lambda-go/events; v2 is an HTTP
// API with payload 2.0. v1 is deprecated in favour of v2. The stage variable
// "alias" picks which build of the pet function a stage calls, and "banner"
// is read by the functions themselves.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
)

type pet struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

var pets = map[string]pet{
	"1": {"1", "Rex", "dog"},
	"2": {"2", "Tom", "cat"},
}

// getPetV1 is a payload 1.0 function, as it would run behind the model
// gateway's REST API.
func getPetV1(_ context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	p, ok := pets[ev.PathParameters["id"]]
	if !ok {
		return events.APIGatewayProxyResponse{StatusCode: 404, Body: `{"message":"no such pet"}`}, nil
	}
	body, _ := json.Marshal(map[string]any{"pet": p, "stage": ev.RequestContext.Stage, "banner": ev.StageVariables["banner"]})
	return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
}

func listPetsV1(_ context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	list := make([]pet, 0, len(pets))
	for _, id := range []string{"1", "2"} {
		list = append(list, pets[id])
	}
	body, _ := json.Marshal(list)
	return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
}

// getPetV2 is a payload 2.0 function. The "beta" build (served on dev)
// adds a field the "live" build (on prod) does not have yet.
func getPetV2(beta bool) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		p, ok := pets[ev.PathParameters["id"]]
		if !ok {
			return events.APIGatewayV2HTTPResponse{StatusCode: 404, Body: `{"message":"no such pet"}`}, nil
		}
		out := map[string]any{"id": p.ID, "name": p.Name, "kind": p.Kind, "version": "v2", "stage": ev.RequestContext.Stage, "banner": ev.StageVariables["banner"]}
		if beta {
			out["adoptable"] = true
		}
		body, _ := json.Marshal(out)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"}, Body: string(body)}, nil
	}
}

func newGateway() (*portico.Gateway, error) {
	gw, err := portico.New()
	if err != nil {
		return nil, err
	}

	v1 := portico.NewAPI("pets", portico.REST)
	v1.Version = "v1"
	v1.Deprecation = &portico.Deprecation{
		Since:     time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		Sunset:    time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
		Successor: "/prod/v2/pets",
	}
	v1.Handle("GET /pets", integration.Function(listPetsV1))
	v1.Handle("GET /pets/{id}", integration.Function(getPetV1))

	// v2 picks the build of its function by the stage variable "alias".
	fns := integration.Registry{
		"getPet:beta": integration.Function(getPetV2(true)),
		"getPet:live": integration.Function(getPetV2(false)),
	}
	v2 := portico.NewAPI("pets", portico.HTTP)
	v2.Version = "v2"
	v2.Handle("GET /pets/{id}", integration.Ref(fns, "getPet:${stageVariables.alias}"))
	v2.Handle("GET /health", integration.Mock{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"ok":true,"stage":"${stageVariables.env}"}`})

	stages := []portico.StageConfig{
		{Name: "dev", Variables: map[string]string{"alias": "beta", "banner": "dev-build", "env": "dev"}},
		{Name: "prod", Variables: map[string]string{"alias": "live", "banner": "production", "env": "prod"}},
	}
	for _, api := range []*portico.API{v1, v2} {
		for _, cfg := range stages {
			if _, err := gw.Deploy(api, cfg); err != nil {
				return nil, err
			}
		}
	}
	// Requests that name no version in the path may pick one by header;
	// without it they get v2.
	if err := gw.SetVersioning("pets", portico.Versioning{Header: "Api-Version", Default: "v2"}); err != nil {
		return nil, err
	}
	return gw, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	gw, err := newGateway()
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = gw.Shutdown(shutdown)
	}()
	fmt.Printf("Portico quickstart on http://%s — try:\n  curl -s http://%s/prod/v1/pets/1\n  curl -s http://%s/dev/v2/pets/1\n", ln.Addr(), ln.Addr(), ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
