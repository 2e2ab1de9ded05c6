package main

import (
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/openapi"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestPetstore checks the calls the command's comment and the README show.
func TestPetstore(t *testing.T) {
	backend := httptest.NewServer(legacy)
	defer backend.Close()
	gw, h, warnings, err := newServer(strings.TrimPrefix(backend.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(context.Background())
	if len(warnings) > 0 {
		t.Errorf("import warnings: %v", warnings)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	type call struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		status  int
		want    string // the body, or a part of it for "*…"
	}
	key := map[string]string{"x-api-key": demoAPIKey, "content-type": "application/json"}
	for _, c := range []call{
		{"list", "GET", "/prod/pets", nil, "", 200, `[{"id":"1","name":"Tom","tag":"cat"}]`},
		{"create", "POST", "/prod/pets", key, `{"name":"Rex","tag":"dog"}`, 201, `{"id":"2","name":"Rex","tag":"dog"}`},
		{"get", "GET", "/prod/pets/2", nil, "", 200, `{"id":"2","name":"Rex","tag":"dog"}`},
		{"missing pet", "GET", "/prod/pets/9", nil, "", 404, `{"message":"no pet 9"}`},
		{"limit", "GET", "/prod/pets?limit=1", nil, "", 200, `[{"id":"1","name":"Tom","tag":"cat"}]`},
		{"no key: the document's INVALID_API_KEY response", "POST", "/prod/pets", map[string]string{"content-type": "application/json"}, `{"name":"Rex"}`, 403,
			`{"error":"an API key is needed: send it in x-api-key"}`},
		{"invalid body: the document's BAD_REQUEST_BODY response", "POST", "/prod/pets", key, `{"nom":"Rex"}`, 422, `*"error":"invalid pet"`},
		{"mock", "GET", "/prod/health", nil, "", 200, `{"status":"ok","stage":"prod"}`},
		{"HTTP proxy", "GET", "/prod/legacy/inventory", nil, "", 200, `{"service":"legacy-inventory","path":"/inventory"}` + "\n"},
		{"export", "GET", "/admin/export?format=yaml", nil, "", 200, "*x-amazon-apigateway-integration"},
		{"export swagger", "GET", "/admin/export?spec=swagger", nil, "", 200, `*"swagger": "2.0"`},
		{"TypeScript SDK", "GET", "/admin/sdk?lang=ts", nil, "", 200, "*createPet("},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := string(b)
			ok := got == c.want
			if part, found := strings.CutPrefix(c.want, "*"); found {
				ok = strings.Contains(got, part)
			}
			if resp.StatusCode != c.status || !ok {
				t.Fatalf("%s %s = %d %s, want %d %s", c.method, c.path, resp.StatusCode, got, c.status, c.want)
			}
		})
	}

	t.Run("CORS preflight", func(t *testing.T) {
		req, _ := http.NewRequest("OPTIONS", srv.URL+"/prod/pets", nil)
		req.Header.Set("Origin", "https://petstore.example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-api-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://petstore.example.com" || resp.Header.Get("Access-Control-Max-Age") != "600" {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("Go SDK parses", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/admin/sdk?lang=go")
		if err != nil {
			t.Fatal(err)
		}
		src, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if _, err := parser.ParseFile(token.NewFileSet(), "client.go", src, 0); err != nil {
			t.Fatalf("generated client: %v\n%s", err, src)
		}
		for _, m := range []string{"ListPets(ctx", "CreatePet(ctx", "GetPet(ctx", "Health(ctx"} {
			if !strings.Contains(string(src), m) {
				t.Errorf("generated client has no %s", m)
			}
		}
	})

	t.Run("export imports again", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/admin/export")
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !json.Valid(doc) {
			t.Fatalf("export is not JSON: %s", doc)
		}
		s := &store{}
		imp, err := openapi.Import(doc, openapi.ImportOptions{Registry: s.registry(), FailOnWarnings: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(imp.API.Routes); n != 5 {
			t.Fatalf("re-imported %d routes, want 5", n)
		}
	})
}
