package transform

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Models are compiled JSON Schema models: the request and response models
// validators check bodies against. Build them once, at deploy time, with
// [CompileModels]; a Models is immutable and safe for concurrent use.
type Models struct {
	schemas map[string]*openapi3.Schema
}

// schemaKeywords are the JSON Schema (draft 4) keywords models may use.
// Anything else is a compile error, so that no constraint is silently
// ignored.
var schemaKeywords = map[string]bool{
	"$schema": true, "id": true, "$id": true, "$ref": true, "definitions": true,
	"title": true, "description": true, "default": true, "example": true, "examples": true,
	"type": true, "enum": true, "format": true, "nullable": true,
	"properties": true, "required": true, "additionalProperties": true,
	"minProperties": true, "maxProperties": true,
	"items": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"minLength": true, "maxLength": true, "pattern": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"allOf": true, "anyOf": true, "oneOf": true, "not": true,
	"readOnly": true, "writeOnly": true, "deprecated": true,
}

// dropped are annotations removed before compiling.
var dropped = []string{"$schema", "id", "$id", "definitions", "examples", "deprecated"}

// validModelName reports whether a model name has 1-128 characters of
// A-Z a-z 0-9 _ -.
func validModelName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CompileModels compiles JSON Schema (draft 4) models by name. A model may
// refer to another by "$ref": "#/definitions/Name" (its own definitions
// first, then the other models), "#/components/schemas/Name", or the model
// gateway's "https://apigateway.amazonaws.com/restapis/{id}/models/Name".
// Unknown keywords, unresolvable references and invalid schemas are errors
// naming the model. With names, only those models (and the ones they refer
// to) are compiled.
func CompileModels(defs map[string]json.RawMessage, names ...string) (*Models, error) {
	if len(names) == 0 {
		names = sortedKeys(defs)
	}
	raw := map[string]any{}
	var queue []string
	need := func(name string) error {
		if _, ok := raw[name]; ok || slices.Contains(queue, name) {
			return nil
		}
		if _, ok := defs[name]; !ok {
			return fmt.Errorf("transform: no model named %q", name)
		}
		queue = append(queue, name)
		return nil
	}
	for _, n := range names {
		if err := need(n); err != nil {
			return nil, err
		}
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if !validModelName(name) {
			return nil, fmt.Errorf("transform: model name %q must have 1-128 characters of A-Z a-z 0-9 _ -", name)
		}
		var doc any
		dec := json.NewDecoder(strings.NewReader(string(defs[name])))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("transform: model %q: invalid JSON: %v", name, err)
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("transform: model %q: a schema must be a JSON object", name)
		}
		local, _ := obj["definitions"].(map[string]any)
		if _, ok := obj["definitions"]; ok && local == nil {
			return nil, fmt.Errorf("transform: model %q: definitions must be an object", name)
		}
		r := &refRewriter{model: name, local: local, defs: defs, need: need}
		for _, dn := range sortedKeys(local) {
			if !validModelName(dn) {
				return nil, fmt.Errorf("transform: model %q: definition name %q must have 1-128 characters of A-Z a-z 0-9 _ -", name, dn)
			}
			s, err := r.rewrite(local[dn], "/definitions/"+dn)
			if err != nil {
				return nil, err
			}
			raw[name+"."+dn] = s
		}
		s, err := r.rewrite(obj, "")
		if err != nil {
			return nil, err
		}
		raw[name] = s
	}
	doc := map[string]any{
		"openapi":    "3.0.3",
		"info":       map[string]any{"title": "models", "version": "1"},
		"paths":      map[string]any{},
		"components": map[string]any{"schemas": raw},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("transform: models: %v", err)
	}
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("transform: models: %v", err)
	}
	ms := &Models{schemas: map[string]*openapi3.Schema{}}
	// Validate every schema in one traversal: validating them one by one
	// walks what each references again, quadratic in the length of
	// reference chains. Only when that finds a problem are the models
	// validated one by one, to name the one at fault.
	all := &openapi3.Schema{AnyOf: make(openapi3.SchemaRefs, 0, len(t.Components.Schemas))}
	for _, name := range sortedKeys(t.Components.Schemas) {
		ref := t.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("transform: model %q: unresolved", name)
		}
		all.AnyOf = append(all.AnyOf, ref)
		if !strings.Contains(name, ".") {
			ms.schemas[name] = ref.Value
		}
	}
	if err := all.Validate(context.Background()); err != nil {
		for _, name := range sortedKeys(t.Components.Schemas) {
			if err := t.Components.Schemas[name].Value.Validate(context.Background()); err != nil {
				return nil, fmt.Errorf("transform: model %q: %v", modelOf(name), err)
			}
		}
		return nil, fmt.Errorf("transform: models: %v", err)
	}
	return ms, nil
}

