package portico

import (
	"fmt"
	"strings"
)

// BasePathMapping puts one API stage at a host and base path, as a custom
// domain's API mapping does: https://api.example.com/orders/v1/... served by
// API "orders", version "v1", stage "prod". The base path is stripped before
// routing ($context.customDomain.basePathMatched).
type BasePathMapping struct {
	// Domain is the host name ("api.example.com", or "*.example.com" for
	// every subdomain); "" matches any host that has no mappings of its own.
	Domain string
	// BasePath is the path prefix, one or more segments ("orders",
	// "orders/v1"); "" (or "(none)") maps the whole domain. The longest
	// matching base path wins.
	BasePath string
	// API is the API name; Version the API version ("" for the unversioned
	// API or to let [Versioning] choose); Stage the stage name.
	API, Version, Stage string
}

func (m BasePathMapping) normalise() (BasePathMapping, error) {
	m.Domain = strings.ToLower(strings.TrimSuffix(m.Domain, "."))
	if m.BasePath == "(none)" {
		m.BasePath = ""
	}
	m.BasePath = strings.Trim(m.BasePath, "/")
	if m.API == "" || m.Stage == "" {
		return m, fmt.Errorf("portico: base path mapping %s/%s: API and Stage are required", m.Domain, m.BasePath)
	}
	if len(m.BasePath) > 300 {
		return m, fmt.Errorf("portico: base path mapping %s/%s: base path longer than 300 characters", m.Domain, m.BasePath)
	}
	for i := 0; i < len(m.BasePath); i++ {
		c := m.BasePath[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("$-_.+!*'()/", c) >= 0) {
			return m, fmt.Errorf("portico: base path mapping %s/%s: character %q not allowed in a base path", m.Domain, m.BasePath, c)
		}
	}
	if strings.Contains(m.BasePath, "//") {
		return m, fmt.Errorf("portico: base path mapping %s/%s: empty segment", m.Domain, m.BasePath)
	}
	d := strings.TrimPrefix(m.Domain, "*.")
	if strings.ContainsAny(d, "*/:@ ") {
		return m, fmt.Errorf("portico: base path mapping: bad domain %q", m.Domain)
	}
	return m, nil
}

// MapBasePath adds a base-path mapping. Mapping the same domain and base
// path again replaces the earlier mapping. The stage need not be deployed
// yet; until it is, requests to the mapping get 404.
func (g *Gateway) MapBasePath(m BasePathMapping) error {
	m, err := m.normalise()
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, old := range g.mappings {
		if old.Domain == m.Domain && old.BasePath == m.BasePath {
			g.mappings[i] = m
			g.rebuildLocked()
			return nil
		}
	}
	g.mappings = append(g.mappings, m)
	g.rebuildLocked()
	return nil
}

// UnmapBasePath removes the mapping of domain and base path; it reports
// whether one existed.
func (g *Gateway) UnmapBasePath(domain, basePath string) bool {
	m, _ := BasePathMapping{Domain: domain, BasePath: basePath, API: "x", Stage: "x"}.normalise()
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, old := range g.mappings {
		if old.Domain == m.Domain && old.BasePath == m.BasePath {
			g.mappings = append(g.mappings[:i], g.mappings[i+1:]...)
			g.rebuildLocked()
			return true
		}
	}
	return false
}

// BasePathMappings returns the gateway's base-path mappings that put this
// stage at a domain, in the order they were added. Exports use them for
// the API's server URLs.
func (s *Stage) BasePathMappings() []BasePathMapping {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	var out []BasePathMapping
	for _, m := range s.gw.mappings {
		if m.API == s.apiName && m.Stage == s.name && (m.Version == s.version || m.Version == "") {
			out = append(out, m)
		}
	}
	return out
}
