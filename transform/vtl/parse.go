package vtl

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Options configures [Parse].
type Options struct {
	// Objects names the host variables the caller will supply to
	// [Template.Execute] and lists each one's members (properties and
	// methods). A template that uses another member of such a variable
	// ($util.notAFunction()) fails to parse, naming the line. Variables not
	// listed are not checked.
	Objects map[string][]string
}

// MaxNesting bounds how deeply directives, expressions and interpolated
// strings may nest in a template.
const MaxNesting = 100

// Error is a template error: a parse error, or a failure while executing,
// with the line of the template it happened on.
type Error struct {
	// Line is the 1-based template line.
	Line int
	// Msg says what is wrong.
	Msg string
	// Err is the underlying error, if any ([ErrOutputLimit], [ErrStepLimit],
	// [ErrLoopLimit], a context error…).
	Err error
}

// Error implements error: "vtl: line N: message".
func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return fmt.Sprintf("vtl: line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("vtl: line %d: %s", e.Line, e.Msg)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Template is a parsed template. It is immutable and safe for concurrent
// use: any number of goroutines may execute it at once.
type Template struct {
	root  []node
	calls []HostCall
}

// HostCall is a call of a host variable's method found in a template
// ($input.json('$.a')), for callers that check arguments before running it.
type HostCall struct {
	// Line is the template line of the call.
	Line int
	// Var and Method name the host variable and the method.
	Var, Method string
	// Args holds the literal arguments (string, int64, float64, bool, nil);
	// an argument that is not a literal is [NotLiteral].
	Args []any
}

// NotLiteral stands for an argument computed at run time in
// [HostCall.Args].
type NotLiteral struct{}

// HostCalls returns the calls of host variables' methods the template makes,
// in the order they appear.
func (t *Template) HostCalls() []HostCall { return t.calls }

// Parse parses a template. Every construct outside the supported subset
// (see the package documentation) is an *[Error] naming its line; Parse
// never panics, whatever src holds.
func Parse(src string, opts Options) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &Error{Line: 1, Msg: fmt.Sprintf("parser panicked: %v", r)}
		}
	}()
	p := newParser(src, 0, &opts)
	nodes, term, err := p.parseBlock()
	if err != nil {
		return nil, err
	}
	if term.kind != "" {
		return nil, p.errAt(term.start, "#%s without a matching #if or #foreach", term.kind)
	}
	return &Template{root: nodes, calls: *p.calls}, nil
}

type parser struct {
	src      string
	pos      int
	lines    []int // offsets at which lines start
	baseLine int   // line of src's first character, minus one
	opts     *Options
	depth    int
	loops    int         // enclosing #foreach directives
	calls    *[]HostCall // shared with the parsers of interpolated strings
}

func newParser(src string, baseLine int, opts *Options) *parser {
	p := &parser{src: src, baseLine: baseLine, opts: opts, lines: []int{0}, calls: new([]HostCall)}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			p.lines = append(p.lines, i+1)
		}
	}
	return p
}

func (p *parser) lineAt(off int) int {
	return p.baseLine + sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off })
}

