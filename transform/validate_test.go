package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/reqctx"
)

const petSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Pet",
  "type": "object",
  "required": ["name", "age"],
  "properties": {
    "name": {"type": "string", "minLength": 1},
    "age": {"type": "integer", "minimum": 0},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
    "owner": {"$ref": "#/definitions/Owner"},
    "nick": {"type": ["string", "null"]},
    "kind": {"enum": ["dog", "cat"]},
    "price": {"type": "number", "minimum": 0, "exclusiveMinimum": true}
  },
  "additionalProperties": false,
  "definitions": {
    "Owner": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "pattern": "^o[0-9]+$"}}}
  }
}`

func petModels(t *testing.T) *Models {
	t.Helper()
	ms, err := CompileModels(map[string]json.RawMessage{
		"Pet":   json.RawMessage(petSchema),
		"Error": json.RawMessage(`{"type":"object","required":["message"],"properties":{"message":{"type":"string"}}}`),
		"Pets":  json.RawMessage(`{"type":"array","items":{"$ref":"#/definitions/Pet"}}`),
	})
	if err != nil {
		t.Fatalf("CompileModels: %v", err)
	}
	return ms
}

func TestCheckBody(t *testing.T) {
	v, err := NewValidator(Validation{
		ValidateBody:  true,
		RequestModels: map[string]string{"application/json": "Pet", "application/vnd.list+json": "Pets"},
	}, petModels(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ct   string
		body string
		want []string // "pointer: message", in order; nil for valid
	}{
		{name: "valid", ct: "application/json", body: `{"name":"Rex","age":3,"tags":["a"],"owner":{"id":"o1"},"nick":null,"kind":"dog","price":10}`},
		{name: "valid with charset", ct: "application/json; charset=utf-8", body: `{"name":"Rex","age":3}`},
		{name: "no content type reads as json", ct: "", body: `{"name":"Rex"}`, want: []string{`/age: property "age" is missing`}},
		{name: "every violation with its pointer", ct: "application/json",
			body: `{"name":"","age":-1,"tags":["a",2,"c","d"],"owner":{"id":"x"},"extra":true,"kind":"cow","price":0}`,
			want: []string{
				`/age: number must be at least 0`,
				`/extra: property "extra" is unsupported`,
				`/kind: value is not one of the allowed values ["dog","cat"]`,
				`/name: minimum string length is 1`,
				`/owner/id: string doesn't match the regular expression "^o[0-9]+$"`,
				`/price: number must be more than 0`,
				`/tags: maximum number of items is 3`,
				`/tags/1: value must be a string`,
			}},
		{name: "integer type", ct: "application/json", body: `{"name":"a","age":1.5}`, want: []string{`/age: value must be an integer`}},
		{name: "wrong top-level type", ct: "application/json", body: `[1]`, want: []string{`/: value must be an object`}},
		{name: "not json", ct: "application/json", body: `{"name":`, want: []string{`/: the body is not valid JSON`}},
		{name: "empty body", ct: "application/json", body: ``, want: []string{`/: the body is empty; a JSON value is required`}},
		{name: "model referring to a model", ct: "application/vnd.list+json", body: `[{"name":"a","age":1},{"name":"b"}]`, want: []string{`/1/age: property "age" is missing`}},
		{name: "type without a model", ct: "text/plain", body: `anything`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.CheckBody(tt.ct, []byte(tt.body))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckBody = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("CheckBody = %v, want a *ValidationError", err)
			}
			var got []string
			for _, x := range ve.Violations {
				got = append(got, x.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("violations:\n got: %q\nwant: %q", got, tt.want)
			}
			if ve.Type != reqctx.BadRequestBody {
				t.Errorf("type = %s, want BAD_REQUEST_BODY", ve.Type)
			}
		})
	}
}

