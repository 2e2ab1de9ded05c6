// Package upstream is the machinery behind Portico's HTTP integrations: a
// [Pool] of backend targets with selection (round robin, least outstanding
// requests, consistent hash), active health checks, passive outlier
// ejection, a circuit breaker per target and a retry budget; a
// [RoundTripper] that sends each attempt to a target the pool picks and
// retries idempotent requests; and the tuned [Transport] they share.
//
//	p, err := upstream.New(upstream.Config{
//		Targets: []string{"http://10.0.0.1:8080", "http://10.0.0.2:8080"},
//		Health:  &upstream.HealthConfig{Path: "/healthz"},
//		Retry:   &upstream.RetryConfig{},
//	})
//	defer p.Close()
//	tr, _ := upstream.NewTransport(upstream.TransportConfig{})
//	client := &http.Client{Transport: &upstream.RoundTripper{Pool: p, Base: tr}}
//
// Health checks, ejections and breakers read time from a [clock.Clock], so
// tests drive them with a fake clock. Users reach all this through the
// integration package; nothing here is public API.
package upstream
