package portico

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/reqctx"
)

// APIType is the kind of an API, as in the model gateway.
type APIType string

// The API types.
const (
	// REST is a REST API: resources and methods, payload format 1.0 for
	// function integrations.
	REST APIType = "REST"
	// HTTP is an HTTP API: routes and the $default route, payload format 2.0
	// for function integrations.
	HTTP APIType = "HTTP"
	// WebSocket is a WebSocket API (route selection over messages).
	WebSocket APIType = "WEBSOCKET"
)

// API is the definition of one version of an API: its routes and settings.
// It is plain data: build it with [NewAPI] and [API.Handle], by filling the
// struct, or by importing an OpenAPI document. [Gateway.Deploy] validates it
// and takes a snapshot, so changing an API after deploying it changes nothing
// until the next deploy. An API is not safe for concurrent mutation.
type API struct {
	// Name identifies the API; required. Versions of one API share a name.
	Name string
	// ID is the API id used in hosts ({id}.execute-api.…), ARNs and
	// $context.apiId; "" derives it from Name (lower case, runs of other
	// characters replaced by "-").
	ID string
	// Type is the API type; "" means REST.
	Type APIType
	// Version names this version ("v1", "2024-01-01"); "" for an API with
	// no versions. See [Gateway.SetVersioning].
	Version string
	// Deprecation, when set, marks this version deprecated: responses carry
	// Deprecation, Sunset and Link headers.
	Deprecation *Deprecation
	// Description is free text.
	Description string
	// Routes are the API's routes. Order does not matter: matching is by
	// precedence (see [Route]).
	Routes []Route
	// GatewayResponses customise the gateway's error responses by type.
	// DEFAULT_4XX and DEFAULT_5XX apply to every type of that class that
	// has no entry of its own.
	GatewayResponses map[reqctx.ResponseType]GatewayResponse
	// BinaryMediaTypes are the content types treated as binary ("image/png",
	// "image/*", "*/*"): function integrations receive such bodies base64
	// encoded.
	BinaryMediaTypes []string
	// Auth holds the API's authorizers, API-key source and resource policy.
	Auth APIAuth
	// Transform holds the API's models, response compression and template
	// limits.
	Transform APITransform
	// CORS, when set, is the API's cross-origin resource sharing
	// configuration; see [CORS]. nil means the gateway does nothing for
	// CORS (integrations may answer it themselves).
	CORS *CORS
}

// Deprecation describes a deprecated API version. Responses from it carry
// the headers of RFC 9745 (Deprecation), RFC 8594 (Sunset) and a Link to its
// successor.
type Deprecation struct {
	// Since is when the version was deprecated; zero means the time of
	// deployment.
	Since time.Time
	// Sunset is when the version stops being served; zero omits the Sunset
	// header.
	Sunset time.Time
	// Successor is the URL or path of the version that replaces it
	// (Link rel="successor-version"); "" omits it.
	Successor string
	// Documentation is a URL explaining the deprecation
	// (Link rel="deprecation"); "" omits it.
	Documentation string
}

// NewAPI returns an empty API of the given name and type.
func NewAPI(name string, typ APIType) *API {
	return &API{Name: name, Type: typ}
}

// Handle adds a route given by its route key — "GET /pets/{id}",
// "ANY /{proxy+}" or "$default" — served by h. A malformed key is reported
// by [Gateway.Deploy], naming the route.
func (a *API) Handle(routeKey string, h http.Handler) {
	rt := Route{Integration: h}
	if routeKey == DefaultRouteKey {
		rt.Path = DefaultRouteKey
	} else if m, p, ok := strings.Cut(routeKey, " "); ok {
		rt.Method, rt.Path = m, p
	} else {
		rt.Path = routeKey // reported at deploy: no method
	}
	a.Routes = append(a.Routes, rt)
}

// HandleFunc is [API.Handle] for a handler function.
func (a *API) HandleFunc(routeKey string, f func(http.ResponseWriter, *http.Request)) {
	a.Handle(routeKey, http.HandlerFunc(f))
}

// AddRoute adds a route.
func (a *API) AddRoute(r Route) { a.Routes = append(a.Routes, r) }

// clone returns a copy of a that shares no mutable state with it.
func (a *API) clone() *API {
	c := *a
	c.Routes = slices.Clone(a.Routes)
	for i := range c.Routes {
		c.Routes[i].clone()
	}
	c.Auth.Authorizers = maps.Clone(a.Auth.Authorizers)
	for k, v := range c.Auth.Authorizers {
		v.Audiences = slices.Clone(v.Audiences)
		v.IdentitySources = slices.Clone(v.IdentitySources)
		c.Auth.Authorizers[k] = v
	}
	c.Auth.ResourcePolicy = slices.Clone(a.Auth.ResourcePolicy)
	c.Transform.Models = maps.Clone(a.Transform.Models)
	c.GatewayResponses = maps.Clone(a.GatewayResponses)
	for k, v := range c.GatewayResponses {
		v.Headers = maps.Clone(v.Headers)
		c.GatewayResponses[k] = v
	}
	c.BinaryMediaTypes = slices.Clone(a.BinaryMediaTypes)
	c.CORS = a.CORS.clone()
	if a.Deprecation != nil {
		d := *a.Deprecation
		c.Deprecation = &d
	}
	return &c
}

func (a *API) apiType() APIType {
	if a.Type == "" {
		return REST
	}
	return a.Type
}

// apiID returns the API's id, derived from its name if unset.
func (a *API) apiID() string {
	if a.ID != "" {
		return a.ID
	}
	return slug(a.Name)
}

func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// validIdent reports whether s has 1–max characters from [A-Za-z0-9] and extra.
func validIdent(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// validate checks everything about the API that does not depend on a stage.
func (a *API) validate() error {
	if a == nil {
		return fmt.Errorf("portico: API is nil")
	}
	if strings.TrimSpace(a.Name) == "" {
		return fmt.Errorf("portico: API name is empty")
	}
	switch a.apiType() {
	case REST, HTTP, WebSocket:
	default:
		return fmt.Errorf("portico: API %q: unknown type %q (want REST, HTTP or WEBSOCKET)", a.Name, a.Type)
	}
	if !validIdent(a.apiID(), 64, "-_") {
		return fmt.Errorf("portico: API %q: id %q must have 1-64 characters from [A-Za-z0-9_-]", a.Name, a.apiID())
	}
	if a.Version != "" && !validIdent(a.Version, 64, "-_.") {
		return fmt.Errorf("portico: API %q: version %q must have 1-64 characters from [A-Za-z0-9._-]", a.Name, a.Version)
	}
	for _, m := range a.BinaryMediaTypes {
		if !strings.Contains(m, "/") {
			return fmt.Errorf("portico: API %q: binary media type %q is not of the form type/subtype", a.Name, m)
		}
	}
	return nil
}
