package router_test

import (
	"fmt"

	"github.com/portico-gw/portico/internal/router"
)

func ExampleRouter() {
	var b router.Builder
	_ = b.Add("GET", "/pets/{id}", 1)
	_ = b.Add("ANY", "/{proxy+}", 2)
	rt, _ := b.Build()
	var p router.Params
	m := rt.Lookup("GET", "/pets/7", &p)
	fmt.Println(m.Value, m.Template, p.Keys[0], p.Values[0])
	m = rt.Lookup("POST", "/pets/7", &p)
	fmt.Println(m.Value, m.Method, p.Values[0])
	// Output:
	// 1 /pets/{id} id 7
	// 2 ANY pets/7
}
