package vtl

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func render(t *testing.T, src string, vars MapVars) string {
	t.Helper()
	tpl, err := Parse(src, Options{})
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	out, err := tpl.Execute(context.Background(), nil, vars, Limits{})
	if err != nil {
		t.Fatalf("Execute(%q): %v", src, err)
	}
	return string(out)
}

func TestRender(t *testing.T) {
	doc := map[string]any{
		"name":  "Rex",
		"tags":  []any{"a", "b"},
		"owner": map[string]any{"id": "o1", "age": int64(40)},
		"n":     nil,
	}
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"text", "plain text", "plain text"},
		{"property", "$d.name", "Rex"},
		{"braced", "${d.name}s", "Rexs"},
		{"nested", "$d.owner.id", "o1"},
		{"undefined renders empty", "[$nope][$d.nope][$d.nope.deeper]", "[][][]"},
		{"quiet", "[$!nope][$!{d.nope}]", "[][]"},
		{"dollar not a reference", "cost: $5 and $ alone", "cost: $5 and $ alone"},
		{"trailing dot", "$d.name.", "Rex."},
		{"escaped reference", `\$d.name \#if`, "$d.name #if"},
		{"double backslash", `\\$d.name`, `\Rex`},
		{"json array renders as JSON", "$d.tags", `["a","b"]`},
		{"json map renders Java-style", "$d.owner", "{age=40, id=o1}"},
		{"index", "$d.tags[1] $d.tags[-1] $d.owner['id']", "b b o1"},
		{"set and use", "#set($x = 'v')$x", "v"},
		{"set interpolated", `#set($x = "$d.name!")$x`, "Rex!"},
		{"single quotes do not interpolate", `#set($x = '$d.name')$x`, "$d.name"},
		{"doubled quotes", `#set($x = "a""b")#set($y = 'c''d')$x $y`, `a"b c'd`},
		{"set map path", "#set($m = {})#set($m.k = 1)#set($m['j'] = 2)$m", "{k=1, j=2}"},
		{"set list index", "#set($l = [1, 2])#set($l[0] = 9)$l", "[9, 2]"},
		{"if true", "#if($d.name)yes#end", "yes"},
		{"if null", "#if($d.n)yes#else no#end", " no"},
		{"empty string is true", "#set($e = '')#if($e)true#end", "true"},
		{"elseif", "#set($a = 2)#if($a == 1)one#elseif($a == 2)two#else other#end", "two"},
		{"braced directives", "#{if}(true)a#{else}b#{end}", "a"},
		{"word operators", "#if(1 lt 2 and not false or false)ok#end", "ok"},
		{"comparisons", "#if(2 >= 2 && 'b' > 'a' && 1 != 2 && 1.0 == 1)ok#end", "ok"},
		{"equality by string", "#if(1 == '1')eq#end", "eq"},
		{"arithmetic", "#set($x = 7 / 2)#set($y = 7 % 3)#set($z = 1.5 * 2)#set($w = -3 + 1)$x $y $z $w", "3 1 3.0 -2"},
		{"division by zero is null", "#set($x = 1)#set($x = 1 / 0)[$x]", "[]"},
		{"string concat", "#set($s = 'a' + 1)$s", "a1"},
		{"foreach list", "#foreach($t in $d.tags)$t#if($foreach.hasNext),#end#end", "a,b"},
		{"foreach state", "#foreach($t in ['x', 'y'])$foreach.index$foreach.count$velocityCount$foreach.first$foreach.last;#end", "011truefalse;122falsetrue;"},
		{"foreach range", "#foreach($i in [3..1])$i#end", "321"},
		{"foreach map values", "#foreach($v in {'a': 1, 'b': 2})$v#end", "12"},
		{"foreach restores variable", "#set($t = 'before')#foreach($t in [1])#end$t", "before"},
		{"foreach over null", "#foreach($t in $nope)x#end.", "."},
		{"break", "#foreach($i in [1..5])#if($i == 3)#break#end$i#end", "12"},
		{"stop", "a#stop b", "a"},
		{"line comment", "a## comment\nb", "ab"},
		{"block comment", "a#* c\nd *#b", "ab"},
		{"unparsed", "#[[#if($x) $y]]#", "#if($x) $y"},
		{"hash not a directive", "#fff #1 #", "#fff #1 #"},
		{"gobble lines", "a\n  #set($x = 1)\n  #if(true)\n  b\n  #end\nc", "a\n  b\nc"},
		{"no gobble inline", "a #if(true)b#end c\n", "a b c\n"},
		{"string methods", "#set($s = 'Hello')$s.length() $s.toUpperCase() $s.substring(1, 3) $s.indexOf('l') $s.lastIndexOf('l') $s.charAt(0) $s.contains('ell') $s.replace('l', 'L') $s.isEmpty()", "5 HELLO el 2 3 H true HeLLo false"},
		{"regex methods", "#set($s = 'a1b22c')$s.replaceAll('[0-9]+', '#') $s.replaceFirst('([a-z])([0-9])', '$2$1') $s.matches('[a-c0-9]+') $s.matches('b2')", "a#b#c 1ab22c true false"},
		{"split drops trailing empties", "#set($s = 'a,b,,')#set($p = $s.split(','))$p.size() $p", "2 [a, b]"},
		{"list methods", "#set($l = [3, 1])#set($ok = $l.add(2))$l.size() $l.get(0) $l.contains(1) $l.indexOf(2) $l.isEmpty() $l.subList(1, 3)", "3 3 true 2 false [1, 2]"},
		{"map methods", "#set($m = {'a': 1})#set($old = $m.put('b', 2))$m.size() $m.get('b') $m.containsKey('a') $m.keySet() $m.values() #foreach($e in $m.entrySet())$e.key=$e.value;#end", "2 2 true [a, b] [1, 2] a=1;b=2;"},
		{"json map methods", "$d.owner.keySet() $d.owner.get('id') $d.owner.size()", "[age, id] o1 2"},
		{"method on null is null", "[$nope.size()]", "[]"},
		{"number rendering", "#set($f = 0.1 + 0.2)#set($g = 1.0 * 10000000)$f $g", "0.30000000000000004 1.0E7"},
		{"self-containing list", "#set($l = [])#set($ok = $l.add($l))$l", "[(this Collection)]"},
		{"hyphenated property", "#set($m = {})#set($m.X-Amz-Target = 't')$m", "{X-Amz-Target=t}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(t, tt.src, MapVars{"d": doc}); got != tt.want {
				t.Errorf("render(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		want string
	}{
		{"macro", "a\n#macro(x)#end", 2, "#macro is not supported"},
		{"parse", "#parse('x.vm')", 1, "#parse is not supported"},
		{"include", "\n\n#include('x')", 3, "#include is not supported"},
		{"evaluate", "#evaluate('x')", 1, "#evaluate is not supported"},
		{"define", "#define($x)y#end", 1, "#define is not supported"},
		{"unknown method", "ok\n$s.frobnicate()", 2, "method frobnicate() is not supported"},
		{"unknown host member", "$util.fromJson('x')", 1, "$util.fromJson is not supported"},
		{"unknown foreach member", "#foreach($x in [1])$foreach.parent#end", 1, "$foreach.parent is not supported"},
		{"if without end", "#if(true)\nx", 1, "#if without #end"},
		{"foreach without end", "#foreach($x in [1])", 1, "#foreach without #end"},
		{"stray end", "x\n#end", 2, "#end without a matching"},
		{"stray else", "#else", 1, "#else without a matching"},
		{"elseif after else", "#if(true)#else#elseif(true)#end", 1, "#elseif after #else"},
		{"break outside foreach", "#break", 1, "#break outside #foreach"},
		{"unclosed brace", "${a.b", 1, "unclosed ${"},
		{"bad set", "#set(x = 1)", 1, "expected a $reference"},
		{"set to method", "#set($a.size() = 1)", 1, "cannot assign to a method call"},
		{"unterminated string", "#set($a = 'x)", 1, "unterminated string"},
		{"unterminated comment", "#* x", 1, "unterminated #* comment"},
		{"bare word", "#if(foo)#end", 1, `unexpected word "foo"`},
		{"bad regex", "$s.replaceAll('(?<=a)b', '')", 1, "is not supported"},
		{"bad replacement", "$s.replaceAll('a', '$')", 1, "without a group number"},
		{"integer overflow", "#set($a = 99999999999999999999)", 1, "out of range"},
		{"too deep", strings.Repeat("#if(true)", MaxNesting+5) + strings.Repeat("#end", MaxNesting+5), 1, "nesting deeper"},
		{"deep expression", "#set($a = " + strings.Repeat("(", 500) + "1" + strings.Repeat(")", 500) + ")", 1, "nesting deeper"},
	}
	opts := Options{Objects: map[string][]string{"util": {"escapeJavaScript"}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.src, opts)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error = %v, want an *Error", tt.src, err)
			}
			if e.Line != tt.line || !strings.Contains(e.Error(), tt.want) {
				t.Errorf("Parse(%q) = line %d %q, want line %d containing %q", tt.src, e.Line, e.Error(), tt.line, tt.want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		src  string
		lim  Limits
		want error
	}{
		{"output", "#foreach($i in [1..100])0123456789#end", Limits{MaxOutput: 500}, ErrOutputLimit},
		{"steps", "#foreach($i in [1..1000])#foreach($j in [1..1000])#end#end", Limits{MaxSteps: 10000}, ErrStepLimit},
		{"iterations", "#foreach($i in [1..1001])#end", Limits{}, ErrLoopLimit},
		{"doubling strings", "#set($s = 'xxxxxxxxxx')#foreach($i in [1..60])#set($s = \"$s$s\")#end", Limits{MaxOutput: 1 << 20}, ErrOutputLimit},
		{"growing list", "#set($l = [])#foreach($i in [1..1000])#foreach($j in [1..1000])#set($ok = $l.add($j))#end#end", Limits{MaxOutput: 1 << 16}, ErrOutputLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := Parse(tt.src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.Execute(context.Background(), nil, nil, tt.lim)
			var e *Error
			if !errors.Is(err, tt.want) || !errors.As(err, &e) || e.Line != 1 {
				t.Errorf("Execute error = %v, want %v on line 1", err, tt.want)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	tpl, err := Parse("#foreach($i in [1..1000])#foreach($j in [1..1000])#end#end", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tpl.Execute(ctx, nil, nil, Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Execute on a cancelled context = %v, want context.Canceled", err)
	}
}

type panicky struct{}

func (panicky) Property(string) (any, bool)     { panic("boom") }
func (panicky) Call(string, []any) (any, error) { return nil, errors.New("call failed") }

func TestHostFailures(t *testing.T) {
	hostOpts := Options{Objects: map[string][]string{"p": {"x", "m"}}}
	tpl, err := Parse("a\n$p.x", hostOpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Execute(context.Background(), nil, MapVars{"p": panicky{}}, Limits{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a panicking host object: err = %v, want the panic as an error", err)
	}
	tpl, err = Parse("a\n$p.m()", hostOpts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpl.Execute(context.Background(), nil, MapVars{"p": panicky{}}, Limits{})
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || !strings.Contains(err.Error(), "call failed") {
		t.Errorf("a failing host method: err = %v, want line 2 and its message", err)
	}
}

func TestRuntimeErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"substring out of range", "#set($s = 'abc')\n$s.substring(2, 9)", "out of bounds"},
		{"get out of range", "#set($l = [1])\n$l.get(3)", "out of range"},
		{"index out of range", "#set($l = [1])\n$l[3]", "out of range"},
		{"json array is read-only", "#set($ok = $d.add(1))", "read-only"},
		{"set on a non-map", "#set($s = 'x')#set($s.k = 1)", "is not a map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := Parse(tt.src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.Execute(context.Background(), nil, MapVars{"d": []any{1}}, Limits{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Execute(%q) = %v, want an error containing %q", tt.src, err, tt.want)
			}
		})
	}
}

func TestHostCalls(t *testing.T) {
	tpl, err := Parse("$input.json('$.a')\n\"${input.path($x)}\"", Options{Objects: map[string][]string{"input": {"json", "path"}}})
	if err != nil {
		t.Fatal(err)
	}
	calls := tpl.HostCalls()
	if len(calls) != 2 {
		t.Fatalf("HostCalls() = %v, want 2 calls", calls)
	}
	if c := calls[0]; c.Line != 1 || c.Method != "json" || c.Args[0] != "$.a" {
		t.Errorf("first call = %+v, want json('$.a') on line 1", c)
	}
	if c := calls[1]; c.Line != 2 || c.Method != "path" || c.Args[0] != (NotLiteral{}) {
		t.Errorf("second call = %+v, want path(<computed>) on line 2", c)
	}
}
