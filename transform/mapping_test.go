package transform

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/portico-gw/portico/reqctx"
)

// seen is what the echo integration received.
type seen struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Query  url.Values        `json:"query"`
	Header http.Header       `json:"header"`
	Body   string            `json:"body"`
	Params map[string]string `json:"params"`
	ID     string            `json:"id"`
}

// echo answers with what it received, as JSON.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header, Body: string(b), ID: r.PathValue("id")}
	if rc := reqctx.From(r.Context()); rc != nil {
		s.Params = rc.PathParams
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s)
})

// newRequest makes a request inside a gateway-like context.
func newRequest(method, target, ct, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	rc := &reqctx.Context{
		RequestID:      "req-1",
		Stage:          "prod",
		PathParams:     map[string]string{"id": "7"},
		StageVariables: map[string]string{"backend": "v2"},
		Identity:       reqctx.Identity{SourceIP: "203.0.113.9"},
	}
	r.SetPathValue("id", "7")
	return r.WithContext(reqctx.With(r.Context(), rc))
}

func serveMapped(t *testing.T, m Mapping, h http.Handler, r *http.Request, opts ...MapperOption) *httptest.ResponseRecorder {
	t.Helper()
	mp, err := NewMapper(m, append([]MapperOption{WithStageVariables(map[string]string{"backend": "v2"})}, opts...)...)
	if err != nil {
		t.Fatalf("NewMapper: %v", err)
	}
	w := httptest.NewRecorder()
	mp.Handler(h).ServeHTTP(w, r)
	return w
}

func decodeSeen(t *testing.T, w *httptest.ResponseRecorder) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatalf("status %d, body %q: %v", w.Code, w.Body, err)
	}
	return s
}

