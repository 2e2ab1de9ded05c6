package portico

import "fmt"

// Versioning says how requests choose among the deployed versions of an API
// (APIs of the same name with different [API.Version]) when the request does
// not name one in its path. A request names a version by the path segment
// after the stage (/prod/v2/pets) or after a base-path mapping; failing that,
// by the Header, if set; failing that, the Default version serves it.
type Versioning struct {
	// Header is the request header that names a version ("Api-Version");
	// "" turns header selection off.
	Header string
	// Default is the version served when the request names none; "" means
	// such requests get 404 (unless an unversioned API of the name exists).
	Default string
}

// SetVersioning sets how requests choose among the versions of the API
// named apiName. It may be called before or after the versions are deployed.
func (g *Gateway) SetVersioning(apiName string, v Versioning) error {
	if apiName == "" {
		return fmt.Errorf("portico: SetVersioning: empty API name")
	}
	if v.Header != "" && !validHeaderName(v.Header) {
		return fmt.Errorf("portico: SetVersioning(%q): bad header name %q", apiName, v.Header)
	}
	if v.Default != "" && !validIdent(v.Default, 64, "-_.") {
		return fmt.Errorf("portico: SetVersioning(%q): bad default version %q", apiName, v.Default)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.versioning[apiName] = v
	g.rebuildLocked()
	return nil
}
