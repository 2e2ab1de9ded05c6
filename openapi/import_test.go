package openapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/openapi"
)

// op30 wraps one operation of GET /x in an OpenAPI 3.0 document.
func op30(op string) []byte {
	return fmt.Appendf(nil, `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":%s}}}`, op)
}

func TestImportErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  []byte
		opts openapi.ImportOptions
		want string // in the error
	}{
		{"empty", []byte("  "), openapi.ImportOptions{}, "empty document"},
		{"not a document", []byte("[1,2]"), openapi.ImportOptions{}, "not an object"},
		{"no version", []byte(`{"info":{}}`), openapi.ImportOptions{}, "neither an openapi nor a swagger field"},
		{"openapi 4", []byte(`{"openapi":"4.0.0","info":{"title":"t","version":"1"}}`), openapi.ImportOptions{}, `openapi version "4.0.0"`},
		{"swagger 1.2", []byte(`{"swagger":"1.2"}`), openapi.ImportOptions{}, `swagger version "1.2"`},
		{"bad yaml", []byte("openapi: [3.0\n  x: {"), openapi.ImportOptions{}, "invalid document"},
		{"too large", make([]byte, openapi.MaxDocumentBytes+1), openapi.ImportOptions{}, "more than the"},
		{"too deep", []byte(`{"openapi":"3.0.0","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`), openapi.ImportOptions{}, "nested deeper"},
		{"external ref", op30(`{"responses":{"200":{"$ref":"other.json#/r"}}}`), openapi.ImportOptions{}, "only local references"},
		{"dangling ref", op30(`{"responses":{"200":{"$ref":"#/components/responses/nope"}}}`), openapi.ImportOptions{}, "points nowhere"},
		{"unknown integration type", op30(`{"operationId":"getX","x-amazon-apigateway-integration":{"type":"carrier_pigeon"}}`), openapi.ImportOptions{}, `GET /x (getX)`},
		{"integration without type", op30(`{"x-amazon-apigateway-integration":{"uri":"http://a"}}`), openapi.ImportOptions{}, "no type"},
		{"malformed integration", op30(`{"x-amazon-apigateway-integration":"http"}`), openapi.ImportOptions{}, "x-amazon-apigateway-integration"},
		{"unresolved function", op30(`{"x-amazon-apigateway-integration":{"type":"aws_proxy","uri":"arn:aws:lambda:us-east-1:1:function:nope"}}`), openapi.ImportOptions{Registry: registry()}, "not in ImportOptions.Registry"},
		{"AWS service", op30(`{"x-amazon-apigateway-integration":{"type":"aws","uri":"arn:aws:apigateway:us-east-1:sqs:path/1/queue"}}`), openapi.ImportOptions{}, "AWS service actions"},
		{"integration subtype", op30(`{"x-amazon-apigateway-integration":{"type":"aws_proxy","integrationSubtype":"SQS-SendMessage"}}`), openapi.ImportOptions{}, "SQS-SendMessage"},
		{"VPC link", op30(`{"x-amazon-apigateway-integration":{"type":"http_proxy","uri":"http://nlb","connectionType":"VPC_LINK"}}`), openapi.ImportOptions{}, "VPC_LINK"},
		{"http without uri", op30(`{"x-amazon-apigateway-integration":{"type":"http"}}`), openapi.ImportOptions{}, "needs a uri"},
		{"bad selection pattern", op30(`{"x-amazon-apigateway-integration":{"type":"http","uri":"http://a","responses":{"(":{"statusCode":"200"}}}}`), openapi.ImportOptions{}, "selection pattern"},
		{"bad response status", op30(`{"x-amazon-apigateway-integration":{"type":"mock","responses":{"default":{"statusCode":"abc"}}}}`), openapi.ImportOptions{}, "not a status code"},
		{"unresolved authorizer", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"components":{"securitySchemes":{"a":{"type":"apiKey","name":"Authorization","in":"header","x-amazon-apigateway-authorizer":{"type":"token","authorizerUri":"nope"}}}}}`), openapi.ImportOptions{}, `authorizer a`},
		{"unknown authorizer type", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"components":{"securitySchemes":{"a":{"type":"apiKey","name":"Authorization","in":"header","x-amazon-apigateway-authorizer":{"type":"magic"}}}}}`), openapi.ImportOptions{}, `unknown authorizer type "magic"`},
		{"merge without Into", op30(`{}`), openapi.ImportOptions{Mode: openapi.Merge}, "needs ImportOptions.Into"},
		{"unknown mode", op30(`{}`), openapi.ImportOptions{Mode: "replace"}, "unknown import mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imp, err := openapi.Import(tc.doc, tc.opts)
			if err == nil {
				t.Fatalf("no error; imported %+v", imp)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestImportInvalidDocumentIs(t *testing.T) {
	_, err := openapi.Import([]byte("{"), openapi.ImportOptions{})
	if !errors.Is(err, openapi.ErrInvalidDocument) {
		t.Errorf("error %v is not ErrInvalidDocument", err)
	}
}

func TestImportWarnings(t *testing.T) {
	for _, tc := range []struct {
		name        string
		doc         []byte
		wantPointer string
		wantMessage string
	}{
		{"cookie parameter", op30(`{"parameters":[{"name":"s","in":"cookie","schema":{"type":"string"}}],"responses":{}}`), "#/paths/~1x/get/parameters/0", "cookie parameters are not validated"},
		{"no integration", op30(`{"operationId":"getX"}`), "#/paths/~1x/get", "GET /x (getX): no x-amazon-apigateway-integration"},
		{"xml body", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"post":{"requestBody":{"content":{"application/xml":{"schema":{"type":"string"}}}}}}}}`), "#/paths/~1x/post/requestBody/content/application~1xml", "application/xml bodies are not validated"},
		{"http basic", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"components":{"securitySchemes":{"b":{"type":"http","scheme":"basic"}}}}`), "#/components/securitySchemes/b", "no http basic authorizer"},
		{"swagger pointer", []byte(`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{},"securityDefinitions":{"b":{"type":"basic"}}}`), "#/securityDefinitions/b", "authorizer"},
		{"unroutable path", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x/{a}.json":{"get":{}}}}`), "#/paths/~1x~1{a}.json/get", "cannot be routed"},
		{"3.1 keyword", []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"components":{"schemas":{"A":{"type":"object","patternProperties":{"^x":{"type":"string"}}}}}}`), "#/components/schemas/A/patternProperties", "not checked"},
		{"several alternatives", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"security":[{"k":[]},{"j":[]}],"paths":{"/x":{"get":{}}},"components":{"securitySchemes":{"k":{"type":"apiKey","name":"x-api-key","in":"header"},"j":{"type":"apiKey","name":"x-api-key","in":"header"}}}}`), "#/security", "enforces the first only"},
		{"bad gateway response type", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"x-amazon-apigateway-gateway-responses":{"NOPE":{}}}`), "#/x-amazon-apigateway-gateway-responses/NOPE", "unknown gateway response type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imp, err := openapi.Import(tc.doc, openapi.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, w := range imp.Warnings {
				if w.Pointer == tc.wantPointer && strings.Contains(w.Message, tc.wantMessage) {
					found = true
					if !strings.HasPrefix(w.String(), w.Pointer+": ") {
						t.Errorf("String() = %q", w.String())
					}
				}
			}
			if !found {
				t.Errorf("no warning %s: %q among %v", tc.wantPointer, tc.wantMessage, imp.Warnings)
			}
			_, err = openapi.Import(tc.doc, openapi.ImportOptions{FailOnWarnings: true})
			var we *openapi.WarningsError
			if !errors.As(err, &we) || len(we.Warnings) == 0 {
				t.Errorf("FailOnWarnings: error %v", err)
			}
		})
	}
}

func TestImportFailOnWarnings(t *testing.T) {
	doc := op30(`{"operationId":"getX"}`)
	_, err := openapi.Import(doc, openapi.ImportOptions{FailOnWarnings: true})
	var we *openapi.WarningsError
	if !errors.As(err, &we) || len(we.Warnings) != 1 || !strings.Contains(err.Error(), "#/paths/~1x/get") {
		t.Fatalf("error %v", err)
	}
	if _, err := openapi.Import(doc, openapi.ImportOptions{FailOnWarnings: true, Registry: integration.Registry{"getX": integration.Mock{}}}); err != nil {
		t.Fatalf("no warnings, yet %v", err)
	}
}

// TestImport31 checks the OpenAPI 3.1 forms models are written in.
func TestImport31(t *testing.T) {
	imp, err := openapi.Import(readTestdata(t, "http-api-31.yaml"), openapi.ImportOptions{Registry: registry()})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Version != "3.1" || imp.API.Type != portico.HTTP {
		t.Fatalf("version %s type %s", imp.Version, imp.API.Type)
	}
	var model map[string]any
	if err := json.Unmarshal(imp.API.Transform.Models["createNoteRequest"], &model); err != nil {
		t.Fatal(err)
	}
	props := model["properties"].(map[string]any)
	for name, want := range map[string]string{
		"pinned":   `{"nullable":true,"type":"boolean"}`,
		"priority": `{"exclusiveMinimum":true,"minimum":0,"type":"integer"}`,
		"kind":     `{"enum":["note"]}`,
	} {
		got, _ := json.Marshal(props[name])
		if string(got) != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	var def *portico.Route
	for i, r := range imp.API.Routes {
		if r.Key() == portico.DefaultRouteKey {
			def = &imp.API.Routes[i]
		}
	}
	if def == nil {
		t.Fatal("no $default route")
	}
	if c := imp.API.CORS; c == nil || c.MaxAge != 300*time.Second || c.AllowOrigins[0] != "*" {
		t.Errorf("CORS %+v", c)
	}
	a := imp.API.Auth.Authorizers["oidc"]
	if a.Type != portico.AuthorizerJWT || a.Issuer != "https://id.example.com" || a.Audiences[0] != "notes-app" {
		t.Errorf("authorizer %+v", a)
	}
}

func TestImportMerge(t *testing.T) {
	into := portico.NewAPI("existing", portico.REST)
	into.Handle("GET /x", integration.Mock{Body: "old"})
	into.Handle("GET /kept", integration.Mock{Body: "kept"})
	into.BinaryMediaTypes = []string{"image/png"}
	into.Auth.APIKeySource = "AUTHORIZER"
	doc := []byte(`{"openapi":"3.0.3","info":{"title":"other","version":"1"},
		"x-amazon-apigateway-binary-media-types":["image/gif","image/png"],
		"paths":{"/x":{"get":{"x-amazon-apigateway-integration":{"type":"mock","requestTemplates":{"application/json":"{\"statusCode\": 201}"}}}},
		"/new":{"post":{"x-amazon-apigateway-integration":{"type":"mock"}}}}}`)
	imp, err := openapi.Import(doc, openapi.ImportOptions{Mode: openapi.Merge, Into: into})
	if err != nil {
		t.Fatal(err)
	}
	api := imp.API
	if api.Name != "existing" || api.Auth.APIKeySource != "AUTHORIZER" {
		t.Errorf("name %q key source %q: the API's own settings must stay", api.Name, api.Auth.APIKeySource)
	}
	if fmt.Sprint(api.BinaryMediaTypes) != "[image/png image/gif]" {
		t.Errorf("binary media types %v", api.BinaryMediaTypes)
	}
	got := map[string]string{}
	for _, r := range api.Routes {
		got[r.Key()] = describeHandler(r.Integration)
	}
	want := map[string]string{
		"GET /x":    describeHandler(integration.Mock{Status: 201}),
		"GET /kept": describeHandler(integration.Mock{Body: "kept"}),
		"POST /new": describeHandler(integration.Mock{Status: 200}),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("routes %v, want %v", got, want)
	}
	if len(into.Routes) != 2 || describeHandler(into.Routes[0].Integration) != describeHandler(integration.Mock{Body: "old"}) {
		t.Error("Merge changed Into")
	}
}

// TestImportNeverOpensARoute checks that a route requiring a scheme
// Portico cannot enforce fails to deploy instead of serving anyone.
func TestImportNeverOpensARoute(t *testing.T) {
	doc := []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"security":[{"basic":[]}],
		"paths":{"/x":{"get":{"x-amazon-apigateway-integration":{"type":"mock"}}}},
		"components":{"securitySchemes":{"basic":{"type":"http","scheme":"basic"}}}}`)
	imp, err := openapi.Import(doc, openapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.API.Routes[0].Auth.Authorizer != "basic" {
		t.Fatalf("route auth %+v", imp.API.Routes[0].Auth)
	}
	gw, _ := portico.New()
	if _, err := gw.Deploy(imp.API, portico.StageConfig{Name: "prod"}); err == nil || !strings.Contains(err.Error(), "basic") {
		t.Errorf("deploy error %v, want one naming the authorizer", err)
	}
}

