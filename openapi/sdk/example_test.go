package sdk_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico/openapi/sdk"
)

// Generate a Go client and list the methods of its Client.
func ExampleGo() {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(`
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        "200":
          description: The pets.
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
  /pets/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: A pet.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
components:
  schemas:
    Pet:
      type: object
      required: [id]
      properties:
        id: {type: string}
        name: {type: string}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := sdk.Go(doc, sdk.GoOptions{Package: "pets"})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := parser.ParseFile(token.NewFileSet(), "client.go", src, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil && fn.Name.IsExported() {
			if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok && star.X.(*ast.Ident).Name == "Client" {
				fmt.Println(fn.Name.Name)
			}
		}
	}
	// Output:
	// ListPets
	// GetPetsID
}
