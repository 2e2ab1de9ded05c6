package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/transform"
	yaml "go.yaml.in/yaml/v4"
)

// Spec is the specification an export follows.
type Spec string

// The export specifications.
const (
	// OpenAPI30 is OpenAPI 3.0 (3.0.3); "" means it.
	OpenAPI30 Spec = "oas30"
	// Swagger20 is Swagger (OpenAPI) 2.0.
	Swagger20 Spec = "swagger"
)

// Format is the serialisation of an export.
type Format string

// The export formats.
const (
	// JSON ("" means it) is indented JSON.
	JSON Format = "json"
	// YAML is YAML 1.2.
	YAML Format = "yaml"
)

// ExportOptions configure [Export] and [Document]. The zero value exports
// OpenAPI 3.0 JSON with the x-amazon-apigateway-* extensions.
type ExportOptions struct {
	// Spec is OpenAPI30 ("") or Swagger20. [Document] always builds
	// OpenAPI 3.0.
	Spec Spec
	// Format is JSON ("") or YAML.
	Format Format
	// OmitExtensions leaves out the x-amazon-apigateway-* extensions
	// (integrations, authorizers, validators, API settings), giving a plain
	// description of the API for clients. The stage's endpoint
	// configuration is written all the same, as it says how the API is
	// reached. ANY routes are then written as one operation per method,
	// and greedy path parameters ({proxy+}) as plain ones ({proxy}), which
	// OpenAPI has.
	OmitExtensions bool
	// BaseURL is the URL clients call the stage at, such as a custom
	// domain's base path mapping ("https://api.example.com/orders"); it
	// becomes servers[0].url (3.0) or schemes, host and basePath (2.0).
	// "" means, for a stage, the URLs of its custom domains
	// ([portico.Stage.BasePathMappings] with a single host, as https URLs)
	// followed by "/{stage}" on the gateway's default endpoint (the host is
	// left out); for an API that is not deployed, "/".
	BaseURL string
	// Region and AccountID make the function ARNs of exported function
	// integrations; "" means "local" and "000000000000". Import resolves
	// the ARNs back to the same registry names.
	Region, AccountID string
}

// source is what an export describes.
type source struct {
	api     *portico.API
	stage   string
	sauth   *portico.StageAuth
	domains []string // the URLs of the stage's custom domains
}

func sourceOf(src any) (source, error) {
	switch s := src.(type) {
	case *portico.Stage:
		if s == nil || s.Deployment() == nil {
			return source{}, errors.New("openapi: export: the stage has no deployment")
		}
		src, err := sourceOf(s.Deployment())
		for _, m := range s.BasePathMappings() {
			if m.Domain == "" || strings.HasPrefix(m.Domain, "*.") {
				continue // no one host to name
			}
			u := "https://" + m.Domain
			if m.BasePath != "" {
				u += "/" + m.BasePath
			}
			src.domains = append(src.domains, u)
		}
		return src, err
	case *portico.Deployment:
		if s == nil {
			return source{}, errors.New("openapi: export: nil deployment")
		}
		cfg := s.Stage()
		return source{api: s.API(), stage: cfg.Name, sauth: &cfg.Auth}, nil
	case *portico.API:
		if s == nil {
			return source{}, errors.New("openapi: export: nil API")
		}
		return source{api: s}, nil
	}
	return source{}, fmt.Errorf("openapi: export: cannot export a %T (want *portico.Stage, *portico.Deployment or *portico.API)", src)
}

// Export writes src — a *[portico.Stage] (its current deployment), a
// *[portico.Deployment] or a *[portico.API] — as an OpenAPI 3.0 or Swagger
// 2.0 document. Output is deterministic: object keys are sorted.
//
// Routes whose integration has no OpenAPI form (a Go handler, a function
// that is not an [integration.Ref], a nil integration) are written without
// an integration extension, marked "x-portico-integration": "handler", and
// reported in the warnings; so is anything else that cannot be written
// (template languages other than VTL, custom auth.Authorizers, pools).
// The error is for a src of another type, or an API that cannot be
// written at all.
func Export(src any, opts ExportOptions) ([]byte, []Warning, error) {
	raw, warns, err := build(src, opts, false)
	if err != nil {
		return nil, nil, err
	}
	var out any = raw
	if opts.Spec == Swagger20 {
		if out, err = toSwagger(raw); err != nil {
			return nil, nil, err
		}
	} else if opts.Spec != "" && opts.Spec != OpenAPI30 {
		return nil, nil, fmt.Errorf("openapi: export: unknown spec %q (want oas30 or swagger)", opts.Spec)
	}
	js, err := json.Marshal(out)
	if err != nil {
		return nil, nil, fmt.Errorf("openapi: export: %w", err)
	}
	switch opts.Format {
	case "", JSON:
		var buf bytes.Buffer
		if err := json.Indent(&buf, js, "", "  "); err != nil {
			return nil, nil, fmt.Errorf("openapi: export: %w", err)
		}
		buf.WriteByte('\n')
		return buf.Bytes(), warns, nil
	case YAML:
		var v any
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("openapi: export: %w", err)
		}
		y, err := yaml.Marshal(yamlValue(v))
		if err != nil {
			return nil, nil, fmt.Errorf("openapi: export: %w", err)
		}
		return y, warns, nil
	}
	return nil, nil, fmt.Errorf("openapi: export: unknown format %q (want json or yaml)", opts.Format)
}