func TestDocument(t *testing.T) {
	api := portico.NewAPI("svc", portico.REST)
	api.Handle("GET /a/{id}", integration.Mock{})
	api.Handle("ANY /b/{proxy+}", integration.Mock{})
	doc, err := openapi.Document(api, openapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Value("/a/{id}").Get
	if op == nil || op.OperationID != "getAId" {
		t.Fatalf("operation %+v", op)
	}
	if _, err := openapi.Document(42, openapi.ExportOptions{}); err == nil {
		t.Error("no error for an int")
	}
	if _, _, err := openapi.Export(api, openapi.ExportOptions{Spec: "raml"}); err == nil {
		t.Error("no error for an unknown spec")
	}
	if _, _, err := openapi.Export(api, openapi.ExportOptions{Format: "xml"}); err == nil {
		t.Error("no error for an unknown format")
	}
}

// TestExportGoHandler checks that a plain handler exports with a marker
// and a warning, and imports back as a route to fill in.
func TestExportGoHandler(t *testing.T) {
	api := portico.NewAPI("svc", portico.REST)
	api.HandleFunc("GET /a", func(w http.ResponseWriter, r *http.Request) {})
	out, warns, err := openapi.Export(api, openapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Message, "no OpenAPI form") {
		t.Errorf("warnings %v", warns)
	}
	if !strings.Contains(string(out), `"x-portico-integration": "handler"`) {
		t.Errorf("no marker in\n%s", out)
	}
	imp, err := openapi.Import(out, openapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.API.Routes[0].Integration != nil || !strings.Contains(imp.Warnings[0].Message, "Go handler") {
		t.Errorf("re-import: %+v %v", imp.API.Routes[0], imp.Warnings)
	}
}

// TestImportReusableIntegration reads an integration given by reference to
// components/x-amazon-apigateway-integrations, as HTTP API exports write.
func TestImportReusableIntegration(t *testing.T) {
	doc := []byte(`{"openapi":"3.0.1","info":{"title":"t","version":"1"},
		"paths":{"/x":{"get":{"x-amazon-apigateway-integration":{"$ref":"#/components/x-amazon-apigateway-integrations/backend"}}}},
		"components":{"x-amazon-apigateway-integrations":{"backend":{"type":"http_proxy","httpMethod":"ANY","uri":"https://backend.example.com/x"}}}}`)
	imp, err := openapi.Import(doc, openapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := describeHandler(imp.API.Routes[0].Integration); got != "http_proxy https://backend.example.com/x tls=<nil>" {
		t.Errorf("integration %s", got)
	}
}

// TestRoundTripUnusedAuthorizer keeps an authorizer no route uses.
func TestRoundTripUnusedAuthorizer(t *testing.T) {
	api := portico.NewAPI("svc", portico.HTTP)
	api.Handle("GET /a", integration.Mock{})
	api.Auth.Authorizers = map[string]portico.Authorizer{"later": {Type: portico.AuthorizerJWT, Issuer: "https://id.example.com", Audiences: []string{"svc"}}}
	out, _, err := openapi.Export(api, openapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := openapi.Import(out, openapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := imp.API.Auth.Authorizers["later"]; a.Issuer != "https://id.example.com" || imp.API.Type != portico.HTTP {
		t.Errorf("authorizer %+v, type %s", a, imp.API.Type)
	}
}

func TestImportCognito(t *testing.T) {
	doc := []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},
		"paths":{"/x":{"get":{"security":[{"pool":["email"]}],"x-amazon-apigateway-integration":{"type":"mock"}}}},
		"components":{"securitySchemes":{"pool":{"type":"apiKey","name":"Authorization","in":"header",
			"x-amazon-apigateway-authtype":"cognito_user_pools",
			"x-amazon-apigateway-authorizer":{"type":"cognito_user_pools","providerARNs":["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC"],
				"jwtConfiguration":{"audience":["client1"]}}}}}}`)
	imp, err := openapi.Import(doc, openapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := imp.API.Auth.Authorizers["pool"]
	if a.Type != portico.AuthorizerJWT || a.Issuer != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC" || fmt.Sprint(a.Audiences) != "[client1]" {
		t.Errorf("authorizer %+v", a)
	}
	if r := imp.API.Routes[0]; r.Auth.Authorizer != "pool" || fmt.Sprint(r.Auth.Scopes) != "[email]" {
		t.Errorf("route auth %+v", r.Auth)
	}
}

func TestImportLimits(t *testing.T) {
	// Aliases that expand to a billion values.
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: t, version: '1'}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	start := time.Now()
	if _, err := openapi.Import([]byte(b.String()), openapi.ImportOptions{}); !errors.Is(err, openapi.ErrInvalidDocument) {
		t.Errorf("alias bomb: error %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("alias bomb took %v", d)
	}
	deep := "openapi: 3.0.3\nx:\n" + strings.Repeat(" ", 600) + "y: 1\n"
	if _, err := openapi.Import([]byte(deep), openapi.ImportOptions{}); !errors.Is(err, openapi.ErrInvalidDocument) {
		t.Errorf("deep indentation: error %v", err)
	}
}

func TestImportServerEndpointConfiguration(t *testing.T) {
	doc := []byte(`{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{},
		"servers":[{"url":"https://x.example.com","x-amazon-apigateway-endpoint-configuration":{"disableExecuteApiEndpoint":true,"types":["REGIONAL"]}}]}`)
	imp, err := openapi.Import(doc, openapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Endpoint.EndpointType != portico.EndpointRegional || len(imp.Warnings) != 1 || imp.Warnings[0].Pointer != "#/servers/0/x-amazon-apigateway-endpoint-configuration/disableExecuteApiEndpoint" {
		t.Errorf("endpoint %+v warnings %v", imp.Endpoint, imp.Warnings)
	}
}

func TestExportBadBaseURL(t *testing.T) {
	api := portico.NewAPI("svc", portico.REST)
	if _, _, err := openapi.Export(api, openapi.ExportOptions{BaseURL: "https://"}); err == nil {
		t.Error("no error for a base URL without a host")
	}
}

// TestImportManyModels checks that a document whose routes use many
// chained models imports quickly, leaving their compilation to Deploy.
func TestImportManyModels(t *testing.T) {
	const n = 450
	schemas := map[string]any{}
	paths := map[string]any{}
	for i := range n {
		schemas[fmt.Sprintf("M%d", i)] = map[string]any{"type": "object", "properties": map[string]any{"next": map[string]any{"$ref": fmt.Sprintf("#/components/schemas/M%d", (i+1)%n)}}}
		paths[fmt.Sprintf("/r%d", i)] = map[string]any{"post": map[string]any{
			"requestBody": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": fmt.Sprintf("#/components/schemas/M%d", i)}}}},
			"responses":   map[string]any{"200": map[string]any{"description": "ok"}},
		}}
	}
	doc, _ := json.Marshal(map[string]any{"openapi": "3.0.3", "info": map[string]any{"title": "t", "version": "1"}, "paths": paths, "components": map[string]any{"schemas": schemas}})
	start := time.Now()
	imp, err := openapi.Import(doc, openapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("import took %v", d)
	}
	found := false
	for _, w := range imp.Warnings {
		found = found || strings.Contains(w.Message, "not compiled at import")
	}
	if !found || len(imp.API.Routes) != n {
		t.Errorf("%d routes, warnings %v", len(imp.API.Routes), imp.Warnings)
	}
}

func TestImportOptionsNameTypeValidate(t *testing.T) {
	doc := op30(`{"parameters":[{"name":"q","in":"query","required":true,"schema":{"type":"string"}}],"x-amazon-apigateway-integration":{"type":"mock"}}`)
	for _, tc := range []struct {
		name       string
		opts       openapi.ImportOptions
		wantName   string
		wantType   portico.APIType
		wantParams bool
	}{
		{"defaults", openapi.ImportOptions{}, "t", portico.REST, false},
		{"name and type", openapi.ImportOptions{Name: "renamed", Type: portico.HTTP}, "renamed", portico.HTTP, false},
		{"validate requests", openapi.ImportOptions{ValidateRequests: true}, "t", portico.REST, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imp, err := openapi.Import(doc, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := imp.API.Routes[0]
			if imp.API.Name != tc.wantName || imp.API.Type != tc.wantType || r.Transform.Validate.ValidateParameters != tc.wantParams {
				t.Errorf("name %q type %q validate %v", imp.API.Name, imp.API.Type, r.Transform.Validate.ValidateParameters)
			}
			if !r.Transform.Validate.RequestParameters["method.request.querystring.q"] {
				t.Errorf("parameters %v", r.Transform.Validate.RequestParameters)
			}
		})
	}
}
