package sdk

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// kind is the Go shape a schema maps to.
type kind int

const (
	kRaw    kind = iota // json.RawMessage: any JSON value
	kString             // string, or a named string type
	kInt
	kFloat
	kBool
	kSlice
	kMap
	kStruct
)

// maxDepth bounds how deep the generators descend into nested schemas;
// deeper schemas become "any JSON value".
const maxDepth = 32

// shapeKind says what Go shape s maps to, and for kRaw why.
func shapeKind(s *openapi3.Schema) (kind, string) {
	if len(s.AllOf) > 0 {
		if _, _, ok := structProps(s, 0); ok {
			return kStruct, ""
		}
		return kRaw, "allOf is mapped only when it merges objects"
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		return kRaw, "oneOf and anyOf are not mapped"
	}
	t, multi := singleType(s)
	if multi {
		return kRaw, "a schema of several types is not mapped"
	}
	switch t {
	case "string":
		return kString, ""
	case "integer":
		return kInt, ""
	case "number":
		return kFloat, ""
	case "boolean":
		return kBool, ""
	case "array":
		return kSlice, ""
	case "object", "":
		if len(s.Properties) > 0 {
			return kStruct, ""
		}
		ap := s.AdditionalProperties
		if t == "object" || ap.Schema != nil || (ap.Has != nil && *ap.Has) {
			return kMap, ""
		}
		if s.Items != nil {
			return kSlice, ""
		}
	}
	return kRaw, "any JSON value"
}

// singleType returns the type of s other than "null", and whether s has
// several.
func singleType(s *openapi3.Schema) (string, bool) {
	if s.Type == nil {
		return "", false
	}
	var ts []string
	for _, t := range s.Type.Slice() {
		if t != "null" && !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	switch len(ts) {
	case 0:
		if s.Type.Includes("null") {
			return "null", false
		}
		return "", false
	case 1:
		return ts[0], false
	}
	return "", true
}

func isNullable(s *openapi3.Schema) bool {
	return s != nil && (s.Nullable || (s.Type != nil && s.Type.Includes("null")))
}

// soleAllOf returns the one part of an allOf that only wraps a schema
// (often a $ref given a description or nullable).
func soleAllOf(s *openapi3.Schema) (*openapi3.SchemaRef, bool) {
	if len(s.AllOf) != 1 || s.AllOf[0] == nil || len(s.Properties) > 0 || len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		return nil, false
	}
	if t, multi := singleType(s); multi || (t != "" && t != "null") {
		return nil, false
	}
	return s.AllOf[0], true
}

// structProps returns the properties and required names of an object
// schema, merging allOf parts that are themselves objects; ok is false when
// s is not such an object.
func structProps(s *openapi3.Schema, depth int) (props openapi3.Schemas, required map[string]bool, ok bool) {
	if s == nil || depth > maxDepth || len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		return nil, nil, false
	}
	if t, multi := singleType(s); multi || (t != "" && t != "object") {
		return nil, nil, false
	}
	if depth == 0 && len(s.AllOf) == 0 && len(s.Properties) == 0 {
		return nil, nil, false
	}
	props, required = openapi3.Schemas{}, map[string]bool{}
	for _, part := range s.AllOf {
		if part == nil || part.Value == nil {
			return nil, nil, false
		}
		pp, pr, ok := structProps(part.Value, depth+1)
		if !ok {
			return nil, nil, false
		}
		for k, v := range pp {
			props[k] = v
		}
		for k := range pr {
			required[k] = true
		}
	}
	for k, v := range s.Properties {
		props[k] = v
	}
	for _, r := range s.Required {
		required[r] = true
	}
	return props, required, true
}

// goType is the Go type a schema maps to.
type goType struct {
	expr     string
	kind     kind
	nullable bool
	note     string // why the schema is json.RawMessage
}

// rawComment is the comment saying why t is json.RawMessage; "" for
// other types.
func rawComment(indent string, t goType) string {
	switch {
	case t.kind != kRaw:
		return ""
	case t.note == "" || t.note == "any JSON value":
		return indent + "// Any JSON value.\n"
	}
	return indent + "// Any JSON value: " + t.note + ".\n"
}

func rawType(note string) goType { return goType{expr: "json.RawMessage", kind: kRaw, note: note} }

