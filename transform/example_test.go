package transform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/portico-gw/portico/transform"
)

// A legacy backend speaks form encoding; the mapping gives clients JSON.
func ExampleNewMapper() {
	legacy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		fmt.Fprintf(w, "status=created&%s", body)
	})
	m, err := transform.NewMapper(transform.Mapping{
		RequestTemplates: map[string]string{
			"application/json": `name=$util.urlEncode($input.path('$.name'))&kind=$util.urlEncode($input.path('$.kind'))`,
		},
		Responses: []transform.Response{{
			StatusCode: 201,
			Templates: map[string]string{"application/json": `{
#foreach($pair in $input.path('$').split('&'))
#set($kv = $pair.split('='))
  "$kv[0]": "$util.urlDecode($kv[1])"#if($foreach.hasNext),#end
#end
}`},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("POST", "/pets", strings.NewReader(`{"name": "Rex", "kind": "good dog"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	m.Handler(legacy).ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body)
	// Output:
	// 201 application/json
	// {
	//   "status": "created",
	//   "name": "Rex",
	//   "kind": "good dog"
	// }
}

// Go templates get the same data as VTL, with Go's syntax and a typed
// request context.
func ExampleParseTemplate() {
	t, err := transform.ParseTemplate(transform.GoTemplate,
		`{"names": {{json "$.items[*].name"}}, "cheap": {{json "$.items[?@.price < 10].name"}}, "first": "{{path "$.items[0].name"}}"}`,
		transform.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := t.Render(context.Background(), &transform.Input{
		Body: []byte(`{"items": [{"name": "pen", "price": 2}, {"name": "desk", "price": 120}]}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(res.Body))
	// Output:
	// {"names": ["pen","desk"], "cheap": ["pen"], "first": "pen"}
}

// A template outside the supported subset is refused when it is compiled,
// naming the line.
func ExampleParseTemplate_unsupported() {
	_, err := transform.ParseTemplate(transform.VTL, "#set($x = 1)\n#macro(greet $n)Hi $n#end", transform.Limits{})
	fmt.Println(err)
	// Output:
	// transform: vtl: line 2: #macro is not supported
}

func ExampleNewValidator() {
	models, err := transform.CompileModels(map[string]json.RawMessage{
		"Pet": json.RawMessage(`{"type": "object", "required": ["name"], "properties": {
			"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := transform.NewValidator(transform.Validation{
		ValidateBody:  true,
		RequestModels: map[string]string{"application/json": "Pet"},
	}, models)
	if err != nil {
		fmt.Println(err)
		return
	}
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("POST", "/pets", strings.NewReader(`{"age": -1}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)
	// Output:
	// 400 {"message":"Invalid request body: [/age: number must be at least 0; /name: property \"name\" is missing]"}
}
