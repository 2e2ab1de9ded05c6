package portico

import (
	"maps"
	"net/http"
	"slices"
	"time"
)

// DefaultRouteKey is the route key of the catch-all route, served when no
// other route matches the method and path.
const DefaultRouteKey = "$default"

// Route is one method and path template of an API and the integration that
// serves it.
//
// Path templates are made of literal segments, parameters ("{id}", a whole
// segment) and one greedy parameter at the end ("{proxy+}", one or more
// segments). Matching is deterministic: a literal segment beats a parameter,
// which beats a greedy parameter, trying the next choice when a branch fails
// deeper down; among the resources that match the path, a route declaring
// the request's method beats ANY, and HEAD is served by GET when no HEAD
// route exists. A known path with no route for the method answers 405 with
// an Allow header; an unknown path answers 404 (or the model gateway's 403
// "Missing Authentication Token", see [WithMissingAuthenticationToken]); the
// $default route, if present, takes both instead. A trailing slash is
// ignored.
type Route struct {
	// Method is an HTTP method in upper case, or "ANY". Ignored for the
	// $default route.
	Method string
	// Path is the path template, or [DefaultRouteKey].
	Path string
	// Integration serves the route; required. Any http.Handler is an
	// integration. It sees the request with the stage, base path and version
	// prefix stripped from the URL path (as [http.StripPrefix] would), path
	// parameters in [http.Request.PathValue], and the request context in
	// reqctx.From(r.Context()).
	Integration http.Handler
	// Timeout bounds the integration; 0 means the stage's or gateway's
	// integration timeout. There is no upper limit.
	Timeout time.Duration
	// OperationName names the operation ($context.operationName, SDK method
	// names); optional.
	OperationName string
	// Cache overrides the stage's response cache for this route; the zero
	// value caches the route's GET requests when the stage cache is on.
	Cache RouteCache
	// Throttle is the route's own limit; see [RouteThrottle].
	Throttle RouteThrottle
	// Auth says who may call the route: authorizer, scopes, API key.
	Auth RouteAuth
	// Transform holds the route's validation and request/response mapping.
	Transform RouteTransform
	// CORS, when set, replaces the API's CORS configuration for this
	// route; see [CORS].
	CORS *CORS
}

// Key returns the route key: "GET /pets/{id}" or "$default".
func (r Route) Key() string {
	if r.Path == DefaultRouteKey {
		return DefaultRouteKey
	}
	return r.Method + " " + r.Path
}

// clone replaces r's maps and slices by copies, so that r shares no
// mutable state with the route it was copied from.
func (r *Route) clone() {
	r.CORS = r.CORS.clone()
	r.Auth.Scopes = slices.Clone(r.Auth.Scopes)
	r.Cache.Methods = slices.Clone(r.Cache.Methods)
	r.Cache.Statuses = slices.Clone(r.Cache.Statuses)
	v := &r.Transform.Validate
	v.RequestParameters = maps.Clone(v.RequestParameters)
	v.RequestModels = maps.Clone(v.RequestModels)
	v.ResponseModels = maps.Clone(v.ResponseModels)
	for k, m := range v.ResponseModels {
		v.ResponseModels[k] = maps.Clone(m)
	}
	m := &r.Transform.Map
	m.RequestParameters = maps.Clone(m.RequestParameters)
	m.RequestTemplates = maps.Clone(m.RequestTemplates)
	m.Responses = slices.Clone(m.Responses)
	for i := range m.Responses {
		m.Responses[i].Parameters = maps.Clone(m.Responses[i].Parameters)
		m.Responses[i].Templates = maps.Clone(m.Responses[i].Templates)
	}
}
