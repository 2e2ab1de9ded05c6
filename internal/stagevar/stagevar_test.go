package stagevar

import (
	"errors"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"host": "pets.internal:8080", "alias": "live"}
	tests := []struct {
		name, in, want, err string
	}{
		{name: "no refs", in: "http://example.com/x", want: "http://example.com/x"},
		{name: "one", in: "http://${stageVariables.host}/p", want: "http://pets.internal:8080/p"},
		{name: "two", in: "${stageVariables.alias}-${stageVariables.alias}", want: "live-live"},
		{name: "undefined", in: "${stageVariables.nope}", err: `stage variable "nope" is not defined`},
		{name: "unclosed", in: "x${stageVariables.host", err: "unclosed"},
		{name: "bad name", in: "${stageVariables.a-b}", err: "bad stage variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.in, vars)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Expand(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	_, err := Expand("${stageVariables.nope}", vars)
	var ue *UndefinedError
	if !errors.As(err, &ue) || ue.Name != "nope" {
		t.Fatalf("error %v is not an UndefinedError for nope", err)
	}
}

func TestValidate(t *testing.T) {
	many := map[string]string{}
	for i := 0; i <= MaxVariables; i++ {
		many["v"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+strings.Repeat("1", i/26)] = "x"
	}
	tests := []struct {
		name string
		vars map[string]string
		err  string
	}{
		{name: "ok", vars: map[string]string{"host": "a.b:80/x?y=1&z=2,3#f~"}},
		{name: "empty map", vars: nil},
		{name: "bad name", vars: map[string]string{"a-b": "x"}, err: "name"},
		{name: "long name", vars: map[string]string{strings.Repeat("a", 65): "x"}, err: "name"},
		{name: "empty value", vars: map[string]string{"a": ""}, err: "1-512"},
		{name: "long value", vars: map[string]string{"a": strings.Repeat("v", 513)}, err: "1-512"},
		{name: "space in value", vars: map[string]string{"a": "x y"}, err: "character"},
		{name: "too many", vars: many, err: "at most 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.vars)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	got := References("${stageVariables.a}/${stageVariables.b}/${stageVariables.a}/${stageVariables.c")
	if strings.Join(got, ",") != "a,b" {
		t.Fatalf("References = %v, want [a b]", got)
	}
}

func FuzzExpand(f *testing.F) {
	f.Add("http://${stageVariables.host}/p")
	f.Add("${stageVariables.")
	f.Add("${stageVariables.}")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Expand(s, map[string]string{"host": "h"})
		if !strings.Contains(s, prefix) && (err != nil || out != s) {
			t.Fatalf("Expand(%q) = %q, %v; want the input unchanged", s, out, err)
		}
		if err == nil && strings.Contains(out, prefix) {
			t.Fatalf("Expand(%q) = %q left a reference", s, out)
		}
	})
}
