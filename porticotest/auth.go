package porticotest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/portico-gw/portico/clock"
)

// Issuer is a local OIDC issuer for tests: it serves an OIDC discovery
// document and a JWKS on a loopback httptest server, and mints tokens
// signed with its current key. Point an auth.NewJWT authorizer (or an
// APIAuth JWT authorizer) at [Issuer.URL] and send the tokens of
// [Issuer.Token]. Keys can be rotated mid-test. Safe for concurrent use;
// the server closes when the test ends.
type Issuer struct {
	// URL is the issuer URL (the iss claim), also the base of the
	// discovery document: URL + "/.well-known/openid-configuration".
	URL string

	clock   clock.Clock
	alg     string
	server  *httptest.Server
	fetches atomic.Int64

	mu      sync.Mutex // guards the fields below
	keys    []issuerKey
	signing int // index in keys
	nextKID int
}

type issuerKey struct {
	kid  string
	priv crypto.Signer
}

// IssuerOption configures an [Issuer].
type IssuerOption func(*issuerOptions)

type issuerOptions struct {
	clock clock.Clock
	alg   string
}

// WithIssuerClock makes the issuer stamp iat and exp from c (default: the
// real clock); pass the gateway's fake clock.
func WithIssuerClock(c clock.Clock) IssuerOption { return func(o *issuerOptions) { o.clock = c } }

// WithIssuerAlgorithm sets the signing algorithm: "RS256" (default) or
// "ES256".
func WithIssuerAlgorithm(alg string) IssuerOption { return func(o *issuerOptions) { o.alg = alg } }

// NewIssuer starts an issuer with one signing key (kid "key-1").
func NewIssuer(tb testing.TB, opts ...IssuerOption) *Issuer {
	tb.Helper()
	o := issuerOptions{alg: "RS256"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.alg != "RS256" && o.alg != "ES256" {
		tb.Fatalf("porticotest: NewIssuer: unsupported algorithm %q (want RS256 or ES256)", o.alg)
	}
	iss := &Issuer{clock: clock.OrReal(o.clock), alg: o.alg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss.URL, "jwks_uri": iss.JWKSURL()})
	})
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		iss.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(iss.JWKS())
	})
	iss.server = httptest.NewServer(mux)
	iss.URL = iss.server.URL
	tb.Cleanup(iss.server.Close)
	iss.Rotate(tb, true)
	return iss
}

// Client returns an HTTP client for the issuer's server, whose idle
// connections close with it; give it to the authorizer under test
// (auth.WithHTTPClient) so that no connection outlives the test.
func (i *Issuer) Client() *http.Client { return i.server.Client() }

// JWKSURL returns the URL the issuer serves its JWKS at.
func (i *Issuer) JWKSURL() string { return i.URL + "/jwks.json" }

// Fetches returns how many times the JWKS has been fetched.
func (i *Issuer) Fetches() int { return int(i.fetches.Load()) }

// KeyID returns the kid of the current signing key.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[i.signing].kid
}

// Rotate makes a new key ("key-2", "key-3" …) the signing key and returns
// its kid. With keepOld the earlier keys stay in the JWKS (tokens they
// signed still verify); without, they are removed.
func (i *Issuer) Rotate(tb testing.TB, keepOld bool) string {
	tb.Helper()
	var priv crypto.Signer
	var err error
	if i.alg == "ES256" {
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		tb.Fatalf("porticotest: generating a key: %v", err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.nextKID++
	k := issuerKey{kid: "key-" + strconv.Itoa(i.nextKID), priv: priv}
	if !keepOld {
		i.keys = nil
	}
	i.keys = append(i.keys, k)
	i.signing = len(i.keys) - 1
	return k.kid
}

// JWKS returns the issuer's JWKS document.
func (i *Issuer) JWKS() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	enc := base64.RawURLEncoding.EncodeToString
	var keys []map[string]string
	for _, k := range i.keys {
		switch pub := k.priv.Public().(type) {
		case *rsa.PublicKey:
			keys = append(keys, map[string]string{
				"kty": "RSA", "kid": k.kid, "use": "sig", "alg": "RS256",
				"n": enc(pub.N.Bytes()), "e": enc(big.NewInt(int64(pub.E)).Bytes()),
			})
		case *ecdsa.PublicKey:
			b, _ := pub.Bytes() // a P-256 key always encodes
			keys = append(keys, map[string]string{
				"kty": "EC", "kid": k.kid, "use": "sig", "alg": "ES256", "crv": "P-256",
				"x": enc(b[1:33]), "y": enc(b[33:]),
			})
		}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys}) // maps of strings always marshal
	return b
}

