package transform

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzGoTemplate parses arbitrary Go templates and renders the ones that
// parse: no panic may escape or be caught ("panicked"), and the output
// stays within the limit.
func FuzzGoTemplate(f *testing.F) {
	for _, tc := range conformanceCases {
		f.Add(tc.gotmpl, tc.body)
	}
	for _, s := range []string{
		`{{range 1000000}}{{end}}`, `{{define "a"}}{{template "a"}}{{end}}`, `{{json "$["}}`, `{{.Context.Identity.ClientCert.SubjectDN}}`,
		`{{with $x := path "$.a"}}{{$x}}{{end}}`, `{{index (path "$") "a"}}`, `{{printf "%v" (params)}}`, `{{setStatus 200}}{{setHeader "a" "b"}}`,
		`{{block "b" .}}{{.Body}}{{end}}`, `{{break}}`, `{{range $i, $v := path "$.a"}}{{$i}}{{end}}`,
	} {
		f.Add(s, `{"a":[1,2,{"b":null}]}`)
	}
	f.Fuzz(func(t *testing.T, src, body string) {
		wd := time.AfterFunc(10*time.Second, func() { panic("slow input: " + strconv.Quote(src) + " body " + strconv.Quote(body)) })
		defer wd.Stop()
		lim := Limits{MaxOutputBytes: 1 << 16, MaxSteps: 100_000, Timeout: 2 * time.Second}
		tpl, err := ParseTemplate(GoTemplate, src, lim)
		if err != nil {
			if strings.Contains(err.Error(), "panicked") {
				t.Fatalf("ParseTemplate(%q) panicked: %v", src, err)
			}
			return
		}
		res, err := tpl.Render(context.Background(), conformanceInput(body))
		if err != nil && strings.Contains(err.Error(), "panicked") {
			t.Fatalf("Render(%q) panicked: %v", src, err)
		}
		if len(res.Body) > lim.MaxOutputBytes {
			t.Fatalf("output of %d bytes over the limit", len(res.Body))
		}
	})
}

// FuzzTemplateVTL renders arbitrary VTL through the gateway's host objects
// ($input, $util, $context, $stageVariables).
func FuzzTemplateVTL(f *testing.F) {
	for _, tc := range conformanceCases {
		f.Add(tc.vtl, tc.body)
	}
	f.Fuzz(func(t *testing.T, src, body string) {
		wd := time.AfterFunc(10*time.Second, func() { panic("slow input: " + strconv.Quote(src) + " body " + strconv.Quote(body)) })
		defer wd.Stop()
		lim := Limits{MaxOutputBytes: 1 << 16, MaxSteps: 100_000, Timeout: 2 * time.Second}
		tpl, err := ParseTemplate(VTL, src, lim)
		if err != nil {
			if strings.Contains(err.Error(), "panicked") {
				t.Fatalf("ParseTemplate(%q) panicked: %v", src, err)
			}
			return
		}
		in := conformanceInput(body)
		in.Status = 200
		res, err := tpl.Render(context.Background(), in)
		if err != nil && strings.Contains(err.Error(), "panicked") {
			t.Fatalf("Render(%q) panicked: %v", src, err)
		}
		if len(res.Body) > lim.MaxOutputBytes {
			t.Fatalf("output of %d bytes over the limit", len(res.Body))
		}
	})
}

// FuzzParameterMapping compiles arbitrary mapping keys and values: a
// compiled literal never holds CR or LF.
func FuzzParameterMapping(f *testing.F) {
	for _, kv := range [][2]string{
		{"integration.request.header.X", "method.request.querystring.q"},
		{"integration.request.path.id", "method.request.body.a.b[0]"},
		{"append:header.X", "${request.header.Y}-$context.requestId"},
		{"overwrite:path", "/v2/$request.path.id"},
		{"overwrite:statuscode", "$response.body.code"},
		{"method.response.header.X", "'lit'"},
		{"remove:querystring.q", ""},
		{"overwrite:header.X", "a\r\nb"},
		{"overwrite:header.X", "${unclosed"},
	} {
		f.Add(kv[0], kv[1], true)
		f.Add(kv[0], kv[1], false)
	}
	f.Fuzz(func(t *testing.T, key, value string, request bool) {
		side := responseSide
		if request {
			side = requestSide
		}
		ops, err := compileParams(map[string]string{key: value}, side, map[string]string{"v": "1"})
		if err != nil {
			return
		}
		for _, op := range ops {
			for _, p := range op.value {
				if p.src == nil && hasCRLF(p.lit) {
					t.Fatalf("compiled %q: %q into a literal with CR or LF", key, value)
				}
			}
		}
	})
}

// FuzzCompileModels compiles arbitrary schemas and validates a document
// against the ones that compile.
func FuzzCompileModels(f *testing.F) {
	f.Add(petSchema, `{"name":"a","age":1}`)
	f.Add(`{"type":["string","null"]}`, `null`)
	f.Add(`{"$ref":"#/definitions/A","definitions":{"A":{"$ref":"#"}}}`, `{}`)
	f.Add(`{"allOf":[{"type":"object"},{"required":["a"]}],"not":{"type":"array"}}`, `{"a":1}`)
	f.Fuzz(func(t *testing.T, schema, doc string) {
		ms, err := CompileModels(map[string]json.RawMessage{"M": json.RawMessage(schema)})
		if err != nil {
			return
		}
		v, err := NewValidator(Validation{ValidateBody: true, RequestModels: map[string]string{"$default": "M"}}, ms)
		if err != nil {
			t.Fatalf("a compiled model fails NewValidator: %v", err)
		}
		_ = v.CheckBody("application/json", []byte(doc))
	})
}
