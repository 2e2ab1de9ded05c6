package portico

import "net/http"

// StageThrottle holds a stage's throttle settings.
type StageThrottle struct{}

// RouteThrottle overrides a stage's throttle for one route.
type RouteThrottle struct{}

type throttleOptions struct{}

type throttleState struct{}

// meterStep maps the API key to its usage plan and applies throttles and
// quotas.
func (g *Gateway) meterStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	return nil, nil
}
