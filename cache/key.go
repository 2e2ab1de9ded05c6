package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/reqctx"
)

// KeyParams says which request parameters split the cache: requests that
// differ only in parameters not named here share an entry. The method and
// the cache's namespace are always part of the key.
//
// Every input the integration reads and that is not in the key is a way to
// poison the cache: the first caller's value is served to everyone until the
// entry expires. Name here every header and query parameter that changes the
// response (a language, a format, a tenant), or make sure the integration
// ignores it; a response whose Vary header names a header that is not in the
// key is not stored.
type KeyParams struct {
	// Path lists the path parameters in the key. nil (the default) puts the
	// whole request path in the key, so /pets/1 and /pets/2 never share. A
	// non-nil list puts the route's path template in the key plus only the
	// listed parameters: the model gateway's cacheKeyParameters
	// method.request.path.NAME, where an empty list makes every path of the
	// route share one entry.
	Path []string
	// Query lists the query-string parameters in the key (all their values,
	// in order; absent and empty differ).
	Query []string
	// Headers lists the request headers in the key (all their values, in
	// order); names are case-insensitive.
	Headers []string
}

// Identity names parts of the caller's identity that can split the cache.
type Identity uint8

// The identity parts. They combine with |.
const (
	// IdentityPrincipal is the authorizer's principal id
	// (reqctx.Authorizer.PrincipalID).
	IdentityPrincipal Identity = 1 << iota
	// IdentityAPIKey is the verified API key's id (reqctx.Context.APIKeyID).
	IdentityAPIKey
	// IdentityAuthorization is the Authorization header's value (hashed in
	// the key, never stored).
	IdentityAuthorization

	identityAll = IdentityPrincipal | IdentityAPIKey | IdentityAuthorization
)

// keyer derives cache keys for one rule. It is immutable.
type keyer struct {
	ns        string
	wholePath bool
	path      []string
	query     []string
	headers   []string // canonical
	identity  Identity
	public    bool
}

func newKeyer(ns string, k KeyParams, id Identity, public bool) (*keyer, error) {
	if id&^identityAll != 0 {
		return nil, fmt.Errorf("cache: unknown Identity bits %#x", uint8(id&^identityAll))
	}
	kr := &keyer{ns: ns, wholePath: k.Path == nil, identity: id, public: public}
	for _, p := range k.Path {
		if p == "" || strings.ContainsAny(p, "{}/+") {
			return nil, fmt.Errorf("cache: key path parameter %q is not a parameter name", p)
		}
		kr.path = append(kr.path, p)
	}
	for _, q := range k.Query {
		if q == "" {
			return nil, fmt.Errorf("cache: empty key query parameter name")
		}
		kr.query = append(kr.query, q)
	}
	for _, h := range k.Headers {
		if !validToken(h) {
			return nil, fmt.Errorf("cache: key header %q is not a valid header name", h)
		}
		kr.headers = append(kr.headers, http.CanonicalHeaderKey(h))
	}
	return kr, nil
}

// keyedHeader reports whether the canonical header name is in the key.
func (k *keyer) keyedHeader(name string) bool {
	for _, h := range k.headers {
		if h == name {
			return true
		}
	}
	return name == "Authorization" && k.identity&IdentityAuthorization != 0
}

// authenticated reports whether a request carries credentials: an
// Authorization header, a verified API key or an authorizer's principal.
func authenticated(r *http.Request, rc *reqctx.Context) bool {
	if len(r.Header["Authorization"]) > 0 {
		return true
	}
	return rc != nil && (rc.APIKeyID != "" || rc.Authorizer.PrincipalID != "")
}

// keyBufSize is the stack buffer a key is built in; larger inputs spill to
// the heap.
const keyBufSize = 512

// key returns the cache key of r for the given method: the hex SHA-256 of
// the namespace, method, path and the keyed parameters and identity, each
// length-prefixed so that no two inputs run together. It also returns the
// raw digest, used as associated data when bodies are encrypted.
func (k *keyer) key(r *http.Request, rc *reqctx.Context, method string) (string, [sha256.Size]byte) {
	var stack [keyBufSize]byte
	b := stack[:0]
	b = appendField(b, k.ns)
	b = appendField(b, method)
	if k.wholePath {
		b = append(b, 'P')
		b = appendField(b, r.URL.EscapedPath())
	} else {
		b = append(b, 'T')
		tmpl := r.Pattern
		if rc != nil && rc.ResourcePath != "" {
			tmpl = rc.ResourcePath
		}
		b = appendField(b, tmpl)
		for _, p := range k.path {
			v := r.PathValue(p)
			if v == "" && rc != nil {
				v = rc.PathParams[p]
			}
			b = appendField(b, v)
		}
	}
	if len(k.query) > 0 {
		var q url.Values
		if rc != nil && rc.Query != nil {
			q = rc.Query
		} else if r.URL.RawQuery != "" {
			q, _ = url.ParseQuery(r.URL.RawQuery)
		}
		for _, name := range k.query {
			b = appendValues(b, q[name])
		}
	}
	for _, name := range k.headers {
		b = appendValues(b, r.Header[name])
	}
	id := k.identity
	if !k.public && authenticated(r, rc) && (id == 0 || identityEmpty(id, r, rc)) {
		// Never share an authenticated response across callers unless
		// the rule says it is public.
		id = identityAll
	}
	if id != 0 {
		b = append(b, 'I', byte(id))
		if id&IdentityPrincipal != 0 {
			v := ""
			if rc != nil {
				v = rc.Authorizer.PrincipalID
			}
			b = appendField(b, v)
		}
		if id&IdentityAPIKey != 0 {
			v := ""
			if rc != nil {
				v = rc.APIKeyID
			}
			b = appendField(b, v)
		}
		if id&IdentityAuthorization != 0 {
			b = appendValues(b, r.Header["Authorization"])
		}
	}
	sum := sha256.Sum256(b)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	return string(hx[:]), sum
}

// identityEmpty reports whether every identity part in id is empty for the
// request, so that keying on them would not tell callers apart.
func identityEmpty(id Identity, r *http.Request, rc *reqctx.Context) bool {
	if id&IdentityAuthorization != 0 && len(r.Header["Authorization"]) > 0 {
		return false
	}
	if rc == nil {
		return true
	}
	if id&IdentityPrincipal != 0 && rc.Authorizer.PrincipalID != "" {
		return false
	}
	return id&IdentityAPIKey == 0 || rc.APIKeyID == ""
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValues(b []byte, vs []string) []byte {
	if vs == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = appendField(b, v)
	}
	return b
}

// validToken reports whether s is a non-empty RFC 9110 token (a header name
// or method).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