// yamlValue turns json.Numbers into ints or floats, which YAML writes as
// numbers.
func yamlValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = yamlValue(x)
		}
	case []any:
		for i, x := range v {
			v[i] = yamlValue(x)
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
	}
	return v
}

// Document returns src (as for [Export]) as an OpenAPI 3.0 document with
// every reference resolved, the form SDK generation takes. opts.Spec and
// opts.Format are not used; warnings are dropped (see [Export]).
func Document(src any, opts ExportOptions) (*openapi3.T, error) {
	raw, _, err := build(src, opts, true)
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: export: %w", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(js)
	if err != nil {
		return nil, fmt.Errorf("openapi: export: the document does not load: %w", err)
	}
	return doc, nil
}

// toSwagger converts a 3.0 document (plain values) to Swagger 2.0.
func toSwagger(raw map[string]any) (any, error) {
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: export: %w", err)
	}
	loader := openapi3.NewLoader()
	doc3, err := loader.LoadFromData(js)
	if err != nil {
		return nil, fmt.Errorf("openapi: export: %w", err)
	}
	// The any-method operations are extensions the converter copies as
	// they are: convert them too.
	anyOps := map[string]*openapi2.Operation{}
	for path, item := range doc3.Paths.Map() {
		x, ok := item.Extensions[extAnyMethod]
		if !ok {
			continue
		}
		opjs, _ := json.Marshal(x)
		op := openapi3.NewOperation()
		if err := json.Unmarshal(opjs, op); err != nil {
			return nil, fmt.Errorf("openapi: export: %s: %w", path, err)
		}
		if err := loader.ResolveRefsIn(doc3, nil); err != nil {
			return nil, fmt.Errorf("openapi: export: %w", err)
		}
		op2, err := openapi2conv.FromV3Operation(doc3, op)
		if err != nil {
			return nil, fmt.Errorf("openapi: export: %s: %w", path, err)
		}
		anyOps[path] = op2
	}
	doc2, err := openapi2conv.FromV3(doc3)
	if err != nil {
		return nil, fmt.Errorf("openapi: export: %w", err)
	}
	for path, op2 := range anyOps {
		item := doc2.Paths[path]
		if item == nil {
			item = &openapi2.PathItem{}
			doc2.Paths[path] = item
		}
		if item.Extensions == nil {
			item.Extensions = map[string]any{}
		}
		js, _ := json.Marshal(op2)
		var v any
		_ = json.Unmarshal(js, &v)
		if m, ok := v.(map[string]any); ok {
			if orig, ok := doc3.Paths.Value(path).Extensions[extAnyMethod].(map[string]any); ok {
				for k, x := range orig {
					if strings.HasPrefix(k, "x-") || k == "isDefaultRoute" {
						m[k] = x
					}
				}
			}
		}
		item.Extensions[extAnyMethod] = v
	}
	// The converter leaves some schema references (additionalProperties
	// among them) pointing at 3.0 components: point them at definitions.
	js, err = json.Marshal(doc2)
	if err != nil {
		return nil, fmt.Errorf("openapi: export: %w", err)
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("openapi: export: %w", err)
	}
	return rewriteRefs(tree, "#/components/schemas/", "#/definitions/", 0), nil
}

// exporter builds one document.
type exporter struct {
	opts    ExportOptions
	src     source
	swagger bool
	warns   []Warning
	schemes map[string]any
	opIDs   map[string]bool
	valids  map[string]any
	// synthesizeIDs gives operations without an OperationName an
	// operationId made from the method and path.
	synthesizeIDs bool
}

