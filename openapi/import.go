package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
	"github.com/portico-gw/portico/internal/router"
	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/transform"
)

// Import reads an OpenAPI 3.0, 3.1 or Swagger 2.0 document (JSON or YAML)
// and returns the API it describes.
//
// Each operation becomes a route (path templates as written, {name+} greedy;
// x-amazon-apigateway-any-method an ANY route, or the $default route with
// isDefaultRoute). Parameters become the route's declared request
// parameters and request bodies its request models; responses with a
// status code become response models. Component schemas become the API's
// models. The x-amazon-apigateway-request-validator the operation (or the
// document) names says what is validated; see
// [ImportOptions.ValidateRequests].
//
// Security schemes become authorizers named after the scheme: an apiKey
// scheme is an API-key requirement on the routes that use it (the key comes
// from x-api-key or the authorizer, per x-amazon-apigateway-api-key-source);
// http bearer, oauth2 and openIdConnect schemes are JWT authorizers (issuer
// from openIdConnectUrl or the authorizer extension's jwtConfiguration,
// audiences from jwtConfiguration; an authorizer without them gives a
// warning and fails to deploy until they are set; the security
// requirement's scopes are the route's scopes);
// x-amazon-apigateway-authorizer makes TOKEN and REQUEST authorizers
// served by the registry function its authorizerUri names, and JWT
// authorizers for jwt and cognito_user_pools;
// x-amazon-apigateway-authtype awsSigv4 and x-amazon-apigateway-auth
// AWS_IAM require SigV4 ([portico.AuthorizerIAM]). The operation's security
// (else the document's) applies, as OpenAPI says; only the first of
// several alternatives is enforced (a warning says so). A scheme Portico
// cannot enforce (http basic, mutualTLS) is still named as the route's
// authorizer, with a warning: the route is never left open, and Deploy
// fails until the API's Auth.Authorizers has an authorizer of that name.
//
// x-amazon-apigateway-integration becomes the route's integration: http an
// [integration.HTTP], http_proxy an [integration.HTTPProxy], mock an
// [integration.Mock] with the status of the request template's statusCode,
// aws_proxy and aws an [integration.Ref] to the registry (an aws function
// receives the proxy event of the mapped request: Portico has no
// non-proxy function invocation, and a warning says so); the mapping
// fields (requestParameters, requestTemplates, responses,
// passthroughBehavior, contentHandling) become the route's
// [portico.RouteTransform] Map and timeoutInMillis its Timeout. Stage
// variables (${stageVariables.x}) stay as written, for the gateway to
// substitute at deploy. The document-level extensions set the API's
// settings: api-key-source, gateway-responses, binary-media-types,
// minimum-compression-size, cors, policy; endpoint-configuration gives
// [Imported].Endpoint.
//
// Problems that leave part of the document out are warnings. Errors end
// the import: a document that cannot be read ([ErrInvalidDocument]), an
// integration of an unknown or unsupported type (AWS service integrations,
// VPC links), a function or authorizer the registry does not hold, an
// invalid Mode; they name the operation (method, path and operationId).
func Import(data []byte, opts ImportOptions) (*Imported, error) {
	switch opts.Mode {
	case "", Overwrite:
	case Merge:
		if opts.Into == nil {
			return nil, errors.New("openapi: Merge mode needs ImportOptions.Into")
		}
	default:
		return nil, fmt.Errorf("openapi: unknown import mode %q (want overwrite or merge)", opts.Mode)
	}
	l, err := load(data)
	if err != nil {
		return nil, err
	}
	im := &importer{l: l, opts: opts, doc: l.doc, schemes: map[string]scheme{}, routes: map[string]int{}}
	im.models = newModels(l.raw, im.warn)
	im.run()
	if len(im.errs) > 0 {
		return nil, errors.Join(im.errs...)
	}
	res := &Imported{API: im.api, Endpoint: im.endpoint, Warnings: im.warnings, Version: l.version}
	if opts.Mode == Merge {
		res.API = merge(opts.Into, im.api, im.set)
	}
	if opts.FailOnWarnings && len(res.Warnings) > 0 {
		return nil, &WarningsError{Warnings: res.Warnings}
	}
	return res, nil
}

// scheme is what a security scheme means for a route that requires it.
type scheme struct {
	kind   string // "apikey", "authorizer", "iam"
	scoped bool   // JWT-like: the requirement's scopes apply
}

// settings records which API-level settings the document sets (for Merge).
type settings struct {
	apiKeySource, policy, cors, compression bool
}

type importer struct {
	l        *loaded
	doc      *openapi3.T
	opts     ImportOptions
	api      *portico.API
	endpoint portico.StageAuth
	models   *models
	schemes  map[string]scheme
	// validators are the document's request validators; defaultValidator
	// the document's x-amazon-apigateway-request-validator.
	validators       map[string]xValidator
	defaultValidator string
	routes           map[string]int // route key → index in api.Routes
	set              settings
	warnings         []Warning
	errs             []error
}

func (im *importer) warn(ptr, msg string) {
	im.warnings = append(im.warnings, Warning{Pointer: ptr, Message: msg})
}

func (im *importer) fail(ptr, what string, err error) {
	im.errs = append(im.errs, fmt.Errorf("openapi: %s (%s): %w", what, ptr, err))
}

func (im *importer) errorf(ptr, what, format string, args ...any) {
	im.fail(ptr, what, fmt.Errorf(format, args...))
}

// componentPtr is the pointer of a component in the document as written
// (Swagger 2.0 keeps them elsewhere).
func (im *importer) componentPtr(kind, name string) string {
	if im.l.version == "2.0" {
		switch kind {
		case "schemas":
			return pointer("definitions", name)
		case "securitySchemes":
			return pointer("securityDefinitions", name)
		}
	}
	return pointer("components", kind, name)
}

