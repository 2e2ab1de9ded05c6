package sdk

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ErrNilDocument is returned by [Go] and [TypeScript] for a nil document.
var ErrNilDocument = errors.New("sdk: nil OpenAPI document")

// methods are the HTTP methods an OpenAPI path item can hold, in the order
// operations of one path are listed.
var methods = []string{
	http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete,
	http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace,
}

// operation is one OpenAPI operation, as both generators see it.
type operation struct {
	name        string // exported name, unique among operations
	method      string
	path        string // path template, starting with "/"
	summary     string
	description string
	deprecated  bool
	params      []param
	body        *content // request body, or nil
	result      *content // success response body, or nil
	status      int      // success status, or 0 when the document gives none
	auth        string   // the credentials the operation needs, in words; "" if none
}

// param is a path, query or header parameter.
type param struct {
	name        string
	in          string // "path", "query" or "header"
	required    bool
	description string
	schema      *openapi3.SchemaRef // may be nil: a string
}

// content is a request or response body.
type content struct {
	mediaType string
	json      bool
	required  bool
	schema    *openapi3.SchemaRef // may be nil: any JSON value
}

// collect lists doc's operations, sorted by path then method, with unique
// names: operations with an operationId claim their names first, then the
// others get names from method and path.
func collect(doc *openapi3.T) ([]*operation, error) {
	if doc == nil {
		return nil, ErrNilDocument
	}
	var ops []*operation
	if doc.Paths == nil {
		return ops, nil
	}
	paths := doc.Paths.Keys()
	slices.Sort(paths)
	type named struct {
		op *operation
		id string
	}
	var all []named
	for _, p := range paths {
		item := doc.Paths.Value(p)
		if item == nil {
			continue
		}
		for _, m := range methods {
			o := item.GetOperation(m)
			if o == nil {
				continue
			}
			op := &operation{
				method: m, path: p, summary: o.Summary, description: o.Description,
				deprecated: o.Deprecated,
			}
			if !strings.HasPrefix(op.path, "/") {
				op.path = "/" + op.path
			}
			op.params = params(op.path, item.Parameters, o.Parameters)
			op.body = requestBody(o.RequestBody)
			op.status, op.result = success(o.Responses)
			reqs := doc.Security
			if o.Security != nil {
				reqs = *o.Security
			}
			op.auth = authText(doc, reqs)
			all = append(all, named{op, o.OperationID})
		}
	}
	ns := newNamespace()
	for _, n := range all {
		if name := exportedName(n.id, ""); name != "" {
			n.op.name = ns.claim(name)
		}
	}
	for _, n := range all {
		if n.op.name == "" {
			n.op.name = ns.claim(exportedName(strings.ToLower(n.op.method)+" "+n.op.path, "Operation"))
		}
		ops = append(ops, n.op)
	}
	return ops, nil
}

// templateParams returns the names in braces of a path template, in order,
// without a greedy parameter's "+".
func templateParams(path string) []string {
	var names []string
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			return names
		}
		name := strings.TrimSuffix(path[i+1:i+j], "+")
		if name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
		path = path[i+j+1:]
	}
}

// params merges path-item and operation parameters (the operation's win),
// drops cookie parameters and path parameters the template does not name,
// and adds a string parameter for each template name the document does not
// declare. Path parameters come first, in template order, then query, then
// header parameters, each sorted by name.
func params(path string, itemParams, opParams openapi3.Parameters) []param {
	byKey := map[string]param{}
	for _, list := range []openapi3.Parameters{itemParams, opParams} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil || ref.Value.Name == "" {
				continue
			}
			v := ref.Value
			in := strings.ToLower(v.In)
			if in != "path" && in != "query" && in != "header" {
				continue
			}
			p := param{name: v.Name, in: in, required: v.Required || in == "path", description: v.Description, schema: v.Schema}
			if p.schema == nil {
				for _, mt := range sortedKeys(v.Content) {
					if v.Content[mt] != nil {
						p.schema = v.Content[mt].Schema
						break
					}
				}
			}
			byKey[in+"\x00"+v.Name] = p
		}
	}
	var out []param
	for _, name := range templateParams(path) {
		p, ok := byKey["path\x00"+name]
		if !ok {
			p = param{name: name, in: "path", required: true}
		}
		out = append(out, p)
	}
	for _, in := range []string{"query", "header"} {
		var group []param
		for k, p := range byKey {
			if strings.HasPrefix(k, in+"\x00") {
				group = append(group, p)
			}
		}
		slices.SortFunc(group, func(a, b param) int { return strings.Compare(a.name, b.name) })
		out = append(out, group...)
	}
	return out
}

