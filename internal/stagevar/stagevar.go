// Package stagevar validates stage variables and substitutes
// ${stageVariables.name} references in targets and templates.
package stagevar

import (
	"fmt"
	"sort"
	"strings"
)

// Limits from the model gateway.
const (
	MaxVariables = 100
	MaxNameLen   = 64
	MaxValueLen  = 512
)

const prefix = "${stageVariables."

// Validate checks a stage's variables: at most [MaxVariables]; names of 1–64
// characters from [A-Za-z0-9_]; values of 1–512 characters from
// [A-Za-z0-9-._~:/?#&=,].
func Validate(vars map[string]string) error {
	if len(vars) > MaxVariables {
		return fmt.Errorf("%d stage variables, at most %d allowed", len(vars), MaxVariables)
	}
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !validName(n) {
			return fmt.Errorf("stage variable name %q: want 1-%d characters of A-Z a-z 0-9 _", n, MaxNameLen)
		}
		v := vars[n]
		if v == "" || len(v) > MaxValueLen {
			return fmt.Errorf("stage variable %q: value must have 1-%d characters", n, MaxValueLen)
		}
		for i := 0; i < len(v); i++ {
			if !valueChar(v[i]) {
				return fmt.Errorf("stage variable %q: value has character %q; allowed are A-Z a-z 0-9 - . _ ~ : / ? # & = ,", n, v[i])
			}
		}
	}
	return nil
}

func validName(n string) bool {
	if n == "" || len(n) > MaxNameLen {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func valueChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("-._~:/?#&=,", c) >= 0
}

// UndefinedError reports a reference to a stage variable the stage does not
// define.
type UndefinedError struct{ Name string }

// Error names the undefined variable.
func (e *UndefinedError) Error() string {
	return fmt.Sprintf("stage variable %q is not defined on the stage", e.Name)
}

// Expand replaces every ${stageVariables.name} in s with the variable's value.
// A reference to an undefined variable is an *[UndefinedError]; an unclosed
// reference is an error too. Text without references is returned unchanged.
func Expand(s string, vars map[string]string) (string, error) {
	if !strings.Contains(s, prefix) {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, prefix)
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		rest := s[i+len(prefix):]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return "", fmt.Errorf("unclosed %q in %q", prefix, s)
		}
		name := rest[:j]
		if !validName(name) {
			return "", fmt.Errorf("bad stage variable name %q in %q", name, s)
		}
		v, ok := vars[name]
		if !ok {
			return "", &UndefinedError{Name: name}
		}
		b.WriteString(v)
		s = rest[j+1:]
	}
}

// References returns the names of the stage variables s refers to, in order
// of first use.
func References(s string) []string {
	var out []string
	for {
		i := strings.Index(s, prefix)
		if i < 0 {
			return out
		}
		rest := s[i+len(prefix):]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return out
		}
		name := rest[:j]
		seen := false
		for _, n := range out {
			seen = seen || n == name
		}
		if !seen {
			out = append(out, name)
		}
		s = rest[j+1:]
	}
}