// goModels maps schemas to Go types and declares the named ones.
type goModels struct {
	doc        *openapi3.T
	ns         *namespace
	components map[string]string // schema name → Go type name
	inline     map[*openapi3.Schema]string
	pending    []goDecl
	kinds      map[string]kind
}

type goDecl struct {
	name      string
	origin    string // the component's name in the document
	schema    *openapi3.SchemaRef
	component bool
}

func newGoModels(doc *openapi3.T, ns *namespace) *goModels {
	m := &goModels{doc: doc, ns: ns, components: map[string]string{}, inline: map[*openapi3.Schema]string{}, kinds: map[string]kind{}}
	if doc.Components == nil {
		return m
	}
	for _, name := range sortedKeys(doc.Components.Schemas) {
		ref := doc.Components.Schemas[name]
		goName := ns.claim(exportedName(name, "Model"))
		m.components[name] = goName
		m.pending = append(m.pending, goDecl{name: goName, origin: name, schema: ref, component: true})
		if ref != nil && ref.Ref == "" && ref.Value != nil {
			if _, seen := m.inline[ref.Value]; !seen {
				m.inline[ref.Value] = goName
			}
		}
	}
	return m
}

// componentKind returns the kind of the named component schema, following
// references between components; a cycle of references is kRaw.
func (m *goModels) componentKind(name string, seen map[string]bool) kind {
	if k, ok := m.kinds[name]; ok {
		return k
	}
	if seen[name] || len(seen) > maxDepth {
		return kRaw
	}
	if seen == nil {
		seen = map[string]bool{}
	}
	seen[name] = true
	k := kRaw
	if ref := m.doc.Components.Schemas[name]; ref != nil {
		if target, ok := componentName(ref.Ref); ok && m.components[target] != "" {
			k = m.componentKind(target, seen)
		} else if ref.Value != nil {
			k, _ = shapeKind(ref.Value)
		}
	}
	m.kinds[name] = k
	return k
}

// typeOf maps ref; hint names an inline object's struct type.
func (m *goModels) typeOf(ref *openapi3.SchemaRef, hint string, depth int) goType {
	if depth > maxDepth {
		return rawType("schema nested too deeply")
	}
	if ref == nil {
		return rawType("any JSON value")
	}
	if ref.Ref != "" {
		if name, ok := componentName(ref.Ref); ok && m.components[name] != "" {
			return goType{expr: m.components[name], kind: m.componentKind(name, nil), nullable: isNullable(ref.Value)}
		}
		if ref.Value == nil {
			return rawType("unresolved $ref " + strconv.Quote(ref.Ref))
		}
	}
	if ref.Value == nil {
		return rawType("any JSON value")
	}
	if part, ok := soleAllOf(ref.Value); ok {
		t := m.typeOf(part, hint, depth+1)
		t.nullable = t.nullable || isNullable(ref.Value)
		return t
	}
	return m.valueType(ref.Value, hint, depth)
}

func (m *goModels) valueType(s *openapi3.Schema, hint string, depth int) goType {
	k, note := shapeKind(s)
	t := goType{kind: k, nullable: isNullable(s)}
	switch k {
	case kStruct:
		name, ok := m.inline[s]
		if !ok {
			name = m.ns.claim(exportedName(hint, "Object"))
			m.inline[s] = name
			m.pending = append(m.pending, goDecl{name: name, schema: &openapi3.SchemaRef{Value: s}})
		}
		t.expr = name
	case kString:
		t.expr = "string"
	case kInt:
		t.expr = "int64"
		if s.Format == "int32" {
			t.expr = "int32"
		}
	case kFloat:
		t.expr = "float64"
		if s.Format == "float" {
			t.expr = "float32"
		}
	case kBool:
		t.expr = "bool"
	case kSlice:
		elem := m.typeOf(s.Items, hint+"Item", depth+1)
		t.expr = "[]" + elem.expr
	case kMap:
		if s.AdditionalProperties.Schema != nil {
			elem := m.typeOf(s.AdditionalProperties.Schema, hint+"Value", depth+1)
			t.expr = "map[string]" + elem.expr
		} else {
			t.expr = "map[string]any"
		}
	default:
		return rawType(note)
	}
	return t
}

// fieldExpr is the type of a struct field or optional value of type t:
// structs and nullable scalars are pointers.
func fieldExpr(t goType) string {
	switch {
	case t.kind == kStruct:
		return "*" + t.expr
	case t.nullable && (t.kind == kString || t.kind == kInt || t.kind == kFloat || t.kind == kBool):
		return "*" + t.expr
	}
	return t.expr
}

