package openapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// modelKeywords are the schema keywords models keep (JSON Schema draft 4,
// with OpenAPI's nullable, readOnly, writeOnly); see transform.CompileModels.
var modelKeywords = map[string]bool{
	"title": true, "description": true, "default": true, "example": true,
	"type": true, "enum": true, "format": true, "nullable": true,
	"properties": true, "required": true, "additionalProperties": true,
	"minProperties": true, "maxProperties": true,
	"items": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"minLength": true, "maxLength": true, "pattern": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"allOf": true, "anyOf": true, "oneOf": true, "not": true,
	"readOnly": true, "writeOnly": true, "deprecated": true,
}

// annotations are keywords dropped without a warning: they constrain
// nothing a model checks.
var annotations = map[string]bool{
	"xml": true, "externalDocs": true, "discriminator": true, "$comment": true, "$schema": true,
	"$id": true, "$anchor": true, "$defs": true, "definitions": true, "examples": true,
	"contentMediaType": true, "contentEncoding": true, "$dynamicAnchor": true,
}

// maxSchemaNodes bounds the schema nodes one import converts, so that
// references that fan out cannot make it run away.
const maxSchemaNodes = 200_000

// models turns OpenAPI schemas into Portico models (JSON Schema draft 4
// documents referring to each other by "#/definitions/Name").
type models struct {
	raw    map[string]any    // the OpenAPI 3 document as JSON values
	names  map[string]string // component schema name → model name
	used   map[string]bool   // model names taken
	out    map[string]json.RawMessage
	nodes  int
	warn   func(ptr, msg string)
	warned map[string]bool
}

func newModels(raw map[string]any, warn func(ptr, msg string)) *models {
	return &models{raw: raw, names: map[string]string{}, used: map[string]bool{}, out: map[string]json.RawMessage{}, warn: warn, warned: map[string]bool{}}
}

