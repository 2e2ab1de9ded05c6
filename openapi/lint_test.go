package openapi_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/openapi"
	"github.com/portico-gw/portico/reqctx"
)

// richStage deploys an imported API with, added in code, every setting an
// export writes: CORS, binary media types, compression, gateway
// responses, a resource policy, a custom authorizer, an ANY greedy route,
// a Go handler, on a private endpoint.
func richStage(t *testing.T) *portico.Stage {
	t.Helper()
	reg := registry()
	reg["createItem"] = reg["createPet"]
	imp, err := openapi.Import([]byte(deployDoc), openapi.ImportOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	api := imp.API
	api.CORS = &portico.CORS{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET"}, MaxAge: time.Minute}
	api.BinaryMediaTypes = []string{"image/png"}
	api.Transform.CompressResponses, api.Transform.MinimumCompressionSize = true, 512
	api.GatewayResponses = map[reqctx.ResponseType]portico.GatewayResponse{
		reqctx.Default4XX: {Headers: map[string]string{"X-Request": "$context.requestId"}},
	}
	api.Auth.ResourcePolicy = []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}`)
	api.Auth.Authorizers = map[string]portico.Authorizer{
		"token": {Type: portico.AuthorizerToken, Integration: integration.Ref(reg, "authorize"), IdentitySources: []string{"method.request.header.Authorization"}},
	}
	api.AddRoute(portico.Route{Method: "ANY", Path: "/files/{proxy+}", OperationName: "files",
		Integration: &integration.HTTPProxy{Target: "https://files.example.com/{proxy}"},
		Auth:        portico.RouteAuth{Authorizer: "token"}})
	api.AddRoute(portico.Route{Method: "GET", Path: "/version", Integration: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})})
	gw, err := portico.New(portico.WithAPIKeys(auth.NewMemoryKeyStore()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })
	stage, err := gw.Deploy(api, portico.StageConfig{
		Name:      "prod",
		Variables: map[string]string{"backend": "127.0.0.1:1"},
		Auth:      portico.StageAuth{EndpointType: portico.EndpointPrivate, AllowedNetworks: []string{"vpce-0abc"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return stage
}

// TestLintExports lints exports of a rich stage and of an API with every
// extension with Redocly's recommended rules: no errors are allowed;
// warnings are printed.
func TestLintExports(t *testing.T) {
	node, dir := nodeDir(t)
	stage := richStage(t)
	imp, err := openapi.Import(readTestdata(t, "petstore-extensions.yaml"), openapi.ImportOptions{Registry: registry()})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	var files []string
	for _, src := range []struct {
		name string
		v    any
	}{{"stage", stage}, {"petstore", imp.API}} {
		for _, spec := range []openapi.Spec{openapi.OpenAPI30, openapi.Swagger20} {
			for _, omit := range []bool{false, true} {
				out, warns, err := openapi.Export(src.v, openapi.ExportOptions{Spec: spec, Format: openapi.YAML, OmitExtensions: omit, BaseURL: "https://api.example.com/shop"})
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range warns {
					t.Logf("%s %s: export warning %s", src.name, spec, w)
				}
				name := src.name + "-" + string(spec)
				if omit {
					name += "-plain"
				}
				f := filepath.Join(tmp, name+".yaml")
				if err := os.WriteFile(f, out, 0o600); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli := filepath.Join(dir, "node_modules", "@redocly", "cli", "bin", "cli.js")
	args := append([]string{cli, "lint", "--format=stylish", "--config", filepath.Join(dir, "..", "redocly.yaml")}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	text := regexp.MustCompile(`(?m)^.*[║╔╚].*\n`).ReplaceAllString(string(out), "")
	t.Logf("redocly lint:\n%s", text)
	if err != nil {
		t.Fatalf("redocly lint found errors (%v)", err)
	}
	if strings.Contains(text, "error") && !strings.Contains(text, "0 errors") && strings.Contains(text, "Validation failed") {
		t.Fatal("redocly lint reported errors")
	}
}
