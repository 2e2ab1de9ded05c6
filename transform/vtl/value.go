package vtl

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/transform/jsonpath"
)

// Values. Templates work on:
//   - nil, bool, string, int64 (also int), float64 and json.Number;
//   - []any and map[string]any, as JSON decodes them (JSON arrays render as
//     JSON, objects as {key=value, ...} like Java maps), and
//     map[string]string;
//   - lists ([1, 2]) and maps ({"a": 1}) made by the template, which keep
//     insertion order and render like Java collections;
//   - host values implementing [Object].

// Object is a host value with properties ($x.name) and methods
// ($x.name(args)): $input, $util and the like. Implementations must be safe
// for the concurrency the host runs templates with.
type Object interface {
	// Property returns the named property; ok is false when there is none
	// (the reference then renders as empty).
	Property(name string) (v any, ok bool)
	// Call runs the named method. An error stops the template.
	Call(name string, args []any) (any, error)
}

// Setter is an [Object] whose properties #set may assign.
type Setter interface {
	Object
	SetProperty(name string, v any) error
}

// list is a template-made list (a Java ArrayList).
type list struct{ items []any }

// Map is a map that keeps insertion order (a Java LinkedHashMap): the
// maps templates make with {…}, and host maps templates may assign to with
// #set ($context.requestOverride.header). A Map is not safe for concurrent
// use.
type Map struct {
	keys []string
	m    map[string]any
}

func newMap(n int) *Map { return &Map{keys: make([]string, 0, n), m: make(map[string]any, n)} }

// NewMap returns an empty [Map].
func NewMap() *Map { return newMap(0) }

// Get returns the value of key k.
func (m *Map) Get(k string) (any, bool) { v, ok := m.m[k]; return v, ok }

// Set sets key k to v.
func (m *Map) Set(k string, v any) { m.put(k, v) }

// Keys returns the keys in insertion order.
func (m *Map) Keys() []string { return append([]string(nil), m.keys...) }

// Len returns the number of keys.
func (m *Map) Len() int { return len(m.keys) }

func (m *Map) put(k string, v any) any {
	old, ok := m.m[k]
	if !ok {
		m.keys = append(m.keys, k)
	}
	m.m[k] = v
	return old
}

func (m *Map) remove(k string) any {
	old, ok := m.m[k]
	if ok {
		delete(m.m, k)
		m.keys = slices.DeleteFunc(m.keys, func(s string) bool { return s == k })
	}
	return old
}

// entry is a map entry from entrySet().
type entry struct {
	key string
	val any
}

// loopState is $foreach.
type loopState struct {
	index, n int
}

// maxRenderDepth bounds how deep nested collections are rendered, so that a
// list containing itself cannot recurse forever.
const maxRenderDepth = 64

// String renders v as a template reference does: nil as "", strings as they
// are, numbers in Java notation, JSON arrays as JSON, maps as {k=v, ...}.
func String(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	return string(appendValue(nil, v, 0, false, maxStringRender))
}

// maxStringRender bounds the rendering of one value by [String].
const maxStringRender = 16 << 20