func TestCompileModelsErrors(t *testing.T) {
	tests := []struct {
		name   string
		models map[string]string
		want   string
	}{
		{"bad json", map[string]string{"A": `{`}, `model "A": invalid JSON`},
		{"not an object", map[string]string{"A": `[]`}, `model "A": a schema must be a JSON object`},
		{"unknown keyword", map[string]string{"A": `{"type":"object","patternProperties":{}}`}, `keyword "patternProperties" at / is not supported`},
		{"nested unknown keyword", map[string]string{"A": `{"properties":{"b":{"dependencies":{}}}}`}, `keyword "dependencies" at /properties/b is not supported`},
		{"dangling ref", map[string]string{"A": `{"$ref":"#/definitions/Nope"}`}, `no model named "Nope"`},
		{"external ref", map[string]string{"A": `{"$ref":"http://example.com/s.json"}`}, `is not supported`},
		{"bad name", map[string]string{"A B": `{}`}, `model name "A B"`},
		{"bad type", map[string]string{"A": `{"type":"strnig"}`}, `model "A"`},
		{"tuple items", map[string]string{"A": `{"items":[{}]}`}, `tuple items`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defs := map[string]json.RawMessage{}
			for k, v := range tt.models {
				defs[k] = json.RawMessage(v)
			}
			_, err := CompileModels(defs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CompileModels = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestCompileModelsSubset(t *testing.T) {
	ms, err := CompileModels(map[string]json.RawMessage{
		"A":      json.RawMessage(`{"$ref":"https://apigateway.amazonaws.com/restapis/abc/models/B"}`),
		"B":      json.RawMessage(`{"type":"string"}`),
		"Broken": json.RawMessage(`{`),
	}, "A")
	if err != nil {
		t.Fatalf("CompileModels of A alone: %v", err)
	}
	if !ms.Has("A") || !ms.Has("B") || ms.Has("Broken") {
		t.Errorf("compiled A=%v B=%v Broken=%v, want true true false", ms.Has("A"), ms.Has("B"), ms.Has("Broken"))
	}
}

func TestCheckParameters(t *testing.T) {
	v, err := NewValidator(Validation{
		ValidateParameters: true,
		RequestParameters: map[string]bool{
			"method.request.querystring.q":       true,
			"method.request.header.X-Id":         true,
			"method.request.path.id":             true,
			"method.request.querystring.opt":     false,
			"method.request.multivalueheader.Xs": true,
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target string
		header http.Header
		id     string
		want   string
	}{
		{"all present", "/p?q=x", http.Header{"X-Id": {"1"}, "Xs": {"a"}}, "7", ""},
		{"all missing", "/p", nil, "", "Missing required request parameters: [X-Id, Xs, id, q]"},
		{"blank counts as missing", "/p?q=%20", http.Header{"X-Id": {" "}, "Xs": {"a"}}, "7", "Missing required request parameters: [X-Id, q]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			for k, vs := range tt.header {
				r.Header[k] = vs
			}
			if tt.id != "" {
				r.SetPathValue("id", tt.id)
			}
			err := v.CheckParameters(r)
			got := ""
			var ve *ValidationError
			if errors.As(err, &ve) {
				got = ve.Message()
			}
			if got != tt.want {
				t.Errorf("CheckParameters message = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewValidatorErrors(t *testing.T) {
	ms := petModels(t)
	tests := []struct {
		name string
		v    Validation
		want string
	}{
		{"bad parameter", Validation{RequestParameters: map[string]bool{"method.request.cookie.c": true}}, "method.request.cookie.c"},
		{"unknown model", Validation{ValidateBody: true, RequestModels: map[string]string{"application/json": "Nope"}}, `no model named "Nope"`},
		{"bad content type", Validation{ValidateBody: true, RequestModels: map[string]string{"json": "Pet"}}, `"json" is not type/subtype`},
		{"bad mode", Validation{ResponseValidation: "WARN"}, `ResponseValidation "WARN"`},
		{"bad status", Validation{ResponseValidation: ResponseValidationLog, ResponseModels: map[int]map[string]string{99: {"application/json": "Pet"}}}, "status 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewValidator(tt.v, ms); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewValidator = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidatorHandler(t *testing.T) {
	v, err := NewValidator(Validation{
		ValidateParameters: true,
		RequestParameters:  map[string]bool{"method.request.querystring.q": true},
		ValidateBody:       true,
		RequestModels:      map[string]string{"application/json": "Pet"},
	}, petModels(t))
	if err != nil {
		t.Fatal(err)
	}
	var seen []byte
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	tests := []struct {
		name       string
		target     string
		body       string
		status     int
		message    string
		validation string
	}{
		{"valid reaches the handler", "/?q=1", `{"name":"a","age":1}`, 204, "", ""},
		{"missing parameter", "/", `{"name":"a","age":1}`, 400, "Missing required request parameters: [q]", "[querystring.q]"},
		{"invalid body", "/?q=1", `{"name":"a"}`, 400, `Invalid request body: [/age: property "age" is missing]`, `[/age: property "age" is missing]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			r := httptest.NewRequest("POST", tt.target, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			rc := &reqctx.Context{}
			r = r.WithContext(reqctx.With(r.Context(), rc))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if tt.status == 204 {
				if string(seen) != tt.body {
					t.Errorf("handler read %q, want the body %q put back", seen, tt.body)
				}
				return
			}
			var got struct{ Message string }
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Message != tt.message {
				t.Errorf("body = %s, want message %q", w.Body, tt.message)
			}
			if rc.Error.ValidationErrorString != tt.validation {
				t.Errorf("validationErrorString = %q, want %q", rc.Error.ValidationErrorString, tt.validation)
			}
			if seen != nil {
				t.Error("the handler ran for an invalid request")
			}
		})
	}
}

func TestResponseValidation(t *testing.T) {
	tests := []struct {
		name    string
		mode    ResponseValidation
		body    string
		status  int
		logged  bool
		reached string
	}{
		{"valid passes", ResponseValidationReject, `{"name":"a","age":1}`, 200, false, `{"name":"a","age":1}`},
		{"log mode sends and logs", ResponseValidationLog, `{"name":"a"}`, 200, true, `{"name":"a"}`},
		{"reject mode answers 502", ResponseValidationReject, `{"name":"a"}`, 502, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			v, err := NewValidator(Validation{
				ResponseValidation: tt.mode,
				ResponseModels:     map[int]map[string]string{200: {"application/json": "Pet"}},
			}, petModels(t), WithValidatorLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.body)
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.reached != "" && w.Body.String() != tt.reached {
				t.Errorf("body = %q, want %q", w.Body, tt.reached)
			}
			if got := strings.Contains(logs.String(), "does not match its model"); got != tt.logged {
				t.Errorf("logged = %v, want %v (%s)", got, tt.logged, logs.String())
			}
		})
	}
}

// chainedModels returns n models, each an object whose "next" property is
// the next model, and the last a string.
func chainedModels(n int) map[string]json.RawMessage {
	defs := map[string]json.RawMessage{}
	for i := 0; i < n-1; i++ {
		defs[fmt.Sprintf("M%d", i)] = json.RawMessage(fmt.Sprintf(`{"type":"object","properties":{"next":{"$ref":"#/definitions/M%d"}}}`, i+1))
	}
	defs[fmt.Sprintf("M%d", n-1)] = json.RawMessage(`{"type":"string"}`)
	return defs
}

// TestCompileModelsLongReferenceChain: models that reference each other in
// a long chain compile (they are validated in one traversal, not once per
// model, which took seconds for a few thousand), and a bad model at the end
// of the chain is still reported.
func TestCompileModelsLongReferenceChain(t *testing.T) {
	defs := chainedModels(2000)
	ms, err := CompileModels(defs)
	if err != nil {
		t.Fatal(err)
	}
	if !ms.Has("M0") || !ms.Has("M1999") {
		t.Fatal("chain models missing")
	}
	defs["M1999"] = json.RawMessage(`{"type":"strnig"}`)
	if _, err := CompileModels(defs); err == nil || !strings.Contains(err.Error(), "strnig") {
		t.Fatalf("bad model at the end of the chain: err = %v", err)
	}
}

func BenchmarkCompileModelsChain(b *testing.B) {
	defs := chainedModels(1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileModels(defs); err != nil {
			b.Fatal(err)
		}
	}
}