// isJSON reports whether a media type carries JSON.
func isJSON(mediaType string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(mediaType), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// pickContent chooses a media type of c: application/json, else another
// JSON type, else the first in sorted order; nil if c is empty.
func pickContent(c openapi3.Content) *content {
	keys := sortedKeys(c)
	if len(keys) == 0 {
		return nil
	}
	choice := keys[0]
	for _, k := range keys {
		if isJSON(k) {
			choice = k
			break
		}
	}
	for _, k := range keys {
		if strings.EqualFold(k, "application/json") {
			choice = k
		}
	}
	out := &content{mediaType: choice, json: isJSON(choice)}
	if mt := c[choice]; mt != nil {
		out.schema = mt.Schema
	}
	return out
}

func requestBody(ref *openapi3.RequestBodyRef) *content {
	if ref == nil || ref.Value == nil {
		return nil
	}
	c := pickContent(ref.Value.Content)
	if c != nil {
		c.required = ref.Value.Required
	}
	return c
}

// success picks the success response: the lowest 2xx status, else "2XX".
// It returns the status (0 for "2XX" or none) and the response's content.
func success(responses *openapi3.Responses) (int, *content) {
	if responses == nil {
		return 0, nil
	}
	best := 0
	var bestRef *openapi3.ResponseRef
	for _, k := range responses.Keys() {
		code, err := strconv.Atoi(k)
		if err != nil || code < 200 || code > 299 {
			continue
		}
		if best == 0 || code < best {
			best, bestRef = code, responses.Value(k)
		}
	}
	if bestRef == nil {
		bestRef = responses.Value("2XX")
		if bestRef == nil {
			bestRef = responses.Value("2xx")
		}
	}
	if bestRef == nil || bestRef.Value == nil {
		return best, nil
	}
	return best, pickContent(bestRef.Value.Content)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// componentName returns the schema name of a local "#/components/schemas/"
// reference, unescaping JSON pointer escapes.
func componentName(ref string) (string, bool) {
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	name = strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")
	return name, true
}

// refCycle reports whether following the named component schema's
// references to other components comes back to one already seen.
func refCycle(doc *openapi3.T, name string) bool {
	seen := map[string]bool{}
	for !seen[name] {
		seen[name] = true
		ref := doc.Components.Schemas[name]
		if ref == nil {
			return false
		}
		target, ok := componentName(ref.Ref)
		if !ok || doc.Components.Schemas[target] == nil {
			return false
		}
		name = target
	}
	return true
}

// authText says in words which credentials satisfy reqs, the operation's
// security requirements: "an API key or AWS SigV4 signing"; "" when none
// are needed or the schemes are unknown.
func authText(doc *openapi3.T, reqs openapi3.SecurityRequirements) string {
	var kinds []string
	for _, req := range reqs {
		if len(req) == 0 {
			return ""
		}
		var all []string
		for _, name := range sortedKeys(req) {
			if k := schemeText(doc, name); k != "" && !slices.Contains(all, k) {
				all = append(all, k)
			}
		}
		if k := strings.Join(all, " and "); k != "" && !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	return strings.Join(kinds, " or ")
}

func schemeText(doc *openapi3.T, name string) string {
	if doc.Components == nil || doc.Components.SecuritySchemes[name] == nil || doc.Components.SecuritySchemes[name].Value == nil {
		return ""
	}
	sc := doc.Components.SecuritySchemes[name].Value
	if t, _ := sc.Extensions["x-amazon-apigateway-authtype"].(string); strings.EqualFold(t, "awsSigv4") {
		return "AWS SigV4 signing"
	}
	switch strings.ToLower(sc.Type) {
	case "apikey":
		if strings.EqualFold(sc.In, "header") && strings.EqualFold(sc.Name, "x-api-key") {
			return "an API key"
		}
		return "the " + oneLine(sc.In) + " " + strconv.Quote(oneLine(sc.Name))
	case "http":
		switch strings.ToLower(sc.Scheme) {
		case "bearer":
			return "a bearer token"
		case "basic":
			return "HTTP basic credentials"
		}
	case "oauth2", "openidconnect":
		return "a bearer token"
	}
	return ""
}