func TestRequestParameters(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		target string
		header http.Header
		body   string
		check  func(t *testing.T, s seen)
	}{
		{
			name: "rest syntax",
			params: map[string]string{
				"integration.request.header.X-Query":     "method.request.querystring.q",
				"integration.request.querystring.h":      "method.request.header.X-In",
				"integration.request.querystring.all":    "method.request.multivaluequerystring.m",
				"integration.request.header.X-Source-Ip": "context.identity.sourceIp",
				"integration.request.header.X-Const":     "'fixed'",
				"integration.request.header.X-Backend":   "stageVariables.backend",
				"integration.request.path.id":            "method.request.querystring.newid",
				"integration.request.header.X-Absent":    "method.request.header.Nope",
				"integration.request.header.X-Name":      "method.request.body.pet.name",
			},
			target: "/pets/7?q=dogs&m=1&m=2&newid=99",
			header: http.Header{"X-In": {"hi"}},
			body:   `{"pet":{"name":"Rex"}}`,
			check: func(t *testing.T, s seen) {
				want := map[string]string{"X-Query": "dogs", "X-Source-Ip": "203.0.113.9", "X-Const": "fixed", "X-Backend": "v2", "X-Name": "Rex"}
				for k, v := range want {
					if got := s.Header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
				if s.Header.Get("X-Absent") != "" {
					t.Error("a mapping from an absent parameter set a header")
				}
				if s.Query.Get("h") != "hi" || strings.Join(s.Query["all"], ",") != "1,2" {
					t.Errorf("query = %v, want h=hi and all=1,2", s.Query)
				}
				if s.Params["id"] != "99" || s.ID != "99" {
					t.Errorf("path parameter id = %q / PathValue %q, want 99", s.Params["id"], s.ID)
				}
			},
		},
		{
			name: "http api syntax",
			params: map[string]string{
				"append:header.X-Tag":          "${request.header.X-In}-${context.requestId}",
				"overwrite:header.X-In":        "replaced",
				"remove:header.X-Drop":         "''",
				"overwrite:querystring.q":      "$request.querystring.q and $stageVariables.backend",
				"remove:querystring.secret":    "''",
				"append:querystring.from-body": "$request.body.pet.name",
				"overwrite:path":               "/v2/pets/$request.path.id",
			},
			target: "/pets/7?q=dogs&secret=s",
			header: http.Header{"X-In": {"hi"}, "X-Drop": {"x"}, "X-Tag": {"first"}},
			body:   `{"pet":{"name":"Rex"}}`,
			check: func(t *testing.T, s seen) {
				if got := s.Header.Values("X-Tag"); strings.Join(got, ",") != "first,hi-req-1" {
					t.Errorf("X-Tag = %q, want first,hi-req-1", got)
				}
				if s.Header.Get("X-In") != "replaced" || s.Header.Get("X-Drop") != "" {
					t.Errorf("X-In = %q X-Drop = %q, want replaced and nothing", s.Header.Get("X-In"), s.Header.Get("X-Drop"))
				}
				if s.Query.Get("q") != "dogs and v2" || s.Query.Has("secret") || s.Query.Get("from-body") != "Rex" {
					t.Errorf("query = %v", s.Query)
				}
				if s.Path != "/v2/pets/7" {
					t.Errorf("path = %q, want /v2/pets/7", s.Path)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest("POST", tt.target, "application/json", tt.body)
			for k, v := range tt.header {
				r.Header[k] = v
			}
			w := serveMapped(t, Mapping{RequestParameters: tt.params}, echo, r)
			tt.check(t, decodeSeen(t, w))
		})
	}
}

func TestRequestMappingRefusals(t *testing.T) {
	tests := []struct {
		name   string
		m      Mapping
		target string
		ct     string
		body   string
		status int
		errTyp string
	}{
		{"CR LF in a mapped header", Mapping{RequestParameters: map[string]string{"integration.request.header.X": "method.request.querystring.q"}},
			"/?q=a%0d%0aX-Evil:%201", "application/json", "", 400, "BadRequestException"},
		{"CR LF through a template override", Mapping{RequestTemplates: map[string]string{"application/json": `#set($context.requestOverride.header.X = $input.params('q'))`}},
			"/?q=a%0aB", "application/json", "{}", 500, "InternalServerErrorException"},
		{"no template, NEVER", Mapping{PassthroughBehavior: Never}, "/", "application/json", "{}", 415, "UnsupportedMediaTypeException"},
		{"type without template, WHEN_NO_TEMPLATES", Mapping{PassthroughBehavior: WhenNoTemplates, RequestTemplates: map[string]string{"application/json": "{}"}},
			"/", "text/plain", "x", 415, "UnsupportedMediaTypeException"},
		{"json template on a body that is not json", Mapping{RequestTemplates: map[string]string{"application/json": `$input.json('$.a')`}},
			"/", "application/json", "{oops", 400, "BadRequestException"},
		{"bad base64 for CONVERT_TO_BINARY", Mapping{ContentHandling: ConvertToBinary}, "/", "text/plain", "!!", 400, "BadRequestException"},
		{"template runtime error", Mapping{RequestTemplates: map[string]string{"application/json": `#set($l = [])$l.get(3)`}},
			"/", "application/json", "{}", 500, "InternalServerErrorException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached := false
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })
			w := serveMapped(t, tt.m, h, newRequest("POST", tt.target, tt.ct, tt.body))
			if w.Code != tt.status || w.Header().Get("X-Amzn-Errortype") != tt.errTyp {
				t.Errorf("got %d %s, want %d %s (%s)", w.Code, w.Header().Get("X-Amzn-Errortype"), tt.status, tt.errTyp, w.Body)
			}
			if reached {
				t.Error("the integration was called")
			}
		})
	}
}