func (im *importer) run() {
	doc := im.doc
	name := im.opts.Name
	if name == "" && doc.Info != nil {
		name = strings.TrimSpace(doc.Info.Title)
	}
	if name == "" {
		name = "api"
		im.warn(pointer("info", "title"), `no title: the API is named "api" (set ImportOptions.Name)`)
	}
	im.api = &portico.API{Name: name, Type: im.opts.Type}
	if doc.Info != nil {
		im.api.Description = doc.Info.Description
	}
	if im.api.Type == "" {
		im.api.Type = portico.REST
		if _, ok := doc.Extensions[extImportExport]; ok {
			im.api.Type = portico.HTTP
		}
	}
	if len(doc.Webhooks) > 0 {
		im.warn(pointer("webhooks"), "webhooks are not imported")
	}
	for _, x := range []string{"x-amazon-apigateway-documentation", "x-amazon-apigateway-tag-value"} {
		if _, ok := doc.Extensions[x]; ok {
			im.warn(pointer(x), "not imported")
		}
	}
	im.root()
	im.models.components(func(n string) string { return im.componentPtr("schemas", n) })
	im.securitySchemes()
	im.paths()
	im.api.Transform.Models = im.models.out
	im.checkModels()
}

// root reads the document-level extensions.
func (im *importer) root() {
	x := im.doc.Extensions
	var s string
	if ok, err := ext(x, extAPIKeySource, &s); err != nil {
		im.warn(pointer(extAPIKeySource), err.Error())
	} else if ok {
		switch strings.ToUpper(s) {
		case "HEADER", "AUTHORIZER":
			im.api.Auth.APIKeySource = strings.ToUpper(s)
			im.set.apiKeySource = true
		default:
			im.warn(pointer(extAPIKeySource), fmt.Sprintf("%q is not HEADER or AUTHORIZER: ignored", s))
		}
	}
	var types []string
	if ok, err := ext(x, extBinaryMediaTypes, &types); err != nil {
		im.warn(pointer(extBinaryMediaTypes), err.Error())
	} else if ok {
		for i, t := range types {
			t = strings.ReplaceAll(t, "~1", "/")
			if !strings.Contains(t, "/") {
				im.warn(pointer(extBinaryMediaTypes, strconv.Itoa(i)), fmt.Sprintf("%q is not a media type: ignored", t))
				continue
			}
			im.api.BinaryMediaTypes = append(im.api.BinaryMediaTypes, t)
		}
	}
	var n flexInt
	if ok, err := ext(x, extMinCompression, &n); err != nil {
		im.warn(pointer(extMinCompression), err.Error())
	} else if ok {
		if n < 0 || n > 10<<20 {
			im.warn(pointer(extMinCompression), fmt.Sprintf("%d is outside 0-10485760: compression is off", n))
		} else {
			im.api.Transform.CompressResponses = true
			im.api.Transform.MinimumCompressionSize = int(n)
			im.set.compression = true
		}
	}
	var c xCORS
	if ok, err := ext(x, extCORS, &c); err != nil {
		im.warn(pointer(extCORS), err.Error())
	} else if ok {
		im.api.CORS = &portico.CORS{
			AllowOrigins: c.AllowOrigins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
			ExposeHeaders: c.ExposeHeaders, MaxAge: time.Duration(c.MaxAge) * time.Second, AllowCredentials: c.AllowCredentials,
		}
		im.set.cors = true
	}
	if p, ok := x[extPolicy]; ok {
		if s, isStr := p.(string); isStr {
			p = json.RawMessage(s)
		}
		js, err := json.Marshal(p)
		var obj map[string]any
		if err == nil {
			err = json.Unmarshal(js, &obj)
		}
		if err != nil {
			im.warn(pointer(extPolicy), fmt.Sprintf("not a JSON policy document: ignored (%v)", err))
		} else {
			im.api.Auth.ResourcePolicy = js
			im.set.policy = true
		}
	}
	im.gatewayResponses()
	var vs map[string]xValidator
	if _, err := ext(x, extValidators, &vs); err != nil {
		im.warn(pointer(extValidators), err.Error())
	}
	im.validators = vs
	if ok, err := ext(x, extValidator, &im.defaultValidator); err != nil {
		im.warn(pointer(extValidator), err.Error())
	} else if ok {
		if _, known := vs[im.defaultValidator]; !known {
			im.warn(pointer(extValidator), fmt.Sprintf("no request validator named %q: nothing is validated by default", im.defaultValidator))
			im.defaultValidator = ""
		}
	}
	im.endpointConfig(x, pointer(extEndpointConfig))
	for i, sv := range im.doc.Servers {
		if sv != nil {
			im.endpointConfig(sv.Extensions, pointer("servers", strconv.Itoa(i), extEndpointConfig))
		}
	}
}

func (im *importer) endpointConfig(x map[string]any, ptr string) {
	var ec xEndpointConfig
	ok, err := ext(x, extEndpointConfig, &ec)
	if err != nil {
		im.warn(ptr, err.Error())
		return
	}
	if !ok {
		return
	}
	if len(ec.Types) > 0 {
		t := strings.ToUpper(ec.Types[0])
		switch t {
		case portico.EndpointRegional, portico.EndpointEdge, portico.EndpointPrivate:
			im.endpoint.EndpointType = t
		default:
			im.warn(ptr+"/types/0", fmt.Sprintf("endpoint type %q is not REGIONAL, EDGE or PRIVATE: ignored", ec.Types[0]))
		}
		if len(ec.Types) > 1 {
			im.warn(ptr+"/types", "a stage has one endpoint type: the first is taken")
		}
	}
	if len(ec.VPCEndpointIDs) > 0 {
		im.endpoint.EndpointType = portico.EndpointPrivate
		im.endpoint.AllowedNetworks = slices.Clone(ec.VPCEndpointIDs)
	}
	if ec.DisableExecuteAPIEndpoint {
		im.warn(ptr+"/disableExecuteApiEndpoint", "the default endpoint is a gateway setting: use portico.WithoutDefaultEndpoint")
	}
}

