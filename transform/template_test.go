package transform

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/transform/vtl"
)

func TestGoTemplateRendering(t *testing.T) {
	tests := []struct {
		name, src, body, want string
	}{
		{"missing values print nothing", `[{{path "$.nope"}}][{{(path "$").nope}}][{{.StageVariables.nope}}]`, `{"a":1}`, `[][][]`},
		{"collections print as json", `{{path "$.a"}} {{path "$.o"}}`, `{"a":[1,"x"],"o":{"k":true}}`, `[1,"x"] {"k":true}`},
		{"numbers keep their digits", `{{path "$.n"}}`, `{"n":12345678901234567890}`, `12345678901234567890`},
		{"empty body is {}", `{{body}}|{{.Body}}|{{json "$"}}`, ``, `{}|{}|{}`},
		{"params", `{{params "id"}} {{params "q"}} {{(params).querystring.limit}}`, ``, `7 dog food 10`},
		{"helpers", `{{upper "a"}}{{lower "B"}}{{join (split "a,b" ",") "+"}}{{default "d" (path "$.x")}}{{add 1 2}}{{sub 5.5 1}}{{mod 7 3}}`, `{}`, `Ab` + `a+bd34.51`},
		{"form body as string", `{{path "$"}}`, `a=1&b=2`, `a=1&b=2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := ParseTemplate(GoTemplate, tt.src, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tpl.Render(context.Background(), conformanceInput(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Body) != tt.want {
				t.Errorf("Render = %q, want %q", res.Body, tt.want)
			}
		})
	}
}

func TestTemplateFailures(t *testing.T) {
	tests := []struct {
		name string
		lang Language
		src  string
		body string
		lim  Limits
		want error
		msg  string
	}{
		{name: "vtl body not json", lang: VTL, src: `$input.json('$.a')`, body: `{x`, want: ErrBodyNotJSON},
		{name: "go body not json", lang: GoTemplate, src: `{{json "$.a"}}`, body: `{x`, want: ErrBodyNotJSON},
		{name: "vtl output limit", lang: VTL, src: `#foreach($i in [1..100])0123456789#end`, lim: Limits{MaxOutputBytes: 100}, want: vtl.ErrOutputLimit},
		{name: "go output limit", lang: GoTemplate, src: `{{range 100}}0123456789{{end}}`, lim: Limits{MaxOutputBytes: 100}, want: vtl.ErrOutputLimit},
		{name: "go empty loop bounded by steps", lang: GoTemplate, src: `{{range 100000000}}{{end}}`, lim: Limits{MaxSteps: 1000}, want: vtl.ErrStepLimit},
		{name: "vtl timeout", lang: VTL, src: `#foreach($i in [1..1000])#foreach($j in [1..1000])#end#end`, lim: Limits{Timeout: time.Nanosecond}, want: context.DeadlineExceeded},
		{name: "go timeout", lang: GoTemplate, src: `{{range 100000000}}x{{end}}`, lim: Limits{Timeout: time.Nanosecond}, want: context.DeadlineExceeded},
		{name: "vtl util error", lang: VTL, src: "\n$util.base64Decode('***')", msg: "line 2"},
		{name: "go util error", lang: GoTemplate, src: `{{urlDecode "%zz"}}`, msg: "invalid URL escape"},
		{name: "vtl bad status override", lang: VTL, src: `#set($context.responseOverride.status = "abc")`, msg: "not an integer"},
		{name: "go bad status override", lang: GoTemplate, src: `{{setStatus 99}}`, msg: "outside 100-599"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := ParseTemplate(tt.lang, tt.src, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			in := conformanceInput(tt.body)
			in.Status = 200
			_, err = tpl.Render(context.Background(), in)
			if err == nil {
				t.Fatal("Render succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Render = %v, want %v", err, tt.want)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Render = %v, want it to mention %q", err, tt.msg)
			}
		})
	}
}

func TestGoTemplateConcurrent(t *testing.T) {
	tpl, err := ParseTemplate(GoTemplate, `{{params "id"}}:{{json "$.n"}}`, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 8)
	for i := range 8 {
		go func() {
			in := conformanceInput(`{"n":` + string(rune('0'+i)) + `}`)
			res, err := tpl.Render(context.Background(), in)
			if err != nil {
				done <- err.Error()
				return
			}
			done <- string(res.Body)
		}()
	}
	seen := map[string]bool{}
	for range 8 {
		seen[<-done] = true
	}
	for i := range 8 {
		if want := "7:" + string(rune('0'+i)); !seen[want] {
			t.Errorf("no execution produced %q: %v", want, seen)
		}
	}
}

func TestUtil(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"escapeJavaScript", EscapeJavaScript("a'b\"c\\d/e\n\t\u00e9\U0001F600\x01"), `a\'b\"c\\d\/e\n\t\u00E9\uD83D\uDE00\u0001`},
		{"urlEncode", URLEncode("a b+c&é*~-_."), "a+b%2Bc%26%C3%A9*%7E-_."},
		{"base64Encode", Base64Encode("hi"), "aGk="},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if s, err := Base64Decode("aGk"); err != nil || s != "hi" {
		t.Errorf("Base64Decode without padding = %q, %v", s, err)
	}
	if _, err := URLDecode("%g0"); err == nil {
		t.Error("URLDecode of a bad escape succeeded")
	}
}

func TestMatchMediaType(t *testing.T) {
	tests := []struct {
		ct       string
		patterns []string
		want     bool
	}{
		{"image/png", []string{"image/png"}, true},
		{"Image/PNG; q=1", []string{"image/*"}, true},
		{"text/plain", []string{"image/*"}, false},
		{"", []string{"*/*"}, true},
		{"", []string{"image/*"}, false},
		{"application/octet-stream", nil, false},
	}
	for _, tt := range tests {
		if got := MatchMediaType(tt.ct, tt.patterns); got != tt.want {
			t.Errorf("MatchMediaType(%q, %q) = %v, want %v", tt.ct, tt.patterns, got, tt.want)
		}
	}
	patterns := []string{"text/html", "image/*"}
	if n := testing.AllocsPerRun(100, func() { MatchMediaType("Image/PNG; q=1", patterns) }); n != 0 {
		t.Errorf("MatchMediaType allocates %v times per call, want 0", n)
	}
}
