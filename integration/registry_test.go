package integration

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func named(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, s) })
}

func TestRegistry(t *testing.T) {
	reg := Registry{
		"getPet":      named("plain"),
		"getPet:live": named("live"),
		"other":       named("other"),
		"arn:aws:lambda:eu-west-1:123456789012:function:exact": named("exact ARN"),
		"greeting": Mock{Body: "hello from ${stageVariables.env}"},
	}
	reg["alias"] = Ref(reg, "getPet:live") // a reference to a reference
	reg["loop"] = Ref(reg, "loop")
	tests := []struct {
		name, ref string
		vars      map[string]string
		want, err string
	}{
		{name: "plain name", ref: "getPet", want: "plain"},
		{name: "alias from a stage variable", ref: "getPet:${stageVariables.alias}", vars: map[string]string{"alias": "live"}, want: "live"},
		{name: "name from a stage variable", ref: "${stageVariables.fn}", vars: map[string]string{"fn": "other"}, want: "other"},
		{name: "function ARN with alias", ref: "arn:aws:lambda:us-east-1:123456789012:function:getPet:live", want: "live"},
		{name: "function ARN, unknown alias falls back to the name", ref: "arn:aws:lambda:us-east-1:123456789012:function:getPet:beta", want: "plain"},
		{name: "function ARN without alias", ref: "arn:aws:lambda:us-east-1:123456789012:function:other", want: "other"},
		{name: "function ARN in another partition", ref: "arn:aws-cn:lambda:cn-north-1:123456789012:function:other", want: "other"},
		{name: "exact ARN", ref: "arn:aws:lambda:eu-west-1:123456789012:function:exact", want: "exact ARN"},
		{name: "alias in an ARN from a stage variable", ref: "arn:aws:lambda:us-east-1:123456789012:function:getPet:${stageVariables.alias}", vars: map[string]string{"alias": "live"}, want: "live"},
		{name: "invocation URI", ref: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:other/invocations", want: "other"},
		{name: "invocation URI with alias", ref: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:getPet:live/invocations", want: "live"},
		{name: "registered Binder is bound", ref: "greeting", vars: map[string]string{"env": "dev"}, want: "hello from dev"},
		{name: "reference to a reference", ref: "alias", want: "live"},
		{name: "unknown", ref: "nope", err: `function "nope" (from "nope"): not in the registry`},
		{name: "unknown from a stage variable", ref: "getPet:${stageVariables.alias}", vars: map[string]string{"alias": "beta"}, err: `function "getPet:beta" (from "getPet:${stageVariables.alias}"): not in the registry`},
		{name: "undefined variable", ref: "getPet:${stageVariables.alias}", err: `function "getPet:${stageVariables.alias}": stage variable "alias" is not defined`},
		{name: "registered Binder fails", ref: "greeting", err: `function "greeting": mock body: stage variable "env"`},
		{name: "short ARN", ref: "arn:aws:lambda:x", err: "not in the registry"},
		{name: "ARN of another resource", ref: "arn:aws:lambda:us-east-1:123456789012:layer:getPet", err: "not in the registry"},
		{name: "ARN with too many parts", ref: "arn:aws:lambda:us-east-1:123456789012:function:getPet:live:x", err: "not in the registry"},
		{name: "invocation URI of another service", ref: "arn:aws:apigateway:us-east-1:s3:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:other/invocations", err: "not in the registry"},
		{name: "invocation URI without /invocations", ref: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:other", err: "not in the registry"},
		{name: "cycle", ref: "loop", err: "nest deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Ref(reg, tt.ref).BindStage(tt.vars)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("BindStage error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Body.String() != tt.want {
				t.Fatalf("served %q, want %q", rec.Body, tt.want)
			}
		})
	}
}

func TestRefUnbound(t *testing.T) {
	reg := Registry{"getPet": named("plain")}
	tests := []struct {
		name, ref string
		status    int
		body      string
	}{
		{name: "resolves", ref: "getPet", status: 200, body: "plain"},
		{name: "unknown", ref: "nope", status: 500, body: `{"message":"Internal server error"}`},
		{name: "stage variable without a stage", ref: "${stageVariables.fn}", status: 500, body: `{"message":"Internal server error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := Ref(reg, tt.ref)
			for range 2 { // the second request uses the cached resolution
				rec := httptest.NewRecorder()
				ref.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				if rec.Code != tt.status || rec.Body.String() != tt.body {
					t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tt.status, tt.body)
				}
			}
			if ref.Name() != tt.ref {
				t.Fatalf("Name() = %q, want %q", ref.Name(), tt.ref)
			}
		})
	}
}

func TestRegistryResolve(t *testing.T) {
	reg := Registry{"getPet": Mock{}, "getPet:live": Mock{}}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"getPet", "getPet", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:getPet", "getPet", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:getPet:live", "getPet:live", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:getPet:old", "getPet", true},
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:getPet/invocations", "getPet", true},
		{"putPet", "", false},
		{"arn:aws:lambda:us-east-1:123456789012:function:putPet", "", false},
	} {
		key, ok := reg.Resolve(tc.name)
		if key != tc.want || ok != tc.ok {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tc.name, key, ok, tc.want, tc.ok)
		}
	}
}
