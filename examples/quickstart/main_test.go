package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestQuickstart checks the responses the README shows.
func TestQuickstart(t *testing.T) {
	gw, err := newGateway()
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(context.Background())
	srv := httptest.NewServer(gw)
	defer srv.Close()
	tests := []struct {
		method, path, header string
		status               int
		body                 string
		deprecated           bool
	}{
		{"GET", "/prod/v1/pets/1", "", 200, `{"banner":"production","pet":{"id":"1","name":"Rex","kind":"dog"},"stage":"prod"}`, true},
		{"GET", "/dev/v2/pets/1", "", 200, `{"adoptable":true,"banner":"dev-build","id":"1","kind":"dog","name":"Rex","stage":"dev","version":"v2"}`, false},
		{"GET", "/prod/pets/2", "", 200, `{"banner":"production","id":"2","kind":"cat","name":"Tom","stage":"prod","version":"v2"}`, false},
		{"GET", "/prod/pets/2", "v1", 200, `{"banner":"production","pet":{"id":"2","name":"Tom","kind":"cat"},"stage":"prod"}`, true},
		{"GET", "/dev/v2/health", "", 200, `{"ok":true,"stage":"dev"}`, false},
		{"GET", "/dev/v1/pets", "", 200, `[{"id":"1","name":"Rex","kind":"dog"},{"id":"2","name":"Tom","kind":"cat"}]`, true},
		{"GET", "/prod/v1/owners", "", 404, `{"message":"Not Found"}`, true},
		{"DELETE", "/prod/v2/pets/1", "", 405, `{"message":"Method Not Allowed"}`, false},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		if tt.header != "" {
			req.Header.Set("Api-Version", tt.header)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || strings.TrimSpace(string(b)) != tt.body {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, res.StatusCode, b, tt.status, tt.body)
		}
		if got := res.Header.Get("Deprecation") != ""; got != tt.deprecated {
			t.Errorf("%s %s: deprecated = %v", tt.method, tt.path, got)
		}
	}
}
