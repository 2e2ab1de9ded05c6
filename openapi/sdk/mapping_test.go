package sdk

import (
	"context"
	"errors"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

func loadTestDoc(t testing.TB, src string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(src))
	if err != nil {
		t.Fatalf("loading the document: %v\n%s", err, src)
	}
	return doc
}

// TestSchemaMapping maps the schema of a property "p" of an object
// "Holder" to Go (as a struct field) and TypeScript.
func TestSchemaMapping(t *testing.T) {
	tests := []struct {
		name, schema, goType, tsType string
	}{
		{"string", `{type: string}`, "string", "string"},
		{"nullable string", `{type: string, nullable: true}`, "*string", "string | null"},
		{"null in the types", `{type: [string, "null"]}`, "*string", "string | null"},
		{"integer", `{type: integer}`, "int64", "number"},
		{"int32", `{type: integer, format: int32}`, "int32", "number"},
		{"number", `{type: number}`, "float64", "number"},
		{"float", `{type: number, format: float}`, "float32", "number"},
		{"boolean", `{type: boolean}`, "bool", "boolean"},
		{"array", `{type: array, items: {type: string}}`, "[]string", "Array<string>"},
		{"array without items", `{type: array}`, "[]json.RawMessage", "Array<unknown>"},
		{"map", `{type: object, additionalProperties: {type: integer}}`, "map[string]int64", "Record<string, number>"},
		{"free-form object", `{type: object}`, "map[string]any", "Record<string, unknown>"},
		{"ref", `{$ref: "#/components/schemas/Pet"}`, "*Pet", "Pet"},
		{"ref to a string type", `{$ref: "#/components/schemas/Status"}`, "Status", "Status"},
		{"array of refs", `{type: array, items: {$ref: "#/components/schemas/Pet"}}`, "[]Pet", "Array<Pet>"},
		{"allOf wrapping a ref", `{allOf: [{$ref: "#/components/schemas/Pet"}], nullable: true}`, "*Pet", "Pet | null"},
		{"allOf merge", `{allOf: [{$ref: "#/components/schemas/Pet"}, {type: object, properties: {extra: {type: string}}}]}`,
			"*HolderP", "{\n  extra?: string;\n  id: string;\n}"},
		{"inline object", `{type: object, required: [a], properties: {a: {type: string}}}`, "*HolderP", "{\n  a: string;\n}"},
		{"inline enum", `{type: string, enum: [a, b]}`, "string", `"a" | "b"`},
		{"oneOf", `{oneOf: [{type: string}, {type: integer}]}`, "json.RawMessage", "unknown"},
		{"anyOf", `{anyOf: [{type: string}, {type: integer}]}`, "json.RawMessage", "unknown"},
		{"allOf of a string and an object", `{allOf: [{type: string}, {type: object}]}`, "json.RawMessage", "unknown"},
		{"several types", `{type: [string, integer]}`, "json.RawMessage", "unknown"},
		{"empty schema", `{}`, "json.RawMessage", "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := loadTestDoc(t, `
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Pet: {type: object, required: [id], properties: {id: {type: string}}}
    Status: {type: string, enum: [on, off]}
    Holder:
      type: object
      properties:
        p: `+tc.schema+`
`)
			p := doc.Components.Schemas["Holder"].Value.Properties["p"]
			m := newGoModels(doc, newNamespace(goReserved...))
			if got := fieldExpr(m.typeOf(p, "HolderP", 1)); got != tc.goType {
				t.Errorf("Go: got %s, want %s", got, tc.goType)
			}
			g := &tsGen{doc: doc, ns: newNamespace(), components: map[string]string{"Pet": "Pet", "Status": "Status", "Holder": "Holder"}, byValue: map[*openapi3.Schema]string{}}
			if got := g.typeOf(p, map[*openapi3.Schema]bool{}, 1); got != tc.tsType {
				t.Errorf("TypeScript: got %q, want %q", got, tc.tsType)
			}
		})
	}
}

// Required properties have no omitempty; optional ones do.
func TestGoStructTags(t *testing.T) {
	doc := loadTestDoc(t, `
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Pet:
      type: object
      required: [id, owner]
      properties:
        id: {type: string}
        name: {type: string}
        owner: {$ref: "#/components/schemas/Pet"}
        "-": {type: string}
`)
	src, err := Go(doc, GoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ID +string +`json:\"id\"`",
		"Name +string +`json:\"name,omitempty\"`",
		"Owner +\\*Pet +`json:\"owner\"`",
		"Field +string +`json:\"-,omitempty\"`",
	} {
		if !regexp.MustCompile(want).Match(src) {
			t.Errorf("no field matching %s in\n%s", want, src[strings.Index(string(src), "type Pet struct"):])
		}
	}
}

// TestDeterministic generates every test document's clients several times,
// each from a freshly loaded document, and compares the bytes.
func TestDeterministic(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no test documents")
	}
	for _, file := range files {
		var firstGo, firstTS []byte
		for i := range 5 {
			doc, err := openapi3.NewLoader().LoadFromFile(file)
			if err != nil {
				t.Fatal(err)
			}
			g, err := Go(doc, GoOptions{SigV4: true})
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			ts, err := TypeScript(doc, TSOptions{})
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if i == 0 {
				firstGo, firstTS = g, ts
				continue
			}
			if string(g) != string(firstGo) {
				t.Errorf("%s: Go output of run %d differs from run 0", file, i)
			}
			if string(ts) != string(firstTS) {
				t.Errorf("%s: TypeScript output of run %d differs from run 0", file, i)
			}
		}
	}
}