// Token mints a token signed with the current key. It sets iss, iat (now)
// and exp (now + 1 h) unless claims sets them (a nil value removes a
// claim); claims usually carries aud (or client_id), sub and scope.
func (i *Issuer) Token(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	now := i.clock.Now()
	mc := jwt.MapClaims{"iss": i.URL, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(mc, k)
		} else {
			mc[k] = v
		}
	}
	i.mu.Lock()
	k := i.keys[i.signing]
	i.mu.Unlock()
	method := jwt.SigningMethod(jwt.SigningMethodRS256)
	if i.alg == "ES256" {
		method = jwt.SigningMethodES256
	}
	t := jwt.NewWithClaims(method, mc)
	t.Header["kid"] = k.kid
	s, err := t.SignedString(k.priv)
	if err != nil {
		tb.Fatalf("porticotest: signing a token: %v", err)
	}
	return s
}

// SigV4Credentials are the access key pair (and optional session token) a
// test signs requests with.
type SigV4Credentials struct {
	// AccessKeyID and SecretAccessKey are the key pair.
	AccessKeyID, SecretAccessKey string
	// SessionToken, if set, is sent as X-Amz-Security-Token.
	SessionToken string
}

// SignRequest signs r in place for the execute-api service in region at
// time at, with the real aws-sdk-go-v2 signer, as an AWS SDK client would:
// the Authorization, X-Amz-Date and (with a session token)
// X-Amz-Security-Token headers. It reads r's body to hash it and puts it
// back. Sign the request with its final URL (the stage in the path, e.g.
// from [Stage.URL]) and send it unchanged.
func SignRequest(tb testing.TB, r *http.Request, creds SigV4Credentials, region string, at time.Time) {
	tb.Helper()
	hash := bodyHash(tb, r)
	err := v4.NewSigner().SignHTTP(context.Background(), awsCreds(creds), r, hash, "execute-api", region, at)
	if err != nil {
		tb.Fatalf("porticotest: SignRequest: %v", err)
	}
}

// PresignRequest returns r's URL presigned for execute-api in region at
// time at, valid for expires, with the real aws-sdk-go-v2 signer, and the
// headers that were signed with it (send them along).
func PresignRequest(tb testing.TB, r *http.Request, creds SigV4Credentials, region string, at time.Time, expires time.Duration) (string, http.Header) {
	tb.Helper()
	hash := bodyHash(tb, r)
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	r.URL.RawQuery = q.Encode()
	u, h, err := v4.NewSigner().PresignHTTP(context.Background(), awsCreds(creds), r, hash, "execute-api", region, at)
	if err != nil {
		tb.Fatalf("porticotest: PresignRequest: %v", err)
	}
	return u, h
}

func awsCreds(c SigV4Credentials) aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

func bodyHash(tb testing.TB, r *http.Request) string {
	tb.Helper()
	var b []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		if b, err = io.ReadAll(r.Body); err != nil {
			tb.Fatalf("porticotest: reading the body to sign: %v", err)
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// String describes the issuer.
func (i *Issuer) String() string { return fmt.Sprintf("porticotest.Issuer(%s, %s)", i.URL, i.alg) }