// appendValue renders v; nested values (inside collections) render nil as
// "null". It stops adding once dst is longer than limit, so that a
// collection nested in itself cannot take exponential time.
func appendValue(dst []byte, v any, depth int, nested bool, limit int) []byte {
	if depth > maxRenderDepth {
		return append(dst, "..."...)
	}
	if len(dst) > limit {
		return dst
	}
	switch v := v.(type) {
	case nil:
		if nested {
			return append(dst, "null"...)
		}
		return dst
	case string:
		return append(dst, v...)
	case bool:
		return strconv.AppendBool(dst, v)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case float64:
		return appendJavaDouble(dst, v)
	case json.Number:
		return append(dst, v...)
	case []any:
		return jsonpath.AppendJSON(dst, v)
	case map[string]any:
		dst = append(dst, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, k...)
			dst = append(dst, '=')
			dst = appendValue(dst, v[k], depth+1, true, limit)
		}
		return append(dst, '}')
	case map[string]string:
		dst = append(dst, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, k...)
			dst = append(dst, '=')
			dst = append(dst, v[k]...)
		}
		return append(dst, '}')
	case *list:
		dst = append(dst, '[')
		for i, e := range v.items {
			if len(dst) > limit {
				break
			}
			if i > 0 {
				dst = append(dst, ", "...)
			}
			if e == any(v) {
				dst = append(dst, "(this Collection)"...)
				continue
			}
			dst = appendValue(dst, e, depth+1, true, limit)
		}
		return append(dst, ']')
	case *Map:
		dst = append(dst, '{')
		for i, k := range v.keys {
			if len(dst) > limit {
				break
			}
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, k...)
			dst = append(dst, '=')
			if e := v.m[k]; e == any(v) {
				dst = append(dst, "(this Map)"...)
			} else {
				dst = appendValue(dst, e, depth+1, true, limit)
			}
		}
		return append(dst, '}')
	case *entry:
		dst = append(dst, v.key...)
		dst = append(dst, '=')
		return appendValue(dst, v.val, depth+1, true, limit)
	case *loopState:
		return append(dst, "$foreach"...)
	case fmt.Stringer:
		return append(dst, v.String()...)
	}
	return dst
}

// appendJavaDouble renders f as Java's Double.toString does.
func appendJavaDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return append(dst, s...)
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.2345E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	exp = strings.TrimPrefix(exp, "+")
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(strings.TrimPrefix(exp, "-"), "0")
	if neg {
		exp = "-" + exp
	}
	dst = append(dst, mant...)
	dst = append(dst, 'E')
	return append(dst, exp...)
}

// truthy is Velocity's condition: only null and false are false.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	}
	return true
}

// number is a numeric value: an integer unless isFloat.
type number struct {
	i       int64
	f       float64
	isFloat bool
}

func (n number) float() float64 {
	if n.isFloat {
		return n.f
	}
	return float64(n.i)
}

func toNumber(v any) (number, bool) {
	switch v := v.(type) {
	case int64:
		return number{i: v}, true
	case int:
		return number{i: int64(v)}, true
	case float64:
		return number{f: v, isFloat: true}, true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return number{i: i}, true
		}
		if f, err := v.Float64(); err == nil {
			return number{f: f, isFloat: true}, true
		}
	}
	return number{}, false
}

// toInt converts an integral argument.
func toInt(v any) (int, bool) {
	n, ok := toNumber(v)
	if !ok {
		return 0, false
	}
	if n.isFloat {
		if n.f != math.Trunc(n.f) || math.Abs(n.f) > math.MaxInt32 {
			return 0, false
		}
		return int(n.f), true
	}
	if n.i > math.MaxInt32 || n.i < math.MinInt32 {
		return 0, false
	}
	return int(n.i), true
}

// maxEqualWork bounds the comparisons one == may make, so that
// collections nested in themselves cannot take exponential time.
const maxEqualWork = 100_000

// eq is Velocity's ==.
func eq(a, b any) bool {
	work := 0
	return equal(a, b, &work)
}

// equal is Velocity's ==: numbers by value, strings and booleans as such,
// collections element by element, anything else by its rendering.
func equal(a, b any, work *int) bool {
	*work++
	if *work > maxEqualWork {
		return false
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch x := a.(type) {
	case *list:
		if y, ok := b.(*list); ok && x == y {
			return true
		}
	case *Map:
		if y, ok := b.(*Map); ok && x == y {
			return true
		}
	}
	if na, ok := toNumber(a); ok {
		if nb, ok := toNumber(b); ok {
			if !na.isFloat && !nb.isFloat {
				return na.i == nb.i
			}
			return na.float() == nb.float()
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x == y
		}
	case bool:
		if y, ok := b.(bool); ok {
			return x == y
		}
	case *entry:
		if y, ok := b.(*entry); ok {
			return x.key == y.key && equal(x.val, y.val, work)
		}
	}
	if la, ok := listItems(a); ok {
		lb, ok := listItems(b)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !equal(la[i], lb[i], work) {
				return false
			}
		}
		return true
	}
	if ka, ok := mapKeys(a); ok {
		kb, ok := mapKeys(b)
		if !ok || len(ka) != len(kb) {
			return false
		}
		for _, k := range ka {
			vb, ok := mapGet(b, k)
			if !ok {
				return false
			}
			va, _ := mapGet(a, k)
			if !equal(va, vb, work) {
				return false
			}
		}
		return true
	}
	return String(a) == String(b)
}