func (e *exporter) warn(ptr, msg string) {
	e.warns = append(e.warns, Warning{Pointer: ptr, Message: msg})
}

// build makes the OpenAPI 3.0 document of src as plain values.
func build(src any, opts ExportOptions, synthesizeIDs bool) (map[string]any, []Warning, error) {
	s, err := sourceOf(src)
	if err != nil {
		return nil, nil, err
	}
	e := &exporter{opts: opts, src: s, swagger: opts.Spec == Swagger20, schemes: map[string]any{}, valids: map[string]any{}, synthesizeIDs: synthesizeIDs, opIDs: map[string]bool{}}
	doc, err := e.document()
	if err != nil {
		return nil, nil, err
	}
	return doc, e.warns, nil
}

func (e *exporter) ext() bool { return !e.opts.OmitExtensions }

func (e *exporter) document() (map[string]any, error) {
	api := e.src.api
	version := api.Version
	if version == "" {
		version = "1.0"
	}
	info := map[string]any{"title": api.Name, "version": version}
	if api.Description != "" {
		info["description"] = api.Description
	}
	doc := map[string]any{"openapi": "3.0.3", "info": info}
	server := e.opts.BaseURL
	if server == "" {
		server = "/"
		if e.src.stage != "" {
			server = "/" + e.src.stage
		}
	} else if u, err := url.Parse(server); err != nil || (u.Scheme != "" && u.Host == "") {
		return nil, fmt.Errorf("openapi: export: BaseURL %q is not a URL", server)
	}
	sv := map[string]any{"url": server}
	if e.src.stage != "" {
		sv["description"] = "stage " + e.src.stage
	}
	servers := []any{sv}
	if e.opts.BaseURL == "" && len(e.src.domains) > 0 {
		// The stage's custom domains first: Swagger 2.0 has room for one.
		servers = servers[:0]
		for _, d := range e.src.domains {
			servers = append(servers, map[string]any{"url": d, "description": "custom domain"})
		}
		servers = append(servers, sv)
	}
	doc["servers"] = servers
	if sa := e.src.sauth; sa != nil {
		t := sa.EndpointType
		if t == "" {
			t = portico.EndpointRegional
		}
		ec := map[string]any{"types": []any{t}}
		if t == portico.EndpointPrivate && len(sa.AllowedNetworks) > 0 {
			ec["vpcEndpointIds"] = toAnySlice(sa.AllowedNetworks)
		}
		doc[extEndpointConfig] = ec
	}
	if e.ext() {
		e.apiExtensions(doc)
	}
	models := map[string]any{}
	for _, name := range sortedKeys(api.Transform.Models) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(api.Transform.Models[name]))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			e.warn(pointer("components", "schemas", name), fmt.Sprintf("model %q is not JSON: exported as {}", name))
			v = map[string]any{}
		}
		models[name] = e.schema(v, pointer("components", "schemas", name), api.Transform.Models)
	}
	paths := map[string]any{}
	routes := slices.Clone(api.Routes)
	slices.SortStableFunc(routes, func(a, b portico.Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return slices.Index(methods, a.Method) - slices.Index(methods, b.Method)
	})
	for _, rt := range routes {
		e.route(paths, rt)
	}
	// Authorizers no route uses are exported all the same.
	for _, name := range sortedKeys(api.Auth.Authorizers) {
		e.scheme(name, api.Auth.Authorizers[name], true)
	}
	doc["paths"] = paths
	comps := map[string]any{}
	if len(models) > 0 {
		comps["schemas"] = models
	}
	if len(e.schemes) > 0 {
		comps["securitySchemes"] = e.schemes
	}
	if len(comps) > 0 {
		doc["components"] = comps
	}
	if len(e.valids) > 0 {
		doc[extValidators] = e.valids
	}
	return doc, nil
}

func toAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// apiExtensions writes the API-level extensions.
func (e *exporter) apiExtensions(doc map[string]any) {
	api := e.src.api
	if api.Type == portico.HTTP {
		doc[extImportExport] = "1.0"
	}
	if api.Auth.APIKeySource != "" {
		doc[extAPIKeySource] = api.Auth.APIKeySource
	}
	if len(api.BinaryMediaTypes) > 0 {
		doc[extBinaryMediaTypes] = toAnySlice(api.BinaryMediaTypes)
	}
	if api.Transform.CompressResponses {
		doc[extMinCompression] = api.Transform.MinimumCompressionSize
	}
	if c := api.CORS; c != nil {
		xc := map[string]any{}
		if len(c.AllowOrigins) > 0 {
			xc["allowOrigins"] = toAnySlice(c.AllowOrigins)
		}
		if len(c.AllowMethods) > 0 {
			xc["allowMethods"] = toAnySlice(c.AllowMethods)
		}
		if len(c.AllowHeaders) > 0 {
			xc["allowHeaders"] = toAnySlice(c.AllowHeaders)
		}
		if len(c.ExposeHeaders) > 0 {
			xc["exposeHeaders"] = toAnySlice(c.ExposeHeaders)
		}
		if c.MaxAge > 0 {
			xc["maxAge"] = int64(c.MaxAge.Seconds())
		}
		if c.AllowCredentials {
			xc["allowCredentials"] = true
		}
		doc[extCORS] = xc
	}
	if len(api.Auth.ResourcePolicy) > 0 {
		var p any
		if err := json.Unmarshal(api.Auth.ResourcePolicy, &p); err != nil {
			e.warn(pointer(extPolicy), "the resource policy is not JSON: not exported")
		} else {
			doc[extPolicy] = p
		}
	}
	if len(api.GatewayResponses) > 0 {
		grs := map[string]any{}
		for t, gr := range api.GatewayResponses {
			x := map[string]any{}
			if gr.Status != 0 {
				x["statusCode"] = strconv.Itoa(gr.Status)
			}
			params := map[string]any{}
			for h, v := range gr.Headers {
				pv, ok := gatewayParam(v)
				if !ok {
					e.warn(pointer(extGatewayResponses, string(t), "responseParameters", "gatewayresponse.header."+h),
						fmt.Sprintf("header value %q mixes text and variables, which the extension cannot express: written as a literal", v))
				}
				params["gatewayresponse.header."+h] = pv
			}
			if len(params) > 0 {
				x["responseParameters"] = params
			}
			if gr.Body != "" {
				ct := gr.ContentType
				if ct == "" {
					ct = "application/json"
				}
				x["responseTemplates"] = map[string]any{ct: gr.Body}
			}
			grs[string(t)] = x
		}
		doc[extGatewayResponses] = grs
	}
}

// gatewayParam writes a gateway response header value as a response
// parameter: a literal, context.NAME or stageVariables.NAME.
func gatewayParam(v string) (string, bool) {
	for _, p := range []string{"$context.", "$stageVariables."} {
		if rest, ok := strings.CutPrefix(v, p); ok && validParamName(rest) {
			return v[1:], true
		}
	}
	return "'" + v + "'", !strings.Contains(v, "$")
}

// schema rewrites a model's references for the document.
func (e *exporter) schema(v any, ptr string, models map[string]json.RawMessage) any {
	switch s := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(s))
		for k, x := range s {
			switch k {
			case "$ref":
				ref, _ := x.(string)
				name := ""
				switch {
				case strings.HasPrefix(ref, "#/definitions/"):
					name = strings.TrimPrefix(ref, "#/definitions/")
				case strings.HasPrefix(ref, "#/components/schemas/"):
					name = strings.TrimPrefix(ref, "#/components/schemas/")
				}
				if _, ok := models[name]; !ok {
					e.warn(ptr, fmt.Sprintf("$ref %q does not name a model: dropped", ref))
					continue
				}
				out[k] = "#/components/schemas/" + name
			case "definitions", "$schema", "id", "$id":
				if k == "definitions" {
					e.warn(ptr, "a model's own definitions are not exported")
				}
			case "properties":
				if props, ok := x.(map[string]any); ok {
					np := make(map[string]any, len(props))
					for pn, pv := range props {
						np[pn] = e.schema(pv, ptr+"/properties/"+escapeToken(pn), models)
					}
					out[k] = np
				}
			default:
				out[k] = e.schema(x, ptr+"/"+escapeToken(k), models)
			}
		}
		return out
	case []any:
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = e.schema(x, ptr, models)
		}
		return out
	}
	return v
}

// opID returns a unique operationId for rt.
func (e *exporter) opID(rt portico.Route) string {
	id := rt.OperationName
	if id == "" {
		var b strings.Builder
		m := strings.ToLower(rt.Method)
		if rt.Path == portico.DefaultRouteKey {
			m = "default"
		}
		b.WriteString(m)
		for seg := range strings.SplitSeq(rt.Path, "/") {
			seg = strings.Trim(seg, "{}+$")
			for part := range strings.FieldsFuncSeq(seg, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
				b.WriteString(strings.ToUpper(part[:1]) + part[1:])
			}
		}
		id = b.String()
	}
	base := id
	for i := 2; e.opIDs[id]; i++ {
		id = base + strconv.Itoa(i)
	}
	e.opIDs[id] = true
	return id
}

