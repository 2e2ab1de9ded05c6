package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/openapi"
)

const deployDoc = `
openapi: 3.0.3
info: {title: Shop, version: "1"}
x-amazon-apigateway-request-validators:
  all: {validateRequestBody: true, validateRequestParameters: true}
x-amazon-apigateway-request-validator: all
x-amazon-apigateway-endpoint-configuration:
  types: [EDGE]
paths:
  /health:
    get:
      responses: {"200": {description: ok}}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: "200"
            responseParameters: {method.response.header.X-Mock: "'yes'"}
            responseTemplates: {application/json: '{"status": "ok"}'}
  /teapot:
    get:
      responses: {"418": {description: short and stout}}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 418}'}
        responses:
          "418": {statusCode: "418"}
  /items:
    get:
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer}}
      security: [{key: []}]
      responses: {"200": {description: items}}
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: http://${stageVariables.backend}/items
    post:
      operationId: createItem
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Item"}
      responses: {"200": {description: created}}
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:lambda:us-east-1:123456789012:function:createItem
  /items/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: an item}, "404": {description: none}}
      x-amazon-apigateway-integration:
        type: http
        httpMethod: GET
        uri: http://${stageVariables.backend}/items/{id}
        responses:
          "404": {statusCode: "404", responseTemplates: {application/json: '{"message": "no such item"}'}}
          default: {statusCode: "200"}
components:
  securitySchemes:
    key: {type: apiKey, name: x-api-key, in: header}
  schemas:
    Item:
      type: object
      required: [name]
      properties:
        name: {type: string, minLength: 1}
`

// TestDeployImported deploys an imported API and calls every kind of
// route: a mock, an HTTP proxy to a backend, a registry function, an API
// key requirement and request validation.
func TestDeployImported(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/items/missing" {
			http.Error(w, "nope", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"backend":%q,"query":%q}`, r.URL.Path, r.URL.RawQuery)
	}))
	defer backend.Close()

	reg := integration.Registry{"createItem": integration.Function(func(_ context.Context, ev map[string]any) (map[string]any, error) {
		return map[string]any{"statusCode": 201, "body": `{"created":true}`}, nil
	})}
	imp, err := openapi.Import([]byte(deployDoc), openapi.ImportOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Endpoint.EndpointType != portico.EndpointEdge {
		t.Errorf("endpoint %+v, want EDGE", imp.Endpoint)
	}
	ctx := context.Background()
	store := auth.NewMemoryKeyStore()
	keys, err := auth.NewKeys(store)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := keys.Create(ctx, "client")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := portico.New(portico.WithAPIKeys(store))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = gw.Shutdown(ctx) }()
	stage, err := gw.Deploy(imp.API, portico.StageConfig{
		Name:      "prod",
		Variables: map[string]string{"backend": strings.TrimPrefix(backend.URL, "http://")},
		Auth:      imp.Endpoint,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()

	for _, tc := range []struct {
		name, method, path, key, body string
		wantStatus                    int
		wantBody                      string
		wantHeader                    [2]string
	}{
		{name: "mock", method: "GET", path: "/health", wantStatus: 200, wantBody: `{"status": "ok"}`, wantHeader: [2]string{"X-Mock", "yes"}},
		{name: "mock status from the template", method: "GET", path: "/teapot", wantStatus: 418},
		{name: "proxy with key", method: "GET", path: "/items?limit=5", key: key, wantStatus: 200, wantBody: `{"backend":"/items","query":"limit=5"}`},
		{name: "proxy without key", method: "GET", path: "/items?limit=5", wantStatus: 403},
		{name: "proxy missing parameter", method: "GET", path: "/items", key: key, wantStatus: 400, wantBody: "limit"},
		{name: "function", method: "POST", path: "/items", body: `{"name":"cup"}`, wantStatus: 201, wantBody: `{"created":true}`},
		{name: "invalid body", method: "POST", path: "/items", body: `{"name":""}`, wantStatus: 400},
		{name: "http with mapping", method: "GET", path: "/items/7", wantStatus: 200, wantBody: `{"backend":"/items/7","query":""}`},
		{name: "http mapped 404", method: "GET", path: "/items/missing", wantStatus: 404, wantBody: `{"message": "no such item"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+"/prod"+tc.path, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.key != "" {
				req.Header.Set("x-api-key", tc.key)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", res.StatusCode, tc.wantStatus, b)
			}
			if tc.wantBody != "" && !strings.Contains(string(b), tc.wantBody) {
				t.Errorf("body %s, want %s", b, tc.wantBody)
			}
			if h := tc.wantHeader; h[0] != "" && res.Header.Get(h[0]) != h[1] {
				t.Errorf("header %s = %q, want %q", h[0], res.Header.Get(h[0]), h[1])
			}
		})
	}

	// The deployed stage exports with its endpoint type.
	for _, spec := range []openapi.Spec{openapi.OpenAPI30, openapi.Swagger20} {
		out, _, err := openapi.Export(stage, openapi.ExportOptions{Spec: spec, BaseURL: "https://shop.example.com/v1"})
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		ec, _ := doc["x-amazon-apigateway-endpoint-configuration"].(map[string]any)
		if types, _ := ec["types"].([]any); len(types) != 1 || types[0] != "EDGE" {
			t.Errorf("%s: endpoint configuration %v, want types [EDGE]", spec, ec)
		}
		if spec == openapi.Swagger20 {
			if doc["host"] != "shop.example.com" || doc["basePath"] != "/v1" {
				t.Errorf("swagger host %v basePath %v", doc["host"], doc["basePath"])
			}
		} else if s := doc["servers"].([]any)[0].(map[string]any); s["url"] != "https://shop.example.com/v1" {
			t.Errorf("servers %v", doc["servers"])
		}
	}
}

