package transform

import (
	"strings"
)

// mediaType returns the lower-cased media type of a Content-Type or Accept
// value, without parameters: "application/json; charset=utf-8" →
// "application/json".
func mediaType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(v)
		}
	}
	return v
}

// firstAccept returns the first media type of an Accept header, as the
// model gateway selects response templates by it.
func firstAccept(accept string) string {
	if i := strings.IndexByte(accept, ','); i >= 0 {
		accept = accept[:i]
	}
	return mediaType(accept)
}

// MatchMediaType reports whether the content type ct ("image/png;
// q=1") matches one of patterns: exact types ("image/png"), wildcards
// ("image/*") or "*/*". Matching ignores case and parameters, and does not
// allocate.
func MatchMediaType(ct string, patterns []string) bool {
	if len(patterns) == 0 {
		return false
	}
	mt := bareType(ct)
	for _, p := range patterns {
		p = bareType(p)
		switch {
		case p == "*/*":
			return true
		case mt == "":
		case strings.EqualFold(p, mt):
			return true
		case strings.HasSuffix(p, "/*") && len(mt) >= len(p)-1 && strings.EqualFold(mt[:len(p)-1], p[:len(p)-1]):
			return true
		}
	}
	return false
}

// bareType is v without parameters or surrounding space, case kept.
func bareType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// validMediaType reports whether s is type/subtype (either may be *).
func validMediaType(s string) bool {
	t, sub, ok := strings.Cut(s, "/")
	return ok && t != "" && sub != "" && !strings.ContainsAny(s, " ,;\"\r\n\t") && strings.Count(s, "/") == 1
}