func modelOf(component string) string {
	m, _, _ := strings.Cut(component, ".")
	return m
}

// Has reports whether a model of that name was compiled.
func (m *Models) Has(name string) bool {
	if m == nil {
		return false
	}
	_, ok := m.schemas[name]
	return ok
}

type refRewriter struct {
	model string
	local map[string]any
	defs  map[string]json.RawMessage
	need  func(string) error
	depth int
}

const awsModelPrefix = "https://apigateway.amazonaws.com/restapis/"

// rewrite checks the keywords of a schema and points its references at the
// components of the document the models are compiled in.
func (r *refRewriter) rewrite(v any, at string) (any, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > 64 {
		return nil, fmt.Errorf("transform: model %q: schema nested deeper than 64 levels at %s", r.model, at)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if _, isBool := v.(bool); isBool {
			return nil, fmt.Errorf("transform: model %q: boolean schema at %s is not supported", r.model, pointerOr(at))
		}
		return nil, fmt.Errorf("transform: model %q: schema at %s must be an object", r.model, pointerOr(at))
	}
	out := make(map[string]any, len(obj))
	for _, k := range sortedKeys(obj) {
		val := obj[k]
		if strings.HasPrefix(k, "x-") {
			out[k] = val
			continue
		}
		if !schemaKeywords[k] {
			return nil, fmt.Errorf("transform: model %q: keyword %q at %s is not supported", r.model, k, pointerOr(at))
		}
		if slices.Contains(dropped, k) {
			continue
		}
		var err error
		switch k {
		case "$ref":
			s, _ := val.(string)
			if out[k], err = r.ref(s, at); err != nil {
				return nil, err
			}
		case "properties":
			props, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("transform: model %q: properties at %s must be an object", r.model, pointerOr(at))
			}
			np := make(map[string]any, len(props))
			for _, pn := range sortedKeys(props) {
				if np[pn], err = r.rewrite(props[pn], at+"/properties/"+escapePointer(pn)); err != nil {
					return nil, err
				}
			}
			out[k] = np
		case "items", "not":
			if arr, isArr := val.([]any); isArr && k == "items" {
				_ = arr
				return nil, fmt.Errorf("transform: model %q: tuple items at %s are not supported", r.model, pointerOr(at))
			}
			if out[k], err = r.rewrite(val, at+"/"+k); err != nil {
				return nil, err
			}
		case "additionalProperties":
			if b, isBool := val.(bool); isBool {
				out[k] = b
				continue
			}
			if out[k], err = r.rewrite(val, at+"/"+k); err != nil {
				return nil, err
			}
		case "allOf", "anyOf", "oneOf":
			list, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("transform: model %q: %s at %s must be an array", r.model, k, pointerOr(at))
			}
			nl := make([]any, len(list))
			for i, s := range list {
				if nl[i], err = r.rewrite(s, fmt.Sprintf("%s/%s/%d", at, k, i)); err != nil {
					return nil, err
				}
			}
			out[k] = nl
		case "type":
			if arr, isArr := val.([]any); isArr {
				// Draft 4 ["string", "null"]: OpenAPI 3.0 says nullable.
				var types []any
				for _, t := range arr {
					if t == "null" {
						out["nullable"] = true
					} else {
						types = append(types, t)
					}
				}
				switch len(types) {
				case 0:
					return nil, fmt.Errorf("transform: model %q: type at %s lists no type but null", r.model, pointerOr(at))
				case 1:
					out[k] = types[0]
				default:
					out[k] = types
				}
				continue
			}
			out[k] = val
		default:
			out[k] = val
		}
	}
	return out, nil
}

func (r *refRewriter) ref(s, at string) (string, error) {
	const comp = "#/components/schemas/"
	target := ""
	switch {
	case s == "#":
		target = r.model
	case strings.HasPrefix(s, "#/definitions/"):
		name := strings.TrimPrefix(s, "#/definitions/")
		if _, ok := r.local[name]; ok {
			return comp + r.model + "." + name, nil
		}
		target = name
	case strings.HasPrefix(s, comp):
		target = strings.TrimPrefix(s, comp)
	case strings.HasPrefix(s, awsModelPrefix):
		rest := strings.TrimPrefix(s, awsModelPrefix)
		if _, name, ok := strings.Cut(rest, "/models/"); ok {
			target = name
		}
	}
	if target == "" || strings.Contains(target, "/") {
		return "", fmt.Errorf("transform: model %q: $ref %q at %s is not supported (refer to a model by #/definitions/Name)", r.model, s, pointerOr(at))
	}
	if err := r.need(target); err != nil {
		return "", fmt.Errorf("transform: model %q: $ref %q at %s: no model named %q", r.model, s, pointerOr(at), target)
	}
	return comp + target, nil
}

func pointerOr(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
