package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const petstore = "../../examples/petstore/petstore.yaml"

func TestCommands(t *testing.T) {
	out := filepath.Join(t.TempDir(), "client.go")
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   []string // parts of the output
		stderr   []string
		checkOut func(t *testing.T, stdout []byte)
	}{
		{name: "import lists routes", args: []string{"import", "-var", "legacy=127.0.0.1:9", petstore}, code: 0,
			stdout: []string{`API "Petstore" (REST), OpenAPI 3.0, 5 routes`, "POST /pets", "function createPet", "api-key", "mock", "ok: the document deploys"}},
		{name: "import names the undefined stage variable", args: []string{"import", petstore}, code: 1,
			stderr: []string{`stage variable "legacy" is not defined`}},
		{name: "import prints warnings", args: []string{"import", "testdata/warn.yaml"}, code: 0,
			stdout: []string{"warning: #/x-amazon-apigateway-api-key-source", "ok"}},
		{name: "fail on warnings", args: []string{"import", "-fail-on-warnings", "testdata/warn.yaml"}, code: 1,
			stdout: []string{"warning: #/x-amazon-apigateway-api-key-source"}},
		{name: "unknown integration type is an error naming the operation", args: []string{"import", "testdata/bad.yaml"}, code: 1,
			stderr: []string{"carrier_pigeon", "GET /x"}},
		{name: "missing file", args: []string{"import", "testdata/none.yaml"}, code: 1, stderr: []string{"none.yaml"}},
		{name: "no file", args: []string{"import"}, code: 2, stderr: []string{"want one document FILE"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: []string{`unknown command "frobnicate"`}},
		{name: "no command", args: nil, code: 2, stderr: []string{"usage:"}},
		{name: "bad flag", args: []string{"export", "-nope", petstore}, code: 2, stderr: []string{"-nope"}},
		{name: "export OpenAPI 3.0 JSON", args: []string{"export", petstore}, code: 0,
			checkOut: func(t *testing.T, b []byte) {
				var doc map[string]any
				if err := json.Unmarshal(b, &doc); err != nil || !strings.HasPrefix(fmt.Sprint(doc["openapi"]), "3.0") {
					t.Fatalf("not an OpenAPI 3.0 JSON document: %v\n%s", err, b)
				}
			},
			stdout: []string{"x-amazon-apigateway-integration", "x-amazon-apigateway-cors"}},
		{name: "export Swagger 2.0 YAML without extensions, for a stage and domain", args: []string{"export", "-spec", "swagger", "-format", "yaml", "-no-extensions",
			"-stage", "dev", "-var", "legacy=x:1", "-base-url", "https://api.example.com/store", petstore}, code: 0,
			stdout: []string{"swagger: \"2.0\"", "host: api.example.com", "basePath: /store"}},
		{name: "-var needs -stage", args: []string{"export", "-var", "a=b", petstore}, code: 2, stderr: []string{"-var needs -stage"}},
		{name: "sdk go", args: []string{"sdk", "-lang", "go", "-package", "pets", petstore}, code: 0,
			checkOut: func(t *testing.T, b []byte) {
				if _, err := parser.ParseFile(token.NewFileSet(), "client.go", b, 0); err != nil {
					t.Fatalf("generated Go: %v", err)
				}
			},
			stdout: []string{"package pets", "func (c *Client) CreatePet(ctx context.Context"}},
		{name: "sdk go to a file", args: []string{"sdk", "-lang", "go", "-o", out, petstore}, code: 0},
		{name: "sdk ts", args: []string{"sdk", "-lang", "ts", petstore}, code: 0, stdout: []string{"async createPet("}},
		{name: "sdk needs a language", args: []string{"sdk", petstore}, code: 2, stderr: []string{"-lang must be go or ts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr, nil)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, p := range tc.stdout {
				if !strings.Contains(stdout.String(), p) {
					t.Errorf("stdout lacks %q:\n%s", p, stdout.String())
				}
			}
			for _, p := range tc.stderr {
				if !strings.Contains(stderr.String(), p) {
					t.Errorf("stderr lacks %q:\n%s", p, stderr.String())
				}
			}
			if tc.checkOut != nil {
				tc.checkOut(t, stdout.Bytes())
			}
		})
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.Contains(b, []byte("package client")) {
		t.Fatalf("-o %s: %v %.100s", out, err, b)
	}
}

// TestServe serves the pet store with one function connected over HTTP, as
// to the Lambda runtime interface emulator, and the others not.
func TestServe(t *testing.T) {
	var events int
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e struct {
			Resource string `json:"resource"`
			Method   string `json:"httpMethod"`
		}
		_ = json.NewDecoder(r.Body).Decode(&e)
		events++
		_ = json.NewEncoder(w).Encode(map[string]any{"statusCode": 200, "body": `[{"id":"1","name":"Tom"}]`,
			"headers": map[string]string{"Content-Type": "application/json", "X-Resource": e.Method + " " + e.Resource}})
	}))
	defer fn.Close()
	legacy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "legacy "+r.URL.Path) }))
	defer legacy.Close()

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-stage", "test",
			"-var", "legacy=" + strings.TrimPrefix(legacy.URL, "http://"),
			"-function", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:listPets/invocations=" + fn.URL,
			"-api-key", "cliTestKey0123456789abc", petstore}, io.Discard, &stderr, func(a string) { addrc <- a })
	}()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a + "/test"
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	for _, c := range []struct {
		method, path, key, body string
		status                  int
		want                    string
	}{
		{"GET", "/pets", "", "", 200, `[{"id":"1","name":"Tom"}]`},
		{"GET", "/health", "", "", 200, `{"status":"ok","stage":"test"}`},
		{"GET", "/legacy/a/b", "", "", 200, "legacy /a/b"},
		{"POST", "/pets", "", `{"name":"Rex"}`, 403, ""},
		{"POST", "/pets", "cliTestKey0123456789abc", `{"nom":"Rex"}`, 422, ""},
		// createPet is not connected.
		{"POST", "/pets", "cliTestKey0123456789abc", `{"name":"Rex"}`, 502, ""},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		if c.key != "" {
			req.Header.Set("x-api-key", c.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || c.want != "" && string(b) != c.want {
			t.Errorf("%s %s = %d %s, want %d %s", c.method, c.path, resp.StatusCode, b, c.status, c.want)
		}
	}
	if events != 1 {
		t.Errorf("the connected function got %d events, want 1", events)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestServeBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-var", "novalue", petstore},
		{"serve", "-function", "f=ftp://x", petstore},
		{"serve", "-api-key", "short", petstore},
		{"serve", "-network", "office=not-a-cidr", petstore},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, io.Discard, &stderr, nil); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}
