package sdk_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico/openapi/sdk"
)

// FuzzGo generates clients from arbitrary documents: generation never
// panics or fails on a document that loads, and the Go output parses.
func FuzzGo(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/{a}/{a}":{"get":{"operationId":"x","parameters":[{"name":"a","in":"path"}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(data)
		if err != nil {
			return
		}
		src, err := sdk.Go(doc, sdk.GoOptions{SigV4: true})
		if err != nil {
			t.Fatalf("Go: %v", err)
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "client.go", src, 0); err != nil {
			t.Fatalf("the Go output does not parse: %v\n%s", err, src)
		}
		if _, err := sdk.TypeScript(doc, sdk.TSOptions{}); err != nil {
			t.Fatalf("TypeScript: %v", err)
		}
	})
}
