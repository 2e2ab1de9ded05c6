package portico

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// CORS is a cross-origin resource sharing configuration, the model
// gateway's HTTP API corsConfiguration (and the x-amazon-apigateway-cors
// extension). When an API or route has one, the gateway answers preflight
// requests itself — before authorizers, throttles and integrations run, for
// any path of the stage, whether or not an OPTIONS route exists — and adds
// the CORS headers to every response to an allowed origin, gateway errors
// included. CORS headers set by the integration are replaced by the
// configured ones.
type CORS struct {
	// AllowOrigins are the allowed origins: "*" for any, an exact origin
	// ("https://app.example.com", compared case-insensitively), or a
	// wildcard subdomain ("https://*.example.com", which matches any
	// subdomain of example.com but not example.com itself). Empty allows
	// none.
	AllowOrigins []string
	// AllowMethods are the methods a preflight may ask for; "*" allows any.
	// Empty allows the CORS-safelisted methods (GET, HEAD, POST) only.
	AllowMethods []string
	// AllowHeaders are the request headers a preflight may ask for,
	// compared case-insensitively; "*" allows any. Empty allows none beyond
	// the CORS-safelisted ones.
	AllowHeaders []string
	// ExposeHeaders are the response headers browsers let scripts read
	// (Access-Control-Expose-Headers).
	ExposeHeaders []string
	// MaxAge is how long browsers may cache a preflight result
	// (Access-Control-Max-Age, whole seconds); 0 omits the header.
	MaxAge time.Duration
	// AllowCredentials sends Access-Control-Allow-Credentials: true. It
	// cannot be combined with the "*" origin (a deploy error), as the
	// Fetch standard forbids it.
	AllowCredentials bool
}

// clone returns a deep copy of c (nil for nil).
func (c *CORS) clone() *CORS {
	if c == nil {
		return nil
	}
	d := *c
	d.AllowOrigins = slices.Clone(c.AllowOrigins)
	d.AllowMethods = slices.Clone(c.AllowMethods)
	d.AllowHeaders = slices.Clone(c.AllowHeaders)
	d.ExposeHeaders = slices.Clone(c.ExposeHeaders)
	return &d
}

// validate reports the first problem with c.
func (c *CORS) validate() error {
	if c == nil {
		return nil
	}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			if c.AllowCredentials {
				return fmt.Errorf("CORS: AllowCredentials cannot be combined with the \"*\" origin")
			}
			continue
		}
		scheme, host, ok := strings.Cut(o, "://")
		if !ok || scheme == "" || host == "" || strings.ContainsAny(host, "/?# ") || strings.Count(host, "*") > 1 ||
			strings.Contains(host, "*") && !strings.HasPrefix(host, "*.") {
			return fmt.Errorf("CORS: origin %q is not \"*\", scheme://host[:port] or scheme://*.domain", o)
		}
	}
	for _, m := range c.AllowMethods {
		if m != "*" && !validIdent(m, 32, "-_") {
			return fmt.Errorf("CORS: method %q is not a method name or \"*\"", m)
		}
	}
	for _, h := range append(slices.Clone(c.AllowHeaders), c.ExposeHeaders...) {
		if h != "*" && !validIdent(h, 128, "-_!#$%&'*+.^`|~") {
			return fmt.Errorf("CORS: header %q is not a header name or \"*\"", h)
		}
	}
	if c.MaxAge < 0 {
		return fmt.Errorf("CORS: MaxAge %v is negative", c.MaxAge)
	}
	return nil
}
