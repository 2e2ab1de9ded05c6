package openapi_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/openapi"
)

// FuzzImport feeds documents to Import: it must never panic, and an API
// it imports must either deploy or fail to deploy with an error.
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(deployDoc))
	f.Add([]byte(`{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/a/{b}":{"get":{"responses":{"200":{"description":"ok"}}}}}}`))
	f.Add([]byte("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n"))
	f.Add([]byte("openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents: {schemas: {A: {$ref: '#/components/schemas/A'}}}\n"))
	reg := registry()
	f.Fuzz(func(t *testing.T, data []byte) {
		imp, err := openapi.Import(data, openapi.ImportOptions{Registry: reg, ValidateRequests: true})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error with no message")
			}
			return
		}
		if imp.API == nil {
			t.Fatal("no error and no API")
		}
		gw, err := portico.New()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = gw.Shutdown(context.Background()) }()
		if _, err := gw.Deploy(imp.API, portico.StageConfig{Name: "fuzz", Auth: imp.Endpoint}); err != nil {
			if err.Error() == "" {
				t.Fatal("a deploy error with no message")
			}
			return
		}
		if _, _, err := openapi.Export(imp.API, openapi.ExportOptions{}); err != nil {
			t.Fatalf("an imported API does not export: %v", err)
		}
	})
}
