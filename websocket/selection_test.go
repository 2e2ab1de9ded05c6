package websocket

import (
	"errors"
	"testing"
)

func TestSelector(t *testing.T) {
	tests := []struct {
		name, expr, msg string
		want            string
		wantOK          bool
	}{
		{name: "default action", expr: "", msg: `{"action":"send"}`, want: "send", wantOK: true},
		{name: "missing", expr: "", msg: `{"other":1}`, want: "", wantOK: true},
		{name: "not JSON", expr: "", msg: `hello`, want: "", wantOK: false},
		{name: "number stringified", expr: "$request.body.n", msg: `{"n":12}`, want: "12", wantOK: true},
		{name: "object as JSON", expr: "$request.body.o", msg: `{"o":{"a":true}}`, want: `{"a":true}`, wantOK: true},
		{name: "nested path", expr: "$request.body.a.b[1].c", msg: `{"a":{"b":[{},{"c":"x"}]}}`, want: "x", wantOK: true},
		{name: "quoted name", expr: "$request.body['odd key']", msg: `{"odd key":"y"}`, want: "y", wantOK: true},
		{name: "index out of range", expr: "$request.body.a[5]", msg: `{"a":[1]}`, want: "", wantOK: true},
		{name: "template", expr: "${request.body.type}/${request.body.action}", msg: `{"type":"chat","action":"send"}`, want: "chat/send", wantOK: true},
		{name: "array body", expr: "$request.body.action", msg: `[1,2]`, want: "", wantOK: true},
		{name: "null", expr: "$request.body.action", msg: `{"action":null}`, want: "", wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSelectionExpression(tt.expr)
			if err != nil {
				t.Fatalf("ParseSelectionExpression(%q): %v", tt.expr, err)
			}
			got, ok := s.Select([]byte(tt.msg))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Select(%s) = %q, %v; want %q, %v", tt.msg, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseSelectionExpressionErrors(t *testing.T) {
	tests := []struct{ name, expr string }{
		{"not request.body", "$request.header.x"},
		{"no path", "$request.body"},
		{"empty name", "$request.body..a"},
		{"unclosed bracket", "$request.body.a[1"},
		{"bad index", "$request.body.a[-1]"},
		{"unclosed template", "${request.body.a"},
		{"template other source", "${context.x}"},
		{"junk", "$request.bodyx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSelectionExpression(tt.expr)
			if !errors.Is(err, ErrBadExpression) {
				t.Errorf("ParseSelectionExpression(%q) error = %v, want ErrBadExpression", tt.expr, err)
			}
		})
	}
}

func FuzzSelectionExpression(f *testing.F) {
	f.Add("$request.body.action", `{"action":"x"}`)
	f.Add("${request.body.a}-${request.body.b[0]}", `{"a":1,"b":[true]}`)
	f.Add("$request.body['k'].z", `{"k":{"z":"q"}}`)
	f.Add("${", "")
	f.Fuzz(func(t *testing.T, expr, msg string) {
		s, err := ParseSelectionExpression(expr)
		if err != nil {
			if !errors.Is(err, ErrBadExpression) {
				t.Fatalf("error %v does not wrap ErrBadExpression", err)
			}
			return
		}
		s.Select([]byte(msg))
	})
}
