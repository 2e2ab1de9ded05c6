package vtl

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// builtinMethods are the methods templates may call on their own values.
// Any other method name is a parse error.
var builtinMethods = map[string]bool{
	// java.lang.String
	"length": true, "substring": true, "indexOf": true, "lastIndexOf": true,
	"contains": true, "startsWith": true, "endsWith": true, "toLowerCase": true,
	"toUpperCase": true, "trim": true, "replace": true, "replaceAll": true,
	"replaceFirst": true, "split": true, "equals": true, "equalsIgnoreCase": true,
	"isEmpty": true, "charAt": true, "matches": true, "concat": true,
	"toString": true, "compareTo": true,
	// java.util.List
	"size": true, "get": true, "add": true, "addAll": true, "remove": true,
	"set": true, "subList": true, "clear": true,
	// java.util.Map
	"put": true, "putAll": true, "containsKey": true, "containsValue": true,
	"keySet": true, "values": true, "entrySet": true,
	// Map.Entry
	"getKey": true, "getValue": true,
	// java.lang.Number, Boolean
	"intValue": true, "longValue": true, "doubleValue": true, "booleanValue": true,
}

// regexMethods take a regular expression as their first argument.
var regexMethods = map[string]bool{"replaceAll": true, "replaceFirst": true, "matches": true, "split": true}

// errArgs reports a call with arguments of the wrong number or kind.
func errArgs(name, want string) error {
	return fmt.Errorf("%s() takes %s", name, want)
}

// call runs a method on a template value. Calling a method a value does not
// have yields nil, as in Velocity.
func (e *evaluator) call(recv any, a *accessor, args []any) (any, error) {
	name := a.name
	switch r := recv.(type) {
	case nil:
		return nil, nil
	case Object:
		return r.Call(name, args)
	case string:
		return e.stringMethod(r, a, args)
	case *list, []any:
		return e.listMethod(recv, name, args)
	case *Map, map[string]any, map[string]string:
		return e.mapMethod(recv, name, args)
	case *entry:
		switch name {
		case "getKey":
			return r.key, nil
		case "getValue":
			return r.val, nil
		}
	case *loopState:
		v, _ := loopProperty(r, name)
		return v, nil
	case bool:
		if name == "booleanValue" {
			return r, nil
		}
	}
	if n, ok := toNumber(recv); ok {
		switch name {
		case "intValue", "longValue":
			if n.isFloat {
				return int64(n.f), nil
			}
			return n.i, nil
		case "doubleValue":
			return n.float(), nil
		case "compareTo":
			if len(args) == 1 {
				if c, ok := compare(recv, args[0]); ok {
					return int64(c), nil
				}
			}
			return nil, nil
		}
	}
	switch name {
	case "toString":
		return e.str(recv)
	case "equals":
		if len(args) != 1 {
			return nil, errArgs(name, "one argument")
		}
		return eq(recv, args[0]), nil
	}
	return nil, nil
}

func loopProperty(l *loopState, name string) (any, bool) {
	switch name {
	case "hasNext":
		return l.index < l.n-1, true
	case "index":
		return int64(l.index), true
	case "count":
		return int64(l.index + 1), true
	case "first":
		return l.index == 0, true
	case "last":
		return l.index == l.n-1, true
	}
	return nil, false
}

// str renders v, charging the allocation.
func (e *evaluator) str(v any) (string, error) {
	s := String(v)
	if _, isStr := v.(string); !isStr {
		if err := e.charge(len(s)); err != nil {
			return "", err
		}
	}
	return s, nil
}

func argString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case nil:
		return "", false
	}
	return String(v), true
}

