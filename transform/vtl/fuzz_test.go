package vtl

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVTL parses arbitrary templates and runs the ones that parse on an
// arbitrary JSON value: neither may panic (the recovers that guard
// production report "panicked"), and execution stays within its limits.
func FuzzVTL(f *testing.F) {
	seeds := []string{
		"plain", "$a.b", "$!a ${a.b} $!{a.c}", "#set($x = [1..3])#foreach($i in $x)$i#if($foreach.hasNext),#end#end",
		"#if($a.n > 1)big#elseif($a.n == 1)one#{else}none#end", "#set($m = {'k': 'v'})$m.k $m.keySet() $m.entrySet()",
		"$a.s.substring(1, 2).toUpperCase().replaceAll('[a-z]', '_').split('_')", "## c\n#* b *#\n#[[ raw $x ]]#",
		`#set($s = "in $a.s #if(true)yes#end")$s`, "#foreach($i in $a.list)#break#end#stop", "\\$a \\\\$a \\#if",
		"$a.list[0] $a.list[-1] $a['s']", "#set($l = [])#set($ok = $l.add($l))$l", "#set($x = 1 / 0)$x $a.n % 0",
		"#macro(x)#end", "${", "#if(", "#foreach($i in", "$a.s.matches('(a')", "#set($a.b.c = 1)",
	}
	for _, s := range seeds {
		f.Add(s, `{"n":2,"s":"hello","list":[1,"two",{"three":3}]}`)
	}
	f.Fuzz(func(t *testing.T, src, doc string) {
		wd := time.AfterFunc(10*time.Second, func() { panic("slow input: " + strconv.Quote(src) + " doc " + strconv.Quote(doc)) })
		defer wd.Stop()
		tpl, err := Parse(src, Options{Objects: map[string][]string{"util": {"x"}}})
		if err != nil {
			if strings.Contains(err.Error(), "panicked") {
				t.Fatalf("Parse(%q) panicked: %v", src, err)
			}
			return
		}
		var a any
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		_ = dec.Decode(&a)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		lim := Limits{MaxOutput: 1 << 16, MaxSteps: 100_000}
		out, err := tpl.Execute(ctx, nil, MapVars{"a": a}, lim)
		if err != nil && strings.Contains(err.Error(), "panicked") {
			t.Fatalf("Execute(%q) panicked: %v", src, err)
		}
		if len(out) > lim.MaxOutput {
			t.Fatalf("output of %d bytes over the limit of %d", len(out), lim.MaxOutput)
		}
	})
}
