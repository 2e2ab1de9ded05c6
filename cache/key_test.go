package cache

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/portico-gw/portico/reqctx"
)

func TestKeyShape(t *testing.T) {
	k, err := newKeyer("ns", KeyParams{}, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/pets/1", nil)
	key, sum := k.key(r, nil, "GET")
	if len(key) != 64 {
		t.Fatalf("key %q has %d characters, want 64 hex digits", key, len(key))
	}
	other, _ := newKeyer("ns2", KeyParams{}, 0, false)
	if key2, _ := other.key(r, nil, "GET"); key2 == key {
		t.Fatal("namespaces share keys")
	}
	if key3, _ := k.key(r, nil, "POST"); key3 == key {
		t.Fatal("methods share keys")
	}
	if sum == [32]byte{} {
		t.Fatal("zero digest")
	}
}

func TestKeyUsesRequestContext(t *testing.T) {
	k, _ := newKeyer("ns", KeyParams{Path: []string{"proxy"}, Query: []string{"q"}}, 0, false)
	r := httptest.NewRequest("GET", "/ignored?q=raw", nil)
	a, _ := k.key(r, &reqctx.Context{ResourcePath: "/{proxy+}", PathParams: map[string]string{"proxy": "a/b"}, Query: url.Values{"q": {"ctx"}}}, "GET")
	b, _ := k.key(r, &reqctx.Context{ResourcePath: "/{proxy+}", PathParams: map[string]string{"proxy": "a/c"}, Query: url.Values{"q": {"ctx"}}}, "GET")
	c, _ := k.key(r, &reqctx.Context{ResourcePath: "/{proxy+}", PathParams: map[string]string{"proxy": "a/b"}, Query: url.Values{"q": {"other"}}}, "GET")
	if a == b || a == c {
		t.Fatal("path parameters or query from the request context do not split the key")
	}
}

func TestKeyAllocatesOnlyTheString(t *testing.T) {
	k, _ := newKeyer("ns", KeyParams{Headers: []string{"Accept-Language"}}, 0, false)
	r := httptest.NewRequest("GET", "/pets/1", nil)
	r.Header.Set("Accept-Language", "en")
	r.Header.Set("Authorization", "Bearer x")
	rc := &reqctx.Context{APIKeyID: "k1"}
	if n := testing.AllocsPerRun(100, func() { k.key(r, rc, "GET") }); n != 1 {
		t.Fatalf("key allocates %v times, want 1", n)
	}
}

// FuzzKey checks that key derivation never panics on odd paths, queries and
// header values, that it is deterministic, and that a keyed query value
// always splits the cache while an unkeyed one never does.
func FuzzKey(f *testing.F) {
	f.Add("/pets/1", "en", "fr", "x")
	f.Add("/a%2Fb/{x}", "", "\x00", "")
	f.Add("/", "a&b=c", "a", "%zz")
	f.Fuzz(func(t *testing.T, path, v1, v2, unkeyed string) {
		u := &url.URL{Path: "/" + path}
		k, _ := newKeyer("ns", KeyParams{Query: []string{"lang"}, Headers: []string{"X-H"}}, 0, false)
		mk := func(lang string) *http.Request {
			r := &http.Request{Method: "GET", URL: &url.URL{Path: u.Path}, Header: http.Header{"X-H": {lang}, "X-Unkeyed": {unkeyed}}}
			r.URL.RawQuery = url.Values{"lang": {lang}, "other": {unkeyed}}.Encode()
			return r
		}
		a1, _ := k.key(mk(v1), nil, "GET")
		a2, _ := k.key(mk(v1), nil, "GET")
		b, _ := k.key(mk(v2), nil, "GET")
		if a1 != a2 {
			t.Fatal("key is not deterministic")
		}
		if (a1 == b) != (v1 == v2) {
			t.Fatalf("keyed values %q and %q: same key = %v", v1, v2, a1 == b)
		}
	})
}