// gatewayResponses reads x-amazon-apigateway-gateway-responses.
func (im *importer) gatewayResponses() {
	var grs map[string]xGatewayResponse
	ptr := pointer(extGatewayResponses)
	if ok, err := ext(im.doc.Extensions, extGatewayResponses, &grs); err != nil {
		im.warn(ptr, err.Error())
		return
	} else if !ok {
		return
	}
	for _, typ := range sortedKeys(grs) {
		g := grs[typ]
		at := ptr + "/" + escapeToken(typ)
		rt := reqctx.ResponseType(typ)
		if !rt.Known() {
			im.warn(at, fmt.Sprintf("unknown gateway response type %q: ignored", typ))
			continue
		}
		var gr portico.GatewayResponse
		if g.StatusCode != "" {
			st, err := strconv.Atoi(string(g.StatusCode))
			if err != nil || st < 100 || st > 599 {
				im.warn(at+"/statusCode", fmt.Sprintf("status %q is not a status code: the type's default is kept", g.StatusCode))
			} else {
				gr.Status = st
			}
		}
		for _, k := range sortedKeys(g.ResponseParameters) {
			h, ok := strings.CutPrefix(k, "gatewayresponse.header.")
			if !ok {
				im.warn(at+"/responseParameters/"+escapeToken(k), "only gatewayresponse.header.NAME parameters are supported: ignored")
				continue
			}
			v, ok := gatewayValue(g.ResponseParameters[k])
			if !ok {
				im.warn(at+"/responseParameters/"+escapeToken(k), fmt.Sprintf("value %q: only 'literals', context.NAME and stageVariables.NAME are supported: ignored", g.ResponseParameters[k]))
				continue
			}
			if gr.Headers == nil {
				gr.Headers = map[string]string{}
			}
			gr.Headers[h] = v
		}
		if len(g.ResponseTemplates) > 0 {
			ct := "application/json"
			if _, ok := g.ResponseTemplates[ct]; !ok {
				ct = sortedKeys(g.ResponseTemplates)[0]
			}
			gr.Body = g.ResponseTemplates[ct]
			if ct != "application/json" {
				gr.ContentType = ct
			}
			if len(g.ResponseTemplates) > 1 {
				im.warn(at+"/responseTemplates", fmt.Sprintf("a gateway response has one body: the %s template is taken", ct))
			}
		}
		if im.api.GatewayResponses == nil {
			im.api.GatewayResponses = map[reqctx.ResponseType]portico.GatewayResponse{}
		}
		im.api.GatewayResponses[rt] = gr
	}
}

// gatewayValue turns a gateway response parameter value into a Portico
// header value: 'literal', context.NAME, stageVariables.NAME.
func gatewayValue(v string) (string, bool) {
	switch {
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		return v[1 : len(v)-1], true
	case strings.HasPrefix(v, "context."):
		return "$" + v, true
	case strings.HasPrefix(v, "stageVariables."):
		return "$" + v, true
	}
	return "", false
}

// securitySchemes turns the document's security schemes into authorizers.
func (im *importer) securitySchemes() {
	if im.doc.Components == nil {
		return
	}
	ss := im.doc.Components.SecuritySchemes
	for _, name := range sortedKeys(ss) {
		ptr := im.componentPtr("securitySchemes", name)
		ref := ss[name]
		if ref == nil || ref.Value == nil {
			im.warn(ptr, "empty security scheme: ignored")
			continue
		}
		s := ref.Value
		var authType string
		if _, err := ext(s.Extensions, extAuthType, &authType); err != nil {
			im.warn(ptr+"/"+extAuthType, err.Error())
		}
		var xa xAuthorizer
		hasXA, err := ext(s.Extensions, extAuthorizer, &xa)
		if err != nil {
			im.errorf(ptr+"/"+extAuthorizer, "security scheme "+name, "%v", err)
			continue
		}
		switch {
		case strings.EqualFold(authType, "awsSigv4"):
			im.schemes[name] = scheme{kind: "iam"}
		case hasXA:
			im.authorizerExt(name, ptr+"/"+extAuthorizer, s, &xa)
		case authType != "" && strings.EqualFold(s.Type, "apiKey"):
			im.schemes[name] = scheme{kind: "authorizer"}
			im.warn(ptr, fmt.Sprintf("a %s authorizer without %s: routes that require %q name it as their authorizer, so deploying fails until API.Auth.Authorizers[%q] is set", authType, extAuthorizer, name, name))
		case strings.EqualFold(s.Type, "apiKey"):
			im.schemes[name] = scheme{kind: "apikey"}
			if !strings.EqualFold(s.In, "header") || !strings.EqualFold(s.Name, "x-api-key") {
				im.warn(ptr, fmt.Sprintf("API key in %s %q: Portico reads API keys from the x-api-key header (or the authorizer, with x-amazon-apigateway-api-key-source AUTHORIZER)", s.In, s.Name))
			}
		case strings.EqualFold(s.Type, "http") && strings.EqualFold(s.Scheme, "bearer"),
			strings.EqualFold(s.Type, "oauth2"), strings.EqualFold(s.Type, "openIdConnect"):
			a := portico.Authorizer{Type: portico.AuthorizerJWT}
			if s.OpenIdConnectUrl != "" {
				a.Issuer = strings.TrimSuffix(strings.TrimSuffix(s.OpenIdConnectUrl, "/.well-known/openid-configuration"), "/")
			}
			if a.Issuer == "" {
				im.warn(ptr, fmt.Sprintf("%s scheme without an issuer or audiences: give them in %s jwtConfiguration; the JWT authorizer %q fails to deploy until then", s.Type, extAuthorizer, name))
			} else {
				im.warn(ptr, fmt.Sprintf("no audiences: give them in %s jwtConfiguration; the JWT authorizer %q fails to deploy until then", extAuthorizer, name))
			}
			im.addAuthorizer(name, a, true)
		default:
			what := s.Type
			if s.Scheme != "" {
				what += " " + s.Scheme
			}
			im.schemes[name] = scheme{kind: "authorizer"}
			im.warn(ptr, fmt.Sprintf("Portico has no %s authorizer: routes that require %q name it as their authorizer, so deploying fails until API.Auth.Authorizers[%q] is set (a Custom one)", what, name, name))
		}
	}
}

func (im *importer) addAuthorizer(name string, a portico.Authorizer, scoped bool) {
	if im.api.Auth.Authorizers == nil {
		im.api.Auth.Authorizers = map[string]portico.Authorizer{}
	}
	im.api.Auth.Authorizers[name] = a
	im.schemes[name] = scheme{kind: "authorizer", scoped: scoped}
}

// cognitoARN matches a Cognito user pool ARN.
var cognitoARN = regexp.MustCompile(`^arn:aws[a-z-]*:cognito-idp:([a-z0-9-]+):\d*:userpool/([A-Za-z0-9_-]+)$`)

