package integration_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
)

// A Lambda handler written against aws-lambda-go's events runs unchanged.
func ExampleFunction() {
	hello := func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{
			StatusCode: 200,
			Body:       fmt.Sprintf("hello %s from %s", ev.PathParameters["name"], ev.RequestContext.Stage),
		}, nil
	}
	api := portico.NewAPI("greeter", portico.REST)
	api.Handle("GET /hello/{name}", integration.Function(hello))
	gw, _ := portico.New()
	_, _ = gw.Deploy(api, portico.StageConfig{Name: "prod"})
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, httptest.NewRequest("GET", "/prod/hello/ada", nil))
	fmt.Println(rec.Code, rec.Body)
	// Output: 200 hello ada from prod
}

// A stage variable picks the function alias each stage calls.
func ExampleRef() {
	reg := integration.Registry{
		"getPet:beta": integration.Mock{Body: "beta build"},
		"getPet:live": integration.Mock{Body: "live build"},
	}
	api := portico.NewAPI("pets", portico.HTTP)
	api.Handle("GET /pet", integration.Ref(reg, "getPet:${stageVariables.alias}"))
	gw, _ := portico.New()
	_, _ = gw.Deploy(api, portico.StageConfig{Name: "dev", Variables: map[string]string{"alias": "beta"}})
	_, _ = gw.Deploy(api, portico.StageConfig{Name: "prod", Variables: map[string]string{"alias": "live"}})
	for _, stage := range []string{"dev", "prod"} {
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest("GET", "/"+stage+"/pet", nil))
		fmt.Println(stage, rec.Body)
	}
	// Output:
	// dev beta build
	// prod live build
}
