package portico

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/transform"
)

// transformRoute deploys a route key served by backend with the route's
// and the API's transform settings, so that the gateway's own pipeline
// composes the compress, validate and map steps.
func transformRoute(t *testing.T, gw *Gateway, api *API, cfg StageConfig, key string, at APITransform, rt RouteTransform, backend http.Handler) {
	t.Helper()
	api.Transform = at
	method, path, _ := strings.Cut(key, " ")
	api.AddRoute(Route{Method: method, Path: path, Integration: backend, Transform: rt})
	mustDeploy(t, gw, api, cfg)
}

func TestTransformSteps(t *testing.T) {
	gw := newGateway(t)
	api := NewAPI("pets", REST)
	api.BinaryMediaTypes = []string{"image/*"}
	cfg := StageConfig{Name: "prod", Variables: map[string]string{"table": "Pets"}}
	at := APITransform{
		Models: map[string]json.RawMessage{
			"Pet":    json.RawMessage(`{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}}}`),
			"Unused": json.RawMessage(`{"type":"nonsense"}`), // never compiled: no route uses it
		},
		CompressResponses:      true,
		MinimumCompressionSize: 64,
	}
	rt := RouteTransform{
		Validate: transform.Validation{
			ValidateParameters: true,
			RequestParameters:  map[string]bool{"method.request.header.X-Owner": true},
			ValidateBody:       true,
			RequestModels:      map[string]string{"application/json": "Pet"},
		},
		Map: transform.Mapping{
			RequestParameters: map[string]string{"integration.request.header.X-Table": "stageVariables.table"},
			RequestTemplates: map[string]string{
				"application/json": `{"Name": $input.json('$.name'), "Owner": "$input.params('X-Owner')", "Pet": "$input.params('id')", "Stage": "$context.stage"}`,
			},
			Responses: []transform.Response{
				{SelectionPattern: `4\d\d`, StatusCode: 404, Templates: map[string]string{"application/json": `{"message": "no such pet"}`}},
				{StatusCode: 201, Parameters: map[string]string{"method.response.header.Location": "integration.response.body.href"},
					Templates: map[string]string{"application/json": `{"id": $input.json('$.id'), "padding": "$util.base64Encode($input.json('$'))$util.base64Encode($input.json('$'))"}`}},
			},
		},
	}
	var got struct {
		Name, Owner, Pet, Stage string
	}
	var table string
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &got)
		table = r.Header.Get("X-Table")
		if got.Name == "ghost" {
			w.WriteHeader(http.StatusGone)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"p-1","href":"/pets/p-1"}`)
	})
	transformRoute(t, gw, api, cfg, "POST /pets/{id}", at, rt, backend)

	t.Run("mapped request and response, compressed", func(t *testing.T) {
		rec := serve(gw, "POST", "/prod/pets/7", strings.NewReader(`{"name":"Rex","age":2}`),
			"Content-Type", "application/json", "X-Owner", "ann", "Accept-Encoding", "gzip")
		if rec.Code != 201 || rec.Header().Get("Location") != "/pets/p-1" || rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("got %d Location=%q Content-Encoding=%q, want 201 /pets/p-1 gzip", rec.Code, rec.Header().Get("Location"), rec.Header().Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		if !strings.HasPrefix(string(body), `{"id": "p-1", "padding": `) {
			t.Errorf("body = %s", body)
		}
		if got.Name != "Rex" || got.Owner != "ann" || got.Pet != "7" || got.Stage != "prod" || table != "Pets" {
			t.Errorf("integration saw %+v table=%q, want Rex ann 7 prod Pets", got, table)
		}
	})
	t.Run("selection pattern", func(t *testing.T) {
		rec := serve(gw, "POST", "/prod/pets/7", strings.NewReader(`{"name":"ghost"}`), "Content-Type", "application/json", "X-Owner", "ann")
		if rec.Code != 404 || rec.Body.String() != `{"message": "no such pet"}` {
			t.Errorf("got %d %s, want 404 no such pet", rec.Code, rec.Body)
		}
	})
	t.Run("missing parameter", func(t *testing.T) {
		rec := serve(gw, "POST", "/prod/pets/7", strings.NewReader(`{"name":"Rex"}`), "Content-Type", "application/json")
		if rec.Code != 400 || messageOf(t, rec) != "Missing required request parameters: [X-Owner]" {
			t.Errorf("got %d %q", rec.Code, messageOf(t, rec))
		}
	})
	t.Run("invalid body", func(t *testing.T) {
		rec := serve(gw, "POST", "/prod/pets/7", strings.NewReader(`{"age":-3}`), "Content-Type", "application/json", "X-Owner", "ann")
		want := `Invalid request body: [/age: number must be at least 0; /name: property "name" is missing]`
		if rec.Code != 400 || messageOf(t, rec) != want || rec.Header().Get("X-Amzn-Errortype") != "BadRequestException" {
			t.Errorf("got %d %q %s, want 400 %q", rec.Code, messageOf(t, rec), rec.Header().Get("X-Amzn-Errortype"), want)
		}
	})
}

func TestTransformGatewayResponse(t *testing.T) {
	gw := newGateway(t)
	api := NewAPI("pets", REST)
	api.GatewayResponses = map[reqctx.ResponseType]GatewayResponse{
		reqctx.BadRequestBody: {Body: `{"error": $context.error.messageString, "type": "$context.error.responseType"}`},
	}
	rt := RouteTransform{Validate: transform.Validation{ValidateBody: true, RequestModels: map[string]string{"$default": "Pet"}}}
	at := APITransform{Models: map[string]json.RawMessage{"Pet": json.RawMessage(`{"type":"object"}`)}}
	transformRoute(t, gw, api, StageConfig{Name: "prod"}, "POST /pets", at, rt, text("ok"))
	rec := serve(gw, "POST", "/prod/pets", strings.NewReader(`[]`), "Content-Type", "text/plain")
	if want := `{"error": "Invalid request body: [/: value must be an object]", "type": "BAD_REQUEST_BODY"}`; rec.Code != 400 || rec.Body.String() != want {
		t.Errorf("got %d %s, want 400 %s", rec.Code, rec.Body, want)
	}
}

func TestTransformStepErrors(t *testing.T) {
	gw := newGateway(t)
	tests := []struct {
		name string
		at   APITransform
		rt   RouteTransform
		want string
	}{
		{"unknown model", APITransform{}, RouteTransform{Validate: transform.Validation{ValidateBody: true, RequestModels: map[string]string{"application/json": "Nope"}}}, `no model named "Nope"`},
		{"bad model", APITransform{Models: map[string]json.RawMessage{"M": json.RawMessage(`{"type":"object","patternProperties":{}}`)}},
			RouteTransform{Validate: transform.Validation{ValidateBody: true, RequestModels: map[string]string{"application/json": "M"}}}, `keyword "patternProperties"`},
		{"undefined stage variable", APITransform{}, RouteTransform{Map: transform.Mapping{RequestParameters: map[string]string{"integration.request.header.X": "stageVariables.nope"}}}, `stage variable "nope" is not defined`},
		{"template error", APITransform{}, RouteTransform{Map: transform.Mapping{RequestTemplates: map[string]string{"application/json": "a\n#include('x')"}}}, "line 2: #include is not supported"},
		{"compression size", APITransform{CompressResponses: true, MinimumCompressionSize: -1}, RouteTransform{}, "minimum compression size -1"},
		{"compression size without compression", APITransform{MinimumCompressionSize: 10}, RouteTransform{}, "CompressResponses is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := NewAPI("pets", REST)
			api.Transform = tt.at
			api.AddRoute(Route{Method: "POST", Path: "/pets", Integration: text("ok"), Transform: tt.rt})
			_, err := gw.Deploy(api, StageConfig{Name: "prod", Variables: map[string]string{"v": "1"}})
			var re *RouteError
			if !errors.As(err, &re) || re.Route != "POST /pets" || re.Field != "Transform" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Deploy: %v, want a RouteError for POST /pets, field Transform, containing %q", err, tt.want)
			}
		})
	}
}

func TestTransformStepsAbsentWhenUnused(t *testing.T) {
	gw := newGateway(t)
	d := &Deployment{api: NewAPI("pets", REST), maxBody: DefaultMaxBodyBytes}
	var at APITransform
	var rt RouteTransform
	v, err1 := gw.transformValidate(d, &at, &rt)
	m, err2 := gw.transformMap(d, &at, &rt)
	c, err3 := gw.transformCompress(&at)
	if v != nil || m != nil || c != nil || err1 != nil || err2 != nil || err3 != nil {
		t.Errorf("a route without transforms got steps (%v %v %v) or errors (%v %v %v)", v != nil, m != nil, c != nil, err1, err2, err3)
	}
}