func (im *importer) authorizerExt(name, ptr string, s *openapi3.SecurityScheme, xa *xAuthorizer) {
	what := "authorizer " + name
	var sources []string
	for src := range strings.SplitSeq(xa.IdentitySource, ",") {
		if src = strings.TrimSpace(src); src != "" {
			sources = append(sources, src)
		}
	}
	if xa.AuthorizerCredentials != "" {
		im.warn(ptr+"/authorizerCredentials", "authorizer credentials are not used: Portico calls the function itself")
	}
	switch strings.ToLower(xa.Type) {
	case "token", "request":
		a := portico.Authorizer{Type: portico.AuthorizerToken, IdentitySources: sources, IdentityValidationExpression: xa.IdentityValidationExpression}
		if strings.EqualFold(xa.Type, "request") {
			a.Type = portico.AuthorizerRequest
			a.PayloadFormatVersion = xa.AuthorizerPayloadFormatVersion
		} else if len(sources) == 0 && s.Name != "" && strings.EqualFold(s.In, "header") {
			a.IdentitySources = []string{"method.request.header." + s.Name}
		}
		if xa.AuthorizerResultTTLInSeconds != nil {
			ttl := int64(*xa.AuthorizerResultTTLInSeconds)
			switch {
			case ttl <= 0:
				a.ResultTTL = -1
			case ttl > 3600:
				im.warn(ptr+"/authorizerResultTtlInSeconds", "more than 3600 s: 3600 s is used")
				a.ResultTTL = time.Hour
			default:
				a.ResultTTL = time.Duration(ttl) * time.Second
			}
		}
		// enableSimpleResponses needs nothing: Portico's custom authorizers
		// understand {isAuthorized, context} whenever a function answers so.
		if xa.AuthorizerURI == "" {
			im.errorf(ptr+"/authorizerUri", what, "a %s authorizer needs an authorizerUri naming a registry function", xa.Type)
			return
		}
		if strings.Contains(xa.AuthorizerURI, "${") {
			im.errorf(ptr+"/authorizerUri", what, "authorizerUri %q: stage variables are not supported in authorizer URIs", xa.AuthorizerURI)
			return
		}
		key, ok := im.opts.Registry.Resolve(xa.AuthorizerURI)
		if !ok {
			im.errorf(ptr+"/authorizerUri", what, "function %q is not in ImportOptions.Registry", xa.AuthorizerURI)
			return
		}
		a.Integration = integration.Ref(im.opts.Registry, key)
		im.addAuthorizer(name, a, false)
	case "jwt":
		a := portico.Authorizer{Type: portico.AuthorizerJWT, IdentitySources: sources}
		if xa.JWTConfiguration != nil {
			a.Issuer = xa.JWTConfiguration.Issuer
			a.Audiences = nilIfEmpty(xa.JWTConfiguration.Audience)
		}
		if a.Issuer == "" && s.OpenIdConnectUrl != "" {
			a.Issuer = strings.TrimSuffix(strings.TrimSuffix(s.OpenIdConnectUrl, "/.well-known/openid-configuration"), "/")
		}
		if a.Issuer == "" || len(a.Audiences) == 0 {
			im.warn(ptr+"/jwtConfiguration", fmt.Sprintf("a JWT authorizer needs an issuer and audiences: %q fails to deploy until they are set", name))
		}
		im.addAuthorizer(name, a, true)
	case "cognito_user_pools":
		a := portico.Authorizer{Type: portico.AuthorizerJWT, IdentitySources: sources}
		if len(xa.ProviderARNs) > 0 {
			if m := cognitoARN.FindStringSubmatch(xa.ProviderARNs[0]); m != nil {
				a.Issuer = "https://cognito-idp." + m[1] + ".amazonaws.com/" + m[2]
			} else if strings.Contains(xa.ProviderARNs[0], "${") {
				im.warn(ptr+"/providerARNs/0", "stage variables in a user pool ARN are not supported: set the authorizer's Issuer")
			} else {
				im.warn(ptr+"/providerARNs/0", fmt.Sprintf("%q is not a Cognito user pool ARN", xa.ProviderARNs[0]))
			}
			if len(xa.ProviderARNs) > 1 {
				im.warn(ptr+"/providerARNs", "a JWT authorizer has one issuer: the first user pool is taken")
			}
		}
		if xa.JWTConfiguration != nil {
			if xa.JWTConfiguration.Issuer != "" {
				a.Issuer = xa.JWTConfiguration.Issuer
			}
			a.Audiences = nilIfEmpty(xa.JWTConfiguration.Audience)
		}
		if a.Issuer == "" || len(a.Audiences) == 0 {
			im.warn(ptr, fmt.Sprintf("a user pool authorizer becomes a JWT authorizer, which needs the issuer and the app client ids as audiences (jwtConfiguration): %q fails to deploy until they are set", name))
		}
		im.addAuthorizer(name, a, true)
	default:
		im.errorf(ptr+"/type", what, "unknown authorizer type %q (want token, request, jwt or cognito_user_pools)", xa.Type)
	}
}

// methods are the operation methods of a path item, in export order.
var methods = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

func (im *importer) paths() {
	paths := im.doc.Paths.Map()
	rb := &router.Builder{}
	for _, path := range sortedKeys(paths) {
		item := paths[path]
		if item == nil {
			continue
		}
		pptr := pointer("paths", path)
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			im.operation(rb, path, m, item, op, pptr+"/"+strings.ToLower(m))
		}
		if _, ok := item.Extensions[extAnyMethod]; ok {
			op, isDefault, err := im.anyMethod(item)
			if err != nil {
				im.errorf(pptr+"/"+extAnyMethod, "ANY "+path, "%v", err)
				continue
			}
			p := path
			if isDefault {
				p = portico.DefaultRouteKey
				im.api.Type = portico.HTTP
				if im.opts.Type != "" {
					im.api.Type = im.opts.Type
				}
			}
			im.operation(rb, p, "ANY", item, op, pptr+"/"+extAnyMethod)
		}
	}
	if _, err := rb.Build(); err != nil {
		im.warn(pointer("paths"), fmt.Sprintf("the routes conflict: %v; deploying fails until that is fixed", err))
	}
}

