// Package vtl is a parser and evaluator for the subset of the Velocity
// Template Language that the model gateway's mapping templates use. It has
// no dependency on the gateway: the host supplies variables ([Vars]) and
// objects with properties and methods ([Object]); package transform
// supplies $input, $util, $context and $stageVariables.
//
//	t, err := vtl.Parse(src, vtl.Options{}) // *vtl.Error with the line
//	out, err := t.Execute(ctx, nil, vtl.MapVars{"name": "Ann"}, vtl.Limits{})
//
// # Supported
//
//	Construct                     Notes
//	text                          copied as is
//	$a $a.b $a.b(c) $a[i] ${a.b}  references: properties, methods, indexes
//	$!a  $!{a}                    quiet references
//	#set($a = expr)               also $a.b = …, $a['k'] = … on maps
//	#if / #elseif / #else / #end  also #{if}…#{end}
//	#foreach($x in expr) … #end   lists, JSON arrays, map values; ≤1000 items
//	$foreach.hasNext .index       also .count .first .last,
//	                              $velocityCount, $velocityHasNext
//	#break  #stop                 leave the loop / the template
//	## comment  #* comment *#     removed
//	#[[ unparsed ]]#              copied as is
//	\$a  \#if                     escapes
//	'single'  "double $a"         strings; double-quoted ones interpolate
//	1  -2  3.5  true false null   literals
//	[1, 2]  [1..5]  {"k": v}      lists, ranges, maps
//	|| && ! == != < <= > >=       and, or, not, eq, ne, lt, le, gt, ge
//	+ - * / %                     integers stay integers; + joins strings
//
// Methods on values (Java names and semantics): strings — length,
// substring, indexOf, lastIndexOf, contains, startsWith, endsWith,
// toLowerCase, toUpperCase, trim, replace, replaceAll, replaceFirst, split,
// matches, equals, equalsIgnoreCase, isEmpty, charAt, concat, compareTo,
// toString; lists — size, get, isEmpty, contains, indexOf, add, addAll,
// remove, set, subList, clear; maps — get, put, putAll, containsKey,
// containsValue, keySet, values, entrySet, remove, size, isEmpty; entries —
// getKey, getValue, .key, .value; numbers — intValue, longValue,
// doubleValue, compareTo. Regular expressions are Go's RE2 syntax, which
// accepts the Java expressions templates use except lookaround and
// backreferences (a parse error when the expression is a literal).
//
// # Not supported (parse errors naming the line)
//
// #macro, #parse, #include, #evaluate, #define; any method not listed
// above; members of host objects they do not have ($util.foo); a #break
// outside #foreach; unbalanced #if/#foreach/#end.
//
// # Differences from Velocity 1.7
//
// A reference that resolves to nothing renders as empty, never as its own
// source text. Space gobbling follows Velocity 2's "lines" mode: a line
// holding only a directive (or a ## comment) disappears with its newline.
// #set to null sets null. #foreach over more than the iteration limit is an
// error, not a silent truncation. String indexes count code points.
// JSON arrays and objects (from the host) are read-only, so that a
// template cannot make them contain themselves; arrays render as JSON. Lists
// the template makes render as [a, b], maps as {k=v}; JSON object keys come
// in sorted order, template maps in insertion order. Each ## comment takes
// its newline with it.
//
// Execution is bounded ([Limits]: output, steps, #foreach size, context
// cancellation) and never panics.
package vtl
