package jsonpath

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzJSONPath parses a query and runs it on a document: neither may
// panic, and a document that decodes re-encodes to JSON that decodes to
// the same rendering.
func FuzzJSONPath(f *testing.F) {
	doc := `{"store":{"book":[{"title":"A","price":8.95,"tags":["x"]},{"title":"B","price":12.99}],"bicycle":{"color":"red","price":19.95}},"n":null,"big":12345678901234567890}`
	for _, q := range []string{
		"$", "$.store.book[0].title", "$.store.book[*].price", "$..price", "$.store.book[?@.price < 10].title",
		"$['store']['bicycle']", "$.store.book[-1:]", "$.store.book[::2]", "$[?length(@) > 1]", "$.missing.deeper",
		"$.store.book[?match(@.title, 'A.*')]", "$..*", "$.big", "$[", "$.a[?", "store",
	} {
		f.Add(q, doc)
	}
	f.Add("$.a", `[[[[[[[[[[]]]]]]]]]]`)
	f.Add("$..a", `{"a":{"a":{"a":1}}}`)
	f.Fuzz(func(t *testing.T, q, body string) {
		wd := time.AfterFunc(10*time.Second, func() { panic("slow input: " + strconv.Quote(q) + " doc " + strconv.Quote(body)) })
		defer wd.Stop()
		p, err := Parse(q)
		if err != nil {
			if strings.Contains(err.Error(), "panicked") {
				t.Fatalf("Parse(%q) panicked: %v", q, err)
			}
			return
		}
		v, err := Decode([]byte(body))
		if err != nil {
			return
		}
		_ = p.selectNodes(v) // without the recover of Select
		got, _ := p.Value(v)
		out := AppendJSON(nil, got)
		back, err := Decode(out)
		if err != nil {
			t.Fatalf("AppendJSON output %q does not decode: %v", out, err)
		}
		if again := AppendJSON(nil, back); string(again) != string(out) {
			t.Fatalf("round trip changed %q into %q", out, again)
		}
	})
}

// TestSingularWalk checks the engine-free evaluation of singular queries
// against the engine.
func TestSingularWalk(t *testing.T) {
	doc, err := Decode([]byte(`{"a":{"b":[10,{"c":"x"},30]},"k.y":1,"":2}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"$", "$.a", "$.a.b[1].c", "$.a.b[-1]", "$.a.b[-4]", "$.a.b[3]", "$['k.y']", "$['']", "$.a.b.c", "$.nope", "$[0]"} {
		p, err := Parse(q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", q, err)
		}
		if !p.Singular() {
			t.Fatalf("%q is singular", q)
		}
		got, gotOK := p.Value(doc)
		nodes := p.selectNodes(doc)
		want, wantOK := any(nil), len(nodes) > 0
		if wantOK {
			want = nodes[0]
		}
		if gotOK != wantOK || string(AppendJSON(nil, got)) != string(AppendJSON(nil, want)) {
			t.Errorf("Value(%q) = %v, %v; the engine says %v, %v", q, got, gotOK, want, wantOK)
		}
	}
	p, _ := Parse("$.a.b[1].c")
	if n := testing.AllocsPerRun(100, func() { p.Value(doc) }); n != 0 {
		t.Errorf("a singular query allocates %v times, want 0", n)
	}
}