// anyMethod parses the x-amazon-apigateway-any-method operation of item.
func (im *importer) anyMethod(item *openapi3.PathItem) (*openapi3.Operation, bool, error) {
	js, err := json.Marshal(item.Extensions[extAnyMethod])
	if err != nil {
		return nil, false, err
	}
	var flag struct {
		IsDefaultRoute bool `json:"isDefaultRoute"`
	}
	_ = json.Unmarshal(js, &flag)
	op := openapi3.NewOperation()
	if im.l.version == "2.0" {
		var op2 openapi2.Operation
		if err := json.Unmarshal(js, &op2); err != nil {
			return nil, false, err
		}
		op, err = safeConvertOp(im.doc.Components, &op2, im.l.doc2.Consumes)
		if err != nil {
			return nil, false, err
		}
	} else if err := json.Unmarshal(js, op); err != nil {
		return nil, false, err
	}
	// Resolve local references to components the loader did not see.
	for _, p := range op.Parameters {
		if p != nil && p.Value == nil && p.Ref != "" && im.doc.Components != nil {
			if c := im.doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]; c != nil {
				p.Value = c.Value
			}
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value == nil && rb.Ref != "" && im.doc.Components != nil {
		if c := im.doc.Components.RequestBodies[strings.TrimPrefix(rb.Ref, "#/components/requestBodies/")]; c != nil {
			rb.Value = c.Value
		}
	}
	return op, flag.IsDefaultRoute, nil
}

func safeConvertOp(c *openapi3.Components, op2 *openapi2.Operation, consumes []string) (op *openapi3.Operation, err error) {
	defer func() {
		if r := recover(); r != nil {
			op, err = nil, fmt.Errorf("%v", r)
		}
	}()
	if c == nil {
		c = &openapi3.Components{}
	}
	return openapi2conv.ToV3Operation(c, &openapi2.PathItem{}, op2, consumes)
}

// opLabel names an operation in errors: "GET /pets (listPets)".
func opLabel(method, path string, op *openapi3.Operation) string {
	s := method + " " + path
	if path == portico.DefaultRouteKey {
		s = path
	}
	if op.OperationID != "" {
		s += " (" + op.OperationID + ")"
	}
	return s
}

func (im *importer) operation(rb *router.Builder, path, method string, item *openapi3.PathItem, op *openapi3.Operation, ptr string) {
	label := opLabel(method, path, op)
	rt := portico.Route{Method: method, Path: path, OperationName: op.OperationID}
	if path != portico.DefaultRouteKey {
		if err := rb.Add(method, path, len(im.api.Routes)); err != nil {
			im.warn(ptr, fmt.Sprintf("%s cannot be routed: %v; the operation is not imported", label, err))
			return
		}
	}
	if len(op.Callbacks) > 0 {
		im.warn(ptr+"/callbacks", label+": callbacks are not imported")
	}
	im.parameters(&rt, item, op, ptr)
	im.requestBody(&rt, op, ptr)
	im.responses(&rt, op, ptr)
	im.validator(&rt, op, ptr)
	im.security(&rt, op, ptr, label)
	im.integration(&rt, op, ptr, label)
	if i, dup := im.routes[rt.Key()]; dup {
		im.warn(ptr, fmt.Sprintf("%s is defined twice: this one replaces the earlier", label))
		im.api.Routes[i] = rt
		return
	}
	im.routes[rt.Key()] = len(im.api.Routes)
	im.api.Routes = append(im.api.Routes, rt)
}

// modelBase is the base of the names of an operation's inline models.
func modelBase(rt *portico.Route) string {
	if rt.OperationName != "" {
		return rt.OperationName
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for seg := range strings.SplitSeq(rt.Path, "/") {
		seg = strings.Trim(seg, "{}+$")
		if seg != "" {
			b.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
		}
	}
	return b.String()
}

func (im *importer) parameters(rt *portico.Route, item *openapi3.PathItem, op *openapi3.Operation, ptr string) {
	type keyed struct {
		p   *openapi3.Parameter
		ptr string
	}
	params := map[string]keyed{}
	var order []string
	add := func(ps openapi3.Parameters, base string) {
		for i, ref := range ps {
			if ref == nil || ref.Value == nil {
				continue
			}
			k := ref.Value.In + "\x00" + ref.Value.Name
			if _, ok := params[k]; !ok {
				order = append(order, k)
			}
			params[k] = keyed{ref.Value, fmt.Sprintf("%s/parameters/%d", base, i)}
		}
	}
	add(item.Parameters, ptr[:strings.LastIndex(ptr, "/")])
	add(op.Parameters, ptr)
	for _, k := range order {
		p := params[k]
		var where string
		switch p.p.In {
		case openapi3.ParameterInPath:
			where = "path"
		case openapi3.ParameterInQuery:
			where = "querystring"
		case openapi3.ParameterInHeader:
			where = "header"
		default:
			im.warn(p.ptr, fmt.Sprintf("%s parameters are not validated", p.p.In))
			continue
		}
		name := p.p.Name
		if where == "path" {
			name = strings.TrimSuffix(name, "+")
		}
		if !validParamName(name) {
			im.warn(p.ptr, fmt.Sprintf("parameter name %q has characters outside A-Z a-z 0-9 . _ $ -: it is not validated", name))
			continue
		}
		if rt.Transform.Validate.RequestParameters == nil {
			rt.Transform.Validate.RequestParameters = map[string]bool{}
		}
		rt.Transform.Validate.RequestParameters["method.request."+where+"."+name] = p.p.Required || where == "path"
	}
}

func validParamName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '$' || c == '-') {
			return false
		}
	}
	return s != ""
}

// isJSON reports whether a media type has a JSON body.
func isJSON(mt string) bool {
	mt = strings.ToLower(strings.TrimSpace(strings.Split(mt, ";")[0]))
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "$default"
}

// schemaJSON returns a schema reference as plain JSON values.
func schemaJSON(s *openapi3.SchemaRef) (any, bool) {
	if s == nil {
		return nil, false
	}
	js, err := json.Marshal(s)
	if err != nil {
		return nil, false
	}
	var v any
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, false
	}
	return v, true
}

