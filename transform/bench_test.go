package transform

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchBody is a typical request body: about 1 KB, 10 fields.
var benchBody = []byte(`{
  "id": "8f14e45f-ceea-467f-a5c6-1d2a3b4c5d6e",
  "name": "Rex the Magnificent",
  "email": "owner.of.rex@example.com",
  "age": 7,
  "active": true,
  "score": 98.5,
  "created": "2024-05-06T07:08:09Z",
  "tags": ["good-boy", "vaccinated", "microchipped", "neutered"],
  "address": {"street": "221B Baker Street", "city": "London", "zip": "NW1 6XE", "country": "GB"},
  "notes": "Friendly with children and other dogs. Needs a walk twice a day and a grain-free diet. Allergic to chicken. Prefers the blue ball. Sleeps in the kitchen. Afraid of thunderstorms and fireworks; keep indoors on the fifth of November. Microchip registered with the national database. Insurance renewal due in March; last vet visit in January, all clear."
}`)

const benchSchema = `{
  "type": "object",
  "required": ["id", "name", "email", "age", "active"],
  "additionalProperties": false,
  "properties": {
    "id": {"type": "string", "pattern": "^[0-9a-f-]{36}$"},
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
    "age": {"type": "integer", "minimum": 0, "maximum": 40},
    "active": {"type": "boolean"},
    "score": {"type": "number", "minimum": 0, "maximum": 100},
    "created": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    "address": {"type": "object", "required": ["city"], "properties": {
      "street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string"}, "country": {"type": "string", "enum": ["GB", "FR", "US"]}}},
    "notes": {"type": "string", "maxLength": 2000}
  }
}`

func BenchmarkValidateBody(b *testing.B) {
	ms, err := CompileModels(map[string]json.RawMessage{"Pet": json.RawMessage(benchSchema)})
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewValidator(Validation{ValidateBody: true, RequestModels: map[string]string{"application/json": "Pet"}}, ms)
	if err != nil {
		b.Fatal(err)
	}
	if err := v.CheckBody("application/json", benchBody); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.CheckBody("application/json", benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

// benchVTL and benchGo are a typical request template: a DynamoDB PutItem
// made from the body, the path and the context.
const benchVTL = `#set($b = $input.path('$'))
{
  "TableName": "$stageVariables.table",
  "Item": {
    "id": {"S": "$input.params('id')"},
    "name": {"S": "$util.escapeJavaScript($b.name)"},
    "email": {"S": "$b.email"},
    "age": {"N": "$b.age"},
    "city": {"S": "$b.address.city"},
    "tags": {"SS": $input.json('$.tags')},
    "requestId": {"S": "$context.requestId"}
  }
}`

const benchGo = `{{$b := path "$"}}
{
  "TableName": "{{.StageVariables.table}}",
  "Item": {
    "id": {"S": "{{params "id"}}"},
    "name": {"S": "{{escapeJavaScript $b.name}}"},
    "email": {"S": "{{$b.email}}"},
    "age": {"N": "{{$b.age}}"},
    "city": {"S": "{{$b.address.city}}"},
    "tags": {"SS": {{json "$.tags"}}},
    "requestId": {"S": "{{.Context.RequestID}}"}
  }
}`

func benchRender(b *testing.B, lang Language, src string) {
	tpl, err := ParseTemplate(lang, src, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	base := conformanceInput(string(benchBody))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		in := *base
		if _, err := tpl.Render(ctx, &in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderVTL(b *testing.B) { benchRender(b, VTL, benchVTL) }
func BenchmarkRenderGo(b *testing.B)  { benchRender(b, GoTemplate, benchGo) }

// BenchmarkMapper runs a request template, the integration and a response
// template through the mapping step.
func BenchmarkMapper(b *testing.B) {
	mp, err := NewMapper(Mapping{
		RequestParameters: map[string]string{"integration.request.header.X-Request-Id": "context.requestId"},
		RequestTemplates:  map[string]string{"application/json": benchVTL},
		Responses:         []Response{{StatusCode: 201, Templates: map[string]string{"application/json": `{"ok": true, "id": $input.json('$.id')}`}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := mp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"8f14e45f"}`))
	}))
	b.ReportAllocs()
	for b.Loop() {
		r := newRequest("POST", "/pets/7", "application/json", string(benchBody))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 201 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkCompress(b *testing.B) {
	mw, _ := Compress(1024)
	body := []byte(strings.Repeat("portico ", 1024))
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	for _, enc := range []string{"gzip", "deflate", "br", "zstd"} {
		b.Run(enc, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept-Encoding", enc)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}
