package openapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/openapi"
)

// Import a document with a mock and a function integration, and deploy it.
func ExampleImport() {
	doc := []byte(`
openapi: 3.0.3
info: {title: hello, version: "1"}
paths:
  /hello:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: "200"
            responseTemplates: {application/json: '{"hello": "world"}'}
  /greet:
    post:
      operationId: greet
      responses: {"200": {description: a greeting}}
`)
	reg := integration.Registry{
		// Operations without an integration extension are served by the
		// registry entry named by their operationId.
		"greet": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "greetings") }),
	}
	imp, err := openapi.Import(doc, openapi.ImportOptions{Registry: reg})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(imp.Version, imp.API.Name, len(imp.API.Routes), "routes,", len(imp.Warnings), "warnings")

	gw, _ := portico.New()
	defer func() { _ = gw.Shutdown(context.Background()) }()
	if _, err := gw.Deploy(imp.API, portico.StageConfig{Name: "prod"}); err != nil {
		fmt.Println(err)
		return
	}
	for _, req := range []*http.Request{httptest.NewRequest("GET", "/prod/hello", nil), httptest.NewRequest("POST", "/prod/greet", nil)} {
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body)
	}
	// Output:
	// 3.0 hello 2 routes, 0 warnings
	// 200 {"hello": "world"}
	// 200 greetings
}

// Unknown integration types and functions the registry lacks are errors
// that name the operation.
func ExampleImport_error() {
	doc := []byte(`{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {
		"operationId": "getX",
		"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "arn:aws:lambda:us-east-1:123456789012:function:missing"}}}}}`)
	_, err := openapi.Import(doc, openapi.ImportOptions{})
	fmt.Println(err)
	// Output: openapi: GET /x (getX) (#/paths/~1x/get/x-amazon-apigateway-integration/uri): function "arn:aws:lambda:us-east-1:123456789012:function:missing" is not in ImportOptions.Registry
}

// Export a deployed stage as Swagger 2.0 YAML, without extensions, at a
// custom domain.
func ExampleExport() {
	api := portico.NewAPI("pets", portico.REST)
	api.AddRoute(portico.Route{Method: "GET", Path: "/pets/{id}", OperationName: "getPet", Integration: integration.Mock{Body: `{"id": 1}`}})
	gw, _ := portico.New()
	defer func() { _ = gw.Shutdown(context.Background()) }()
	stage, err := gw.Deploy(api, portico.StageConfig{Name: "prod", Auth: portico.StageAuth{EndpointType: portico.EndpointEdge}})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, warnings, err := openapi.Export(stage, openapi.ExportOptions{
		Spec: openapi.Swagger20, Format: openapi.YAML, OmitExtensions: true,
		BaseURL: "https://api.example.com/v1",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	fmt.Println(len(warnings), "warnings")
	// Output:
	// basePath: /v1
	// host: api.example.com
	// info:
	//     title: pets
	//     version: "1.0"
	// paths:
	//     /pets/{id}:
	//         get:
	//             operationId: getPet
	//             parameters:
	//                 - in: path
	//                   name: id
	//                   required: true
	//                   type: string
	//             responses:
	//                 "200":
	//                     description: 200 response
	//             security: []
	//             summary: getPet
	// schemes:
	//     - https
	// swagger: "2.0"
	// x-amazon-apigateway-endpoint-configuration:
	//     types:
	//         - EDGE
	// 0 warnings
}
