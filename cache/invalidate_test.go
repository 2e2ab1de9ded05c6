package cache

import (
	"net/http"
	"strings"
	"testing"
)

func TestAsksRefresh(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   bool
	}{
		{"absent", nil, false},
		{"max-age=0", []string{"max-age=0"}, true},
		{"upper case", []string{"Max-Age=0"}, true},
		{"spaces", []string{" no-cache ,  max-age = 0 "}, true},
		{"quoted zero", []string{`max-age="0"`}, true},
		{"many zeros", []string{"max-age=000"}, true},
		{"second header line", []string{"no-cache", "max-age=0"}, true},
		{"max-age=60", []string{"max-age=60"}, false},
		{"max-age=01", []string{"max-age=01"}, false},
		{"no value", []string{"max-age"}, false},
		{"empty value", []string{"max-age="}, false},
		{"no-cache alone", []string{"no-cache"}, false},
		{"inside a quoted string", []string{`community="x, max-age=0"`}, false},
		{"s-maxage=0", []string{"s-maxage=0"}, false},
		{"escaped quote", []string{`a="\", max-age=0", b`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := asksRefresh(http.Header{"Cache-Control": tt.values}); got != tt.want {
				t.Fatalf("asksRefresh(%q) = %v, want %v", tt.values, got, tt.want)
			}
		})
	}
}

func TestHeaderHasToken(t *testing.T) {
	tests := []struct {
		values []string
		token  string
		want   bool
	}{
		{[]string{"no-store"}, "no-store", true},
		{[]string{"max-age=5, No-Store"}, "no-store", true},
		{[]string{"no-store-ish"}, "no-store", false},
		{[]string{`x="no-store"`}, "no-store", false},
		{[]string{"a", "private"}, "private", true},
		{nil, "private", false},
	}
	for _, tt := range tests {
		if got := headerHasToken(tt.values, tt.token); got != tt.want {
			t.Errorf("headerHasToken(%q, %q) = %v, want %v", tt.values, tt.token, got, tt.want)
		}
	}
}

func TestCacheControlParsingDoesNotAllocate(t *testing.T) {
	h := http.Header{"Cache-Control": {`no-cache, community="a, b", max-age=0`}}
	if n := testing.AllocsPerRun(100, func() { asksRefresh(h) }); n != 0 {
		t.Fatalf("asksRefresh allocates %v times, want 0", n)
	}
}

// FuzzCacheControl checks that directive parsing never panics, that every
// directive name it reports is a trimmed, non-empty piece of the input, and
// that max-age=0 appended as a directive of its own is always found.
func FuzzCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=0", `a="b,c", max-age=0`, `x="\"`, ",,,", `"`, "max-age=\"0\"", "no-cache"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		eachDirective(v, func(name, arg string) bool {
			if name == "" || name != strings.TrimSpace(name) || !strings.Contains(v, name) {
				t.Fatalf("directive name %q from %q", name, v)
			}
			return true
		})
		asksRefresh(http.Header{"Cache-Control": {v}})
		if !asksRefresh(http.Header{"Cache-Control": {v, "max-age=0"}}) {
			t.Fatalf("max-age=0 on a line of its own not found after %q", v)
		}
	})
}
