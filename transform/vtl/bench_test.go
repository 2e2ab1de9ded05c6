package vtl

import (
	"context"
	"testing"
)

func BenchmarkExecute(b *testing.B) {
	tpl, err := Parse(`#set($root = $d)
[
#foreach($p in $root.pets)
  {"description": "Item $p.id is a $p.type.", "price": $p.price}#if($foreach.hasNext),#end
#end
]`, Options{})
	if err != nil {
		b.Fatal(err)
	}
	vars := MapVars{"d": map[string]any{"pets": []any{
		map[string]any{"id": int64(1), "type": "dog", "price": 249.99},
		map[string]any{"id": int64(2), "type": "cat", "price": 124.99},
		map[string]any{"id": int64(3), "type": "fish", "price": 0.99},
	}}}
	ctx := context.Background()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = tpl.Execute(ctx, buf[:0], vars, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	src := `#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {"id": "$elem.id", "title": "$util.escapeJavaScript($elem.title)", "public": $elem.ispublic}#if($foreach.hasNext),#end
#end
  ]
}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src, Options{Objects: map[string][]string{"input": {"path"}, "util": {"escapeJavaScript"}}}); err != nil {
			b.Fatal(err)
		}
	}
}
