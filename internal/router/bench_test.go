package router

import (
	"fmt"
	"testing"
)

// routes200 is a realistic mix of 200 routes: literal resources,
// parameters and greedy catch-alls.
func routes200() []string {
	var rs []string
	resources := []string{"users", "orders", "products", "invoices", "carts", "reviews", "shipments", "payments", "coupons", "stores"}
	for _, r := range resources {
		for _, v := range []string{"v1", "v2"} {
			rs = append(rs,
				fmt.Sprintf("GET /%s/%s", v, r),
				fmt.Sprintf("POST /%s/%s", v, r),
				fmt.Sprintf("GET /%s/%s/search", v, r),
				fmt.Sprintf("GET /%s/%s/stats", v, r),
				fmt.Sprintf("GET /%s/%s/export", v, r),
				fmt.Sprintf("GET /%s/%s/{id}", v, r),
				fmt.Sprintf("PUT /%s/%s/{id}", v, r),
				fmt.Sprintf("DELETE /%s/%s/{id}", v, r),
				fmt.Sprintf("GET /%s/%s/{id}/items/{item}", v, r),
			)
		}
		rs = append(rs, fmt.Sprintf("ANY /%s/{proxy+}", r))
	}
	for i := 0; len(rs) < 200; i++ {
		rs = append(rs, fmt.Sprintf("GET /static/page%d", i))
	}
	return rs
}

func benchRouter(b *testing.B) *Router {
	var bld Builder
	for i, r := range routes200() {
		var m, p string
		fmt.Sscanf(r, "%s %s", &m, &p)
		if err := bld.Add(m, p, i); err != nil {
			b.Fatal(err)
		}
	}
	rt, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	return rt
}

func BenchmarkLookup200(b *testing.B) {
	rt := benchRouter(b)
	cases := []struct{ name, method, path string }{
		{"literal", "GET", "/v2/payments/stats"},
		{"param", "GET", "/v1/orders/12345/items/9"},
		{"greedy", "PATCH", "/stores/a/b/c/d"},
		{"notfound", "GET", "/nothing/here/at/all"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var p Params
			b.ReportAllocs()
			for b.Loop() {
				rt.Lookup(c.method, c.path, &p)
			}
		})
	}
}