func (im *importer) requestBody(rt *portico.Route, op *openapi3.Operation, ptr string) {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return
	}
	content := op.RequestBody.Value.Content
	for _, mt := range sortedKeys(content) {
		at := ptr + "/requestBody/content/" + escapeToken(mt)
		if im.l.version == "2.0" {
			at = ptr + "/parameters"
		}
		m := content[mt]
		if m == nil || m.Schema == nil {
			continue
		}
		if !isJSON(mt) {
			im.warn(at, fmt.Sprintf("%s bodies are not validated (models are JSON Schema)", mt))
			continue
		}
		v, ok := schemaJSON(m.Schema)
		if !ok {
			im.warn(at+"/schema", "schema cannot be read: the body is not validated")
			continue
		}
		suffix := "Request"
		if len(content) > 1 {
			suffix += strings.ToUpper(mt[:1]) + mt[1:]
		}
		name := im.models.inline(modelBase(rt)+suffix, v, at+"/schema")
		if rt.Transform.Validate.RequestModels == nil {
			rt.Transform.Validate.RequestModels = map[string]string{}
		}
		rt.Transform.Validate.RequestModels[mt] = name
	}
}

func (im *importer) responses(rt *portico.Route, op *openapi3.Operation, ptr string) {
	if op.Responses == nil {
		return
	}
	rs := op.Responses.Map()
	for _, code := range sortedKeys(rs) {
		r := rs[code]
		status, err := strconv.Atoi(code)
		if err != nil || status < 100 || status > 599 || r == nil || r.Value == nil {
			continue
		}
		for _, mt := range sortedKeys(r.Value.Content) {
			m := r.Value.Content[mt]
			if m == nil || m.Schema == nil || !isJSON(mt) {
				continue
			}
			at := ptr + "/responses/" + code + "/content/" + escapeToken(mt) + "/schema"
			if im.l.version == "2.0" {
				at = ptr + "/responses/" + code + "/schema"
			}
			v, ok := schemaJSON(m.Schema)
			if !ok {
				continue
			}
			name := im.models.inline(modelBase(rt)+"Response"+code, v, at)
			val := &rt.Transform.Validate
			if val.ResponseModels == nil {
				val.ResponseModels = map[int]map[string]string{}
			}
			if val.ResponseModels[status] == nil {
				val.ResponseModels[status] = map[string]string{}
			}
			val.ResponseModels[status][mt] = name
		}
	}
}

func (im *importer) validator(rt *portico.Route, op *openapi3.Operation, ptr string) {
	name := im.defaultValidator
	var opName string
	if ok, err := ext(op.Extensions, extValidator, &opName); err != nil {
		im.warn(ptr+"/"+extValidator, err.Error())
	} else if ok {
		if _, known := im.validators[opName]; known {
			name = opName
		} else {
			im.warn(ptr+"/"+extValidator, fmt.Sprintf("no request validator named %q: the document's default applies", opName))
		}
	}
	v := &rt.Transform.Validate
	switch {
	case name != "":
		xv := im.validators[name]
		v.ValidateBody, v.ValidateParameters = xv.ValidateRequestBody, xv.ValidateRequestParameters
	case im.opts.ValidateRequests:
		v.ValidateBody = len(v.RequestModels) > 0
		v.ValidateParameters = len(v.RequestParameters) > 0
	}
}

func (im *importer) security(rt *portico.Route, op *openapi3.Operation, ptr, label string) {
	reqs := op.Security
	sptr := ptr + "/security"
	if reqs == nil {
		reqs = &im.doc.Security
		sptr = pointer("security")
	}
	if len(*reqs) > 0 {
		if len(*reqs) > 1 {
			im.warn(sptr, fmt.Sprintf("%s: %d alternative security requirements; Portico enforces the first only", label, len(*reqs)))
		}
		req := (*reqs)[0]
		for _, name := range sortedKeys(req) {
			sc, ok := im.schemes[name]
			if !ok {
				im.warn(sptr+"/0/"+escapeToken(name), fmt.Sprintf("no security scheme named %q: the route names it as its authorizer, so deploying fails until API.Auth.Authorizers has it", name))
				sc = scheme{kind: "authorizer"}
			}
			switch sc.kind {
			case "apikey":
				rt.Auth.APIKeyRequired = true
			case "iam":
				im.setAuthorizer(rt, portico.AuthorizerIAM, sptr, label)
			default:
				im.setAuthorizer(rt, name, sptr, label)
				if sc.scoped {
					rt.Auth.Scopes = slices.Clone(req[name])
				}
			}
		}
	}
	var xa xAuth
	if ok, err := ext(op.Extensions, extAuth, &xa); err != nil {
		im.warn(ptr+"/"+extAuth, err.Error())
	} else if ok {
		switch strings.ToUpper(xa.Type) {
		case "AWS_IAM":
			rt.Auth.Authorizer = portico.AuthorizerIAM
			rt.Auth.Scopes = nil
		case "NONE":
		default:
			im.warn(ptr+"/"+extAuth, fmt.Sprintf("auth type %q is not AWS_IAM or NONE: ignored", xa.Type))
		}
	}
}

func (im *importer) setAuthorizer(rt *portico.Route, name, ptr, label string) {
	if rt.Auth.Authorizer != "" && rt.Auth.Authorizer != name {
		im.warn(ptr, fmt.Sprintf("%s requires several authorizers; a route has one: %q is used, %q is not", label, rt.Auth.Authorizer, name))
		return
	}
	rt.Auth.Authorizer = name
}

// lambdaURI matches the model gateway's Lambda invocation URIs and function ARNs.
var lambdaURI = regexp.MustCompile(`^arn:aws[a-z-]*:(apigateway:[^:]*:lambda:path/\d{4}-\d{2}-\d{2}/functions/|lambda:)`)

