package portico

import "net/http"

// APITransform holds an API's models, request validators and compression
// settings.
type APITransform struct{}

// RouteTransform holds a route's validation and request/response mapping.
type RouteTransform struct{}

type transformOptions struct{}

type transformState struct{}

// validateStep checks parameters and body against the route's models.
func (g *Gateway) validateStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	return nil, nil
}

// mapStep applies the route's request and response mapping around the
// integration.
func (g *Gateway) mapStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	return nil, nil
}