// anyMethods are the methods an ANY route is written as without extensions.
var anyMethods = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH"}

func (e *exporter) route(paths map[string]any, rt portico.Route) {
	path := rt.Path
	if path == portico.DefaultRouteKey {
		path = "/$default"
	}
	if !e.ext() {
		// OpenAPI has no greedy parameters: {proxy+} is written {proxy}.
		path = strings.ReplaceAll(path, "+}", "}")
	}
	item, _ := paths[path].(map[string]any)
	if item == nil {
		item = map[string]any{}
		paths[path] = item
	}
	ptr := pointer("paths", path, strings.ToLower(rt.Method))
	if rt.Method == "ANY" || rt.Path == portico.DefaultRouteKey {
		ptr = pointer("paths", path, extAnyMethod)
	}
	op := e.operation(rt, ptr)
	switch {
	case rt.Path == portico.DefaultRouteKey:
		if !e.ext() {
			e.warn(ptr, "the $default route has no form without extensions: not exported")
			delete(paths, path)
			return
		}
		op["isDefaultRoute"] = true
		item[extAnyMethod] = op
	case rt.Method == "ANY":
		if e.ext() {
			item[extAnyMethod] = op
			return
		}
		id, hasID := op["operationId"].(string)
		for _, m := range anyMethods {
			lm := strings.ToLower(m)
			if _, taken := item[lm]; taken {
				continue
			}
			c := make(map[string]any, len(op))
			for k, v := range op {
				c[k] = v
			}
			if hasID {
				c["operationId"] = id + m[:1] + strings.ToLower(m[1:])
			}
			item[lm] = c
		}
	default:
		item[strings.ToLower(rt.Method)] = op
	}
}

func (e *exporter) operation(rt portico.Route, ptr string) map[string]any {
	summary := rt.OperationName
	if summary == "" {
		summary = rt.Key()
	}
	op := map[string]any{"summary": summary}
	if rt.OperationName != "" || e.synthesizeIDs {
		op["operationId"] = e.opID(rt)
	}
	v := rt.Transform.Validate
	// Parameters: the declared ones and every path template parameter.
	params := map[string]bool{}
	for k, req := range v.RequestParameters {
		params[k] = req
	}
	for seg := range strings.SplitSeq(rt.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params["method.request.path."+strings.TrimSuffix(seg[1:len(seg)-1], "+")] = true
		}
	}
	var plist []any
	for _, k := range sortedKeys(params) {
		rest, ok := strings.CutPrefix(k, "method.request.")
		if !ok {
			continue
		}
		where, name, _ := strings.Cut(rest, ".")
		in := map[string]string{"path": "path", "querystring": "query", "header": "header", "multivaluequerystring": "query", "multivalueheader": "header"}[where]
		if in == "" || name == "" {
			e.warn(ptr, fmt.Sprintf("request parameter %q is not exported", k))
			continue
		}
		p := map[string]any{"name": name, "in": in, "required": params[k] || in == "path", "schema": map[string]any{"type": "string"}}
		if strings.HasPrefix(where, "multivalue") {
			p["schema"] = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		}
		plist = append(plist, p)
	}
	if len(plist) > 0 {
		op["parameters"] = plist
	}
	if len(v.RequestModels) > 0 {
		content := map[string]any{}
		for mt, model := range v.RequestModels {
			content[mt] = map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + model}}
		}
		op["requestBody"] = map[string]any{"content": content}
	}
	// Responses: the response models' statuses and the integration
	// responses' statuses, with the headers they map.
	responses := map[string]any{}
	resp := func(status int) map[string]any {
		k := strconv.Itoa(status)
		r, _ := responses[k].(map[string]any)
		if r == nil {
			r = map[string]any{"description": k + " response"}
			responses[k] = r
		}
		return r
	}
	for st, m := range v.ResponseModels {
		content := map[string]any{}
		for mt, model := range m {
			content[mt] = map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + model}}
		}
		resp(st)["content"] = content
	}
	for _, ir := range rt.Transform.Map.Responses {
		st := ir.StatusCode
		if st == 0 {
			st = http.StatusOK
		}
		r := resp(st)
		for k := range ir.Parameters {
			if h, ok := strings.CutPrefix(k, "method.response.header."); ok {
				hs, _ := r["headers"].(map[string]any)
				if hs == nil {
					hs = map[string]any{}
					r["headers"] = hs
				}
				hs[h] = map[string]any{"schema": map[string]any{"type": "string"}}
			}
		}
	}
	if len(responses) == 0 {
		responses["200"] = map[string]any{"description": "200 response"}
	}
	op["responses"] = responses
	e.security(op, rt, ptr)
	for _, c := range []struct {
		what string
		set  bool
	}{
		{"CORS", rt.CORS != nil},
		{"cache", !reflect.ValueOf(rt.Cache).IsZero()},
		{"throttle", !reflect.ValueOf(rt.Throttle).IsZero()},
		{"response validation", v.ResponseValidation != transform.ResponseValidationOff},
	} {
		if c.set && e.ext() {
			e.warn(ptr, fmt.Sprintf("%s: the route's %s settings have no OpenAPI form: not exported", rt.Key(), c.what))
		}
	}
	if e.ext() {
		e.validator(op, rt)
		if x := e.integration(rt, ptr); x != nil {
			op[extIntegration] = x
		} else {
			op[extPorticoHandler] = porticoHandlerMarker
		}
	}
	return op
}

