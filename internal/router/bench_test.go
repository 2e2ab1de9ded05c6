package router

import (
	"fmt"
	"strings"
	"testing"
)

var (
	benchResources = []string{"users", "orders", "products", "invoices", "carts", "reviews", "shipments", "payments", "coupons", "stores"}
	benchVersions  = []string{"v1", "v2"}
)

// routes200 is a realistic mix of 200 routes as "METHOD /template": 120
// literal, 60 with parameters and 20 greedy.
func routes200() []string {
	rs := []string{
		"GET /", "GET /health", "GET /status", "GET /metrics", "GET /openapi.json",
		"GET /docs", "POST /login", "POST /logout", "GET /me", "GET /me/settings",
		"PUT /me/settings", "GET /admin/users", "GET /admin/audit", "GET /admin/config", "PUT /admin/config",
		"GET /v1", "GET /v2", "OPTIONS /v1/users", "OPTIONS /v2/users", "GET /.well-known/jwks.json",
	}
	for _, v := range benchVersions {
		for _, r := range benchResources {
			rs = append(rs,
				fmt.Sprintf("GET /%s/%s", v, r),
				fmt.Sprintf("POST /%s/%s", v, r),
				fmt.Sprintf("GET /%s/%s/search", v, r),
				fmt.Sprintf("GET /%s/%s/stats", v, r),
				fmt.Sprintf("GET /%s/%s/export", v, r),
				fmt.Sprintf("GET /%s/%s/{id}", v, r),
				fmt.Sprintf("PUT /%s/%s/{id}", v, r),
				fmt.Sprintf("GET /%s/%s/{id}/items", v, r),
			)
		}
	}
	for i, r := range benchResources {
		rs = append(rs, fmt.Sprintf("ANY /v2/%s/{id}/{proxy+}", r))
		if i < 7 {
			rs = append(rs, fmt.Sprintf("GET /v1/%s/files/{key+}", r))
		}
	}
	return append(rs, "ANY /assets/{path+}", "GET /static/{file+}", "ANY /legacy/{proxy+}")
}

type benchPath struct {
	kind, method, path string
	want               Result
}

// benchPaths are requests against routes200, by kind.
func benchPaths() []benchPath {
	return []benchPath{
		{"literal", "GET", "/v1/users/search", Found},
		{"literal", "POST", "/v2/orders", Found},
		{"literal", "GET", "/health", Found},
		{"literal", "PUT", "/admin/config/", Found},
		{"literal", "GET", "/v2/stores/export", Found},
		{"literal", "GET", "/.well-known/jwks.json", Found},
		{"param", "GET", "/v2/orders/123/items", Found},
		{"param", "PUT", "/v1/products/p-9", Found},
		{"param", "GET", "/v1/users/42", Found},
		{"param", "HEAD", "/v2/shipments/s%2F1", Found},
		{"greedy", "PATCH", "/assets/css/site.css", Found},
		{"greedy", "GET", "/static/js/vendor/app.js", Found},
		{"greedy", "DELETE", "/v2/carts/c1/lines/3", Found},
		{"greedy", "GET", "/v1/carts/files/2026/11/a.pdf", Found},
		{"greedy", "POST", "/v2/users/42/avatar", Found},
		{"notfound", "GET", "/nothing/here", NotFound},
		{"notfound", "GET", "/v3/users", NotFound},
		{"notfound", "GET", "/v1/unknown/1/2", NotFound},
		{"notfound", "GET", "/v1/users/search/x/y", NotFound},
		{"notfound", "GET", "/assets", NotFound},
		{"notallowed", "PATCH", "/v1/users", MethodNotAllowed},
		{"notallowed", "DELETE", "/v1/orders/1", MethodNotAllowed},
	}
}

func TestBenchRoutes(t *testing.T) {
	routes := routes200()
	counts := map[string]int{}
	for _, r := range routes {
		switch {
		case strings.Contains(r, "+}"):
			counts["greedy"]++
		case strings.Contains(r, "{"):
			counts["param"]++
		default:
			counts["literal"]++
		}
	}
	if len(routes) != 200 || counts["literal"] != 120 || counts["param"] != 60 || counts["greedy"] != 20 {
		t.Errorf("routes200: %d routes %v, want 200: 120 literal, 60 param, 20 greedy", len(routes), counts)
	}
	rt := build(t, routes...)
	for _, c := range benchPaths() {
		t.Run(c.kind+" "+c.method+" "+c.path, func(t *testing.T) {
			var p Params
			m := rt.Lookup(c.method, c.path, &p)
			if m.Result != c.want {
				t.Fatalf("Lookup = %+v, want %v", m, c.want)
			}
			if c.kind == "greedy" && !strings.Contains(m.Template, "+}") {
				t.Errorf("Template = %q, want a greedy one", m.Template)
			}
			if c.kind == "param" && (!strings.Contains(m.Template, "{") || strings.Contains(m.Template, "+}")) {
				t.Errorf("Template = %q, want one with parameters, not greedy", m.Template)
			}
		})
	}
}

func BenchmarkLookup200(b *testing.B) {
	rt := build(b, routes200()...)
	paths := benchPaths()
	for _, kind := range []string{"literal", "param", "greedy", "notfound", "notallowed"} {
		var cases []benchPath
		for _, c := range paths {
			if c.kind == kind {
				cases = append(cases, c)
			}
		}
		b.Run(kind, func(b *testing.B) {
			var p Params
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c := &cases[i]
				if rt.Lookup(c.method, c.path, &p).Result != c.want {
					b.Fatalf("Lookup(%q, %q): want %v", c.method, c.path, c.want)
				}
				if i++; i == len(cases) {
					i = 0
				}
			}
		})
	}
}