// runes is s as code points when it is not ASCII (Java indexes UTF-16
// units; templates here index code points).
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (e *evaluator) stringMethod(s string, a *accessor, args []any) (any, error) {
	name := a.name
	arg := func(i int) (string, error) {
		if i >= len(args) {
			return "", errArgs(name, fmt.Sprintf("%d argument(s)", i+1))
		}
		v, ok := argString(args[i])
		if !ok {
			return "", fmt.Errorf("%s(): argument %d is null", name, i+1)
		}
		return v, nil
	}
	switch name {
	case "length":
		return int64(utf8.RuneCountInString(s)), nil
	case "isEmpty":
		return s == "", nil
	case "toString":
		return s, nil
	case "toLowerCase":
		return e.chargeStr(strings.ToLower(s))
	case "toUpperCase":
		return e.chargeStr(strings.ToUpper(s))
	case "trim":
		return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }), nil
	case "contains", "startsWith", "endsWith", "equalsIgnoreCase", "concat", "indexOf", "lastIndexOf", "compareTo":
		x, err := arg(0)
		if err != nil {
			return nil, err
		}
		switch name {
		case "contains":
			return strings.Contains(s, x), nil
		case "startsWith":
			return strings.HasPrefix(s, x), nil
		case "endsWith":
			return strings.HasSuffix(s, x), nil
		case "equalsIgnoreCase":
			return strings.EqualFold(s, x), nil
		case "concat":
			if err := e.charge(len(s) + len(x)); err != nil {
				return nil, err
			}
			return s + x, nil
		case "compareTo":
			return int64(strings.Compare(s, x)), nil
		case "indexOf":
			from := 0
			if len(args) > 1 {
				f, ok := toInt(args[1])
				if !ok {
					return nil, errArgs(name, "a string and an integer")
				}
				from = max(f, 0)
			}
			return runeIndex(s, x, from), nil
		default:
			i := strings.LastIndex(s, x)
			if i < 0 {
				return int64(-1), nil
			}
			return int64(utf8.RuneCountInString(s[:i])), nil
		}
	case "charAt":
		if len(args) != 1 {
			return nil, errArgs(name, "one integer")
		}
		i, ok := toInt(args[0])
		r := []rune(s)
		if !ok || i < 0 || i >= len(r) {
			return nil, fmt.Errorf("charAt(%v): index out of range for a string of length %d", String(args[0]), len(r))
		}
		return string(r[i]), nil
	case "substring":
		if len(args) < 1 || len(args) > 2 {
			return nil, errArgs(name, "one or two integers")
		}
		var r []rune
		n := len(s)
		if !isASCII(s) {
			r = []rune(s)
			n = len(r)
		}
		b, ok := toInt(args[0])
		end := n
		if len(args) == 2 {
			var ok2 bool
			end, ok2 = toInt(args[1])
			ok = ok && ok2
		}
		if !ok || b < 0 || end > n || b > end {
			return nil, fmt.Errorf("substring: range [%s, %d) out of bounds for a string of length %d", String(args[0]), end, n)
		}
		if r != nil {
			return string(r[b:end]), nil
		}
		return s[b:end], nil
	case "replace":
		old, err := arg(0)
		if err != nil {
			return nil, err
		}
		nw, err := arg(1)
		if err != nil {
			return nil, err
		}
		if old == "" {
			return s, nil
		}
		if c := strings.Count(s, old); c > 0 {
			if err := e.charge(len(s) + c*len(nw)); err != nil {
				return nil, err
			}
		}
		return strings.ReplaceAll(s, old, nw), nil
	case "replaceAll", "replaceFirst", "matches", "split":
		re, err := e.regexArg(a, args)
		if err != nil {
			return nil, err
		}
		switch name {
		case "matches":
			return re.MatchString(s), nil // compiled anchored
		case "split":
			limit := 0
			if len(args) > 1 {
				l, ok := toInt(args[1])
				if !ok {
					return nil, errArgs(name, "a regular expression and an integer")
				}
				limit = l
			}
			parts := javaSplit(re, s, limit)
			if err := e.charge(16 * len(parts)); err != nil {
				return nil, err
			}
			items := make([]any, len(parts))
			for i, p := range parts {
				items[i] = p
			}
			return &list{items: items}, nil
		}
		repl := a.repl
		if !a.fixed {
			rs, err := arg(1)
			if err != nil {
				return nil, err
			}
			if repl, err = javaReplacement(rs); err != nil {
				return nil, err
			}
		}
		var out []byte
		if name == "replaceAll" {
			out = []byte(re.ReplaceAllString(s, repl))
		} else {
			loc := re.FindStringSubmatchIndex(s)
			if loc == nil {
				return s, nil
			}
			out = append(out, s[:loc[0]]...)
			out = re.ExpandString(out, repl, s, loc)
			out = append(out, s[loc[1]:]...)
		}
		if err := e.charge(len(out)); err != nil {
			return nil, err
		}
		return string(out), nil
	}
	switch name {
	case "equals":
		if len(args) != 1 {
			return nil, errArgs(name, "one argument")
		}
		x, ok := args[0].(string)
		return ok && x == s, nil
	}
	return nil, nil
}

func (e *evaluator) chargeStr(s string) (any, error) {
	if err := e.charge(len(s)); err != nil {
		return nil, err
	}
	return s, nil
}

