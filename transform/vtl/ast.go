package vtl

import "regexp"

// The syntax tree of a template. Nodes carry the line they start on for
// error messages.

type node interface{ line() int }

type pos int // 1-based line number

func (p pos) line() int { return int(p) }

// textNode is literal output.
type textNode struct {
	pos
	text string
}

// refNode outputs a reference: $a.b, $!a, ${a.b(c)}.
type refNode struct {
	pos
	ref *refExpr
}

// setNode is #set($target = value).
type setNode struct {
	pos
	target *refExpr
	value  expr
}

// ifNode is #if/#elseif/#else/#end.
type ifNode struct {
	pos
	conds  []expr
	bodies [][]node
	els    []node // nil without #else
}

// foreachNode is #foreach($v in iter) body #end.
type foreachNode struct {
	pos
	name string
	iter expr
	body []node
}

// breakNode is #break; stopNode is #stop.
type breakNode struct{ pos }
type stopNode struct{ pos }

// expr is an expression inside a directive, an argument or an index.
type expr interface{ line() int }

// refExpr is a reference: a root variable and a chain of accessors.
type refExpr struct {
	pos
	quiet bool
	name  string
	chain []accessor
	src   string // the reference as written, for messages
}

type accessKind uint8

const (
	accProp accessKind = iota
	accMethod
	accIndex
)

type accessor struct {
	kind  accessKind
	name  string         // property or method name
	args  []expr         // method arguments
	index expr           // index expression
	re    *regexp.Regexp // a literal regular expression argument, compiled once
	repl  string         // a literal replacement argument, converted once
	fixed bool           // re and repl hold the compiled literal arguments
}

// litExpr is a constant: string, int64, float64, bool or nil.
type litExpr struct {
	pos
	val any
}

// strExpr is an interpolated "double-quoted" string.
type strExpr struct {
	pos
	parts []node
}

// listExpr is [a, b, c].
type listExpr struct {
	pos
	items []expr
}

// rangeExpr is [from..to].
type rangeExpr struct {
	pos
	from, to expr
}

// mapExpr is {k: v, ...}.
type mapExpr struct {
	pos
	keys, vals []expr
}

// unaryExpr is !x or -x.
type unaryExpr struct {
	pos
	op string
	x  expr
}

// binaryExpr is x op y.
type binaryExpr struct {
	pos
	op   string
	x, y expr
}
