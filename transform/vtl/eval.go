package vtl

import (
	"context"
	"errors"
	"fmt"
	"regexp"
)

// Limits bound one execution of a template. Zero fields take the defaults.
type Limits struct {
	// MaxOutput bounds the output in bytes (default [DefaultMaxOutput]).
	// Strings the template builds along the way (interpolation,
	// concatenation, replace…) may take four times as much in all.
	MaxOutput int
	// MaxSteps bounds the directives, references and expressions evaluated
	// (default [DefaultMaxSteps]).
	MaxSteps int
	// MaxIterations bounds the items one #foreach may walk over (default
	// [DefaultMaxIterations], the model gateway's limit).
	MaxIterations int
}

// Defaults of [Limits].
const (
	DefaultMaxOutput     = 10 << 20
	DefaultMaxSteps      = 5_000_000
	DefaultMaxIterations = 1000
)

// Errors a template execution may stop with, wrapped in an *[Error] naming
// the line.
var (
	ErrOutputLimit = errors.New("vtl: output limit exceeded")
	ErrStepLimit   = errors.New("vtl: step limit exceeded")
	ErrLoopLimit   = errors.New("vtl: #foreach iteration limit exceeded")
)

// Vars supplies a template's variables: the host variables ($input,
// $context…) that [Template.Execute] resolves after the template's own.
type Vars interface {
	// Var returns the named variable; ok is false if there is none.
	Var(name string) (v any, ok bool)
}

// MapVars is a [Vars] backed by a map.
type MapVars map[string]any

// Var implements [Vars].
func (m MapVars) Var(name string) (any, bool) { v, ok := m[name]; return v, ok }

var (
	errBreak = errors.New("#break")
	errStop  = errors.New("#stop")
)

type evaluator struct {
	ctx     context.Context
	vars    Vars
	locals  map[string]any
	out     []byte
	lim     Limits
	steps   int
	alloc   int
	loop    *loopState
	regexps map[string]*regexp.Regexp
}

// Execute runs the template with vars and appends its output to dst. It
// stops with an *[Error] naming the line when a method fails, a limit is
// reached or ctx ends (checked every few hundred steps). Execute never
// panics; a panic in a host [Object] is returned as an error.
func (t *Template) Execute(ctx context.Context, dst []byte, vars Vars, lim Limits) (out []byte, err error) {
	if lim.MaxOutput <= 0 {
		lim.MaxOutput = DefaultMaxOutput
	}
	if lim.MaxSteps <= 0 {
		lim.MaxSteps = DefaultMaxSteps
	}
	if lim.MaxIterations <= 0 {
		lim.MaxIterations = DefaultMaxIterations
	}
	if vars == nil {
		vars = MapVars(nil)
	}
	e := &evaluator{ctx: ctx, vars: vars, out: dst, lim: lim}
	e.lim.MaxOutput += len(dst)
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, &Error{Line: 0, Msg: fmt.Sprintf("template panicked: %v", r)}
		}
	}()
	if err := e.exec(t.root); err != nil && err != errStop {
		return dst, err
	}
	return e.out, nil
}

func (e *evaluator) step(ln int) error {
	e.steps++
	if e.steps > e.lim.MaxSteps {
		return &Error{Line: ln, Err: ErrStepLimit}
	}
	if e.steps&255 == 0 {
		if err := e.ctx.Err(); err != nil {
			return &Error{Line: ln, Err: err}
		}
	}
	return nil
}

// charge accounts for n bytes of strings built by the template.
func (e *evaluator) charge(n int) error {
	e.alloc += n
	if e.alloc > 4*e.lim.MaxOutput {
		return ErrOutputLimit
	}
	return nil
}

func (e *evaluator) writeString(ln int, s string) error {
	if len(e.out)+len(s) > e.lim.MaxOutput {
		return &Error{Line: ln, Err: ErrOutputLimit}
	}
	e.out = append(e.out, s...)
	return nil
}

// wrap gives an error the line it happened on.
func wrap(ln int, err error) error {
	if err == nil || err == errBreak || err == errStop {
		return err
	}
	var te *Error
	if errors.As(err, &te) {
		return err
	}
	if errors.Is(err, ErrOutputLimit) {
		return &Error{Line: ln, Err: ErrOutputLimit}
	}
	return &Error{Line: ln, Msg: err.Error(), Err: err}
}

