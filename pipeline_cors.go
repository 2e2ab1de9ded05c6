package portico

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/router"
)

// corsPolicy is a [CORS] configuration compiled at deploy time.
type corsPolicy struct {
	anyOrigin   bool
	origins     map[string]struct{} // lower-case exact origins
	wildcards   []originWildcard
	anyMethod   bool
	methods     map[string]struct{}
	methodList  string
	anyHeader   bool
	headers     map[string]struct{} // lower case
	headerList  string
	expose      string
	maxAge      string
	credentials bool
}

// originWildcard is a "scheme://*.domain" origin, lower case: prefix
// "scheme://", suffix ".domain".
type originWildcard struct{ prefix, suffix string }

// safelistedMethods are allowed by every preflight (Fetch standard).
var safelistedMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost}

// compileCORS checks c and compiles it; nil for nil.
func compileCORS(c *CORS) (*corsPolicy, error) {
	if c == nil {
		return nil, nil
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	p := &corsPolicy{
		origins:     map[string]struct{}{},
		methods:     map[string]struct{}{},
		headers:     map[string]struct{}{},
		credentials: c.AllowCredentials,
		expose:      strings.Join(c.ExposeHeaders, ", "),
	}
	for _, o := range c.AllowOrigins {
		o = strings.ToLower(o)
		switch {
		case o == "*":
			p.anyOrigin = true
		case strings.Contains(o, "://*."):
			scheme, host, _ := strings.Cut(o, "://")
			p.wildcards = append(p.wildcards, originWildcard{scheme + "://", host[1:]})
		default:
			p.origins[o] = struct{}{}
		}
	}
	methods := c.AllowMethods
	if len(methods) == 0 {
		methods = safelistedMethods[:]
	}
	for _, m := range methods {
		if m == "*" {
			p.anyMethod = true
			continue
		}
		p.methods[strings.ToUpper(m)] = struct{}{}
	}
	p.methodList = strings.ToUpper(strings.Join(methods, ", "))
	for _, h := range c.AllowHeaders {
		if h == "*" {
			p.anyHeader = true
			continue
		}
		p.headers[strings.ToLower(h)] = struct{}{}
	}
	p.headerList = strings.Join(c.AllowHeaders, ", ")
	if c.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64((c.MaxAge+999_999_999)/1_000_000_000), 10)
	}
	return p, nil
}

// allowOrigin reports whether origin may make CORS requests.
func (p *corsPolicy) allowOrigin(origin string) bool {
	if p.anyOrigin {
		return true
	}
	o := strings.ToLower(origin)
	if _, ok := p.origins[o]; ok {
		return true
	}
	for _, w := range p.wildcards {
		if host, ok := strings.CutPrefix(o, w.prefix); ok && len(host) > len(w.suffix) && strings.HasSuffix(hostWithoutPort(host), w.suffix) {
			return true
		}
	}
	return false
}

// hostWithoutPort drops a ":port" from host.
func hostWithoutPort(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i]
	}
	return host
}

// allowOriginValue is the Access-Control-Allow-Origin value for origin.
func (p *corsPolicy) allowOriginValue(origin string) string {
	if p.anyOrigin && !p.credentials {
		return "*"
	}
	return origin
}

// decorate replaces the CORS headers in h by the policy's for origin:
// none when the origin is not allowed.
func (p *corsPolicy) decorate(h http.Header, origin string) {
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			delete(h, k)
		}
	}
	addVary(h, "Origin")
	if !p.allowOrigin(origin) {
		return
	}
	h.Set("Access-Control-Allow-Origin", p.allowOriginValue(origin))
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if p.expose != "" {
		h.Set("Access-Control-Expose-Headers", p.expose)
	}
}

func addVary(h http.Header, v string) {
	for _, have := range h.Values("Vary") {
		for f := range strings.SplitSeq(have, ",") {
			if strings.EqualFold(strings.TrimSpace(f), v) {
				return
			}
		}
	}
	h.Add("Vary", v)
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight request: 204, with the Access-Control-Allow-*
// headers when the origin, the method and every requested header are
// allowed, and without them (which makes the browser refuse the request)
// otherwise.
func (p *corsPolicy) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			delete(h, k)
		}
	}
	h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	reqHeaders := r.Header.Values("Access-Control-Request-Headers")
	if p.allowOrigin(origin) && p.allowMethod(method) && p.allowHeaders(reqHeaders) {
		h.Set("Access-Control-Allow-Origin", p.allowOriginValue(origin))
		if p.anyMethod {
			h.Set("Access-Control-Allow-Methods", strings.ToUpper(method))
		} else {
			h.Set("Access-Control-Allow-Methods", p.methodList)
		}
		if p.anyHeader {
			if len(reqHeaders) > 0 {
				h.Set("Access-Control-Allow-Headers", strings.Join(reqHeaders, ", "))
			}
		} else if p.headerList != "" {
			h.Set("Access-Control-Allow-Headers", p.headerList)
		}
		if p.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if p.maxAge != "" {
			h.Set("Access-Control-Max-Age", p.maxAge)
		}
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

func (p *corsPolicy) allowMethod(m string) bool {
	if p.anyMethod {
		return true
	}
	_, ok := p.methods[strings.ToUpper(m)]
	return ok
}

func (p *corsPolicy) allowHeaders(values []string) bool {
	if p.anyHeader {
		return true
	}
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.ToLower(strings.TrimSpace(f))
			if f == "" {
				continue
			}
			if _, ok := p.headers[f]; !ok {
				return false
			}
		}
	}
	return true
}

// corsWriter applies a policy's headers when the response is committed, so
// that CORS headers an integration sets are replaced by the configured ones
// (or removed, for an origin the policy does not allow).
type corsWriter struct {
	http.ResponseWriter
	p      *corsPolicy
	origin string
	done   bool
}

func (c *corsWriter) apply() {
	if !c.done {
		c.done = true
		c.p.decorate(c.ResponseWriter.Header(), c.origin)
	}
}

// WriteHeader implements http.ResponseWriter.
func (c *corsWriter) WriteHeader(code int) {
	if code >= 200 {
		c.apply()
	}
	c.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (c *corsWriter) Write(b []byte) (int, error) {
	c.apply()
	return c.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (c *corsWriter) Flush() {
	c.apply()
	_ = http.NewResponseController(c.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (c *corsWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Middleware returns the CORS policy as middleware around any handler: it
// answers preflight requests itself and sets the CORS headers on the
// responses to allowed origins. It returns an error for an invalid
// configuration (see [CORS]).
func (c CORS) Middleware() (func(http.Handler) http.Handler, error) {
	p, err := compileCORS(&c)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isPreflight(r) {
				p.preflight(w, r)
				return
			}
			if origin := r.Header.Get("Origin"); origin != "" {
				w = &corsWriter{ResponseWriter: w, p: p, origin: origin}
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// preflightPolicy returns the CORS policy for a preflight asking for method
// on path: the policy of the route that would serve the request, else the
// API's; nil when there is none.
func (d *Deployment) preflightPolicy(method, path string) *corsPolicy {
	var params router.Params
	m := d.router.Lookup(strings.ToUpper(method), path, &params)
	switch {
	case m.Result == router.Found:
		return d.routes[m.Value].cors
	case d.defaultRoute != nil:
		return d.defaultRoute.cors
	}
	return d.cors
}