func (p *parser) errAt(off int, format string, args ...any) *Error {
	return &Error{Line: p.lineAt(off), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > MaxNesting {
		return p.errAt(off, "nesting deeper than %d levels", MaxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// term is the directive that ended a block.
type term struct {
	kind  string // "end", "else", "elseif"; "" at the end of the input
	cond  expr   // #elseif's condition
	start int
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
func isLetter(c byte) bool     { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isSpace(c byte) bool      { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// unsupported are directives Velocity has and this subset does not.
var unsupported = map[string]bool{
	"macro": true, "parse": true, "include": true, "evaluate": true, "define": true,
}

// parseBlock parses text and directives up to a block terminator (#end,
// #else, #elseif) or the end of the input.
func (p *parser) parseBlock() ([]node, term, error) {
	var nodes []node
	var text []byte
	textLine := 0
	addText := func(s string, off int) {
		if len(text) == 0 {
			textLine = p.lineAt(off)
		}
		text = append(text, s...)
	}
	flush := func() {
		if len(text) > 0 {
			nodes = append(nodes, &textNode{pos: pos(textLine), text: string(text)})
			text = text[:0]
		}
	}
	// gobble removes a directive that stands alone on its line, with the
	// line's indentation and its newline ("lines" space gobbling).
	gobble := func(start int) bool {
		ls := start
		for ls > 0 && (p.src[ls-1] == ' ' || p.src[ls-1] == '\t') {
			ls--
		}
		if ls > 0 && p.src[ls-1] != '\n' {
			return false
		}
		j := p.pos
		for j < len(p.src) && (p.src[j] == ' ' || p.src[j] == '\t') {
			j++
		}
		if j+1 < len(p.src) && p.src[j] == '\r' && p.src[j+1] == '\n' {
			j++
		}
		if j < len(p.src) && p.src[j] != '\n' {
			return false
		}
		if indent := start - ls; indent > 0 && len(text) >= indent {
			text = text[:len(text)-indent]
		}
		p.pos = min(j+1, len(p.src))
		return true
	}

	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '\\':
			n := 0
			for p.pos+n < len(p.src) && p.src[p.pos+n] == '\\' {
				n++
			}
			next := p.pos + n
			if next < len(p.src) && (p.src[next] == '$' || p.src[next] == '#') {
				addText(strings.Repeat(`\`, n/2), p.pos)
				if n%2 == 1 {
					addText(p.src[next:next+1], next)
					p.pos = next + 1
				} else {
					p.pos = next
				}
				continue
			}
			addText(p.src[p.pos:next], p.pos)
			p.pos = next
		case '$':
			start := p.pos
			ref, ok, err := p.parseRef(false)
			if err != nil {
				return nil, term{}, err
			}
			if !ok {
				addText("$", start)
				p.pos = start + 1
				continue
			}
			flush()
			nodes = append(nodes, &refNode{pos: pos(p.lineAt(start)), ref: ref})
		case '#':
			start := p.pos
			if strings.HasPrefix(p.src[p.pos:], "##") {
				end := strings.IndexByte(p.src[p.pos:], '\n')
				if end < 0 {
					p.pos = len(p.src)
				} else {
					p.pos += end // the newline: gobble takes it when the comment is alone
				}
				if !gobble(start) && p.pos < len(p.src) && p.src[p.pos] == '\n' {
					p.pos++ // a trailing comment takes its newline too
				}
				continue
			}
			if strings.HasPrefix(p.src[p.pos:], "#*") {
				end := strings.Index(p.src[p.pos+2:], "*#")
				if end < 0 {
					return nil, term{}, p.errAt(start, "unterminated #* comment")
				}
				p.pos += 2 + end + 2
				gobble(start)
				continue
			}
			if strings.HasPrefix(p.src[p.pos:], "#[[") {
				end := strings.Index(p.src[p.pos+3:], "]]#")
				if end < 0 {
					return nil, term{}, p.errAt(start, "unterminated #[[ block")
				}
				addText(p.src[p.pos+3:p.pos+3+end], p.pos)
				p.pos += 3 + end + 3
				continue
			}
			name, after, ok := p.directiveName()
			if !ok {
				addText("#", start)
				p.pos++
				continue
			}
			if unsupported[name] {
				return nil, term{}, p.errAt(start, "#%s is not supported", name)
			}
			switch name {
			case "end", "else":
				p.pos = after
				gobble(start)
				flush()
				return nodes, term{kind: name, start: start}, nil
			case "elseif":
				p.pos = after
				cond, err := p.parseParenExpr("#elseif")
				if err != nil {
					return nil, term{}, err
				}
				gobble(start)
				flush()
				return nodes, term{kind: name, cond: cond, start: start}, nil
			case "set":
				p.pos = after
				n, err := p.parseSet(start)
				if err != nil {
					return nil, term{}, err
				}
				gobble(start)
				flush()
				nodes = append(nodes, n)
			case "if":
				p.pos = after
				cond, err := p.parseParenExpr("#if")
				if err != nil {
					return nil, term{}, err
				}
				gobble(start)
				flush()
				n, err := p.parseIf(start, cond)
				if err != nil {
					return nil, term{}, err
				}
				nodes = append(nodes, n)
			case "foreach":
				p.pos = after
				n, err := p.parseForeachHead(start)
				if err != nil {
					return nil, term{}, err
				}
				gobble(start)
				flush()
				if err := p.parseForeachBody(n); err != nil {
					return nil, term{}, err
				}
				nodes = append(nodes, n)
			case "break", "stop":
				if name == "break" && p.loops == 0 {
					return nil, term{}, p.errAt(start, "#break outside #foreach")
				}
				p.pos = after
				gobble(start)
				flush()
				if name == "break" {
					nodes = append(nodes, &breakNode{pos(p.lineAt(start))})
				} else {
					nodes = append(nodes, &stopNode{pos(p.lineAt(start))})
				}
			default:
				addText("#", start)
				p.pos++
			}
		default:
			end := strings.IndexAny(p.src[p.pos:], `\$#`)
			if end < 0 {
				end = len(p.src) - p.pos
			}
			addText(p.src[p.pos:p.pos+end], p.pos)
			p.pos += end
		}
	}
	flush()
	return nodes, term{}, nil
}

// directiveName reads "#name" or "#{name}" at p.pos without moving.
func (p *parser) directiveName() (name string, after int, ok bool) {
	i := p.pos + 1
	braced := i < len(p.src) && p.src[i] == '{'
	if braced {
		i++
	}
	j := i
	for j < len(p.src) && isLetter(p.src[j]) {
		j++
	}
	if j == i {
		return "", 0, false
	}
	name = p.src[i:j]
	if braced {
		if j >= len(p.src) || p.src[j] != '}' {
			return "", 0, false
		}
		j++
	}
	switch name {
	case "set", "if", "elseif", "else", "end", "foreach", "break", "stop":
		return name, j, true
	}
	if unsupported[name] {
		return name, j, true
	}
	return "", 0, false
}

func (p *parser) parseIf(start int, cond expr) (node, error) {
	if err := p.enter(start); err != nil {
		return nil, err
	}
	defer p.leave()
	n := &ifNode{pos: pos(p.lineAt(start)), conds: []expr{cond}}
	for {
		body, t, err := p.parseBlock()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case "":
			return nil, p.errAt(start, "#if without #end")
		case "end":
			n.bodies = append(n.bodies, body)
			return n, nil
		case "elseif":
			if len(n.bodies) == len(n.conds) {
				return nil, p.errAt(t.start, "#elseif after #else")
			}
			n.bodies = append(n.bodies, body)
			n.conds = append(n.conds, t.cond)
		case "else":
			if len(n.bodies) == len(n.conds) {
				return nil, p.errAt(t.start, "second #else in one #if")
			}
			n.bodies = append(n.bodies, body)
			// The next block is the #else branch, ended by #end.
			els, t2, err := p.parseBlock()
			if err != nil {
				return nil, err
			}
			switch t2.kind {
			case "end":
				if els == nil {
					els = []node{}
				}
				n.els = els
				return n, nil
			case "":
				return nil, p.errAt(start, "#if without #end")
			default:
				return nil, p.errAt(t2.start, "#%s after #else", t2.kind)
			}
		}
	}
}

func (p *parser) parseForeachHead(start int) (*foreachNode, error) {
	p.skipSpace()
	if !p.consume("(") {
		return nil, p.errAt(p.pos, "#foreach: expected (")
	}
	p.skipSpace()
	if !p.consume("$") {
		return nil, p.errAt(p.pos, "#foreach: expected $variable")
	}
	p.consume("!")
	braced := p.consume("{")
	name := p.ident()
	if name == "" {
		return nil, p.errAt(p.pos, "#foreach: expected a variable name")
	}
	if braced && !p.consume("}") {
		return nil, p.errAt(p.pos, "#foreach: unclosed ${")
	}
	p.skipSpace()
	if p.ident() != "in" {
		return nil, p.errAt(p.pos, "#foreach: expected 'in'")
	}
	iter, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.consume(")") {
		return nil, p.errAt(p.pos, "#foreach: expected )")
	}
	return &foreachNode{pos: pos(p.lineAt(start)), name: name, iter: iter}, nil
}

func (p *parser) parseForeachBody(n *foreachNode) error {
	start := p.pos
	if err := p.enter(start); err != nil {
		return err
	}
	defer p.leave()
	p.loops++
	defer func() { p.loops-- }()
	body, t, err := p.parseBlock()
	if err != nil {
		return err
	}
	switch t.kind {
	case "end":
		n.body = body
		return nil
	case "":
		return &Error{Line: n.line(), Msg: "#foreach without #end"}
	default:
		return p.errAt(t.start, "#%s inside #foreach without #if", t.kind)
	}
}

func (p *parser) parseSet(start int) (node, error) {
	p.skipSpace()
	if !p.consume("(") {
		return nil, p.errAt(p.pos, "#set: expected (")
	}
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != '$' {
		return nil, p.errAt(p.pos, "#set: expected a $reference to assign")
	}
	target, _, err := p.parseRef(true)
	if err != nil {
		return nil, err
	}
	for _, a := range target.chain {
		if a.kind == accMethod {
			return nil, p.errAt(start, "#set: cannot assign to a method call (%s)", target.src)
		}
	}
	p.skipSpace()
	if !p.consume("=") {
		return nil, p.errAt(p.pos, "#set: expected =")
	}
	val, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.consume(")") {
		return nil, p.errAt(p.pos, "#set: expected )")
	}
	return &setNode{pos: pos(p.lineAt(start)), target: target, value: val}, nil
}

func (p *parser) parseParenExpr(what string) (expr, error) {
	p.skipSpace()
	if !p.consume("(") {
		return nil, p.errAt(p.pos, "%s: expected (", what)
	}
	e, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.consume(")") {
		return nil, p.errAt(p.pos, "%s: expected )", what)
	}
	return e, nil
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func (p *parser) consume(s string) bool {
	if strings.HasPrefix(p.src[p.pos:], s) {
		p.pos += len(s)
		return true
	}
	return false
}

func (p *parser) ident() string {
	if p.pos >= len(p.src) || !isIdentStart(p.src[p.pos]) {
		return ""
	}
	i := p.pos
	for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
		p.pos++
	}
	return p.src[i:p.pos]
}

// propName reads a property or method name: an identifier in which, as in
// Velocity 1.7, a hyphen may join identifier characters
// ($context.requestOverride.header.X-Amz-Target).
func (p *parser) propName() string {
	i := p.pos
	p.ident()
	for p.pos+1 < len(p.src) && p.src[p.pos] == '-' && isIdentChar(p.src[p.pos+1]) {
		p.pos++
		for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
			p.pos++
		}
	}
	return p.src[i:p.pos]
}

// parseRef parses a reference at p.pos ('$'). In text (inExpr false) a '$'
// that does not start a reference is not an error: ok is false and p.pos is
// unchanged.
func (p *parser) parseRef(inExpr bool) (*refExpr, bool, error) {
	start := p.pos
	i := start + 1
	quiet := i < len(p.src) && p.src[i] == '!'
	if quiet {
		i++
	}
	braced := i < len(p.src) && p.src[i] == '{'
	if braced {
		i++
	}
	if i >= len(p.src) || !isIdentStart(p.src[i]) {
		if inExpr {
			return nil, false, p.errAt(start, "expected a reference after $")
		}
		return nil, false, nil
	}
	if err := p.enter(start); err != nil {
		return nil, false, err
	}
	defer p.leave()
	p.pos = i
	ref := &refExpr{pos: pos(p.lineAt(start)), quiet: quiet, name: p.ident()}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '.' && p.pos+1 < len(p.src) && isIdentStart(p.src[p.pos+1]) {
			p.pos++
			name := p.propName()
			if p.pos < len(p.src) && p.src[p.pos] == '(' {
				p.pos++
				args, err := p.parseArgs(')')
				if err != nil {
					return nil, false, err
				}
				ref.chain = append(ref.chain, accessor{kind: accMethod, name: name, args: args})
			} else {
				ref.chain = append(ref.chain, accessor{kind: accProp, name: name})
			}
			continue
		}
		if c == '[' {
			save := p.pos
			p.pos++
			idx, err := p.parseExpr()
			if err == nil {
				p.skipSpace()
				if p.consume("]") {
					ref.chain = append(ref.chain, accessor{kind: accIndex, index: idx})
					continue
				}
				err = p.errAt(p.pos, "expected ]")
			}
			if inExpr || braced {
				return nil, false, err
			}
			p.pos = save // "$a[text" in text: the reference ends before '['
		}
		break
	}
	if braced && !p.consume("}") {
		return nil, false, p.errAt(start, "unclosed ${ in %q", clip(p.src[start:p.pos]))
	}
	ref.src = p.src[start:p.pos]
	if err := p.checkRef(ref, start); err != nil {
		return nil, false, err
	}
	return ref, true, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// foreachMembers are the properties of $foreach.
var foreachMembers = []string{"hasNext", "index", "count", "first", "last"}

// checkRef rejects members outside the supported subset and compiles
// literal regular expressions.
func (p *parser) checkRef(ref *refExpr, start int) error {
	if len(ref.chain) > 0 && ref.chain[0].kind != accIndex {
		var members []string
		known := false
		if ref.name == "foreach" {
			members, known = foreachMembers, true
		} else if p.opts != nil {
			members, known = p.opts.Objects[ref.name]
		}
		if known && !slices.Contains(members, ref.chain[0].name) {
			return p.errAt(start, "$%s.%s is not supported", ref.name, ref.chain[0].name)
		}
	}
	for i := range ref.chain {
		a := &ref.chain[i]
		if a.kind != accMethod {
			continue
		}
		hostMember := i == 0 && p.opts != nil && p.opts.Objects[ref.name] != nil
		if hostMember {
			hc := HostCall{Line: p.lineAt(start), Var: ref.name, Method: a.name, Args: make([]any, len(a.args))}
			for j, x := range a.args {
				if lit, ok := x.(*litExpr); ok {
					hc.Args[j] = lit.val
				} else {
					hc.Args[j] = NotLiteral{}
				}
			}
			*p.calls = append(*p.calls, hc)
		}
		if !hostMember && !builtinMethods[a.name] {
			return p.errAt(start, "method %s() is not supported (in %s)", a.name, clip(ref.src))
		}
		if regexMethods[a.name] && !hostMember && len(a.args) > 0 {
			if lit, ok := a.args[0].(*litExpr); ok {
				if s, ok := lit.val.(string); ok {
					re, err := compileJavaRegexp(s, a.name == "matches")
					if err != nil {
						return p.errAt(start, "%s(): %v", a.name, err)
					}
					a.re = re
					if (a.name == "replaceAll" || a.name == "replaceFirst") && len(a.args) == 2 {
						if rl, ok := a.args[1].(*litExpr); ok {
							if rs, ok := rl.val.(string); ok {
								repl, err := javaReplacement(rs)
								if err != nil {
									return p.errAt(start, "%s(): %v", a.name, err)
								}
								a.repl, a.fixed = repl, true
							}
						}
					}
				}
			}
		}
	}
	return nil
}

func (p *parser) parseArgs(closer byte) ([]expr, error) {
	var args []expr
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == closer {
		p.pos++
		return args, nil
	}
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errAt(p.pos, "expected %c", closer)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case closer:
			p.pos++
			return args, nil
		default:
			return nil, p.errAt(p.pos, "expected , or %c", closer)
		}
	}
}

// Expressions, lowest precedence first.

func (p *parser) parseExpr() (expr, error) {
	if err := p.enter(p.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.parseOr()
}

// peekOp reports which of ops (symbols or words) starts at the next token.
func (p *parser) peekOp(ops ...string) string {
	p.skipSpace()
	rest := p.src[p.pos:]
	for _, op := range ops {
		if !strings.HasPrefix(rest, op) {
			continue
		}
		if isLetter(op[0]) {
			if len(rest) > len(op) && isIdentChar(rest[len(op)]) {
				continue
			}
		}
		// "=" alone is assignment, "<" must not swallow "<=" etc.
		if (op == "<" || op == ">" || op == "!") && len(rest) > 1 && rest[1] == '=' {
			continue
		}
		return op
	}
	return ""
}

var opNames = map[string]string{
	"or": "||", "and": "&&", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "not": "!",
}

func canon(op string) string {
	if c, ok := opNames[op]; ok {
		return c
	}
	return op
}

func (p *parser) binary(next func() (expr, error), ops ...string) (expr, error) {
	x, err := next()
	if err != nil {
		return nil, err
	}
	for {
		start := p.pos
		op := p.peekOp(ops...)
		if op == "" {
			return x, nil
		}
		p.pos += len(op)
		y, err := next()
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{pos: pos(p.lineAt(start)), op: canon(op), x: x, y: y}
	}
}

func (p *parser) parseOr() (expr, error)  { return p.binary(p.parseAnd, "||", "or") }
func (p *parser) parseAnd() (expr, error) { return p.binary(p.parseEq, "&&", "and") }
func (p *parser) parseEq() (expr, error)  { return p.binary(p.parseRel, "==", "!=", "eq", "ne") }
func (p *parser) parseRel() (expr, error) {
	return p.binary(p.parseAdd, "<=", ">=", "<", ">", "le", "ge", "lt", "gt")
}
func (p *parser) parseAdd() (expr, error) { return p.binary(p.parseMul, "+", "-") }
func (p *parser) parseMul() (expr, error) { return p.binary(p.parseUnary, "*", "/", "%") }

func (p *parser) parseUnary() (expr, error) {
	start := p.pos
	if op := p.peekOp("!", "not", "-"); op != "" {
		p.pos += len(op)
		if err := p.enter(start); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if op == "-" {
			if lit, ok := x.(*litExpr); ok {
				switch v := lit.val.(type) {
				case int64:
					return &litExpr{pos: lit.pos, val: -v}, nil
				case float64:
					return &litExpr{pos: lit.pos, val: -v}, nil
				}
			}
		}
		return &unaryExpr{pos: pos(p.lineAt(start)), op: canon(op), x: x}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (expr, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.errAt(p.pos, "unexpected end of template in an expression")
	}
	start := p.pos
	ln := pos(p.lineAt(start))
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if !p.consume(")") {
			return nil, p.errAt(p.pos, "expected )")
		}
		return e, nil
	case c == '$':
		ref, _, err := p.parseRef(true)
		if err != nil {
			return nil, err
		}
		return ref, nil
	case c == '\'':
		s, err := p.singleQuoted()
		if err != nil {
			return nil, err
		}
		return &litExpr{pos: ln, val: s}, nil
	case c == '"':
		return p.doubleQuoted()
	case c >= '0' && c <= '9':
		return p.number()
	case c == '[':
		p.pos++
		p.skipSpace()
		if p.consume("]") {
			return &listExpr{pos: ln}, nil
		}
		first, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.consume("..") {
			to, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if !p.consume("]") {
				return nil, p.errAt(p.pos, "expected ] after range")
			}
			return &rangeExpr{pos: ln, from: first, to: to}, nil
		}
		items := []expr{first}
		for {
			p.skipSpace()
			if p.consume("]") {
				return &listExpr{pos: ln, items: items}, nil
			}
			if !p.consume(",") {
				return nil, p.errAt(p.pos, "expected , or ] in list")
			}
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			items = append(items, e)
		}
	case c == '{':
		p.pos++
		m := &mapExpr{pos: ln}
		p.skipSpace()
		if p.consume("}") {
			return m, nil
		}
		for {
			k, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if !p.consume(":") {
				return nil, p.errAt(p.pos, "expected : in map")
			}
			v, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			m.keys = append(m.keys, k)
			m.vals = append(m.vals, v)
			p.skipSpace()
			if p.consume("}") {
				return m, nil
			}
			if !p.consume(",") {
				return nil, p.errAt(p.pos, "expected , or } in map")
			}
		}
	case isLetter(c):
		w := p.ident()
		switch w {
		case "true":
			return &litExpr{pos: ln, val: true}, nil
		case "false":
			return &litExpr{pos: ln, val: false}, nil
		case "null":
			return &litExpr{pos: ln, val: nil}, nil
		}
		return nil, p.errAt(start, "unexpected word %q in an expression (references start with $)", w)
	}
	return nil, p.errAt(start, "unexpected %q in an expression", string(c))
}

func (p *parser) number() (expr, error) {
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	isFloat := false
	if p.pos+1 < len(p.src) && p.src[p.pos] == '.' && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9' {
		isFloat = true
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
	}
	lit := p.src[start:p.pos]
	ln := pos(p.lineAt(start))
	if isFloat {
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			return nil, p.errAt(start, "bad number %s", lit)
		}
		return &litExpr{pos: ln, val: f}, nil
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return nil, p.errAt(start, "integer %s out of range", clip(lit))
	}
	return &litExpr{pos: ln, val: n}, nil
}

// singleQuoted reads a '...' string: no interpolation, ” is a quote.
func (p *parser) singleQuoted() (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\'' {
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == '\'' {
				b.WriteByte('\'')
				p.pos += 2
				continue
			}
			p.pos++
			return b.String(), nil
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", p.errAt(start, "unterminated string")
}

// doubleQuoted reads a "..." string, whose content is a template: \" and ""
// are quotes.
func (p *parser) doubleQuoted() (expr, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	closed := false
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '"' {
			b.WriteByte('"')
			p.pos += 2
			continue
		}
		if c == '"' {
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == '"' {
				b.WriteByte('"')
				p.pos += 2
				continue
			}
			p.pos++
			closed = true
			break
		}
		b.WriteByte(c)
		p.pos++
	}
	if !closed {
		return nil, p.errAt(start, "unterminated string")
	}
	ln := p.lineAt(start)
	content := b.String()
	if !strings.ContainsAny(content, `$#\`) {
		return &litExpr{pos: pos(ln), val: content}, nil
	}
	if err := p.enter(start); err != nil {
		return nil, err
	}
	defer p.leave()
	sub := newParser(content, ln-1, p.opts)
	sub.depth = p.depth
	sub.loops = p.loops
	sub.calls = p.calls
	parts, t, err := sub.parseBlock()
	if err != nil {
		return nil, err
	}
	if t.kind != "" {
		return nil, sub.errAt(t.start, "#%s without a matching #if or #foreach in a string", t.kind)
	}
	return &strExpr{pos: pos(ln), parts: parts}, nil
}

// compileJavaRegexp compiles a Java regular expression with Go's RE2
// engine; constructs RE2 lacks (lookaround, backreferences, possessive
// quantifiers) are errors.
// With anchored, the expression must match the whole input (String.matches).
func compileJavaRegexp(s string, anchored bool) (*regexp.Regexp, error) {
	expr := s
	if anchored {
		expr = `^(?:` + s + `)$`
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("regular expression %q is not supported: %v", clip(s), err)
	}
	return re, nil
}

// javaReplacement converts a Java replacement string ($1, ${name}, \$) to
// Go's regexp.Expand syntax.
func javaReplacement(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) {
				return "", fmt.Errorf("replacement %q ends with a backslash", clip(s))
			}
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case '$':
			j := i + 1
			if j < len(s) && s[j] == '{' {
				k := strings.IndexByte(s[j:], '}')
				if k < 0 {
					return "", fmt.Errorf("replacement %q has an unclosed ${", clip(s))
				}
				b.WriteString(s[i : j+k+1])
				i = j + k
				continue
			}
			k := j
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			if k == j {
				return "", fmt.Errorf("replacement %q has a $ without a group number (write \\$)", clip(s))
			}
			b.WriteString("${" + s[j:k] + "}")
			i = k - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
