// Package transform validates and transforms requests and responses as the
// model gateway's non-proxy integrations do: JSON Schema models and request
// validators, parameter mapping, mapping templates in two languages,
// integration responses, binary payloads and response compression. Every
// piece compiles once (at deploy time) into an immutable value that is safe
// for concurrent use, and exports a func(http.Handler) http.Handler step
// usable around any handler.
//
//	models, err := transform.CompileModels(map[string]json.RawMessage{"Pet": petSchema})
//	v, err := transform.NewValidator(transform.Validation{
//		ValidateBody:  true,
//		RequestModels: map[string]string{"application/json": "Pet"},
//	}, models)
//	m, err := transform.NewMapper(transform.Mapping{
//		RequestTemplates: map[string]string{"application/json": `{"name": $input.json('$.name')}`},
//		Responses:        []transform.Response{{StatusCode: 200}},
//	})
//	h := v.Handler(m.Handler(backend))
//
// # Validation
//
// A [Validator] answers a request that lacks a required parameter with 400
// BAD_REQUEST_PARAMETERS {"message": "Missing required request parameters:
// [q]"} and a body that does not match its model with 400 BAD_REQUEST_BODY
// listing every violation with its JSON pointer; the list is also
// $context.error.validationErrorString. Models are JSON Schema draft 4
// (validated with kin-openapi); keywords outside the supported set are
// compile errors rather than silently ignored. Formats are annotations.
//
// # Templates
//
// A request template makes the integration request's body from the method
// request; a response template makes the method response's body from the
// integration response. Both languages see the same data:
//
//	VTL ($input …)                 Go template
//	$input.body                    {{body}} or {{.Body}}
//	$input.json('$.a')             {{json "$.a"}}
//	$input.path('$.a')             {{path "$.a"}}
//	$input.params('n')             {{params "n"}}
//	$input.params()                {{params}}  ({path, querystring, header})
//	$context.requestId             {{.Context.RequestID}} (a *reqctx.Context)
//	$stageVariables.v              {{.StageVariables.v}}
//	$util.escapeJavaScript(s)      {{escapeJavaScript s}}
//	$util.parseJson(s)             {{parseJson s}}
//	$util.urlEncode / urlDecode    {{urlEncode s}} / {{urlDecode s}}
//	$util.base64Encode / Decode    {{base64Encode s}} / {{base64Decode s}}
//	#set($context.responseOverride.status = 404)   {{setStatus 404}}
//	#set($context.requestOverride.header.X = 'v')  {{setHeader "X" "v"}}
//	$context.requestOverride.querystring / .path   {{setQuery "q" "v"}} / {{setPath "p" "v"}}
//
// Go templates also have {{toJson v}} (any value as JSON), {{parseForm s}}
// (form encoding to a map of first values), keys, split, join, lower,
// upper, trim, replace, hasPrefix, hasSuffix, contains, indexOf,
// regexMatch, regexReplaceAll, int, float, add, sub, mul, div, mod and
// default (default FALLBACK VALUE), besides text/template's own.
//
// JSONPath follows RFC 9535 (package jsonpath): a singular query ($.a.b[0])
// yields the node or, when absent, null ($input.json) / nothing
// ($input.path); any other query yields the list of matches. An empty body
// reads as {}. A body that is not JSON fails the template with
// [ErrBodyNotJSON]: 400 BAD_REQUEST_BODY for a request, 502
// INTEGRATION_FAILURE for a response. In Go templates a printed value that
// is nil prints nothing, and maps and slices print as JSON.
//
// The VTL subset is described in package vtl; anything outside it is an
// error at compile time naming the line. Templates are bounded by [Limits]:
// source size (300 KB), output (10 MB), time (1 s), evaluation steps and
// loop iterations (1000 per #foreach). A template that fails at run time is
// answered with 500 API_CONFIGURATION_ERROR; evaluation never panics.
//
// # Integration responses, binary and compression
//
// A [Mapper] buffers the integration's response (up to Limits.MaxBodyBytes)
// when the mapping has [Response] entries, selects one by status code or by
// the error message an integration reports with [FunctionErrorHeader], and
// applies its parameter mapping, template, and content handling. Binary
// media types ([WithBinaryMediaTypes]) decide which payloads are binary:
// templates see them base64-encoded, and CONVERT_TO_TEXT / CONVERT_TO_BINARY
// convert between the two forms. [Compress] compresses responses above a
// minimum size with zstd, br, gzip or deflate per Accept-Encoding; bodies
// that templates read are decoded from any of them.
//
// Header values produced by mappings and template overrides that hold CR,
// LF or NUL are refused, never sent: a mapped value cannot inject a header.
package transform
