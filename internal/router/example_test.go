package router_test

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/router"
)

func ExampleRouter() {
	var b router.Builder
	for i, r := range []struct {
		method, template string
	}{
		{"GET", "/pets"},
		{"POST", "/pets"},
		{"GET", "/pets/{id}"},
		{"POST", "/{proxy+}"},
	} {
		if err := b.Add(r.method, r.template, i); err != nil {
			fmt.Println(err)
			return
		}
	}
	rt, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}

	var p router.Params
	for _, req := range []struct{ method, path string }{
		{"GET", "/pets/7"},
		{"HEAD", "/pets/a%2Fb"},
		{"POST", "/pets/7"},
		{"DELETE", "/pets/"},
		{"GET", "/owners/1"},
		{"POST", "/"},
	} {
		m := rt.Lookup(req.method, req.path, &p)
		switch m.Result {
		case router.Found:
			fmt.Printf("%s %s: value %d from %s %s", req.method, req.path, m.Value, m.Method, m.Template)
			for i := 0; i < p.N; i++ {
				fmt.Printf(" %s=%s", p.Keys[i], p.Values[i])
			}
			fmt.Println()
		case router.MethodNotAllowed:
			fmt.Printf("%s %s: 405 on %s, Allow: %s\n", req.method, req.path, m.Template, m.Allow)
		default:
			fmt.Printf("%s %s: 404\n", req.method, req.path)
		}
	}
	// Output:
	// GET /pets/7: value 2 from GET /pets/{id} id=7
	// HEAD /pets/a%2Fb: value 2 from GET /pets/{id} id=a%2Fb
	// POST /pets/7: value 3 from POST /{proxy+} proxy=pets/7
	// DELETE /pets/: 405 on /pets, Allow: GET, POST
	// GET /owners/1: 405 on /{proxy+}, Allow: POST
	// POST /: 404
}

func ExampleTemplateError() {
	var b router.Builder
	_ = b.Add("GET", "/pets/{id}", 1)
	err := b.Add("GET", "/pets/{petId}/toys", 2)
	var te *router.TemplateError
	if errors.As(err, &te) {
		fmt.Println(te.Reason)
	}
	fmt.Println(b.Add("GET", "/a/{b", 3))
	// Output:
	// conflicting parameter names: {id} vs {petId} (route GET /pets/{id})
	// router: GET /a/{b: unclosed "{"
}
