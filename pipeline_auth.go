package portico

import "net/http"

// APIAuth holds an API's authorizers, API-key source and resource policy.
type APIAuth struct{}

// RouteAuth says who may call a route.
type RouteAuth struct{}

// StageAuth holds a stage's access settings.
type StageAuth struct{}

type authOptions struct{}

type authState struct{}

// guardStep checks the endpoint type, source network and resource policy.
func (g *Gateway) guardStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	return nil, nil
}

// authorizeStep runs the route's authorizer and API-key check.
func (g *Gateway) authorizeStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	return nil, nil
}