func (im *importer) integration(rt *portico.Route, op *openapi3.Operation, ptr, label string) {
	var xi xIntegration
	iptr := ptr + "/" + extIntegration
	exts := op.Extensions
	if m, isMap := exts[extIntegration].(map[string]any); isMap {
		if ref, isRef := m["$ref"].(string); isRef {
			// A reusable integration (x-amazon-apigateway-integrations).
			target, found := resolvePointer(im.l.raw, ref)
			if !found {
				im.errorf(iptr, label, "$ref %q points nowhere", ref)
				return
			}
			exts = map[string]any{extIntegration: target}
		}
	}
	ok, err := ext(exts, extIntegration, &xi)
	if err != nil {
		im.fail(iptr, label, err)
		return
	}
	if !ok {
		var marker string
		_, _ = ext(op.Extensions, extPorticoHandler, &marker)
		if op.OperationID != "" {
			if key, found := im.opts.Registry.Resolve(op.OperationID); found {
				rt.Integration = integration.Ref(im.opts.Registry, key)
				return
			}
		}
		msg := "no " + extIntegration + " and no registry entry named by the operationId: set the route's Integration before deploying"
		if marker == porticoHandlerMarker {
			msg = "exported from a Go handler: set the route's Integration before deploying"
		}
		im.warn(ptr, label+": "+msg)
		return
	}
	if xi.TimeoutInMillis != 0 {
		if xi.TimeoutInMillis < 0 {
			im.warn(iptr+"/timeoutInMillis", "a negative timeout is ignored")
		} else {
			rt.Timeout = time.Duration(xi.TimeoutInMillis) * time.Millisecond
		}
	}
	if strings.EqualFold(xi.ConnectionType, "VPC_LINK") {
		im.errorf(iptr+"/connectionType", label, "VPC_LINK connections are not supported: give the backend's address in uri")
		return
	}
	if len(xi.CacheKeyParameters) > 0 || xi.CacheNamespace != "" {
		im.warn(iptr+"/cacheKeyParameters", "cache key parameters are not imported: set the route's Cache")
	}
	if xi.IntegrationSubtype != "" {
		im.errorf(iptr+"/integrationSubtype", label, "AWS service integrations (%s) are not supported", xi.IntegrationSubtype)
		return
	}
	typ := strings.ToLower(xi.Type)
	switch typ {
	case "http", "http_proxy":
		if xi.URI == "" {
			im.errorf(iptr+"/uri", label, "an %s integration needs a uri", typ)
			return
		}
		if m := strings.ToUpper(xi.HTTPMethod); m != "" && m != "ANY" && m != rt.Method && rt.Method != "ANY" {
			im.warn(iptr+"/httpMethod", fmt.Sprintf("%s: the backend is called with the request's method, not %s", label, m))
		}
		var tlsCfg *integration.BackendTLS
		if xi.TLSConfig != nil && (xi.TLSConfig.InsecureSkipVerification || xi.TLSConfig.ServerNameToVerify != "") {
			tlsCfg = &integration.BackendTLS{InsecureSkipVerify: xi.TLSConfig.InsecureSkipVerification, ServerName: xi.TLSConfig.ServerNameToVerify}
		}
		if typ == "http" {
			h := &integration.HTTP{}
			h.Target, h.TLS = xi.URI, tlsCfg
			rt.Integration = h
		} else {
			rt.Integration = &integration.HTTPProxy{Target: xi.URI, TLS: tlsCfg}
			if len(xi.RequestTemplates) > 0 || len(xi.Responses) > 0 {
				im.warn(iptr, label+": templates and responses of an http_proxy integration are applied as for an http one")
			}
		}
	case "mock":
		status := mockStatus(xi.RequestTemplates)
		for _, k := range sortedKeys(xi.RequestTemplates) {
			if strings.Contains(xi.RequestTemplates[k], "#if") || strings.Contains(xi.RequestTemplates[k], "#set") {
				im.warn(iptr+"/requestTemplates/"+escapeToken(k), fmt.Sprintf("%s: the mock's status is not computed per request: it answers %d (the first statusCode of the template)", label, max(status, 200)))
				break
			}
		}
		if status == 0 {
			status = 200
			if len(xi.RequestTemplates) > 0 {
				im.warn(iptr+"/requestTemplates", label+`: no {"statusCode": N} found in the request template: the mock answers 200`)
			}
		}
		rt.Integration = integration.Mock{Status: status}
	case "aws_proxy", "aws":
		if !lambdaURI.MatchString(xi.URI) && (strings.HasPrefix(xi.URI, "arn:") || typ == "aws") {
			im.errorf(iptr+"/uri", label, "%s integration %q: only Lambda-style function integrations are supported, not AWS service actions", typ, xi.URI)
			return
		}
		if xi.URI == "" {
			im.errorf(iptr+"/uri", label, "an %s integration needs a uri naming a function", typ)
			return
		}
		name := xi.URI
		if !strings.Contains(name, "${") {
			key, found := im.opts.Registry.Resolve(name)
			if !found {
				im.errorf(iptr+"/uri", label, "function %q is not in ImportOptions.Registry", name)
				return
			}
			name = key
		}
		rt.Integration = integration.Ref(im.opts.Registry, name)
		if v := xi.PayloadFormatVersion; v != "" && (v == "1.0") != (im.api.Type != portico.HTTP) {
			im.warn(iptr+"/payloadFormatVersion", fmt.Sprintf("%s: payload format %s: the function's event format follows its own types and options (integration.WithPayloadFormat), else the API type", label, v))
		}
		if xi.Credentials != "" {
			im.warn(iptr+"/credentials", "credentials are not used: Portico calls the function itself")
		}
		if typ == "aws" {
			im.warn(iptr, label+": the function receives the proxy event of the mapped request (Portico has no non-proxy function invocation)")
		}
	case "":
		im.errorf(iptr+"/type", label, "the integration has no type")
		return
	default:
		im.errorf(iptr+"/type", label, "unknown integration type %q (want http, http_proxy, mock, aws_proxy or aws)", xi.Type)
		return
	}
	im.mapping(rt, &xi, iptr, label)
}

var statusCodeRe = regexp.MustCompile(`"statusCode"\s*:\s*"?(\d{3})`)

// mockStatus finds the status a mock's request template gives.
func mockStatus(tmpls map[string]string) int {
	t, ok := tmpls["application/json"]
	if !ok && len(tmpls) > 0 {
		t = tmpls[sortedKeys(tmpls)[0]]
	}
	if m := statusCodeRe.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n >= 200 && n <= 599 {
			return n
		}
	}
	return 0
}