var (
	srcImporterOnce sync.Once
	srcImporter     types.Importer
	srcFset         = token.NewFileSet()
)

// typeCheck parses and type-checks generated Go code (with the standard
// library from source), failing the test on any error.
func typeCheck(t *testing.T, src []byte) {
	t.Helper()
	srcImporterOnce.Do(func() { srcImporter = importer.ForCompiler(srcFset, "source", nil) })
	f, err := parser.ParseFile(srcFset, "client.go", src, parser.ParseComments)
	if err != nil {
		t.Fatalf("generated code does not parse: %v\n%s", err, src)
	}
	conf := types.Config{Importer: srcImporter}
	if _, err := conf.Check("client", srcFset, []*ast.File{f}, nil); err != nil {
		t.Fatalf("generated code does not type-check: %v\n%s", err, src)
	}
}

// TestBadDocuments gives the generators documents that are empty, broken
// or recursive: they return an error or code that compiles, never panic
// or hang.
func TestBadDocuments(t *testing.T) {
	if _, err := Go(nil, GoOptions{}); !errors.Is(err, ErrNilDocument) {
		t.Errorf("Go(nil): %v, want ErrNilDocument", err)
	}
	if _, err := TypeScript(nil, TSOptions{}); !errors.Is(err, ErrNilDocument) {
		t.Errorf("TypeScript(nil): %v, want ErrNilDocument", err)
	}
	for _, pkg := range []string{"1pkg", "func", "a-b", "_", "main"} {
		if _, err := Go(&openapi3.T{}, GoOptions{Package: pkg}); err == nil || !strings.Contains(err.Error(), "Package") {
			t.Errorf("Go with package %q: %v, want an error naming GoOptions.Package", pkg, err)
		}
	}
	for _, class := range []string{"client", "My Client", "1A"} {
		if _, err := TypeScript(&openapi3.T{}, TSOptions{ClientName: class}); err == nil {
			t.Errorf("TypeScript with class %q: no error", class)
		}
	}

	// A cycle of inline schemas with no $ref, as code can build.
	cyclic := &openapi3.Schema{Type: &openapi3.Types{"object"}}
	cyclic.Properties = openapi3.Schemas{"self": {Value: cyclic}, "list": {Value: &openapi3.Schema{Type: &openapi3.Types{"array"}, Items: &openapi3.SchemaRef{Value: cyclic}}}}
	wrapper := &openapi3.Schema{}
	wrapper.AllOf = openapi3.SchemaRefs{{Value: wrapper}}
	ok200 := func(s *openapi3.SchemaRef) *openapi3.Responses {
		r := openapi3.NewResponses()
		r.Set("200", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("ok").WithJSONSchemaRef(s)})
		return r
	}
	paths := func(items map[string]*openapi3.PathItem) *openapi3.Paths {
		p := openapi3.NewPaths()
		for k, v := range items {
			p.Set(k, v)
		}
		return p
	}
	docs := map[string]*openapi3.T{
		"empty":                     {},
		"placeholders in the title": {Info: &openapi3.Info{Title: "{{SIGV4IMPORTS}} {{PACKAGE}} {{CLIENT}}"}},
		"no paths":                  {Components: &openapi3.Components{}},
		"operation without responses": {Paths: paths(map[string]*openapi3.PathItem{
			"/x": {Get: &openapi3.Operation{}, Post: &openapi3.Operation{Responses: openapi3.NewResponses()}},
			"/y": nil,
		})},
		"inline cycle": {Paths: paths(map[string]*openapi3.PathItem{"/c": {Get: &openapi3.Operation{Responses: ok200(&openapi3.SchemaRef{Value: cyclic})}}})},
		"allOf cycle":  {Paths: paths(map[string]*openapi3.PathItem{"/w": {Get: &openapi3.Operation{Responses: ok200(&openapi3.SchemaRef{Value: wrapper})}}})},
		"unresolved refs": {
			Paths: paths(map[string]*openapi3.PathItem{"/u/{id}": {Put: &openapi3.Operation{
				Parameters:  openapi3.Parameters{{Ref: "#/components/parameters/Missing"}, nil},
				RequestBody: &openapi3.RequestBodyRef{Ref: "#/components/requestBodies/Missing"},
				Responses:   ok200(&openapi3.SchemaRef{Ref: "#/components/schemas/Missing"}),
			}}}),
			Components: &openapi3.Components{Schemas: openapi3.Schemas{
				"A":    {Ref: "#/components/schemas/B"},
				"B":    {Ref: "#/components/schemas/A"},
				"C":    {Ref: "other.yaml#/C"},
				"Nil":  nil,
				"Self": {Value: cyclic},
			}},
		},
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			done := make(chan struct{})
			var src, ts []byte
			var goErr, tsErr error
			go func() {
				defer close(done)
				src, goErr = Go(doc, GoOptions{})
				ts, tsErr = TypeScript(doc, TSOptions{})
			}()
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatal("generation did not finish in 20s")
			}
			if goErr != nil || tsErr != nil {
				t.Fatalf("Go: %v; TypeScript: %v", goErr, tsErr)
			}
			typeCheck(t, src)
			if _, err := Go(doc, GoOptions{SigV4: true}); err != nil {
				t.Errorf("Go with SigV4: %v", err)
			}
			if !strings.Contains(string(ts), "export class Client") {
				t.Errorf("TypeScript output has no client class:\n%s", ts)
			}
		})
	}
}

