package jsonpath_test

import (
	"fmt"

	"github.com/portico-gw/portico/transform/jsonpath"
)

func ExamplePath_Value() {
	doc, _ := jsonpath.Decode([]byte(`{"items": [{"name": "pen", "price": 2}, {"name": "desk", "price": 120}]}`))
	for _, q := range []string{"$.items[0].name", "$.items[?@.price > 10].name", "$.missing"} {
		p, err := jsonpath.Parse(q)
		if err != nil {
			fmt.Println(err)
			return
		}
		v, ok := p.Value(doc)
		fmt.Printf("%s: %s %v\n", q, jsonpath.AppendJSON(nil, v), ok)
	}
	// Output:
	// $.items[0].name: "pen" true
	// $.items[?@.price > 10].name: ["desk"] true
	// $.missing: null false
}