func (e *evaluator) exec(nodes []node) error {
	for _, n := range nodes {
		if err := e.step(n.line()); err != nil {
			return err
		}
		switch n := n.(type) {
		case *textNode:
			if err := e.writeString(n.line(), n.text); err != nil {
				return err
			}
		case *refNode:
			v, err := e.evalRef(n.ref)
			if err != nil {
				return wrap(n.line(), err)
			}
			switch v := v.(type) {
			case nil:
			case string:
				err = e.writeString(n.line(), v)
			default:
				start := len(e.out)
				e.out = appendValue(e.out, v, 0, false, e.lim.MaxOutput)
				if len(e.out) > e.lim.MaxOutput {
					e.out = e.out[:start]
					err = &Error{Line: n.line(), Err: ErrOutputLimit}
				}
			}
			if err != nil {
				return err
			}
		case *setNode:
			v, err := e.eval(n.value)
			if err != nil {
				return wrap(n.line(), err)
			}
			if err := e.assign(n.target, v); err != nil {
				return wrap(n.line(), err)
			}
		case *ifNode:
			done := false
			for i, c := range n.conds {
				v, err := e.eval(c)
				if err != nil {
					return wrap(n.line(), err)
				}
				if truthy(v) {
					if err := e.exec(n.bodies[i]); err != nil {
						return err
					}
					done = true
					break
				}
			}
			if !done && n.els != nil {
				if err := e.exec(n.els); err != nil {
					return err
				}
			}
		case *foreachNode:
			if err := e.foreach(n); err != nil {
				return err
			}
		case *breakNode:
			return errBreak
		case *stopNode:
			return errStop
		}
	}
	return nil
}

func (e *evaluator) foreach(n *foreachNode) error {
	v, err := e.eval(n.iter)
	if err != nil {
		return wrap(n.line(), err)
	}
	items := iterate(v)
	if len(items) > e.lim.MaxIterations {
		return &Error{Line: n.line(), Msg: fmt.Sprintf("#foreach over %d items exceeds the limit of %d", len(items), e.lim.MaxIterations), Err: ErrLoopLimit}
	}
	if len(items) == 0 {
		return nil
	}
	if e.locals == nil {
		e.locals = map[string]any{}
	}
	old, hadOld := e.locals[n.name]
	oldLoop := e.loop
	defer func() {
		if hadOld {
			e.locals[n.name] = old
		} else {
			delete(e.locals, n.name)
		}
		e.loop = oldLoop
	}()
	ls := &loopState{n: len(items)}
	for i, it := range items {
		if err := e.step(n.line()); err != nil {
			return err
		}
		e.locals[n.name] = it
		ls.index = i
		e.loop = ls
		if err := e.exec(n.body); err != nil {
			if err == errBreak {
				return nil
			}
			return err
		}
	}
	return nil
}

func (e *evaluator) lookup(name string) any {
	switch name {
	case "foreach":
		if e.loop != nil {
			return e.loop
		}
		return nil
	case "velocityCount":
		if e.loop != nil {
			return int64(e.loop.index + 1)
		}
		return nil
	case "velocityHasNext":
		if e.loop != nil {
			return e.loop.index < e.loop.n-1
		}
		return nil
	}
	if v, ok := e.locals[name]; ok {
		return v
	}
	v, _ := e.vars.Var(name)
	return v
}

func (e *evaluator) evalRef(r *refExpr) (any, error) {
	return e.evalChain(r, len(r.chain))
}

