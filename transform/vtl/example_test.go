package vtl_test

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/transform/vtl"
)

func ExampleParse() {
	t, err := vtl.Parse(`#set($total = 0)
#foreach($item in $order.items)
#set($total = $total + $item.qty)
- $item.name x$item.qty
#end
Total: $total item#if($total != 1)s#end`, vtl.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	order := map[string]any{"items": []any{
		map[string]any{"name": "pen", "qty": int64(2)},
		map[string]any{"name": "ink", "qty": int64(1)},
	}}
	out, err := t.Execute(context.Background(), nil, vtl.MapVars{"order": order}, vtl.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// - pen x2
	// - ink x1
	// Total: 3 items
}