// TestExportEndpointType checks that the stage's endpoint type shows in
// both specs, and that an import gives it back.
func TestExportEndpointType(t *testing.T) {
	api := portico.NewAPI("svc", portico.REST)
	api.Handle("GET /ping", integration.Mock{Body: `{"pong":true}`})
	for _, tc := range []struct {
		name     string
		sa       portico.StageAuth
		wantType string
		wantVPCE []any
	}{
		{name: "default", wantType: "REGIONAL"},
		{name: "regional", sa: portico.StageAuth{EndpointType: portico.EndpointRegional}, wantType: "REGIONAL"},
		{name: "edge", sa: portico.StageAuth{EndpointType: portico.EndpointEdge}, wantType: "EDGE"},
		{name: "private", sa: portico.StageAuth{EndpointType: portico.EndpointPrivate, AllowedNetworks: []string{"vpce-1"}}, wantType: "PRIVATE", wantVPCE: []any{"vpce-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw, err := portico.New()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = gw.Shutdown(context.Background()) }()
			stage, err := gw.Deploy(api, portico.StageConfig{Name: "prod", Auth: tc.sa})
			if err != nil {
				t.Fatal(err)
			}
			for _, spec := range []openapi.Spec{openapi.OpenAPI30, openapi.Swagger20} {
				for _, omit := range []bool{false, true} {
					out, _, err := openapi.Export(stage, openapi.ExportOptions{Spec: spec, OmitExtensions: omit})
					if err != nil {
						t.Fatal(err)
					}
					var doc map[string]any
					if err := json.Unmarshal(out, &doc); err != nil {
						t.Fatal(err)
					}
					ec, _ := doc["x-amazon-apigateway-endpoint-configuration"].(map[string]any)
					types, _ := ec["types"].([]any)
					if len(types) != 1 || types[0] != tc.wantType {
						t.Errorf("%s omit=%v: types %v, want [%s]", spec, omit, ec["types"], tc.wantType)
					}
					if fmt.Sprint(ec["vpcEndpointIds"]) != fmt.Sprint(tc.wantVPCE) && tc.wantVPCE != nil {
						t.Errorf("%s: vpcEndpointIds %v, want %v", spec, ec["vpcEndpointIds"], tc.wantVPCE)
					}
					imp, err := openapi.Import(out, openapi.ImportOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if imp.Endpoint.EndpointType != tc.wantType {
						t.Errorf("%s: re-imported endpoint %+v, want %s", spec, imp.Endpoint, tc.wantType)
					}
				}
			}
		})
	}
}

// TestDeployStageVariableFunction resolves a function named through a
// stage variable when the stage is deployed.
func TestDeployStageVariableFunction(t *testing.T) {
	doc := []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{
		"x-amazon-apigateway-integration":{"type":"aws_proxy","httpMethod":"POST",
		"uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:notes:${stageVariables.alias}/invocations"}}}}}`)
	reg := integration.Registry{"notes:live": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "live") })}
	imp, err := openapi.Import(doc, openapi.ImportOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	gw, _ := portico.New()
	defer func() { _ = gw.Shutdown(context.Background()) }()
	if _, err := gw.Deploy(imp.API, portico.StageConfig{Name: "prod", Variables: map[string]string{"alias": "live"}}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, httptest.NewRequest("GET", "/prod/x", nil))
	if rec.Body.String() != "live" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if _, err := gw.Deploy(imp.API, portico.StageConfig{Name: "dev", Variables: map[string]string{"alias": "dev"}}); err == nil {
		t.Error("deploying with an alias the registry lacks succeeded")
	}
}

// TestDeployTestdata deploys every test document's API, with what its
// routes need from the gateway: API keys, credentials, stage variables.
func TestDeployTestdata(t *testing.T) {
	for _, name := range []string{"petstore-extensions.yaml", "swagger-extensions.json", "http-api-31.yaml", "plain-30.json"} {
		t.Run(name, func(t *testing.T) {
			imp, err := openapi.Import(readTestdata(t, name), openapi.ImportOptions{Registry: registry()})
			if err != nil {
				t.Fatal(err)
			}
			if name == "plain-30.json" {
				// The bearer scheme names no issuer: the document says so
				// in a warning, and the deploy fails naming the authorizer.
				a := imp.API.Auth.Authorizers["bearer"]
				a.Issuer, a.Audiences = "https://id.example.com", []string{"things"}
				imp.API.Auth.Authorizers["bearer"] = a
			}
			creds, err := auth.NewStaticCredentials()
			if err != nil {
				t.Fatal(err)
			}
			networks, err := auth.CIDRNetworks(map[string][]string{"vpce-0123456789abcdef0": {"10.0.0.0/8"}})
			if err != nil {
				t.Fatal(err)
			}
			gw, err := portico.New(portico.WithAPIKeys(auth.NewMemoryKeyStore()), portico.WithCredentials(creds), portico.WithSourceNetworks(networks))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = gw.Shutdown(context.Background()) }()
			if _, err := gw.Deploy(imp.API, portico.StageConfig{Name: "prod", Auth: imp.Endpoint, Variables: map[string]string{"backend": "127.0.0.1:1"}}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDeployProxyPathMapping serves the model gateway's usual greedy proxy
// export: the integration's {proxy} mapped from the method's.
func TestDeployProxyPathMapping(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.URL.Path, r.Header.Get("X-Stage"))
	}))
	defer backend.Close()
	doc := []byte(`{"swagger":"2.0","info":{"title":"proxy","version":"1"},"paths":{"/{proxy+}":{"x-amazon-apigateway-any-method":{
		"parameters":[{"name":"proxy","in":"path","required":true,"type":"string"}],
		"responses":{},
		"x-amazon-apigateway-integration":{"type":"http_proxy","httpMethod":"ANY","uri":"` + backend.URL + `/api/{proxy}",
			"requestParameters":{"integration.request.path.proxy":"method.request.path.proxy","integration.request.header.X-Stage":"context.stage"},
			"passthroughBehavior":"when_no_match"}}}}}`)
	imp, err := openapi.Import(doc, openapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gw, _ := portico.New()
	defer func() { _ = gw.Shutdown(context.Background()) }()
	if _, err := gw.Deploy(imp.API, portico.StageConfig{Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	res, err := srv.Client().Post(srv.URL+"/prod/a/b/c", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "/api/a/b/c prod" {
		t.Errorf("%d %q", res.StatusCode, b)
	}
}

// TestExportCustomDomain: a stage mapped to custom domains exports them as
// its servers (Swagger 2.0: the first as host and basePath), then its own
// path on the default endpoint.
func TestExportCustomDomain(t *testing.T) {
	api := portico.NewAPI("shop", portico.REST)
	api.Handle("GET /items", integration.Mock{Body: `[]`})
	gw, err := portico.New()
	if err != nil {
		t.Fatal(err)
	}
	stage, err := gw.Deploy(api, portico.StageConfig{Name: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []portico.BasePathMapping{
		{Domain: "api.example.com", BasePath: "shop", API: "shop", Stage: "prod"},
		{Domain: "*.example.org", API: "shop", Stage: "prod"},                       // no single host: left out
		{Domain: "shop.example.net", API: "shop", Stage: "prod"},                    // the whole domain
		{Domain: "api.example.com", BasePath: "other", API: "other", Stage: "prod"}, // another API
	} {
		if err := gw.MapBasePath(m); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := openapi.Export(stage, openapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Servers []struct{ URL string } `json:"servers"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, s := range doc.Servers {
		urls = append(urls, s.URL)
	}
	if want := "https://api.example.com/shop https://shop.example.net /prod"; strings.Join(urls, " ") != want {
		t.Errorf("servers %v, want %s", urls, want)
	}
	out, _, err = openapi.Export(stage, openapi.ExportOptions{Spec: openapi.Swagger20})
	if err != nil {
		t.Fatal(err)
	}
	var sw map[string]any
	if err := json.Unmarshal(out, &sw); err != nil {
		t.Fatal(err)
	}
	if sw["host"] != "api.example.com" || sw["basePath"] != "/shop" {
		t.Errorf("swagger host %v basePath %v, want api.example.com /shop", sw["host"], sw["basePath"])
	}
	// BaseURL still wins.
	out, _, _ = openapi.Export(stage, openapi.ExportOptions{BaseURL: "https://x.example/y"})
	if !strings.Contains(string(out), `"url": "https://x.example/y"`) || strings.Contains(string(out), "api.example.com") {
		t.Errorf("BaseURL export: %s", out)
	}
}
