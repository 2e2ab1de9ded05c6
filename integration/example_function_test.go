package integration_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
)

// A Lambda handler written against aws-lambda-go's events runs unchanged
// behind the gateway.
func ExampleFunction() {
	hello := func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "text/plain"},
			Body:       fmt.Sprintf("hello %s from %s", ev.PathParameters["name"], ev.RequestContext.Stage),
		}, nil
	}
	api := portico.NewAPI("greeter", portico.REST)
	api.Handle("GET /hello/{name}", integration.Function(hello))
	gw, err := portico.New()
	if err != nil {
		panic(err)
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "prod"}); err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, httptest.NewRequest("GET", "/prod/hello/ada", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	// Output: 200 text/plain hello ada from prod
}

// Outside a gateway a function is an ordinary http.Handler: the event is
// built from the request alone, path parameters from the ServeMux pattern.
func ExampleFunction_standalone() {
	greet := func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Body:       ev.RouteKey + ": hello " + ev.PathParameters["name"],
			Cookies:    []string{"seen=1"},
		}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /hello/{name}", integration.Function(greet))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := srv.Client().Get(srv.URL + "/hello/ada")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, res.Header.Get("Set-Cookie"), string(body))
	// Output: 200 seen=1 GET /hello/{name}: hello ada
}

// A 2.0 function may return any JSON value: without a statusCode it is the
// body of a 200 application/json response.
func ExampleFunction_plainJSON() {
	count := func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (map[string]int, error) {
		return map[string]int{"pets": 3}, nil
	}
	rec := httptest.NewRecorder()
	integration.Function(count).ServeHTTP(rec, httptest.NewRequest("GET", "/count", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	// Output: 200 application/json {"pets":3}
}

// RawFunction takes JSON in and gives JSON back, like a Lambda runtime.
func ExampleRawFunction() {
	echo := integration.RawFunction(func(ctx context.Context, event []byte) ([]byte, error) {
		return []byte(`{"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "got a 1.0 event: ` +
			fmt.Sprint(strings.Contains(string(event), `"httpMethod":"POST"`)) + `"}`), nil
	}, integration.WithPayloadFormat(integration.PayloadV1))
	rec := httptest.NewRecorder()
	echo.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader("hi")))
	fmt.Println(rec.Code, rec.Body)
	// Output: 200 got a 1.0 event: true
}

// A mock answers with a fixed response; stage variables are substituted at
// deploy time.
func ExampleMock() {
	api := portico.NewAPI("status", portico.REST)
	api.Handle("GET /status", integration.Mock{
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   `{"env":"${stageVariables.env}"}`,
	})
	gw, err := portico.New()
	if err != nil {
		panic(err)
	}
	if _, err := gw.Deploy(api, portico.StageConfig{Name: "dev", Variables: map[string]string{"env": "development"}}); err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, httptest.NewRequest("GET", "/dev/status", nil))
	fmt.Println(rec.Code, rec.Body)

	// A variable the stage lacks fails the deployment.
	_, err = gw.Deploy(api, portico.StageConfig{Name: "prod"})
	fmt.Println(err != nil)
	// Output:
	// 200 {"env":"development"}
	// true
}

// A stage variable picks the function alias each stage calls.
func ExampleRef() {
	reg := integration.Registry{
		"getPet:beta": integration.Mock{Body: "beta build"},
		"getPet:live": integration.Mock{Body: "live build"},
	}
	api := portico.NewAPI("pets", portico.HTTP)
	api.Handle("GET /pet", integration.Ref(reg, "arn:aws:lambda:us-east-1:123456789012:function:getPet:${stageVariables.alias}"))
	gw, err := portico.New()
	if err != nil {
		panic(err)
	}
	for stage, alias := range map[string]string{"dev": "beta", "prod": "live"} {
		if _, err := gw.Deploy(api, portico.StageConfig{Name: stage, Variables: map[string]string{"alias": alias}}); err != nil {
			panic(err)
		}
	}
	for _, stage := range []string{"dev", "prod"} {
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest("GET", "/"+stage+"/pet", nil))
		fmt.Println(stage, rec.Body)
	}
	// Output:
	// dev beta build
	// prod live build
}
