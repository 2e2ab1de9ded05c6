package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/reqctx"
)

// fnOutput is a function response in either format, before checking.
type fnOutput struct {
	status  int
	headers map[string]string
	multi   map[string][]string
	body    string
	base64  bool
	cookies []string
}

// wireResponse is a response read from JSON. StatusCode stays raw so that a
// missing one can be told from a bad one.
type wireResponse struct {
	StatusCode        json.RawMessage     `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	Cookies           []string            `json:"cookies"`
}

// buildResponse turns a function result into the response to write, as the
// model gateway reads payload 1.0 and 2.0 responses.
func buildResponse(res fnResult, format PayloadFormat, r *http.Request, rc *reqctx.Context) (*fnResponse, error) {
	var out fnOutput
	switch {
	case res.v1 != nil:
		out = fnOutput{status: res.v1.StatusCode, headers: res.v1.Headers, multi: res.v1.MultiValueHeaders, body: res.v1.Body, base64: res.v1.IsBase64Encoded}
	case res.v2 != nil:
		out = fnOutput{status: res.v2.StatusCode, headers: res.v2.Headers, multi: res.v2.MultiValueHeaders, body: res.v2.Body, base64: res.v2.IsBase64Encoded, cookies: res.v2.Cookies}
	default:
		var plain bool
		var err error
		out, plain, err = parseWire(res.raw, format)
		if err != nil {
			return nil, err
		}
		if plain {
			// 2.0: valid JSON without a statusCode is the body of a 200.
			return &fnResponse{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: res.raw}, nil
		}
	}
	if format == PayloadV1 {
		out.cookies = nil // 1.0 has no cookies field
	}
	if out.status < 200 || out.status > 599 {
		return nil, fmt.Errorf("statusCode %d out of range 200-599", out.status)
	}
	resp := &fnResponse{status: out.status, header: make(http.Header, len(out.headers)+len(out.multi)+1)}
	for k, v := range out.headers {
		resp.header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	if len(out.multi) > 0 {
		// For a name in both maps the multi-value one wins.
		multi := make(http.Header, len(out.multi))
		for k, vs := range out.multi {
			ck := http.CanonicalHeaderKey(k)
			multi[ck] = append(multi[ck], vs...)
		}
		for k, vs := range multi {
			if len(vs) > 0 {
				resp.header[k] = vs
			}
		}
	}
	if len(out.cookies) > 0 {
		resp.header["Set-Cookie"] = append(resp.header["Set-Cookie"], out.cookies...)
	}
	if err := checkFnHeader(resp.header); err != nil {
		return nil, err
	}
	resp.body = []byte(out.body)
	if out.base64 && honoursBase64(format, r, rc, resp.header.Get("Content-Type")) {
		b, err := base64.StdEncoding.DecodeString(out.body)
		if err != nil {
			return nil, fmt.Errorf("isBase64Encoded body: %w", err)
		}
		resp.body = b
	}
	return resp, nil
}

// honoursBase64 reports whether an isBase64Encoded body is decoded. REST
// APIs decode only when the request's Accept or the response's Content-Type
// matches one of the API's binary media types; HTTP APIs, and a function
// used outside a gateway, always decode.
func honoursBase64(format PayloadFormat, r *http.Request, rc *reqctx.Context, contentType string) bool {
	if rc.APIType != "REST" || format != PayloadV1 {
		return true
	}
	if mediaMatches(contentType, rc.BinaryMediaTypes) {
		return true
	}
	for _, accept := range r.Header.Values("Accept") {
		for a := range strings.SplitSeq(accept, ",") {
			if mediaMatches(a, rc.BinaryMediaTypes) {
				return true
			}
		}
	}
	return false
}

// parseWire reads a JSON function response. plain reports a 2.0 response
// that is valid JSON without a statusCode.
func parseWire(raw []byte, format PayloadFormat) (out fnOutput, plain bool, err error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return out, false, errors.New("empty response")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return out, false, errors.New("response is not JSON")
		}
		if format == PayloadV2 {
			return out, true, nil
		}
		return out, false, errors.New("response is not a JSON object")
	}
	var wr wireResponse
	if err := json.Unmarshal(trimmed, &wr); err != nil {
		if format == PayloadV2 && json.Valid(trimmed) && !hasStatusCode(trimmed) {
			return out, true, nil
		}
		return out, false, fmt.Errorf("response is not JSON of the proxy response shape: %w", err)
	}
	if len(wr.StatusCode) == 0 || string(wr.StatusCode) == "null" {
		if format == PayloadV2 {
			return out, true, nil
		}
		return out, false, errors.New("response has no statusCode")
	}
	if err := json.Unmarshal(wr.StatusCode, &out.status); err != nil {
		return out, false, fmt.Errorf("statusCode %s is not an integer", wr.StatusCode)
	}
	out.headers, out.multi, out.body, out.base64, out.cookies = wr.Headers, wr.MultiValueHeaders, wr.Body, wr.IsBase64Encoded, wr.Cookies
	return out, false, nil
}

// hasStatusCode reports whether the JSON object b has a statusCode member.
func hasStatusCode(b []byte) bool {
	var probe struct {
		StatusCode json.RawMessage `json:"statusCode"`
	}
	_ = json.Unmarshal(b, &probe) // b is a valid object: members of the wrong type only skip
	return len(probe.StatusCode) > 0 && string(probe.StatusCode) != "null"
}

// checkHeader rejects header names that are not HTTP tokens and values that
// would corrupt the response (CR, LF, NUL).
func checkFnHeader(h http.Header) error {
	for k, vs := range h {
		if !isHeaderToken(k) {
			return fmt.Errorf("bad header name %q", k)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("header %s: value contains CR, LF or NUL", k)
			}
		}
	}
	return nil
}

func isHeaderToken(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