// modelName returns a model name (1–128 of A-Z a-z 0-9 _ -) for want,
// unique among the names handed out.
func (m *models) modelName(want string) string {
	var b strings.Builder
	for _, c := range want {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	base := b.String()
	if base == "" {
		base = "Model"
	}
	if len(base) > 120 {
		base = base[:120]
	}
	name := base
	for i := 2; m.used[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	m.used[name] = true
	return name
}

// component registers the document's component schemas as models, sorted
// by name; ptr gives each one's pointer for warnings.
func (m *models) components(ptr func(name string) string) {
	comps, _ := m.raw["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	keys := sortedKeys(schemas)
	for _, k := range keys {
		n := m.modelName(k)
		if n != k {
			m.warn(ptr(k), fmt.Sprintf("schema name %q is not a model name (A-Z a-z 0-9 _ -): imported as model %q", k, n))
		}
		m.names[k] = n
	}
	for _, k := range keys {
		m.add(m.names[k], schemas[k], ptr(k))
	}
}

// add converts schema v into the model called name.
func (m *models) add(name string, v any, ptr string) {
	s := m.convert(v, ptr, 0, nil)
	js, err := json.Marshal(s)
	if err != nil {
		m.warn(ptr, fmt.Sprintf("schema cannot be written as a model: %v", err))
		js = []byte("{}")
	}
	m.out[name] = js
}

// inline adds a schema used in place (a request body, a response) as a
// model named after want, or returns the component's model when the
// schema is only a reference to one.
func (m *models) inline(want string, v any, ptr string) string {
	if obj, ok := v.(map[string]any); ok && len(obj) == 1 {
		if ref, ok := obj["$ref"].(string); ok {
			if n, ok := m.componentRef(ref); ok {
				return n
			}
		}
	}
	name := m.modelName(want)
	m.add(name, v, ptr)
	return name
}

// componentRef returns the model of a "#/components/schemas/Name" reference.
func (m *models) componentRef(ref string) (string, bool) {
	rest, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok || strings.Contains(rest, "/") {
		return "", false
	}
	rest = strings.ReplaceAll(strings.ReplaceAll(rest, "~1", "/"), "~0", "~")
	n, ok := m.names[rest]
	return n, ok
}

func (m *models) warnOnce(ptr, msg string) {
	if m.warned[ptr+msg] {
		return
	}
	m.warned[ptr+msg] = true
	m.warn(ptr, msg)
}

// convert returns schema v in the model keyword set; inlining holds the
// references being inlined, to stop at cycles.
func (m *models) convert(v any, ptr string, depth int, inlining []string) any {
	m.nodes++
	if m.nodes > maxSchemaNodes {
		m.warnOnce(ptr, fmt.Sprintf("schemas have more than %d nodes in all: the rest are imported as {} and not checked", maxSchemaNodes))
		return map[string]any{}
	}
	if depth > MaxDepth {
		m.warnOnce(ptr, fmt.Sprintf("schema nested deeper than %d levels: imported as {} below that", MaxDepth))
		return map[string]any{}
	}
	switch s := v.(type) {
	case bool:
		if s {
			return map[string]any{}
		}
		return map[string]any{"not": map[string]any{}}
	case map[string]any:
		if ref, ok := s["$ref"].(string); ok {
			if n, ok := m.componentRef(ref); ok {
				return map[string]any{"$ref": "#/definitions/" + n}
			}
			if slices.Contains(inlining, ref) {
				m.warnOnce(ptr, fmt.Sprintf("$ref %q refers to itself through a path other than a component schema: the cycle is imported as {}", ref))
				return map[string]any{}
			}
			target, ok := resolvePointer(m.raw, ref)
			if !ok {
				m.warnOnce(ptr, fmt.Sprintf("$ref %q points nowhere: imported as {}", ref))
				return map[string]any{}
			}
			return m.convert(target, ptr, depth+1, append(slices.Clone(inlining), ref))
		}
		out := map[string]any{}
		for _, k := range sortedKeys(s) {
			val := s[k]
			at := ptr + "/" + escapeToken(k)
			switch {
			case k == "properties":
				props, ok := val.(map[string]any)
				if !ok {
					m.warnOnce(at, "properties is not an object: dropped")
					continue
				}
				np := make(map[string]any, len(props))
				for _, pn := range sortedKeys(props) {
					np[pn] = m.convert(props[pn], at+"/"+escapeToken(pn), depth+1, inlining)
				}
				out[k] = np
			case k == "items":
				if _, tuple := val.([]any); tuple {
					m.warnOnce(at, "tuple items are not checked: the items schema is imported as {}")
					out[k] = map[string]any{}
					continue
				}
				out[k] = m.convert(val, at, depth+1, inlining)
			case k == "not":
				out[k] = m.convert(val, at, depth+1, inlining)
			case k == "additionalProperties":
				if b, ok := val.(bool); ok {
					out[k] = b
					continue
				}
				out[k] = m.convert(val, at, depth+1, inlining)
			case k == "allOf" || k == "anyOf" || k == "oneOf":
				list, ok := val.([]any)
				if !ok {
					m.warnOnce(at, k+" is not an array: dropped")
					continue
				}
				nl := make([]any, len(list))
				for i, x := range list {
					nl[i] = m.convert(x, fmt.Sprintf("%s/%d", at, i), depth+1, inlining)
				}
				out[k] = nl
			case k == "required":
				if _, ok := val.([]any); !ok {
					m.warnOnce(at, "required is not an array of property names: dropped")
					continue
				}
				out[k] = val
			case k == "exclusiveMinimum" || k == "exclusiveMaximum":
				if b, ok := val.(bool); ok {
					out[k] = b
					continue
				}
				// OpenAPI 3.1: a number, the exclusive bound itself.
				bound := "minimum"
				if k == "exclusiveMaximum" {
					bound = "maximum"
				}
				out[bound] = val
				out[k] = true
			case k == "minimum" || k == "maximum":
				if _, set := out[k]; !set {
					out[k] = val
				}
			case k == "const":
				out["enum"] = []any{val}
			case k == "type":
				if list, ok := val.([]any); ok {
					var types []any
					for _, t := range list {
						if t == "null" {
							out["nullable"] = true
						} else {
							types = append(types, t)
						}
					}
					switch len(types) {
					case 0:
						out["nullable"] = true
					case 1:
						out[k] = types[0]
					default:
						m.warnOnce(at, "a list of several types is imported as no type constraint")
					}
					continue
				}
				out[k] = val
			case modelKeywords[k]:
				out[k] = val
			case annotations[k] || strings.HasPrefix(k, "x-"):
			default:
				m.warnOnce(at, fmt.Sprintf("schema keyword %q is not checked by models: dropped", k))
			}
		}
		// 3.1 "type": "null" alone.
		if t, ok := out["type"].(string); ok && t == "null" {
			delete(out, "type")
			out["nullable"] = true
			out["enum"] = []any{nil}
		}
		return out
	}
	m.warnOnce(ptr, "a schema must be an object or a boolean: imported as {}")
	return map[string]any{}
}

func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
