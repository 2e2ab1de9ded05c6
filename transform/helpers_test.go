package transform

import (
	"encoding/json"
	"reflect"
	"testing"
)

func parseForTest(lang Language, src string) (*Template, error) {
	return ParseTemplate(lang, src, Limits{})
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("output is not JSON: %v\n%s", err, got)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	return reflect.DeepEqual(g, w)
}