// TestEdgeDocumentTypeChecks type-checks the Go clients of the test
// documents (one full of odd names, schemas and parameters), and checks
// that without GoOptions.SigV4 they import only the standard library.
func TestEdgeDocumentTypeChecks(t *testing.T) {
	for _, name := range []string{"edge.yaml", "petstore.yaml", "cycles.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		src, err := Go(loadTestDoc(t, string(b)), GoOptions{Package: "edge"})
		if err != nil {
			t.Fatal(err)
		}
		typeCheck(t, src)
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if first, _, _ := strings.Cut(strings.Trim(imp.Path.Value, `"`), "/"); strings.Contains(first, ".") {
				t.Errorf("%s: the client without SigV4 imports %s, not from the standard library", name, imp.Path.Value)
			}
		}
	}
}

// Operations say which credentials they need, from the document's
// security schemes.
func TestAuthDocs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "petstore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := loadTestDoc(t, string(b))
	src, err := Go(doc, GoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := TypeScript(doc, TSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"// It needs an API key.\nfunc (c *Client) GetSecret(", "// It needs AWS SigV4 signing.\nfunc (c *Client) DeletePet("} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the Go client has no %q", want)
		}
	}
	for _, want := range []string{"   * It needs an API key.\n", "   * It needs AWS SigV4 signing.\n"} {
		if !strings.Contains(string(ts), want) {
			t.Errorf("the TypeScript client has no %q", want)
		}
	}
	if n := strings.Count(string(src), "It needs"); n != 3 {
		t.Errorf("%d operations say they need credentials, want 3", n)
	}
}
