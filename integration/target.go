package integration

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// targetTemplate is a parsed HTTP target: a URL whose path may hold
// {param} segments (and {proxy}/{proxy+} for greedy parameters) filled per
// request, with the values escaped so that no parameter can add a path
// segment, walk up the path or change the host.
type targetTemplate struct {
	base  *url.URL     // scheme, host, query of the target
	parts []targetPart // path segments
	slash bool         // the template path ends with "/"
}

type targetPart struct {
	lit    string // escaped literal segment
	param  string // parameter name
	greedy bool   // {name+}: the value may span segments
}

// errBadParam is returned for a path parameter value that would walk the
// target path.
var errBadParam = errors.New("path parameter value is not allowed in the target path")

// parseTarget parses an expanded target URL (stage variables already
// substituted). With allowNoHost the host may be empty (a pool supplies it).
func parseTarget(raw string, allowNoHost bool) (*targetTemplate, error) {
	if raw == "" {
		return nil, errors.New("empty target")
	}
	// Braces are not valid in URL paths; keep them out of url.Parse.
	var names []string
	protected := raw
	for i := 0; ; i++ {
		a := strings.IndexByte(protected, '{')
		if a < 0 {
			break
		}
		b := strings.IndexByte(protected[a:], '}')
		if b < 0 {
			return nil, fmt.Errorf("target %q: unclosed {", raw)
		}
		names = append(names, protected[a+1:a+b])
		protected = protected[:a] + fmt.Sprintf("__portico_param_%d__", i) + protected[a+b+1:]
	}
	u, err := url.Parse(protected)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: scheme must be http or https", raw)
	}
	if u.Host == "" && !allowNoHost {
		return nil, fmt.Errorf("target %q: no host", raw)
	}
	if strings.Contains(u.Host, "__portico_param_") || strings.Contains(u.RawQuery, "__portico_param_") {
		return nil, fmt.Errorf("target %q: path parameters may appear only in the path", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("target %q: user information is not allowed in a target", raw)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("target %q: fragment not allowed", raw)
	}
	t := &targetTemplate{base: &url.URL{Scheme: u.Scheme, Host: u.Host, RawQuery: u.RawQuery}}
	p := u.EscapedPath()
	t.slash = len(p) > 1 && strings.HasSuffix(p, "/")
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if seg == "" {
			continue
		}
		if strings.HasPrefix(seg, "__portico_param_") && strings.HasSuffix(seg, "__") {
			var i int
			if _, err := fmt.Sscanf(seg, "__portico_param_%d__", &i); err != nil || i >= len(names) {
				return nil, fmt.Errorf("target %q: bad parameter", raw)
			}
			name := names[i]
			greedy := strings.HasSuffix(name, "+")
			name = strings.TrimSuffix(name, "+")
			if name == "" {
				return nil, fmt.Errorf("target %q: empty parameter name", raw)
			}
			t.parts = append(t.parts, targetPart{param: name, greedy: greedy})
			continue
		}
		if strings.Contains(seg, "__portico_param_") {
			return nil, fmt.Errorf("target %q: a parameter must be a whole path segment", raw)
		}
		if seg == "." || seg == ".." {
			return nil, fmt.Errorf("target %q: dot segments are not allowed", raw)
		}
		t.parts = append(t.parts, targetPart{lit: seg})
	}
	return t, nil
}

// expand builds the target URL for a request whose path parameters are
// looked up with param. The greedy parameter ("proxy" by convention) may
// hold several segments; each segment is escaped on its own. A value that
// is empty for a plain parameter, or that holds a "." or ".." segment, is
// refused.
func (t *targetTemplate) expand(param func(name string) (string, bool), host string) (*url.URL, error) {
	u := *t.base
	if host != "" {
		u.Host = host
	}
	var raw strings.Builder
	for _, p := range t.parts {
		if p.param == "" {
			raw.WriteByte('/')
			raw.WriteString(p.lit)
			continue
		}
		v, ok := param(p.param)
		if !ok {
			return nil, fmt.Errorf("the route has no path parameter %q for the target", p.param)
		}
		if !p.greedy && p.param != "proxy" {
			if v == "" || v == "." || v == ".." {
				return nil, errBadParam
			}
			raw.WriteByte('/')
			raw.WriteString(url.PathEscape(v))
			continue
		}
		for _, seg := range strings.Split(v, "/") {
			if seg == "." || seg == ".." {
				return nil, errBadParam
			}
			raw.WriteByte('/')
			raw.WriteString(url.PathEscape(seg))
		}
	}
	if t.slash || raw.Len() == 0 {
		raw.WriteByte('/')
	}
	rp := raw.String()
	path, err := url.PathUnescape(rp)
	if err != nil {
		return nil, err
	}
	u.Path = path
	if path != rp {
		u.RawPath = rp
	}
	return &u, nil
}