func (e *exporter) validator(op map[string]any, rt portico.Route) {
	v := rt.Transform.Validate
	var name string
	switch {
	case v.ValidateBody && v.ValidateParameters:
		name = "all"
	case v.ValidateBody:
		name = "body-only"
	case v.ValidateParameters:
		name = "params-only"
	default:
		return
	}
	e.valids[name] = map[string]any{"validateRequestBody": v.ValidateBody, "validateRequestParameters": v.ValidateParameters}
	op[extValidator] = name
}

// security writes the route's security requirement and the schemes it
// uses.
func (e *exporter) security(op map[string]any, rt portico.Route, ptr string) {
	req := map[string]any{}
	a := rt.Auth
	switch a.Authorizer {
	case "", "NONE":
	case portico.AuthorizerIAM:
		s := map[string]any{"type": "apiKey", "name": "Authorization", "in": "header"}
		if e.ext() {
			s[extAuthType] = "awsSigv4"
		}
		e.schemes["sigv4"] = s
		req["sigv4"] = []any{}
	default:
		cfg, ok := e.src.api.Auth.Authorizers[a.Authorizer]
		if !ok {
			e.warn(ptr, fmt.Sprintf("authorizer %q is not defined by the API", a.Authorizer))
		}
		e.scheme(a.Authorizer, cfg, ok)
		scopes := []any{}
		if cfg.Type == portico.AuthorizerJWT {
			scopes = toAnySlice(a.Scopes)
		}
		req[a.Authorizer] = scopes
	}
	if a.APIKeyRequired {
		name := "api_key"
		if _, taken := e.src.api.Auth.Authorizers[name]; taken {
			name = "x-api-key"
		}
		e.schemes[name] = map[string]any{"type": "apiKey", "name": "x-api-key", "in": "header"}
		req[name] = []any{}
	}
	if len(req) > 0 {
		op["security"] = []any{req}
	} else {
		op["security"] = []any{} // open, and said so
	}
}