func runeIndex(s, sub string, from int) int64 {
	if from > 0 {
		if isASCII(s) {
			if from > len(s) {
				return -1
			}
			i := strings.Index(s[from:], sub)
			if i < 0 {
				return -1
			}
			return int64(i + from)
		}
		r := []rune(s)
		if from > len(r) {
			return -1
		}
		prefix := len(string(r[:from]))
		i := strings.Index(s[prefix:], sub)
		if i < 0 {
			return -1
		}
		return int64(from + utf8.RuneCountInString(s[prefix:prefix+i]))
	}
	i := strings.Index(s, sub)
	if i < 0 {
		return -1
	}
	return int64(utf8.RuneCountInString(s[:i]))
}

// javaSplit is Java's String.split: with limit 0, trailing empty strings
// are removed; a positive limit caps the number of parts.
func javaSplit(re *regexp.Regexp, s string, limit int) []string {
	if s == "" {
		return []string{""}
	}
	n := -1
	if limit > 0 {
		n = limit
	}
	parts := re.Split(s, n)
	// Java drops a leading empty string produced by a zero-width match at 0.
	if len(parts) > 1 && parts[0] == "" {
		if loc := re.FindStringIndex(s); loc != nil && loc[0] == 0 && loc[1] == 0 {
			parts = parts[1:]
		}
	}
	if limit == 0 {
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
	}
	return parts
}

func (e *evaluator) regexArg(a *accessor, args []any) (*regexp.Regexp, error) {
	if a.re != nil {
		return a.re, nil
	}
	if len(args) == 0 {
		return nil, errArgs(a.name, "a regular expression")
	}
	src, ok := argString(args[0])
	if !ok {
		return nil, fmt.Errorf("%s(): the regular expression is null", a.name)
	}
	anchored := a.name == "matches"
	key := src
	if anchored {
		key = "^" + src
	}
	if re, ok := e.regexps[key]; ok {
		return re, nil
	}
	if len(e.regexps) >= 64 {
		return nil, errors.New("more than 64 distinct dynamic regular expressions")
	}
	re, err := compileJavaRegexp(src, anchored)
	if err != nil {
		return nil, err
	}
	if e.regexps == nil {
		e.regexps = map[string]*regexp.Regexp{}
	}
	e.regexps[key] = re
	return re, nil
}

func (e *evaluator) listMethod(recv any, name string, args []any) (any, error) {
	items, _ := listItems(recv)
	l, mutable := recv.(*list)
	index := func(i int) (int, error) {
		if i >= len(args) {
			return 0, errArgs(name, "an integer index")
		}
		n, ok := toInt(args[i])
		if !ok {
			return 0, errArgs(name, "an integer index")
		}
		return n, nil
	}
	mutate := func() error {
		if !mutable {
			return fmt.Errorf("%s(): JSON arrays are read-only; copy the items into a list made with #set($l = [])", name)
		}
		return nil
	}
	switch name {
	case "size":
		return int64(len(items)), nil
	case "isEmpty":
		return len(items) == 0, nil
	case "get":
		i, err := index(0)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(items) {
			return nil, fmt.Errorf("get(%d): index out of range for a list of size %d", i, len(items))
		}
		return items[i], nil
	case "contains", "indexOf":
		if len(args) != 1 {
			return nil, errArgs(name, "one argument")
		}
		i := slices.IndexFunc(items, func(x any) bool { return eq(x, args[0]) })
		if name == "contains" {
			return i >= 0, nil
		}
		return int64(i), nil
	case "add":
		if err := mutate(); err != nil {
			return nil, err
		}
		if err := e.charge(16); err != nil {
			return nil, err
		}
		switch len(args) {
		case 1:
			l.items = append(l.items, args[0])
			return true, nil
		case 2:
			i, err := index(0)
			if err != nil {
				return nil, err
			}
			if i < 0 || i > len(l.items) {
				return nil, fmt.Errorf("add(%d, …): index out of range for a list of size %d", i, len(l.items))
			}
			l.items = slices.Insert(l.items, i, args[1])
			return nil, nil
		}
		return nil, errArgs(name, "one or two arguments")
	case "addAll":
		if err := mutate(); err != nil {
			return nil, err
		}
		if len(args) != 1 {
			return nil, errArgs(name, "a list")
		}
		more, ok := listItems(args[0])
		if !ok {
			return nil, errArgs(name, "a list")
		}
		if err := e.charge(16 * len(more)); err != nil {
			return nil, err
		}
		l.items = append(l.items, more...)
		return len(more) > 0, nil
	case "remove":
		if err := mutate(); err != nil {
			return nil, err
		}
		i, err := index(0)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(l.items) {
			return nil, fmt.Errorf("remove(%d): index out of range for a list of size %d", i, len(l.items))
		}
		old := l.items[i]
		l.items = slices.Delete(l.items, i, i+1)
		return old, nil
	case "set":
		if err := mutate(); err != nil {
			return nil, err
		}
		i, err := index(0)
		if err != nil {
			return nil, err
		}
		if len(args) != 2 || i < 0 || i >= len(l.items) {
			return nil, fmt.Errorf("set(%d, …): index out of range for a list of size %d", i, len(l.items))
		}
		old := l.items[i]
		l.items[i] = args[1]
		return old, nil
	case "clear":
		if err := mutate(); err != nil {
			return nil, err
		}
		l.items = l.items[:0]
		return nil, nil
	case "subList":
		from, err := index(0)
		if err != nil {
			return nil, err
		}
		to, err := index(1)
		if err != nil {
			return nil, err
		}
		if from < 0 || to > len(items) || from > to {
			return nil, fmt.Errorf("subList(%d, %d): out of range for a list of size %d", from, to, len(items))
		}
		if err := e.charge(16 * (to - from)); err != nil {
			return nil, err
		}
		return &list{items: slices.Clone(items[from:to])}, nil
	case "toString":
		return e.str(recv)
	case "equals":
		if len(args) != 1 {
			return nil, errArgs(name, "one argument")
		}
		return eq(recv, args[0]), nil
	}
	return nil, nil
}

