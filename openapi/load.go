package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	yaml "go.yaml.in/yaml/v4"
)

// loaded is a document read by load: its OpenAPI 3 form, the Swagger 2.0
// original for a 2.0 document, and the 3 form as plain JSON values, in
// which schema references are resolved.
type loaded struct {
	version string // "2.0", "3.0", "3.1"
	doc     *openapi3.T
	doc2    *openapi2.T
	raw     map[string]any // doc as JSON values
}

// load parses data (JSON or YAML) into a document.
func load(data []byte) (*loaded, error) {
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrInvalidDocument, len(data), MaxDocumentBytes)
	}
	tree, err := decodeTree(data)
	if err != nil {
		return nil, err
	}
	top, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document is not an object", ErrInvalidDocument)
	}
	if err := checkRefs(top, top, 0); err != nil {
		return nil, err
	}
	js, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	l := &loaded{}
	switch {
	case top["swagger"] != nil:
		v := versionString(top["swagger"])
		if v != "2.0" {
			return nil, fmt.Errorf("%w: swagger version %q (want 2.0)", ErrInvalidDocument, v)
		}
		l.version = "2.0"
		// The converter misses references in some places (such as
		// additionalProperties): point them at the 3.0 components first.
		js2, err := json.Marshal(rewriteRefs(top, "#/definitions/", "#/components/schemas/", 0))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
		var d2 openapi2.T
		if err := json.Unmarshal(js2, &d2); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
		if l.doc, err = convert2(&d2); err != nil {
			return nil, err
		}
		l.doc2 = &d2
	case top["openapi"] != nil:
		v := versionString(top["openapi"])
		switch {
		case v == "3" || strings.HasPrefix(v, "3.0"):
			l.version = "3.0"
		case strings.HasPrefix(v, "3.1"):
			l.version = "3.1"
		default:
			return nil, fmt.Errorf("%w: openapi version %q (want 3.0 or 3.1)", ErrInvalidDocument, v)
		}
		loader := openapi3.NewLoader()
		loader.IsExternalRefsAllowed = false
		if l.doc, err = safeLoad(loader, js); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: neither an openapi nor a swagger field", ErrInvalidDocument)
	}
	if l.doc.Paths == nil {
		l.doc.Paths = openapi3.NewPaths()
	}
	// The OpenAPI 3 form as plain values, in which schema $refs resolve.
	js3, err := json.Marshal(l.doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(js3))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	l.raw = raw
	return l, nil
}

// safeLoad runs the kin-openapi loader, turning a panic inside it into an
// error: bad input must never take the caller down.
func safeLoad(loader *openapi3.Loader, js []byte) (doc *openapi3.T, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("%w: %v", ErrInvalidDocument, r)
		}
	}()
	doc, err = loader.LoadFromData(js)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	return doc, nil
}

func convert2(d2 *openapi2.T) (doc *openapi3.T, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("%w: %v", ErrInvalidDocument, r)
		}
	}()
	doc, err = openapi2conv.ToV3(d2)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	return doc, nil
}

// versionString renders a version field, which YAML may have read as a
// number (openapi: 3.0).
func versionString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	}
	return fmt.Sprint(v)
}

// decodeTree decodes JSON or YAML into plain values (maps with string
// keys, slices, strings, json.Number, bools, nil), checking the nesting
// depth.
func decodeTree(data []byte) (any, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrInvalidDocument)
	}
	if err := checkDepth(trimmed); err != nil {
		return nil, err
	}
	var v any
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil {
			if dec.More() {
				return nil, fmt.Errorf("%w: data after the JSON document", ErrInvalidDocument)
			}
			return normalise(v, 0, new(int))
		}
		// Not JSON after all (YAML flow style): try YAML.
	}
	if err := yamlUnmarshal(trimmed, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	return normalise(v, 0, new(int))
}

func yamlUnmarshal(data []byte, v *any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Unmarshal(data, v)
}

// checkDepth rejects text nested deeper than MaxDepth by counting
// brackets and indentation, before any decoder recurses into it.
func checkDepth(data []byte) error {
	depth, maxd := 0, 0
	inStr := byte(0)
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr != 0 {
			switch {
			case c == '\\' && inStr == '"':
				i++
			case c == inStr, c == '\n':
				inStr = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			inStr = c
		case '{', '[':
			depth++
			maxd = max(maxd, depth)
		case '}', ']':
			depth--
		}
	}
	if maxd > MaxDepth {
		return fmt.Errorf("%w: nested deeper than %d levels", ErrInvalidDocument, MaxDepth)
	}
	// YAML block nesting: indentation (spaces and "- ") over MaxDepth*4
	// columns is too deep.
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		n := 0
		for n < len(line) && (line[n] == ' ' || line[n] == '-' && n+1 < len(line) && line[n+1] == ' ') {
			n++
		}
		if n > MaxDepth*4 {
			return fmt.Errorf("%w: indented deeper than %d columns", ErrInvalidDocument, MaxDepth*4)
		}
	}
	return nil
}

// normalise turns decoded YAML values into the forms encoding/json
// produces, and bounds the depth.
func normalise(v any, depth int, nodes *int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d levels", ErrInvalidDocument, MaxDepth)
	}
	if *nodes++; *nodes > MaxNodes {
		return nil, fmt.Errorf("%w: more than %d values (YAML aliases expand to too much)", ErrInvalidDocument, MaxNodes)
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			n, err := normalise(x, depth+1, nodes)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
		return v, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			n, err := normalise(x, depth+1, nodes)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = n
		}
		return out, nil
	case []any:
		for i, x := range v {
			n, err := normalise(x, depth+1, nodes)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		return v, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: number %v is not valid JSON", ErrInvalidDocument, v)
		}
		return v, nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case []byte:
		return string(v), nil
	case nil, string, bool, int, int64, uint64, json.Number, float32, uint, int32, uint32:
		return v, nil
	}
	return fmt.Sprint(v), nil
}

// checkRefs refuses every $ref that is not local ("#/..."), and local
// ones that point nowhere, naming the place.
func checkRefs(root map[string]any, v any, depth int) error {
	if depth > MaxDepth {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["$ref"].(string); ok {
			if !strings.HasPrefix(r, "#") {
				return fmt.Errorf("%w: $ref %q: only local references (#/...) are supported", ErrInvalidDocument, r)
			}
			if _, ok := resolvePointer(root, r); !ok {
				return fmt.Errorf("%w: $ref %q points nowhere", ErrInvalidDocument, r)
			}
		}
		for _, x := range v {
			if err := checkRefs(root, x, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := checkRefs(root, x, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolvePointer finds the value a local reference ("#/a/b~1c/0") names.
func resolvePointer(root any, ref string) (any, bool) {
	p := strings.TrimPrefix(ref, "#")
	if p == "" {
		return root, true
	}
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	cur := root
	for tok := range strings.SplitSeq(p[1:], "/") {
		if strings.Contains(tok, "%") {
			if u, err := url.PathUnescape(tok); err == nil {
				tok = u
			}
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			x, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = x
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// rewriteRefs returns a copy of v whose $refs starting with from start
// with to instead.
func rewriteRefs(v any, from, to string, depth int) any {
	if depth > 4*MaxDepth {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				if rest, ok := strings.CutPrefix(s, from); ok {
					out[k] = to + rest
					continue
				}
			}
			out[k] = rewriteRefs(x, from, to, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = rewriteRefs(x, from, to, depth+1)
		}
		return out
	}
	return v
}