// mapping copies an integration's mapping fields into the route's Map.
func (im *importer) mapping(rt *portico.Route, xi *xIntegration, ptr, label string) {
	m := &rt.Transform.Map
	m.RequestParameters = maps.Clone(xi.RequestParameters)
	m.RequestTemplates = maps.Clone(xi.RequestTemplates)
	if xi.PassthroughBehavior != "" {
		switch pb := transform.PassthroughBehavior(strings.ToUpper(xi.PassthroughBehavior)); pb {
		case transform.WhenNoMatch, transform.WhenNoTemplates, transform.Never:
			m.PassthroughBehavior = pb
		default:
			im.warn(ptr+"/passthroughBehavior", fmt.Sprintf("%q is not WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER: WHEN_NO_MATCH is used", xi.PassthroughBehavior))
		}
	}
	m.ContentHandling = im.contentHandling(xi.ContentHandling, ptr+"/contentHandling")
	var patterns, defaults []string
	for _, k := range sortedKeys(xi.Responses) {
		if k == "default" || k == "" {
			defaults = append(defaults, k)
		} else {
			patterns = append(patterns, k)
		}
	}
	for _, k := range append(patterns, defaults...) {
		r := xi.Responses[k]
		at := ptr + "/responses/" + escapeToken(k)
		resp := transform.Response{
			Parameters:      maps.Clone(r.ResponseParameters),
			Templates:       maps.Clone(r.ResponseTemplates),
			ContentHandling: im.contentHandling(r.ContentHandling, at+"/contentHandling"),
		}
		if k != "default" {
			resp.SelectionPattern = k
			if _, err := regexp.Compile(k); err != nil {
				im.errorf(at, label, "selection pattern %q: %v", k, err)
				continue
			}
		}
		if r.StatusCode != "" {
			st, err := strconv.Atoi(string(r.StatusCode))
			if err != nil || st < 100 || st > 599 {
				im.errorf(at+"/statusCode", label, "status %q is not a status code", r.StatusCode)
				continue
			}
			resp.StatusCode = st
		}
		m.Responses = append(m.Responses, resp)
	}
	if len(m.Responses) == 0 {
		m.Responses = nil
	}
}

func (im *importer) contentHandling(s, ptr string) transform.ContentHandling {
	switch ch := transform.ContentHandling(strings.ToUpper(s)); ch {
	case "":
		return ""
	case transform.ConvertToBinary, transform.ConvertToText:
		return ch
	}
	im.warn(ptr, fmt.Sprintf("%q is not CONVERT_TO_BINARY or CONVERT_TO_TEXT: payloads pass as they are", s))
	return ""
}

// checkModels compiles the models the routes use, so that one the
// validator cannot compile is a warning (and is not used) rather than a
// failed deploy.
func (im *importer) checkModels() {
	used := map[string]bool{}
	for _, rt := range im.api.Routes {
		for _, n := range rt.Transform.Validate.RequestModels {
			used[n] = true
		}
		for _, m := range rt.Transform.Validate.ResponseModels {
			for _, n := range m {
				used[n] = true
			}
		}
	}
	if len(used) == 0 {
		return
	}
	names := sortedKeys(used)
	if n := reachable(im.models.out, names); n > maxCheckedModels {
		// When the models do not compile together, each is compiled with
		// the ones it refers to, to name the bad ones: with this many that
		// would take long. Deploy compiles the models each route uses.
		im.warn(pointer("components", "schemas"), fmt.Sprintf("routes use %d models (with the ones they refer to): more than %d, so they are not compiled at import; a model that does not compile fails the deploy", n, maxCheckedModels))
		return
	}
	if _, err := transform.CompileModels(im.models.out, names...); err == nil {
		return
	}
	bad := map[string]bool{}
	for _, n := range names {
		if _, err := transform.CompileModels(im.models.out, n); err != nil {
			bad[n] = true
			im.warn(pointer("components", "schemas", n), fmt.Sprintf("model %q cannot be compiled (%v): bodies are not validated against it", n, err))
		}
	}
	for i := range im.api.Routes {
		v := &im.api.Routes[i].Transform.Validate
		maps.DeleteFunc(v.RequestModels, func(_, n string) bool { return bad[n] })
		for st, m := range v.ResponseModels {
			maps.DeleteFunc(m, func(_, n string) bool { return bad[n] })
			if len(m) == 0 {
				delete(v.ResponseModels, st)
			}
		}
	}
}

// merge returns a copy of into with the imported API added; see
// ImportOptions.Mode.
func merge(into, imp *portico.API, set settings) *portico.API {
	out := *into
	out.Routes = slices.Clone(into.Routes)
	idx := map[string]int{}
	for i, rt := range out.Routes {
		idx[rt.Key()] = i
	}
	for _, rt := range imp.Routes {
		if i, ok := idx[rt.Key()]; ok {
			out.Routes[i] = rt
			continue
		}
		idx[rt.Key()] = len(out.Routes)
		out.Routes = append(out.Routes, rt)
	}
	out.Auth.Authorizers = mergeMap(into.Auth.Authorizers, imp.Auth.Authorizers)
	out.Transform.Models = mergeMap(into.Transform.Models, imp.Transform.Models)
	out.GatewayResponses = mergeMap(into.GatewayResponses, imp.GatewayResponses)
	out.BinaryMediaTypes = slices.Clone(into.BinaryMediaTypes)
	for _, t := range imp.BinaryMediaTypes {
		if !slices.Contains(out.BinaryMediaTypes, t) {
			out.BinaryMediaTypes = append(out.BinaryMediaTypes, t)
		}
	}
	if set.apiKeySource {
		out.Auth.APIKeySource = imp.Auth.APIKeySource
	}
	if set.policy {
		out.Auth.ResourcePolicy = imp.Auth.ResourcePolicy
	}
	if set.cors {
		out.CORS = imp.CORS
	}
	if set.compression {
		out.Transform.CompressResponses = imp.Transform.CompressResponses
		out.Transform.MinimumCompressionSize = imp.Transform.MinimumCompressionSize
	}
	return &out
}

func mergeMap[K comparable, V any](a, b map[K]V) map[K]V {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make(map[K]V, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// maxCheckedModels bounds the models Import compiles to check them.
const maxCheckedModels = 400

var modelRef = regexp.MustCompile(`"\$ref":"#/definitions/([A-Za-z0-9_-]+)"`)

// reachable counts the models names refer to, directly or not, themselves
// included.
func reachable(models map[string]json.RawMessage, names []string) int {
	seen := map[string]bool{}
	queue := slices.Clone(names)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		for _, m := range modelRef.FindAllSubmatch(models[n], -1) {
			if !seen[string(m[1])] {
				queue = append(queue, string(m[1]))
			}
		}
	}
	return len(seen)
}