func (e *evaluator) mapMethod(recv any, name string, args []any) (any, error) {
	key := func() (string, error) {
		if len(args) < 1 {
			return "", errArgs(name, "a key")
		}
		return String(args[0]), nil
	}
	readOnly := func() error {
		if _, ok := recv.(*Map); !ok {
			return fmt.Errorf("%s(): JSON objects are read-only; copy the entries into a map made with #set($m = {})", name)
		}
		return nil
	}
	keys, _ := mapKeys(recv)
	switch name {
	case "size":
		return int64(len(keys)), nil
	case "isEmpty":
		return len(keys) == 0, nil
	case "get":
		k, err := key()
		if err != nil {
			return nil, err
		}
		v, _ := mapGet(recv, k)
		return v, nil
	case "containsKey":
		k, err := key()
		if err != nil {
			return nil, err
		}
		_, ok := mapGet(recv, k)
		return ok, nil
	case "containsValue":
		if len(args) != 1 {
			return nil, errArgs(name, "one argument")
		}
		for _, k := range keys {
			if v, _ := mapGet(recv, k); eq(v, args[0]) {
				return true, nil
			}
		}
		return false, nil
	case "keySet", "values", "entrySet":
		if err := e.charge(16 * len(keys)); err != nil {
			return nil, err
		}
		items := make([]any, len(keys))
		for i, k := range keys {
			switch name {
			case "keySet":
				items[i] = k
			case "values":
				items[i], _ = mapGet(recv, k)
			default:
				v, _ := mapGet(recv, k)
				items[i] = &entry{key: k, val: v}
			}
		}
		return &list{items: items}, nil
	case "put":
		if err := readOnly(); err != nil {
			return nil, err
		}
		k, err := key()
		if err != nil {
			return nil, err
		}
		if len(args) != 2 {
			return nil, errArgs(name, "a key and a value")
		}
		if err := e.charge(16 + len(k)); err != nil {
			return nil, err
		}
		return mapPut(recv, k, args[1]), nil
	case "putAll":
		if err := readOnly(); err != nil {
			return nil, err
		}
		if len(args) != 1 {
			return nil, errArgs(name, "a map")
		}
		more, ok := mapKeys(args[0])
		if !ok {
			return nil, errArgs(name, "a map")
		}
		if err := e.charge(16 * len(more)); err != nil {
			return nil, err
		}
		for _, k := range slices.Clone(more) {
			v, _ := mapGet(args[0], k)
			mapPut(recv, k, v)
		}
		return nil, nil
	case "remove":
		if err := readOnly(); err != nil {
			return nil, err
		}
		k, err := key()
		if err != nil {
			return nil, err
		}
		return recv.(*Map).remove(k), nil
	case "toString":
		return e.str(recv)
	case "equals":
		if len(args) != 1 {
			return nil, errArgs(name, "one argument")
		}
		return eq(recv, args[0]), nil
	}
	return nil, nil
}

func mapPut(m any, k string, v any) any {
	if m, ok := m.(*Map); ok {
		return m.put(k, v)
	}
	return nil
}