// scheme writes the security scheme of authorizer name.
func (e *exporter) scheme(name string, a portico.Authorizer, defined bool) {
	if _, done := e.schemes[name]; done {
		return
	}
	ptr := pointer("components", "securitySchemes", name)
	src := strings.Join(a.IdentitySources, ", ")
	if !defined {
		s := map[string]any{"type": "apiKey", "name": "Authorization", "in": "header"}
		if e.ext() {
			s[extAuthType] = "custom"
		}
		e.schemes[name] = s
		return
	}
	switch a.Type {
	case portico.AuthorizerJWT:
		var s map[string]any
		if e.swagger {
			s = map[string]any{"type": "apiKey", "name": "Authorization", "in": "header"}
			if e.ext() {
				s[extAuthType] = "oauth2"
			}
		} else if a.Issuer == "" {
			s = map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
		} else {
			s = map[string]any{"type": "openIdConnect", "openIdConnectUrl": strings.TrimSuffix(a.Issuer, "/") + "/.well-known/openid-configuration"}
		}
		if e.ext() {
			x := map[string]any{"type": "jwt", "jwtConfiguration": map[string]any{"issuer": a.Issuer, "audience": toAnySlice(a.Audiences)}}
			if src != "" {
				x["identitySource"] = src
			}
			s[extAuthorizer] = x
		}
		if a.JWKSURL != "" || a.Leeway != 0 {
			e.warn(ptr, "the JWKS URL and leeway are not exported")
		}
		e.schemes[name] = s
	case portico.AuthorizerToken, portico.AuthorizerRequest:
		hdr, in := "Authorization", "header"
		if len(a.IdentitySources) > 0 {
			s := a.IdentitySources[0]
			for _, p := range []string{"method.request.header.", "$request.header."} {
				if h, ok := strings.CutPrefix(s, p); ok {
					hdr = h
				}
			}
			for _, p := range []string{"method.request.querystring.", "$request.querystring."} {
				if q, ok := strings.CutPrefix(s, p); ok {
					hdr, in = q, "query"
				}
			}
		}
		s := map[string]any{"type": "apiKey", "name": hdr, "in": in}
		if e.ext() {
			s[extAuthType] = "custom"
			x := map[string]any{"type": strings.ToLower(a.Type)}
			if src != "" {
				x["identitySource"] = src
			}
			if a.IdentityValidationExpression != "" {
				x["identityValidationExpression"] = a.IdentityValidationExpression
			}
			switch {
			case a.ResultTTL < 0:
				x["authorizerResultTtlInSeconds"] = 0
			case a.ResultTTL > 0:
				x["authorizerResultTtlInSeconds"] = int64(a.ResultTTL.Seconds())
			}
			if a.PayloadFormatVersion != "" {
				x["authorizerPayloadFormatVersion"] = a.PayloadFormatVersion
			}
			if ref, ok := a.Integration.(*integration.FunctionRef); ok && a.Function == nil {
				x["authorizerUri"] = e.functionURI(ref.Name())
				s[extAuthorizer] = x
			} else {
				e.warn(ptr, fmt.Sprintf("authorizer %q is not a registry function (integration.Ref): written without %s, so an import needs it set by hand", name, extAuthorizer))
			}
		}
		e.schemes[name] = s
	default:
		s := map[string]any{"type": "apiKey", "name": "Authorization", "in": "header"}
		if e.ext() {
			s[extAuthType] = "custom"
		}
		e.warn(ptr, fmt.Sprintf("authorizer %q is a custom auth.Authorizer: written without %s", name, extAuthorizer))
		e.schemes[name] = s
	}
}

// functionURI is the invocation URI of a registry function name.
func (e *exporter) functionURI(name string) string {
	if strings.HasPrefix(name, "arn:") && strings.Contains(name, ":apigateway:") {
		return name
	}
	region, account := e.opts.Region, e.opts.AccountID
	if region == "" {
		region = "local"
	}
	if account == "" {
		account = "000000000000"
	}
	fn := name
	if !strings.HasPrefix(name, "arn:") {
		fn = "arn:aws:lambda:" + region + ":" + account + ":function:" + name
	}
	return "arn:aws:apigateway:" + region + ":lambda:path/2015-03-31/functions/" + fn + "/invocations"
}

