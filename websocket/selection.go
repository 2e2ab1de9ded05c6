package websocket

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultRouteSelectionExpression is the route selection expression used
// when none is given.
const DefaultRouteSelectionExpression = "$request.body.action"

// The special route keys.
const (
	// RouteConnect runs when a client connects, before the upgrade.
	RouteConnect = "$connect"
	// RouteDisconnect runs once after a connection has closed.
	RouteDisconnect = "$disconnect"
	// RouteDefault takes the messages no other route matches.
	RouteDefault = "$default"
)

// Selector is a compiled route selection expression. It is immutable and
// safe for concurrent use.
//
// An expression is either one reference, "$request.body.PATH", or a
// template mixing literal text and references "${request.body.PATH}"
// ("${request.body.type}/${request.body.action}"). PATH is a JSON path of
// names and array indexes: "action", "a.b[0].c", "['odd key']". The value
// found is used as it is when it is a string and as JSON text otherwise; a
// missing value is "".
type Selector struct {
	expr  string
	parts []selPart
}

type selPart struct {
	literal string
	path    []pathStep // nil for a literal
}

type pathStep struct {
	name  string
	index int // -1 for a name
}

// ErrBadExpression is wrapped by every error from [ParseSelectionExpression].
var ErrBadExpression = errors.New("websocket: bad route selection expression")

// ParseSelectionExpression compiles a route selection expression; "" means
// [DefaultRouteSelectionExpression]. It returns an error wrapping
// [ErrBadExpression] that says what is wrong.
func ParseSelectionExpression(expr string) (*Selector, error) {
	if expr == "" {
		expr = DefaultRouteSelectionExpression
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %q: %s", ErrBadExpression, expr, fmt.Sprintf(format, a...))
	}
	s := &Selector{expr: expr}
	if !strings.Contains(expr, "${") {
		rest, ok := strings.CutPrefix(expr, "$request.body")
		if !ok {
			return nil, bad("want $request.body.PATH or a template of ${request.body.PATH}")
		}
		p, err := parsePath(rest)
		if err != nil {
			return nil, bad("%v", err)
		}
		s.parts = []selPart{{path: p}}
		return s, nil
	}
	rest := expr
	for rest != "" {
		i := strings.Index(rest, "${")
		if i < 0 {
			s.parts = append(s.parts, selPart{literal: rest})
			break
		}
		if i > 0 {
			s.parts = append(s.parts, selPart{literal: rest[:i]})
		}
		rest = rest[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return nil, bad("unclosed ${")
		}
		ref := rest[:j]
		rest = rest[j+1:]
		after, ok := strings.CutPrefix(ref, "request.body")
		if !ok {
			return nil, bad("${%s}: only ${request.body.PATH} is supported", ref)
		}
		p, err := parsePath(after)
		if err != nil {
			return nil, bad("%v", err)
		}
		s.parts = append(s.parts, selPart{path: p})
	}
	return s, nil
}

// parsePath parses what follows "$request.body": ".a.b[0]['c d']".
func parsePath(p string) ([]pathStep, error) {
	if p == "" {
		return nil, errors.New("a path after request.body is required")
	}
	var steps []pathStep
	for p != "" {
		switch p[0] {
		case '.':
			p = p[1:]
			n := strings.IndexAny(p, ".[")
			if n < 0 {
				n = len(p)
			}
			if n == 0 {
				return nil, errors.New("empty name in path")
			}
			steps = append(steps, pathStep{name: p[:n], index: -1})
			p = p[n:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, errors.New("unclosed [ in path")
			}
			in := p[1:end]
			p = p[end+1:]
			if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
				steps = append(steps, pathStep{name: in[1 : len(in)-1], index: -1})
				continue
			}
			i, err := strconv.Atoi(in)
			if err != nil || i < 0 {
				return nil, fmt.Errorf("[%s]: want an array index or a quoted name", in)
			}
			steps = append(steps, pathStep{index: i})
		default:
			return nil, fmt.Errorf("unexpected %q in path", p[0])
		}
	}
	return steps, nil
}

// String returns the expression.
func (s *Selector) String() string { return s.expr }

// Select evaluates the expression over a message. ok is false when the
// message is not a JSON value, in which case the $default route applies.
func (s *Selector) Select(msg []byte) (key string, ok bool) {
	var doc any
	if err := json.Unmarshal(msg, &doc); err != nil {
		return "", false
	}
	var b strings.Builder
	for _, part := range s.parts {
		if part.path == nil {
			b.WriteString(part.literal)
			continue
		}
		b.WriteString(lookup(doc, part.path))
	}
	return b.String(), true
}

func lookup(v any, path []pathStep) string {
	for _, st := range path {
		switch x := v.(type) {
		case map[string]any:
			if st.index >= 0 {
				return ""
			}
			var ok bool
			if v, ok = x[st.name]; !ok {
				return ""
			}
		case []any:
			if st.index < 0 || st.index >= len(x) {
				return ""
			}
			v = x[st.index]
		default:
			return ""
		}
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, _ := json.Marshal(v) // values from json.Unmarshal always marshal
	return string(b)
}
