package integration

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// targetTemplate is a parsed HTTP integration target: a URL whose path
// segments may be {param} (or {param+}/{proxy}, greedy) placeholders
// filled per request. Values are escaped so that no parameter can add a
// path segment (except a greedy one, segment by segment), walk up the path
// or reach the host or the query.
type targetTemplate struct {
	scheme, host string // both "" for a pool's path template
	query        string // the template's own raw query
	parts        []targetPart
	slash        bool   // the template path ends with "/"
	hint         int    // bytes of the literal parts, to size the output
	static       string // the escaped path when there are no parameters
}

type targetPart struct {
	raw    string // literal segment as written (validly escaped)
	param  string // parameter name; "" for a literal
	greedy bool   // the value may hold several segments
}

// errBadParam is returned for a path parameter value that would walk the
// target path.
var errBadParam = errors.New("a path parameter value may not be empty, '.' or '..', nor hold such a segment")

// missingParamError is returned for a placeholder the route does not fill.
type missingParamError struct{ name string }

func (e *missingParamError) Error() string {
	return fmt.Sprintf("the target refers to path parameter %q, which the route does not have", e.name)
}

// parseTarget parses an HTTP integration target whose stage variables have
// been substituted. With pooled, it must be a path ("/pets/{id}"), the pool
// supplying scheme and host; else an absolute http(s) URL.
func parseTarget(raw string, pooled bool) (*targetTemplate, error) {
	if raw == "" {
		return nil, errors.New("empty target")
	}
	t := &targetTemplate{}
	rest := raw
	if pooled {
		if !strings.HasPrefix(raw, "/") {
			return nil, fmt.Errorf("target %q: with a Pool the target is a path such as /pets/{id}; the pool supplies scheme and host", raw)
		}
	} else {
		scheme, after, ok := strings.Cut(raw, "://")
		if !ok {
			return nil, fmt.Errorf("target %q: want an absolute http or https URL", raw)
		}
		t.scheme = strings.ToLower(scheme)
		if t.scheme != "http" && t.scheme != "https" {
			return nil, fmt.Errorf("target %q: scheme must be http or https", raw)
		}
		end := strings.IndexAny(after, "/?#")
		if end < 0 {
			end = len(after)
		}
		host := after[:end]
		switch {
		case host == "":
			return nil, fmt.Errorf("target %q: no host", raw)
		case strings.ContainsAny(host, "{}"):
			return nil, fmt.Errorf("target %q: path parameters may appear only in the path", raw)
		case strings.Contains(host, "@"):
			return nil, fmt.Errorf("target %q: user information is not allowed in a target", raw)
		}
		u, err := url.Parse(t.scheme + "://" + host + "/")
		if err != nil || u.Host != host {
			return nil, fmt.Errorf("target %q: bad host %q", raw, host)
		}
		t.host = u.Host
		rest = after[end:]
	}
	if strings.Contains(rest, "#") {
		return nil, fmt.Errorf("target %q: a fragment is not allowed", raw)
	}
	path, query, _ := strings.Cut(rest, "?")
	if strings.ContainsAny(query, "{}") {
		return nil, fmt.Errorf("target %q: path parameters may appear only in the path", raw)
	}
	if _, err := url.ParseQuery(query); err != nil {
		return nil, fmt.Errorf("target %q: query: %w", raw, err)
	}
	if strings.ContainsFunc(query, func(r rune) bool { return r < 0x21 || r >= 0x7f }) {
		return nil, fmt.Errorf("target %q: the query must be escaped", raw)
	}
	t.query = query
	t.slash = len(path) > 1 && strings.HasSuffix(path, "/")
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" {
			continue
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := seg[1 : len(seg)-1]
			greedy := strings.HasSuffix(name, "+")
			name = strings.TrimSuffix(name, "+")
			if !validParamName(name) {
				return nil, fmt.Errorf("target %q: bad parameter name %q", raw, name)
			}
			t.parts = append(t.parts, targetPart{param: name, greedy: greedy || name == "proxy"})
			continue
		}
		if strings.ContainsAny(seg, "{}") {
			return nil, fmt.Errorf("target %q: a parameter must be a whole path segment", raw)
		}
		lit, err := url.PathUnescape(seg)
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", raw, err)
		}
		if lit == "." || lit == ".." {
			return nil, fmt.Errorf("target %q: dot segments are not allowed", raw)
		}
		if strings.ContainsAny(seg, " \"<>\\^`|") || strings.ContainsFunc(seg, func(r rune) bool { return r < 0x21 || r >= 0x7f }) {
			return nil, fmt.Errorf("target %q: segment %q must be escaped", raw, seg)
		}
		t.parts = append(t.parts, targetPart{raw: seg})
		t.hint += 1 + len(seg)
	}
	if !slices.ContainsFunc(t.parts, func(p targetPart) bool { return p.param != "" }) {
		t.static = t.build()
	}
	return t, nil
}

// build joins the literal parts of a template without parameters.
func (t *targetTemplate) build() string {
	var b strings.Builder
	for _, p := range t.parts {
		b.WriteByte('/')
		b.WriteString(p.raw)
	}
	if t.slash || b.Len() == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

func validParamName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// expand builds the target URL of a request. Path parameter values come
// from params (the gateway's, unescaped) or, when params is nil, from
// r.PathValue. query is the caller's raw query, appended to the template's.
// A plain parameter becomes one escaped segment; a greedy one keeps its
// "/" separators and has each segment escaped. A value that would put an
// empty, "." or ".." segment where a plain parameter stands, or a "." or
// ".." segment anywhere, is [errBadParam].
func (t *targetTemplate) expand(params map[string]string, r *http.Request, query string) (*url.URL, error) {
	if t.static != "" {
		return t.finish(t.static, query), nil
	}
	var b strings.Builder
	b.Grow(t.hint + 32)
	for i := range t.parts {
		p := &t.parts[i]
		if p.param == "" {
			b.WriteByte('/')
			b.WriteString(p.raw)
			continue
		}
		var v string
		var ok bool
		if params != nil {
			v, ok = params[p.param]
		} else if r != nil {
			v = r.PathValue(p.param)
			ok = v != "" || p.greedy
		}
		if !ok {
			return nil, &missingParamError{name: p.param}
		}
		if !p.greedy {
			if v == "" || v == "." || v == ".." {
				return nil, errBadParam
			}
			b.WriteByte('/')
			b.WriteString(url.PathEscape(v))
			continue
		}
		for v != "" {
			seg, rest, more := strings.Cut(v, "/")
			if seg == "." || seg == ".." {
				return nil, errBadParam
			}
			b.WriteByte('/')
			b.WriteString(url.PathEscape(seg))
			v = rest
			if more && v == "" {
				b.WriteByte('/') // a trailing slash in the value
			}
		}
	}
	if t.slash || b.Len() == 0 {
		b.WriteByte('/')
	}
	return t.finish(b.String(), query), nil
}

// finish makes the URL of an expanded, escaped path and the caller's query.
func (t *targetTemplate) finish(raw, query string) *url.URL {
	u := &url.URL{Scheme: t.scheme, Host: t.host, Path: raw, RawQuery: t.query}
	if strings.IndexByte(raw, '%') >= 0 {
		u.Path, _ = url.PathUnescape(raw) // raw is validly escaped by construction
		u.RawPath = raw
	}
	switch {
	case query == "":
	case u.RawQuery == "":
		u.RawQuery = query
	default:
		u.RawQuery = u.RawQuery + "&" + query
	}
	return u
}
