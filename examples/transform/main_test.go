package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func call(t *testing.T, h http.Handler, method, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON: %v", method, target, w.Code, w.Body, err)
	}
	return w.Code, w.Header(), out
}

func TestTransformExample(t *testing.T) {
	gw, err := newGateway(&legacy{})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(context.Background())

	tests := []struct {
		name, method, target, body string
		status                     int
		want                       map[string]any
	}{
		{"create", "POST", "/prod/pets", `{"name":"Rex & Co","kind":"dog","age":3}`, 201,
			map[string]any{"id": "1", "name": "Rex & Co", "kind": "dog", "age": "3", "status": "created"}},
		{"create without age", "POST", "/prod/pets", `{"name":"Tom","kind":"cat"}`, 201,
			map[string]any{"id": "2", "name": "Tom", "kind": "cat", "status": "created"}}, // "age=": Java's split drops the empty value
		{"invalid", "POST", "/prod/pets", `{"kind":"cow","age":-1}`, 400,
			map[string]any{"message": `Invalid request body: [/age: number must be at least 0; /kind: value is not one of the allowed values ["dog","cat","fish"]; /name: property "name" is missing]`}},
		{"read", "GET", "/prod/pets/1", "", 200, map[string]any{"id": 1.0, "name": "Rex & Co", "kind": "dog", "age": 3.0}},
		{"read without age", "GET", "/prod/pets/2", "", 200, map[string]any{"id": 2.0, "name": "Tom", "kind": "cat", "age": nil}},
		{"not found", "GET", "/prod/pets/99", "", 404, map[string]any{"message": "no such pet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, got := call(t, gw, tt.method, tt.target, tt.body)
			if status != tt.status {
				t.Errorf("status = %d, want %d (%v)", status, tt.status, got)
			}
			b1, _ := json.Marshal(got)
			b2, _ := json.Marshal(tt.want)
			if string(b1) != string(b2) {
				t.Errorf("body = %s, want %s", b1, b2)
			}
		})
	}
}

func TestPassthroughTemplate(t *testing.T) {
	gw, err := newGateway(&legacy{})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(context.Background())
	status, _, got := call(t, gw, "POST", "/prod/echo/7?debug=1", `{"hello":"world"}`)
	if status != 200 {
		t.Fatalf("status = %d", status)
	}
	params := got["params"].(map[string]any)
	ctx := got["context"].(map[string]any)
	if body := got["body-json"].(map[string]any); body["hello"] != "world" ||
		params["path"].(map[string]any)["id"] != "7" ||
		params["querystring"].(map[string]any)["debug"] != "1" ||
		got["stage-variables"].(map[string]any)["legacyPath"] != "\\/cgi-bin\\/pets.pl" && got["stage-variables"].(map[string]any)["legacyPath"] != "/cgi-bin/pets.pl" ||
		ctx["stage"] != "prod" || ctx["http-method"] != "POST" || ctx["resource-path"] != "/echo/{id}" {
		t.Errorf("passthrough template produced %v", got)
	}
}