// declare writes the pending type declarations, including those that
// declaring them adds.
func (m *goModels) declare(b *strings.Builder) {
	for i := 0; i < len(m.pending); i++ {
		d := m.pending[i]
		m.declareOne(b, d)
	}
}

func (m *goModels) declareOne(b *strings.Builder, d goDecl) {
	ref := d.schema
	var s *openapi3.Schema
	if ref != nil {
		s = ref.Value
	}
	what := "an inline object schema"
	if d.component {
		what = "the schema " + strconv.QuoteToASCII(d.origin)
	}
	fmt.Fprintf(b, "// %s is %s.\n", d.name, what)
	if s != nil {
		doc := s.Description
		if doc == "" {
			doc = s.Title
		}
		if c := comment("", doc); c != "" {
			b.WriteString("//\n" + c)
		}
		if s.Deprecated {
			b.WriteString("//\n// Deprecated: the API marks this schema deprecated.\n")
		}
	}
	if d.component && ref != nil {
		if target, ok := componentName(ref.Ref); ok && m.components[target] != "" {
			if refCycle(m.doc, d.origin) {
				fmt.Fprintf(b, "//\n// Any JSON value: the schema is a cycle of references.\ntype %s = json.RawMessage\n\n", d.name)
				return
			}
			fmt.Fprintf(b, "type %s = %s\n\n", d.name, m.components[target])
			return
		}
	}
	if s == nil {
		fmt.Fprintf(b, "//\n// Any JSON value: the schema is unresolved.\ntype %s = json.RawMessage\n\n", d.name)
		return
	}
	k, note := shapeKind(s)
	switch k {
	case kStruct:
		m.declareStruct(b, d.name, s)
	case kString:
		fmt.Fprintf(b, "type %s string\n\n", d.name)
		m.declareEnum(b, d.name, s)
	case kRaw:
		fmt.Fprintf(b, "//\n%stype %s = json.RawMessage\n\n", rawComment("", rawType(note)), d.name)
	default:
		t := m.valueType(s, d.name, 1)
		fmt.Fprintf(b, "type %s %s\n\n", d.name, t.expr)
	}
}

func (m *goModels) declareEnum(b *strings.Builder, name string, s *openapi3.Schema) {
	var lines []string
	seen := map[string]bool{}
	for _, v := range s.Enum {
		str, ok := v.(string)
		if !ok || seen[str] {
			continue
		}
		seen[str] = true
		c := m.ns.claim(name + exportedName(str, "Empty"))
		lines = append(lines, fmt.Sprintf("\t%s %s = %s\n", c, name, strconv.Quote(str)))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "// The values of %s.\nconst (\n%s)\n\n", name, strings.Join(lines, ""))
}

// validTag reports whether name can be a JSON key in a struct tag: the
// characters encoding/json accepts, none that would need escaping.
func validTag(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case c < 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c)):
		case c >= 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c)) && strconv.IsPrint(c):
		default:
			return false
		}
	}
	return true
}

func (m *goModels) declareStruct(b *strings.Builder, name string, s *openapi3.Schema) {
	props, required, _ := structProps(s, 0)
	fmt.Fprintf(b, "type %s struct {\n", name)
	fields := newNamespace()
	for _, p := range sortedKeys(props) {
		if !validTag(p) {
			fmt.Fprintf(b, "\t// The property %s is not mapped: its name cannot be a Go JSON tag.\n", strconv.QuoteToASCII(p))
			continue
		}
		t := m.typeOf(props[p], name+exportedName(p, "Field"), 1)
		if ref := props[p]; ref != nil && ref.Ref == "" && ref.Value != nil {
			b.WriteString(comment("\t", ref.Value.Description))
		}
		b.WriteString(rawComment("\t", t))
		tag := p
		if p == "-" {
			tag = "-,"
		}
		if !required[p] {
			if p == "-" {
				tag = "-,omitempty"
			} else {
				tag += ",omitempty"
			}
		}
		fmt.Fprintf(b, "\t%s %s `json:%s`\n", fields.claim(exportedName(p, "Field")), fieldExpr(t), strconv.Quote(tag))
	}
	b.WriteString("}\n\n")
}
