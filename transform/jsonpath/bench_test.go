package jsonpath

import "testing"

func BenchmarkValue(b *testing.B) {
	doc, err := Decode([]byte(`{"store":{"book":[{"title":"A","price":8.95},{"title":"B","price":12.99},{"title":"C","price":5}]}}`))
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"$.store.book[1].title", "$.store.book[?@.price < 10].title"} {
		p, err := Parse(q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Value(doc)
			}
		})
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	doc, _ := Decode([]byte(`{"a":[1,2,3,{"b":"text with \"quotes\""}],"c":true,"d":null}`))
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], doc)
	}
}
