package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
)

// Limits on what a JWT authorizer fetches.
const (
	// MaxJWKSBytes is the largest JWKS document accepted (the model's
	// 150 000 bytes).
	MaxJWKSBytes      = 150000
	maxDiscoveryBytes = 64 << 10
	// minRSABits is the smallest RSA modulus a JWKS key may have.
	minRSABits = 2048
)

// jwkKey is one usable public key of a JWKS.
type jwkKey struct {
	kid string
	alg string // the JWK's alg member; "" if absent
	key crypto.PublicKey
}

// keySet is a parsed JWKS. It is immutable once built.
type keySet struct {
	byKID map[string]*jwkKey
	only  *jwkKey // the single key, when the set has exactly one
}

func (ks *keySet) lookup(kid string, hasKID bool) *jwkKey {
	if ks == nil {
		return nil
	}
	if hasKID {
		return ks.byKID[kid]
	}
	return ks.only
}

// has reports whether the set still holds k (the very key: sets fetched
// later reuse the keys that did not change, see keepKeys).
func (ks *keySet) has(k *jwkKey) bool {
	if ks == nil {
		return false
	}
	if k.kid != "" {
		return ks.byKID[k.kid] == k
	}
	return ks.only == k
}

// keepKeys makes ks reuse old's key for every kid whose key did not
// change, so that tokens verified with it stay cached across refreshes.
func (ks *keySet) keepKeys(old *keySet) {
	if old == nil {
		return
	}
	same := func(a, b *jwkKey) bool {
		eq, ok := a.key.(interface{ Equal(crypto.PublicKey) bool })
		return a.kid == b.kid && a.alg == b.alg && ok && eq.Equal(b.key)
	}
	for kid, k := range ks.byKID {
		if o := old.byKID[kid]; o != nil && same(k, o) {
			ks.byKID[kid] = o
			if ks.only == k {
				ks.only = o
			}
		}
	}
	if ks.only != nil && ks.only.kid == "" && old.only != nil && same(ks.only, old.only) {
		ks.only = old.only
	}
}

type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS parses a JWK set, keeping the RSA (≥ 2048 bits), EC (P-256,
// P-384, P-521) and Ed25519 signing keys and skipping (with a log line)
// what it cannot use. Symmetric ("oct") keys are never used: HMAC secrets
// come only from configuration. A set with no usable key is an error.
func parseJWKS(b []byte, logger *slog.Logger) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	ks := &keySet{byKID: map[string]*jwkKey{}}
	n := 0
	for i, raw := range doc.Keys {
		var rk rawJWK
		if err := json.Unmarshal(raw, &rk); err != nil {
			logger.Warn("auth: JWKS key skipped", "index", i, "err", err)
			continue
		}
		if rk.Use != "" && rk.Use != "sig" {
			continue
		}
		key, err := rk.publicKey()
		if err != nil {
			logger.Warn("auth: JWKS key skipped", "index", i, "kid", rk.Kid, "err", err)
			continue
		}
		if key == nil {
			continue
		}
		k := &jwkKey{kid: rk.Kid, alg: rk.Alg, key: key}
		if rk.Kid != "" {
			if _, dup := ks.byKID[rk.Kid]; dup {
				logger.Warn("auth: JWKS key skipped: duplicate kid", "kid", rk.Kid)
				continue
			}
			ks.byKID[rk.Kid] = k
		}
		n++
		if n == 1 {
			ks.only = k
		} else {
			ks.only = nil
		}
	}
	if n == 0 {
		return nil, errors.New("JWKS: no usable signing key")
	}
	return ks, nil
}

// publicKey decodes the JWK; it returns nil, nil for a key type that is
// never used (oct).
func (rk *rawJWK) publicKey() (crypto.PublicKey, error) {
	switch rk.Kty {
	case "RSA":
		nb, err := b64(rk.N)
		if err != nil {
			return nil, fmt.Errorf("n: %w", err)
		}
		eb, err := b64(rk.E)
		if err != nil || len(eb) == 0 || len(eb) > 4 {
			return nil, errors.New("bad e")
		}
		e := 0
		for _, c := range eb {
			e = e<<8 | int(c)
		}
		n := new(big.Int).SetBytes(nb)
		if e < 3 || e%2 == 0 {
			return nil, errors.New("bad e")
		}
		if n.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is under %d", n.BitLen(), minRSABits)
		}
		return &rsa.PublicKey{N: n, E: e}, nil
	case "EC":
		var curve elliptic.Curve
		switch rk.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported curve %q", rk.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err1 := b64(rk.X)
		y, err2 := b64(rk.Y)
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad x or y")
		}
		point := append(append([]byte{4}, x...), y...)
		return ecdsa.ParseUncompressedPublicKey(curve, point)
	case "OKP":
		if rk.Crv != "Ed25519" {
			return nil, fmt.Errorf("unsupported curve %q", rk.Crv)
		}
		x, err := b64(rk.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad x")
		}
		return ed25519.PublicKey(x), nil
	case "oct":
		return nil, nil
	}
	return nil, fmt.Errorf("unsupported kty %q", rk.Kty)
}

func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// keyFits reports whether key k may verify a token signed with alg: the
// key's type must be the algorithm's (an RSA key never verifies an ECDSA or
// HMAC token), ECDSA curves must match, and a JWK that names its alg
// verifies only that one.
func keyFits(k *jwkKey, alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		_, ok := k.key.(*rsa.PublicKey)
		return ok
	case "ES256", "ES384", "ES512":
		ek, ok := k.key.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		want := map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
		return ek.Curve.Params().Name == want
	case "EdDSA":
		_, ok := k.key.(ed25519.PublicKey)
		return ok
	}
	return false
}

// getJSON fetches url into v, reading at most limit bytes.
func getJSON(ctx context.Context, client *http.Client, u string, limit int64, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		return fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if int64(len(b)) > limit {
		return fmt.Errorf("GET %s: document over %d bytes", u, limit)
	}
	if raw, ok := v.(*[]byte); ok {
		*raw = b
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

func validHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}
