package integration

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/reqctx"
)

func TestMock(t *testing.T) {
	vars := map[string]string{"env": "dev", "backend": "pets-dev"}
	tests := []struct {
		name    string
		mock    Mock
		method  string
		status  int
		body    string
		headers map[string]string
		bindErr string
	}{
		{name: "zero", mock: Mock{}, status: 200, body: "", headers: map[string]string{"Content-Type": "application/json", "Content-Length": "0"}},
		{name: "stage variables in body and headers",
			mock:   Mock{Status: 201, Header: http.Header{"X-Env": {"${stageVariables.env}", "static"}, "Content-Type": {"text/plain"}}, Body: `backend=${stageVariables.backend}`},
			status: 201, body: "backend=pets-dev", headers: map[string]string{"X-Env": "dev,static", "Content-Type": "text/plain", "Content-Length": "16"}},
		{name: "HEAD has no body", mock: Mock{Body: "hello"}, method: "HEAD", status: 200, body: "", headers: map[string]string{"Content-Length": "5"}},
		{name: "204 has no body", mock: Mock{Status: 204, Body: "ignored"}, status: 204, body: "", headers: map[string]string{"Content-Length": ""}},
		{name: "undefined variable in body", mock: Mock{Body: "${stageVariables.nope}"}, bindErr: `mock body: stage variable "nope" is not defined`},
		{name: "undefined variable in header", mock: Mock{Header: http.Header{"X": {"${stageVariables.nope}"}}}, bindErr: `mock header X: stage variable "nope"`},
		{name: "status out of range", mock: Mock{Status: 1000}, bindErr: "status 1000 out of range"},
		{name: "informational status", mock: Mock{Status: 100}, bindErr: "status 100 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := tt.mock.BindStage(vars)
			if tt.bindErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.bindErr) {
					t.Fatalf("BindStage error = %v, want %q", err, tt.bindErr)
				}
				// Unbound, a bad status is a configuration error.
				if tt.mock.Status != 0 {
					rec := httptest.NewRecorder()
					tt.mock.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
					if rec.Code != 500 {
						t.Fatalf("unbound mock with status %d answered %d, want 500", tt.mock.Status, rec.Code)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			method := tt.method
			if method == "" {
				method = "GET"
			}
			rc := &reqctx.Context{}
			r := httptest.NewRequest(method, "/", nil)
			r = r.WithContext(reqctx.With(r.Context(), rc))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.status || rec.Body.String() != tt.body || rc.IntegrationStatus != tt.status {
				t.Fatalf("got %d %q (rc %d), want %d %q", rec.Code, rec.Body, rc.IntegrationStatus, tt.status, tt.body)
			}
			for k, want := range tt.headers {
				if got := strings.Join(rec.Header().Values(k), ","); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestMockBindDoesNotChangeTheMock(t *testing.T) {
	m := Mock{Header: http.Header{"X-Env": {"${stageVariables.env}"}}, Body: "${stageVariables.env}"}
	if _, err := m.BindStage(map[string]string{"env": "dev"}); err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("X-Env") != "${stageVariables.env}" || m.Body != "${stageVariables.env}" {
		t.Fatalf("BindStage changed the mock: %+v", m)
	}
}
