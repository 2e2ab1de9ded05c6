// Package jsonpath evaluates the JSONPath expressions of mapping templates
// and parameter mappings ($input.json('$.a'), method.request.body.a,
// $request.body.a) with the semantics of RFC 9535, on the values
// [encoding/json] decodes with UseNumber.
//
// A query is either singular — only names and indexes, such as $.a.b[0],
// which select at most one node — or not (wildcards, slices, filters,
// descendants, several selectors). [Path.Value] follows the model gateway's
// JSONPath engine on the difference: a singular query yields the node itself
// (or nothing), any other query yields the list of the nodes it selects,
// possibly empty.
//
//	p, err := jsonpath.Parse("$.items[?@.price < 10].name")
//	if err != nil { ... } // a syntax error, with its position
//	doc, _ := jsonpath.Decode([]byte(body))
//	names, _ := p.Value(doc) // []any{"pen", "ink"}
//	out := jsonpath.AppendJSON(nil, names) // ["pen","ink"]
package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	rfc "github.com/theory/jsonpath"
	"github.com/theory/jsonpath/spec"
)

// Path is a parsed JSONPath query. It is immutable and safe for concurrent
// use.
type Path struct {
	q        *rfc.Path
	singular bool
	steps    []step // a singular query's names and indexes
	fast     bool   // steps hold the whole query
	src      string
}

// step is one name or index of a singular query.
type step struct {
	name    string
	index   int
	isIndex bool
}

// MaxLength bounds the length of a JSONPath expression [Parse] accepts.
const MaxLength = 4096

// Parse parses an RFC 9535 JSONPath query, which must start with "$". The
// error of a malformed query says where it fails.
func Parse(expr string) (p *Path, err error) {
	if len(expr) > MaxLength {
		return nil, fmt.Errorf("jsonpath: query of %d bytes is longer than %d", len(expr), MaxLength)
	}
	if !utf8.ValidString(expr) {
		return nil, errors.New("jsonpath: query is not valid UTF-8")
	}
	defer func() {
		// The parser is third-party code run on template text: a panic
		// in it must be a parse error, not a crash.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("jsonpath: parser panicked on %q: %v", expr, r)
		}
	}()
	q, err := rfc.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("jsonpath: %w", err)
	}
	p = &Path{q: q, singular: q.Query().Singular() != nil, src: expr}
	if p.singular {
		steps := []step{}
		for _, seg := range q.Query().Segments() {
			switch sel := seg.Selectors()[0].(type) {
			case spec.Name:
				steps = append(steps, step{name: string(sel)})
			case spec.Index:
				steps = append(steps, step{index: int(sel), isIndex: true})
			default:
				return p, nil // evaluated by the engine
			}
		}
		p.steps, p.fast = steps, true
	}
	return p, nil
}

// String returns the query as it was written.
func (p *Path) String() string { return p.src }

// Singular reports whether the query selects at most one node (names and
// indexes only).
func (p *Path) Singular() bool { return p.singular }

// Select returns every node the query selects from doc, in document order.
// It never panics: a failure of the query engine selects nothing.
func (p *Path) Select(doc any) (nodes []any) {
	defer func() {
		if r := recover(); r != nil {
			nodes = nil
		}
	}()
	return p.selectNodes(doc)
}

func (p *Path) selectNodes(doc any) []any { return p.q.Select(doc) }

// Value is the model gateway's reading of a query: for a singular query the
// node it selects, with ok false when there is none; for any other query the
// list ([]any, possibly empty) of the nodes it selects, with ok true.
func (p *Path) Value(doc any) (v any, ok bool) {
	if p.fast {
		return p.walk(doc)
	}
	nodes := p.Select(doc)
	if p.singular {
		if len(nodes) == 0 {
			return nil, false
		}
		return nodes[0], true
	}
	if nodes == nil {
		nodes = []any{}
	}
	return []any(nodes), true
}

// walk evaluates a singular query of names and indexes without the query
// engine: no allocation.
func (p *Path) walk(v any) (any, bool) {
	for _, st := range p.steps {
		if st.isIndex {
			arr, ok := v.([]any)
			if !ok {
				return nil, false
			}
			i := st.index
			if i < 0 {
				i += len(arr)
			}
			if i < 0 || i >= len(arr) {
				return nil, false
			}
			v = arr[i]
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[st.name]; !ok {
			return nil, false
		}
	}
	return v, true
}

// MaxDepth bounds the nesting of arrays and objects [Decode] accepts.
const MaxDepth = 1000

// Decode parses one JSON value: objects become map[string]any, arrays []any,
// numbers json.Number (so that integers keep every digit), and strings,
// booleans and null their Go counterparts. Trailing data other than
// whitespace, and nesting deeper than [MaxDepth], are errors.
func Decode(data []byte) (any, error) {
	if err := checkDepth(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, errors.New("jsonpath: empty JSON document")
		}
		return nil, fmt.Errorf("jsonpath: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("jsonpath: invalid JSON: data after the top-level value")
	}
	return v, nil
}

// checkDepth rejects documents nested deeper than MaxDepth, before the
// decoder and the query engine recurse into them.
func checkDepth(data []byte) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > MaxDepth {
				return fmt.Errorf("jsonpath: JSON nested deeper than %d levels", MaxDepth)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}

// AppendJSON appends v as compact JSON to dst. v is a value as [Decode]
// returns them, or int, int64, float64 and []string, map[string]string;
// object keys come out sorted, and <, > and & are not escaped. A value of
// another type is written as its fmt %v string; NaN and infinities as null.
func AppendJSON(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		return strconv.AppendBool(dst, v)
	case json.Number:
		if v == "" {
			return append(dst, '0')
		}
		return append(dst, v...)
	case string:
		return AppendString(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case float64:
		return appendFloat(dst, v)
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		return append(dst, ']')
	case []string:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		dst = append(dst, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			dst = AppendJSON(dst, v[k])
		}
		return append(dst, '}')
	case map[string]string:
		dst = append(dst, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			dst = AppendString(dst, v[k])
		}
		return append(dst, '}')
	default:
		return AppendString(dst, fmt.Sprint(v))
	}
}

func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, f, format, -1, 64)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a quoted JSON string to dst, escaping quotes,
// backslashes and control characters, and replacing invalid UTF-8 with
// U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