// compare orders numbers by value and strings lexically; ok is false for
// other pairs.
func compare(a, b any) (int, bool) {
	if na, ok := toNumber(a); ok {
		if nb, ok := toNumber(b); ok {
			if !na.isFloat && !nb.isFloat {
				switch {
				case na.i < nb.i:
					return -1, true
				case na.i > nb.i:
					return 1, true
				}
				return 0, true
			}
			x, y := na.float(), nb.float()
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			case x == y:
				return 0, true
			}
			return 0, false // NaN
		}
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return strings.Compare(sa, sb), true
		}
	}
	return 0, false
}

// arith applies + - * / % to numbers; it returns nil (Velocity's null) for
// non-numbers and division by zero. Integer overflow falls back to floating
// point.
func arith(op string, a, b any) any {
	na, ok1 := toNumber(a)
	nb, ok2 := toNumber(b)
	if !ok1 || !ok2 {
		return nil
	}
	if !na.isFloat && !nb.isFloat {
		x, y := na.i, nb.i
		switch op {
		case "+":
			if r := x + y; (r > x) == (y > 0) {
				return r
			}
		case "-":
			if r := x - y; (r < x) == (y > 0) {
				return r
			}
		case "*":
			if x == 0 || y == 0 {
				return int64(0)
			}
			if r := x * y; r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
				return r
			}
		case "/":
			if y == 0 {
				return nil
			}
			if !(x == math.MinInt64 && y == -1) {
				return x / y
			}
		case "%":
			if y == 0 {
				return nil
			}
			if y == -1 {
				return int64(0)
			}
			return x % y
		}
	}
	x, y := na.float(), nb.float()
	switch op {
	case "+":
		return x + y
	case "-":
		return x - y
	case "*":
		return x * y
	case "/":
		if y == 0 {
			return nil
		}
		return x / y
	case "%":
		if y == 0 {
			return nil
		}
		return math.Mod(x, y)
	}
	return nil
}

// listItems returns the elements of a list value.
func listItems(v any) ([]any, bool) {
	switch v := v.(type) {
	case *list:
		return v.items, true
	case []any:
		return v, true
	}
	return nil, false
}

// mapKeys returns the keys of a map value in iteration order: insertion
// order for template maps, sorted for the others.
func mapKeys(v any) ([]string, bool) {
	switch v := v.(type) {
	case *Map:
		return v.keys, true
	case map[string]any:
		return slices.Sorted(maps.Keys(v)), true
	case map[string]string:
		return slices.Sorted(maps.Keys(v)), true
	}
	return nil, false
}

func mapGet(v any, k string) (any, bool) {
	switch v := v.(type) {
	case *Map:
		x, ok := v.m[k]
		return x, ok
	case map[string]any:
		x, ok := v[k]
		return x, ok
	case map[string]string:
		x, ok := v[k]
		if !ok {
			return nil, false
		}
		return x, true
	}
	return nil, false
}

// iterate returns what #foreach walks over: a list's elements, a map's
// values; nothing for other values.
func iterate(v any) []any {
	if items, ok := listItems(v); ok {
		if l, isList := v.(*list); isList {
			return slices.Clone(l.items) // the body may change the list
		}
		return items
	}
	if keys, ok := mapKeys(v); ok {
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i], _ = mapGet(v, k)
		}
		return out
	}
	return nil
}