// evalChain evaluates the root and the first n accessors of r.
func (e *evaluator) evalChain(r *refExpr, n int) (any, error) {
	v := e.lookup(r.name)
	for i := 0; i < n; i++ {
		a := &r.chain[i]
		if err := e.step(r.line()); err != nil {
			return nil, err
		}
		switch a.kind {
		case accProp:
			v = property(v, a.name)
		case accIndex:
			idx, err := e.eval(a.index)
			if err != nil {
				return nil, err
			}
			if v, err = index(v, idx); err != nil {
				return nil, err
			}
		case accMethod:
			var args []any
			if len(a.args) > 0 {
				args = make([]any, len(a.args))
				for j, x := range a.args {
					av, err := e.eval(x)
					if err != nil {
						return nil, err
					}
					args[j] = av
				}
			}
			var err error
			if v, err = e.call(v, a, args); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

func property(v any, name string) any {
	switch v := v.(type) {
	case nil:
		return nil
	case Object:
		x, _ := v.Property(name)
		return x
	case *loopState:
		x, _ := loopProperty(v, name)
		return x
	case *entry:
		switch name {
		case "key":
			return v.key
		case "value":
			return v.val
		}
		return nil
	}
	if x, ok := mapGet(v, name); ok {
		return x
	}
	if name == "empty" {
		if items, ok := listItems(v); ok {
			return len(items) == 0
		}
		if s, ok := v.(string); ok {
			return s == ""
		}
	}
	return nil
}

func index(v, idx any) (any, error) {
	if items, ok := listItems(v); ok {
		i, ok := toInt(idx)
		if !ok {
			return nil, fmt.Errorf("list index %q is not an integer", String(idx))
		}
		if i < 0 {
			i += len(items)
		}
		if i < 0 || i >= len(items) {
			return nil, fmt.Errorf("index %d out of range for a list of size %d", i, len(items))
		}
		return items[i], nil
	}
	if o, ok := v.(Object); ok {
		x, _ := o.Property(String(idx))
		return x, nil
	}
	x, _ := mapGet(v, String(idx))
	return x, nil
}

func (e *evaluator) assign(target *refExpr, v any) error {
	if err := e.charge(16); err != nil {
		return err
	}
	if len(target.chain) == 0 {
		if e.locals == nil {
			e.locals = map[string]any{}
		}
		e.locals[target.name] = v
		return nil
	}
	container, err := e.evalChain(target, len(target.chain)-1)
	if err != nil {
		return err
	}
	last := target.chain[len(target.chain)-1]
	var key any = last.name
	if last.kind == accIndex {
		if key, err = e.eval(last.index); err != nil {
			return err
		}
	}
	switch c := container.(type) {
	case *Map:
		c.put(String(key), v)
		return nil
	case map[string]any:
		return fmt.Errorf("#set %s: JSON objects are read-only; copy the entries into a map made with #set($m = {})", target.src)
	case *list:
		i, ok := toInt(key)
		if !ok || i < 0 || i >= len(c.items) {
			return fmt.Errorf("#set %s: index %s out of range", target.src, String(key))
		}
		c.items[i] = v
		return nil
	case Setter:
		return c.SetProperty(String(key), v)
	}
	return fmt.Errorf("#set %s: the value before the last part is not a map", target.src)
}

func (e *evaluator) eval(x expr) (any, error) {
	if err := e.step(x.line()); err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case *litExpr:
		return x.val, nil
	case *refExpr:
		return e.evalRef(x)
	case *strExpr:
		return e.interpolate(x)
	case *listExpr:
		if err := e.charge(16 * len(x.items)); err != nil {
			return nil, err
		}
		l := &list{items: make([]any, 0, len(x.items))}
		for _, it := range x.items {
			v, err := e.eval(it)
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, v)
		}
		return l, nil
	case *rangeExpr:
		from, err := e.eval(x.from)
		if err != nil {
			return nil, err
		}
		to, err := e.eval(x.to)
		if err != nil {
			return nil, err
		}
		a, ok1 := toInt(from)
		b, ok2 := toInt(to)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("range [%s..%s] needs integers", String(from), String(to))
		}
		n := b - a
		if n < 0 {
			n = -n
		}
		if n >= e.lim.MaxIterations*10 {
			return nil, fmt.Errorf("range [%d..%d] is too large", a, b)
		}
		if err := e.charge(16 * (n + 1)); err != nil {
			return nil, err
		}
		l := &list{items: make([]any, 0, n+1)}
		step := 1
		if b < a {
			step = -1
		}
		for i := a; ; i += step {
			l.items = append(l.items, int64(i))
			if i == b {
				break
			}
		}
		return l, nil
	case *mapExpr:
		if err := e.charge(32 * len(x.keys)); err != nil {
			return nil, err
		}
		m := newMap(len(x.keys))
		for i := range x.keys {
			k, err := e.eval(x.keys[i])
			if err != nil {
				return nil, err
			}
			v, err := e.eval(x.vals[i])
			if err != nil {
				return nil, err
			}
			m.put(String(k), v)
		}
		return m, nil
	case *unaryExpr:
		v, err := e.eval(x.x)
		if err != nil {
			return nil, err
		}
		if x.op == "!" {
			return !truthy(v), nil
		}
		return arith("-", int64(0), v), nil
	case *binaryExpr:
		return e.binary(x)
	}
	return nil, fmt.Errorf("unknown expression %T", x)
}

func (e *evaluator) binary(x *binaryExpr) (any, error) {
	a, err := e.eval(x.x)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "&&":
		if !truthy(a) {
			return false, nil
		}
		b, err := e.eval(x.y)
		if err != nil {
			return nil, err
		}
		return truthy(b), nil
	case "||":
		if truthy(a) {
			return true, nil
		}
		b, err := e.eval(x.y)
		if err != nil {
			return nil, err
		}
		return truthy(b), nil
	}
	b, err := e.eval(x.y)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "==":
		return eq(a, b), nil
	case "!=":
		return !eq(a, b), nil
	case "<", "<=", ">", ">=":
		c, ok := compare(a, b)
		if !ok {
			return false, nil
		}
		switch x.op {
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		}
		return c >= 0, nil
	case "+":
		_, sa := a.(string)
		_, sb := b.(string)
		if sa || sb {
			l, r := String(a), String(b)
			if err := e.charge(len(l) + len(r)); err != nil {
				return nil, err
			}
			return l + r, nil
		}
	}
	return arith(x.op, a, b), nil
}

// interpolate renders a "double-quoted" string.
func (e *evaluator) interpolate(x *strExpr) (any, error) {
	if len(x.parts) == 1 {
		if r, ok := x.parts[0].(*refNode); ok {
			v, err := e.evalRef(r.ref)
			if err != nil {
				return nil, err
			}
			return e.str(v)
		}
	}
	saved := e.out
	e.out = nil
	err := e.exec(x.parts)
	s := string(e.out)
	e.out = saved
	if err != nil {
		return nil, err
	}
	if err := e.charge(len(s)); err != nil {
		return nil, err
	}
	return s, nil
}