// integration writes a route's x-amazon-apigateway-integration; nil for
// an integration with no OpenAPI form.
func (e *exporter) integration(rt portico.Route, ptr string) map[string]any {
	x := map[string]any{}
	m := rt.Transform.Map
	httpMethod := rt.Method
	if rt.Path == portico.DefaultRouteKey {
		httpMethod = "ANY"
	}
	switch h := rt.Integration.(type) {
	case *integration.FunctionRef:
		x["type"] = "aws_proxy"
		if !mappingZero(&m) {
			x["type"] = "aws"
		}
		x["httpMethod"] = "POST"
		x["uri"] = e.functionURI(h.Name())
	case *integration.HTTP:
		x["type"] = "http"
		x["httpMethod"] = httpMethod
		x["uri"] = h.Target
		e.backend(x, &h.HTTPProxy, ptr)
	case *integration.HTTPProxy:
		x["type"] = "http_proxy"
		x["httpMethod"] = httpMethod
		x["uri"] = h.Target
		e.backend(x, h, ptr)
	case integration.Mock:
		e.mock(x, h, &m, ptr)
	case *integration.Mock:
		e.mock(x, *h, &m, ptr)
	case nil:
		e.warn(ptr, rt.Key()+": the route has no integration: exported without one")
		return nil
	default:
		e.warn(ptr, fmt.Sprintf("%s: a %T has no OpenAPI form: exported without an integration", rt.Key(), h))
		return nil
	}
	if rt.Timeout > 0 {
		x["timeoutInMillis"] = rt.Timeout.Milliseconds()
	}
	if m.Language != "" && m.Language != transform.VTL {
		e.warn(ptr, fmt.Sprintf("%s: %s templates are exported as they are, but an import reads them as VTL", rt.Key(), m.Language))
	}
	if len(m.RequestParameters) > 0 {
		x["requestParameters"] = anyMap(m.RequestParameters)
	}
	if len(m.RequestTemplates) > 0 {
		x["requestTemplates"] = anyMap(m.RequestTemplates)
	}
	if m.PassthroughBehavior != "" {
		x["passthroughBehavior"] = string(m.PassthroughBehavior)
	}
	if m.ContentHandling != "" {
		x["contentHandling"] = string(m.ContentHandling)
	}
	if len(m.Responses) > 0 {
		rs := map[string]any{}
		for _, r := range m.Responses {
			k := r.SelectionPattern
			if k == "" {
				k = "default"
			}
			if _, dup := rs[k]; dup {
				e.warn(ptr, fmt.Sprintf("%s: two integration responses with the pattern %q: the first is exported", rt.Key(), k))
				continue
			}
			xr := map[string]any{}
			if r.StatusCode != 0 {
				xr["statusCode"] = strconv.Itoa(r.StatusCode)
			}
			if len(r.Parameters) > 0 {
				xr["responseParameters"] = anyMap(r.Parameters)
			}
			if len(r.Templates) > 0 {
				xr["responseTemplates"] = anyMap(r.Templates)
			}
			if r.ContentHandling != "" {
				xr["contentHandling"] = string(r.ContentHandling)
			}
			rs[k] = xr
		}
		x["responses"] = rs
	}
	return x
}

func (e *exporter) backend(x map[string]any, p *integration.HTTPProxy, ptr string) {
	if p.TLS != nil && (p.TLS.InsecureSkipVerify || p.TLS.ServerName != "") {
		t := map[string]any{}
		if p.TLS.InsecureSkipVerify {
			t["insecureSkipVerification"] = true
		}
		if p.TLS.ServerName != "" {
			t["serverNameToVerify"] = p.TLS.ServerName
		}
		x["tlsConfig"] = t
	}
	if p.Pool != nil {
		e.warn(ptr, "the backend pool is not exported: uri is its path template")
	}
}

// mock writes a Mock: its status in the request template, its body and
// headers as the default integration response when the mapping has none.
func (e *exporter) mock(x map[string]any, mk integration.Mock, m *transform.Mapping, ptr string) {
	x["type"] = "mock"
	status := mk.Status
	if status == 0 {
		status = http.StatusOK
	}
	if len(m.RequestTemplates) == 0 {
		x["requestTemplates"] = map[string]any{"application/json": fmt.Sprintf(`{"statusCode": %d}`, status)}
	} else if mockStatus(m.RequestTemplates) != status {
		e.warn(ptr, fmt.Sprintf("the mock answers %d but its request template says otherwise: an import takes the template's", status))
	}
	if len(m.Responses) == 0 && (mk.Body != "" || len(mk.Header) > 0) {
		r := map[string]any{"statusCode": strconv.Itoa(status)}
		if mk.Body != "" {
			ct := mk.Header.Get("Content-Type")
			if ct == "" {
				ct = "application/json"
			}
			r["responseTemplates"] = map[string]any{ct: mk.Body}
			if strings.ContainsAny(mk.Body, "$#") {
				e.warn(ptr, "the mock body is written as a response template, which reads $ and # as VTL")
			}
		}
		params := map[string]any{}
		for _, k := range sortedKeys(mk.Header) {
			if len(mk.Header[k]) > 0 && !strings.EqualFold(k, "Content-Type") {
				params["method.response.header."+k] = "'" + mk.Header[k][0] + "'"
			}
		}
		if len(params) > 0 {
			r["responseParameters"] = params
		}
		x["responses"] = map[string]any{"default": r}
	}
}

func mappingZero(m *transform.Mapping) bool {
	return len(m.RequestParameters) == 0 && len(m.RequestTemplates) == 0 && len(m.Responses) == 0 &&
		m.ContentHandling == "" && (m.PassthroughBehavior == "" || m.PassthroughBehavior == transform.WhenNoMatch)
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