func TestRequestTemplates(t *testing.T) {
	tests := []struct {
		name   string
		m      Mapping
		ct     string
		body   string
		enc    string
		want   string // body the integration sees
		header map[string]string
		query  map[string]string
	}{
		{name: "vtl", m: Mapping{RequestTemplates: map[string]string{"application/json": `{"petName": $input.json('$.name'), "id": "$input.params('id')"}`}},
			ct: "application/json", body: `{"name":"Rex"}`, want: `{"petName": "Rex", "id": "7"}`},
		{name: "go", m: Mapping{Language: GoTemplate, RequestTemplates: map[string]string{"application/json": `{"petName": {{json "$.name"}}, "id": "{{params "id"}}"}`}},
			ct: "application/json", body: `{"name":"Rex"}`, want: `{"petName": "Rex", "id": "7"}`},
		{name: "missing content type selects json", m: Mapping{RequestTemplates: map[string]string{"application/json": `json`}},
			ct: "", body: `{}`, want: `json`},
		{name: "content type parameters ignored", m: Mapping{RequestTemplates: map[string]string{"application/json": `json`}},
			ct: "Application/JSON; charset=utf-8", body: `{}`, want: `json`},
		{name: "no match passes through", m: Mapping{RequestTemplates: map[string]string{"application/json": `json`}},
			ct: "text/plain", body: `plain`, want: `plain`},
		{name: "overrides", m: Mapping{RequestTemplates: map[string]string{"application/json": `#set($context.requestOverride.header.X-Amz-Target = "Svc.Op")#set($context.requestOverride.querystring.page = "2")ok`}},
			ct: "application/json", body: `{}`, want: `ok`, header: map[string]string{"X-Amz-Target": "Svc.Op"}, query: map[string]string{"page": "2"}},
		{name: "go overrides", m: Mapping{Language: GoTemplate, RequestTemplates: map[string]string{"application/json": `{{setHeader "X-A" "1"}}{{setQuery "page" "3"}}ok`}},
			ct: "application/json", body: `{}`, want: `ok`, header: map[string]string{"X-A": "1"}, query: map[string]string{"page": "3"}},
		{name: "gzip body decoded first", m: Mapping{RequestTemplates: map[string]string{"application/json": `$input.path('$.name')`}},
			ct: "application/json", body: `{"name":"Zip"}`, enc: "gzip", want: `Zip`},
		{name: "br body decoded first", m: Mapping{RequestTemplates: map[string]string{"application/json": `$input.path('$.name')`}},
			ct: "application/json", body: `{"name":"Bro"}`, enc: "br", want: `Bro`},
		{name: "zstd body decoded first", m: Mapping{RequestTemplates: map[string]string{"application/json": `$input.path('$.name')`}},
			ct: "application/json", body: `{"name":"Zed"}`, enc: "zstd", want: `Zed`},
		{name: "binary seen as base64 by templates", m: Mapping{RequestTemplates: map[string]string{"image/png": `{"data":"$input.body"}`}},
			ct: "image/png", body: "\x89PNG", want: `{"data":"iVBORw=="}`},
		{name: "CONVERT_TO_TEXT", m: Mapping{ContentHandling: ConvertToText},
			ct: "image/png", body: "\x89PNG", want: `iVBORw==`},
		{name: "CONVERT_TO_BINARY", m: Mapping{ContentHandling: ConvertToBinary},
			ct: "text/plain", body: `aGk=`, want: `hi`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := encode(t, tt.enc, tt.body)
			r := newRequest("POST", "/pets/7", tt.ct, body)
			if tt.enc != "" {
				r.Header.Set("Content-Encoding", tt.enc)
			}
			w := serveMapped(t, tt.m, echo, r, WithBinaryMediaTypes([]string{"image/*"}))
			s := decodeSeen(t, w)
			if s.Body != tt.want {
				t.Errorf("integration body = %q, want %q", s.Body, tt.want)
			}
			if tt.enc != "" && s.Header.Get("Content-Encoding") != "" {
				t.Error("Content-Encoding kept on a decoded body")
			}
			for k, v := range tt.header {
				if got := s.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for k, v := range tt.query {
				if got := s.Query.Get(k); got != v {
					t.Errorf("query %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// backend answers with a fixed response.
func backend(status int, header http.Header, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

func TestIntegrationResponses(t *testing.T) {
	json := http.Header{"Content-Type": {"application/json"}}
	responses := []Response{
		{SelectionPattern: `4\d{2}`, StatusCode: 400, Templates: map[string]string{"application/json": `{"error": $input.json('$.msg')}`}},
		{SelectionPattern: `.*not found.*`, StatusCode: 404, Templates: map[string]string{"application/json": `{"missing": "$input.path('$.errorMessage')"}`}},
		{StatusCode: 200, Parameters: map[string]string{
			"method.response.header.X-Id":      "integration.response.body.id",
			"method.response.header.X-Up":      "integration.response.header.X-Upstream",
			"method.response.header.X-Literal": "'lit'",
			"method.response.header.X-Stage":   "context.stage",
		}, Templates: map[string]string{
			"application/json": `{"pet": $input.json('$.id'), "status": $input.params('id')}`,
			"application/xml":  `<pet id="$input.path('$.id')"/>`,
		}},
	}
	tests := []struct {
		name      string
		responses []Response
		backend   http.Handler
		accept    string
		status    int
		body      string
		header    map[string]string
	}{
		{name: "default response with parameters and json template", responses: responses,
			backend: backend(200, http.Header{"Content-Type": {"application/json"}, "X-Upstream": {"u1"}}, `{"id":5}`),
			status:  200, body: `{"pet": 5, "status": 7}`,
			header: map[string]string{"X-Id": "5", "X-Up": "u1", "X-Literal": "lit", "X-Stage": "prod", "Content-Type": "application/json"}},
		{name: "accept selects the xml template", responses: responses, accept: "application/xml, application/json",
			backend: backend(200, json, `{"id":5}`), status: 200, body: `<pet id="5"/>`,
			header: map[string]string{"Content-Type": "application/xml"}},
		{name: "unknown accept falls back to json", responses: responses, accept: "text/csv",
			backend: backend(200, json, `{"id":5}`), status: 200, body: `{"pet": 5, "status": 7}`},
		{name: "status pattern", responses: responses,
			backend: backend(422, json, `{"msg":"bad"}`), status: 400, body: `{"error": "bad"}`},
		{name: "error message pattern", responses: responses,
			backend: backend(200, http.Header{FunctionErrorHeader: {"Unhandled"}}, `{"errorMessage":"pet 7 not found","errorType":"NotFound"}`),
			status:  404, body: `{"missing": "pet 7 not found"}`, header: map[string]string{FunctionErrorHeader: ""}},
		{name: "no match and no default", responses: responses[:1],
			backend: backend(500, json, `{}`), status: 500, header: map[string]string{"X-Amzn-Errortype": "InternalServerErrorException"}},
		{name: "http api syntax", responses: []Response{{Parameters: map[string]string{
			"overwrite:statuscode":  "$response.body.code",
			"overwrite:header.X-Up": "up=$response.header.X-Upstream",
			"remove:header.X-Drop":  "''",
		}}}, backend: backend(200, http.Header{"X-Upstream": {"u1"}, "X-Drop": {"d"}}, `{"code":"201"}`),
			status: 201, body: `{"code":"201"}`, header: map[string]string{"X-Up": "up=u1", "X-Drop": ""}},
		{name: "template overrides", responses: []Response{{Templates: map[string]string{"application/json": `#set($context.responseOverride.status = 418)#set($context.responseOverride.header.X-Tea = "pot")tea`}}},
			backend: backend(200, json, `{}`), status: 418, body: `tea`, header: map[string]string{"X-Tea": "pot"}},
		{name: "CONVERT_TO_BINARY", responses: []Response{{ContentHandling: ConvertToBinary}},
			backend: backend(200, http.Header{"Content-Type": {"image/png"}}, `iVBORw==`), status: 200, body: "\x89PNG"},
		{name: "CONVERT_TO_TEXT", responses: []Response{{ContentHandling: ConvertToText}},
			backend: backend(200, http.Header{"Content-Type": {"image/png"}}, "\x89PNG"), status: 200, body: `iVBORw==`},
		{name: "binary body seen as base64 by templates", responses: []Response{{Templates: map[string]string{"application/json": `{"img":"$input.body"}`}}},
			backend: backend(200, http.Header{"Content-Type": {"image/png"}}, "\x89PNG"), status: 200, body: `{"img":"iVBORw=="}`},
		{name: "CR LF from the backend refused", responses: []Response{{Parameters: map[string]string{"method.response.header.X": "integration.response.body.v"}}},
			backend: backend(200, json, `{"v":"a\r\nSet-Cookie: x=1"}`), status: 502},
		{name: "backend over the body limit", responses: responses,
			backend: backend(200, json, strings.Repeat("x", 2048)), status: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest("GET", "/pets/7", "", "")
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			w := serveMapped(t, Mapping{Responses: tt.responses}, tt.backend, r,
				WithBinaryMediaTypes([]string{"image/png"}), WithLimits(Limits{MaxBodyBytes: 1024}))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body = %q, want %q", w.Body, tt.body)
			}
			for k, v := range tt.header {
				if got := w.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestNoResponsesPassesThrough(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Stream", "1")
		w.WriteHeader(299)
		_, _ = io.WriteString(w, "raw")
	})
	w := serveMapped(t, Mapping{RequestParameters: map[string]string{"overwrite:header.X": "1"}}, h, newRequest("GET", "/", "", ""))
	if w.Code != 299 || w.Body.String() != "raw" || w.Header().Get("X-Stream") != "1" {
		t.Errorf("got %d %q %v, want the integration's response unchanged", w.Code, w.Body, w.Header())
	}
}

func TestNewMapperErrors(t *testing.T) {
	tests := []struct {
		name string
		m    Mapping
		want string
	}{
		{"bad template", Mapping{RequestTemplates: map[string]string{"application/json": "ok\n#if(true)"}}, "line 2: #if without #end"},
		{"unsupported directive", Mapping{RequestTemplates: map[string]string{"application/json": "#macro(x)#end"}}, "#macro is not supported"},
		{"bad jsonpath literal", Mapping{RequestTemplates: map[string]string{"application/json": "\n$input.json('$.a[')"}}, "line 2: $input.json"},
		{"bad go template", Mapping{Language: GoTemplate, RequestTemplates: map[string]string{"application/json": "{{if}}"}}, "missing value for if"},
		{"recursive go template", Mapping{Language: GoTemplate, RequestTemplates: map[string]string{"application/json": `{{define "a"}}{{template "a"}}{{end}}{{template "a"}}`}}, "recursive templates"},
		{"bad go jsonpath", Mapping{Language: GoTemplate, RequestTemplates: map[string]string{"application/json": `{{json "$["}}`}}, "json"},
		{"unknown language", Mapping{Language: "lua", RequestTemplates: map[string]string{"application/json": "x"}}, `unknown template language "lua"`},
		{"template too large", Mapping{RequestTemplates: map[string]string{"application/json": strings.Repeat("x", DefaultMaxTemplateBytes+1)}}, "exceeds the limit"},
		{"bad content type", Mapping{RequestTemplates: map[string]string{"json": "x"}}, `"json" is not type/subtype`},
		{"bad passthrough", Mapping{PassthroughBehavior: "SOMETIMES"}, `PassthroughBehavior "SOMETIMES"`},
		{"bad content handling", Mapping{ContentHandling: "CONVERT"}, `ContentHandling "CONVERT"`},
		{"bad mapping key", Mapping{RequestParameters: map[string]string{"integration.request.cookie.c": "'x'"}}, `cannot map "cookie"`},
		{"bad mapping source", Mapping{RequestParameters: map[string]string{"integration.request.header.X": "method.request.cookie.c"}}, `unknown source "cookie"`},
		{"undefined stage variable", Mapping{RequestParameters: map[string]string{"integration.request.header.X": "stageVariables.nope"}}, `stage variable "nope" is not defined`},
		{"unknown context variable", Mapping{RequestParameters: map[string]string{"overwrite:header.X": "$context.nope"}}, `unknown context variable "nope"`},
		{"reserved header", Mapping{RequestParameters: map[string]string{"overwrite:header.X-Amz-Date": "x"}}, "reserved"},
		{"hop header", Mapping{RequestParameters: map[string]string{"integration.request.header.Content-Length": "'1'"}}, "cannot be mapped"},
		{"CR LF literal", Mapping{RequestParameters: map[string]string{"integration.request.header.X": "'a\r\nb'"}}, "CR, LF"},
		{"bad action", Mapping{RequestParameters: map[string]string{"prepend:header.X": "x"}}, `unknown action "prepend"`},
		{"path append", Mapping{RequestParameters: map[string]string{"append:path": "x"}}, "only be overwritten"},
		{"bad selection pattern", Mapping{Responses: []Response{{SelectionPattern: "("}}}, "selection pattern"},
		{"two defaults", Mapping{Responses: []Response{{}, {}}}, "second default"},
		{"bad status", Mapping{Responses: []Response{{StatusCode: 700}}}, "status 700"},
		{"bad response key", Mapping{Responses: []Response{{Parameters: map[string]string{"integration.request.header.X": "'x'"}}}}, "method.response.header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMapper(tt.m, WithStageVariables(map[string]string{"backend": "v2"}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewMapper = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestGatewayErrorsPassThrough checks that a gateway error written inside
// the mapping (an integration timeout) is neither mapped nor held back: it
// goes out when it is flushed, while the integration still runs.
func TestGatewayErrorsPassThrough(t *testing.T) {
	mp, err := NewMapper(Mapping{Responses: []Response{{StatusCode: 200, Templates: map[string]string{"application/json": `{"mapped": true}`}}}})
	if err != nil {
		t.Fatal(err)
	}
	flushed := make(chan struct{})
	release := make(chan struct{})
	h := mp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As the integration timeout does: answer and flush from a timer,
		// while the integration goes on.
		go func() {
			reqctx.WriteError(w, r, reqctx.NewError(reqctx.IntegrationTimeout, nil))
			_ = http.NewResponseController(w).Flush()
			close(flushed)
		}()
		<-release
		_, _ = io.WriteString(w, `{"late": true}`) // refused: the response is out
	}))
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(w, newRequest("GET", "/", "", ""))
		close(done)
	}()
	<-flushed
	if w.Code != http.StatusGatewayTimeout || !strings.Contains(w.Body.String(), "Endpoint request timed out") {
		t.Errorf("before the integration returned: %d %s, want the 504 as written", w.Code, w.Body)
	}
	close(release)
	<-done
	if strings.Contains(w.Body.String(), "late") || strings.Contains(w.Body.String(), "mapped") {
		t.Errorf("body = %s, want the gateway error alone", w.Body)
	}
}

// encode compresses body with a Content-Encoding ("" leaves it as it is).
func encode(t *testing.T, enc, body string) string {
	t.Helper()
	var b bytes.Buffer
	var zw io.WriteCloser
	switch enc {
	case "":
		return body
	case "gzip":
		zw = gzip.NewWriter(&b)
	case "br":
		zw = brotli.NewWriter(&b)
	case "zstd":
		var err error
		if zw, err = zstd.NewWriter(&b, zstd.WithEncoderConcurrency(1)); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("encode: unknown encoding %q", enc)
	}
	_, _ = zw.Write([]byte(body))
	_ = zw.Close()
	return b.String()
}

// TestDecodeBodyLimit checks that a small compressed body that expands
// past the limit is refused, whatever its encoding.
func TestDecodeBodyLimit(t *testing.T) {
	big := strings.Repeat("a", 1<<20)
	for _, enc := range []string{"gzip", "br", "zstd"} {
		_, _, err := decodeBody(enc, []byte(encode(t, enc, big)), 1000)
		var e *reqctx.Error
		if !errors.As(err, &e) || e.Type != reqctx.RequestTooLarge {
			t.Errorf("%s bomb: %v, want REQUEST_TOO_LARGE", enc, err)
		}
	}
	if _, _, err := decodeBody("zstd", []byte("not zstd"), 1000); err == nil {
		t.Error("corrupt zstd body decoded")
	}
}
