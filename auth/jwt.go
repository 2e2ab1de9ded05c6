package auth

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// DefaultJWTAlgorithms are the algorithms a [JWT] authorizer accepts unless
// told otherwise.
var defaultJWTAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

var hmacAlgorithms = []string{"HS256", "HS384", "HS512"}

// errJWKSUnavailable: no key set could be fetched at all (a gateway-side
// problem: 500, not the caller's 401).
var errJWKSUnavailable = errors.New("auth: JWKS unavailable")

// errUnknownKID: no key of the set has the token's kid.
var errUnknownKID = errors.New("auth: no JWKS key has the token's kid")

// errKeyMismatch: the key with the token's kid is not of the token's
// algorithm.
var errKeyMismatch = errors.New("auth: the token's algorithm does not fit its key")

// JWT is a JWT/OIDC authorizer (the model's JWT and Cognito authorizers):
// it verifies a bearer token's signature against the issuer's JWKS (or a
// configured HMAC secret), and its iss, aud or client_id, exp, nbf and iat
// claims. The principal it returns carries the claims and scopes and no
// policy: scopes are checked per route by [Access.Scopes].
//
// The JWKS is fetched from the issuer's OIDC discovery document (or
// [WithJWKSURL]) on first use, refreshed in the background
// ([WithJWKSRefresh]) and refetched when a token names an unknown key id,
// at most once per [WithJWKSRefetchInterval]. The kid is only ever a map
// key: it never reaches a URL or a file path. Verified tokens are cached
// ([WithTokenCache]) until they expire or their key leaves the set.
//
// Failures: no token → 401 with "WWW-Authenticate: Bearer"; a bad, expired
// or foreign token → 401 with an invalid_token challenge; no JWKS reachable
// at all → 500 AUTHORIZER_FAILURE.
//
// A JWT is safe for concurrent use. Call [JWT.Close] to stop its background
// refresh.
type JWT struct {
	issuer    string
	audiences []string
	source    identitySource
	secret    []byte
	leeway    time.Duration
	clock     clock.Clock
	logger    *slog.Logger
	client    *http.Client
	timeout   time.Duration
	jwksURL   string
	refresh   time.Duration
	refetch   time.Duration
	maxToken  int
	parser    *jwt.Parser
	usesJWKS  bool
	cache     *tokenCache

	keys atomic.Pointer[keySet]

	fetchMu    sync.Mutex // serialises fetches; guards the fields below
	discovered string     // jwks_uri from discovery
	lastFetch  time.Time

	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// NewJWT returns an authorizer for tokens issued by issuer (an absolute
// http(s) URL, the iss claim) to one of audiences (the aud claim of ID
// tokens, or the client_id claim of Cognito access tokens). Options:
// [WithJWKSURL], [WithHTTPClient], [WithClock], [WithLogger],
// [WithLeeway], [WithAlgorithms], [WithHMACSecret], [WithIdentitySource],
// [WithJWKSRefresh], [WithJWKSRefetchInterval], [WithTokenCache],
// [WithMaxTokenBytes], [WithTimeout]. Bad configuration is an error; no
// network request is made until the first token arrives.
func NewJWT(issuer string, audiences []string, opts ...Option) (*JWT, error) {
	o := options{
		identitySource: "$request.header.Authorization",
		jwksRefresh:    time.Hour,
		jwksRefetch:    30 * time.Second,
		tokenCache:     10000,
		maxTokenBytes:  8192,
		timeout:        1500 * time.Millisecond,
	}
	allowed := optJWKSURL | optHTTPClient | optClock | optLogger | optLeeway | optAlgorithms | optHMACSecret |
		optIdentitySource | optJWKSRefresh | optJWKSRefetch | optTokenCache | optMaxTokenBytes | optTimeout
	if err := applyOptions("NewJWT", &o, allowed, opts); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) (*JWT, error) {
		return nil, fmt.Errorf("auth: NewJWT: "+format, args...)
	}
	if err := validHTTPURL(issuer); err != nil {
		return fail("issuer: %v", err)
	}
	if len(audiences) == 0 {
		return fail("no audiences: give the client ids tokens must be issued to")
	}
	for _, a := range audiences {
		if a == "" {
			return fail("empty audience")
		}
	}
	src, err := parseIdentitySource(o.identitySource)
	if err != nil {
		return fail("%v", err)
	}
	if src.kind != srcHeader && src.kind != srcQuery && src.kind != srcCookie {
		return fail("identity source %q: a token comes from a header, query string or cookie", o.identitySource)
	}
	if o.hmacSecret != nil && len(o.hmacSecret) < 32 {
		return fail("WithHMACSecret: a secret of %d bytes is under 32", len(o.hmacSecret))
	}
	algs := o.algorithms
	if o.set&optAlgorithms == 0 {
		algs = slices.Clone(defaultJWTAlgorithms)
		if o.hmacSecret != nil {
			algs = append(algs, hmacAlgorithms...)
		}
	}
	if len(algs) == 0 {
		return fail("WithAlgorithms: no algorithms")
	}
	usesJWKS := false
	for _, alg := range algs {
		switch {
		case slices.Contains(hmacAlgorithms, alg):
			if o.hmacSecret == nil {
				return fail("algorithm %s needs WithHMACSecret", alg)
			}
		case slices.Contains(defaultJWTAlgorithms, alg):
			usesJWKS = true
		default:
			return fail("unsupported algorithm %q", alg)
		}
	}
	if o.jwksURL != "" {
		if err := validHTTPURL(o.jwksURL); err != nil {
			return fail("WithJWKSURL: %v", err)
		}
	}
	if o.leeway < 0 || o.jwksRefresh < 0 || o.jwksRefetch < 0 || o.tokenCache < 0 || o.maxTokenBytes <= 0 || o.timeout <= 0 {
		return fail("negative leeway, refresh, refetch interval or cache size, or non-positive token limit or timeout")
	}
	client := o.httpClient
	if client == nil {
		client = &http.Client{}
	}
	a := &JWT{
		issuer:    issuer,
		audiences: slices.Clone(audiences),
		source:    src,
		secret:    o.hmacSecret,
		leeway:    o.leeway,
		clock:     o.clock,
		logger:    o.logger,
		client:    client,
		timeout:   o.timeout,
		jwksURL:   o.jwksURL,
		refresh:   o.jwksRefresh,
		refetch:   o.jwksRefetch,
		maxToken:  o.maxTokenBytes,
		usesJWKS:  usesJWKS,
		done:      make(chan struct{}),
	}
	if o.tokenCache > 0 {
		a.cache = newTokenCache(o.tokenCache)
	}
	a.parser = jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithLeeway(o.leeway),
		jwt.WithTimeFunc(a.clock.Now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(issuer),
	)
	a.ctx, a.cancel = context.WithCancel(context.Background())
	if usesJWKS && a.refresh > 0 {
		go a.refreshLoop()
	} else {
		close(a.done)
	}
	return a, nil
}

// Close stops the background JWKS refresh and waits for it to end. The
// authorizer keeps working with the keys it has. Close is idempotent.
func (a *JWT) Close() error {
	a.closeOnce.Do(func() {
		a.cancel()
		<-a.done
	})
	return nil
}

// Refresh fetches the JWKS now, whatever the refetch bound, e.g. to warm
// the authorizer up before serving.
func (a *JWT) Refresh(ctx context.Context) error {
	_, err := a.fetchKeys(ctx, true)
	return err
}

func (a *JWT) refreshLoop() {
	defer close(a.done)
	t := a.clock.NewTimer(a.refresh)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C():
		}
		ctx, cancel := context.WithTimeout(a.ctx, a.timeout)
		_, err := a.fetchKeys(ctx, true)
		cancel()
		next := a.refresh
		if err != nil {
			if a.ctx.Err() != nil {
				return
			}
			a.logger.Warn("auth: JWKS refresh failed; keeping the keys already fetched", "issuer", a.issuer, "err", err)
			next = min(a.refresh, max(a.refetch, time.Second))
		}
		t.Reset(next)
	}
}

// fetchKeys fetches the JWKS unless, when not forced, the last fetch was
// under the refetch interval ago. It returns the current key set (maybe
// unchanged) and the fetch's error.
func (a *JWT) fetchKeys(ctx context.Context, force bool) (*keySet, error) {
	a.fetchMu.Lock()
	defer a.fetchMu.Unlock()
	now := a.clock.Now()
	if !force && !a.lastFetch.IsZero() && now.Sub(a.lastFetch) < a.refetch {
		return a.keys.Load(), nil
	}
	a.lastFetch = now
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	u := a.jwksURL
	if u == "" {
		u = a.discovered
	}
	if u == "" {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		discovery := strings.TrimSuffix(a.issuer, "/") + "/.well-known/openid-configuration"
		if err := getJSON(ctx, a.client, discovery, maxDiscoveryBytes, &doc); err != nil {
			return a.keys.Load(), fmt.Errorf("OIDC discovery: %w", err)
		}
		if doc.Issuer != a.issuer {
			return a.keys.Load(), fmt.Errorf("OIDC discovery: issuer %q is not %q", doc.Issuer, a.issuer)
		}
		if err := validHTTPURL(doc.JWKSURI); err != nil {
			return a.keys.Load(), fmt.Errorf("OIDC discovery: jwks_uri: %w", err)
		}
		a.discovered = doc.JWKSURI
		u = doc.JWKSURI
	}
	var raw []byte
	if err := getJSON(ctx, a.client, u, MaxJWKSBytes, &raw); err != nil {
		return a.keys.Load(), err
	}
	ks, err := parseJWKS(raw, a.logger)
	if err != nil {
		return a.keys.Load(), err
	}
	ks.keepKeys(a.keys.Load())
	a.keys.Store(ks)
	return ks, nil
}

// Authorize implements [Authorizer]; methodARN is not used.
func (a *JWT) Authorize(r *http.Request, _ string) (*Principal, error) {
	tok, ok, ambiguous := a.source.token(r, reqctx.From(r.Context()))
	switch {
	case ambiguous:
		return nil, unauthorized("invalid_token", "several tokens in "+a.source.expr, errors.New("auth: identity source "+a.source.expr+" appears more than once"))
	case !ok:
		return nil, unauthorized("", "", errors.New("auth: no token in "+a.source.expr))
	case len(tok) > a.maxToken:
		return nil, unauthorized("invalid_token", "the token is too large", fmt.Errorf("auth: token of %d bytes is over %d", len(tok), a.maxToken))
	}
	return a.Verify(r.Context(), tok)
}

// Verify verifies a raw token and returns its principal, or a 401 or 500
// *reqctx.Error as [JWT.Authorize] does.
func (a *JWT) Verify(ctx context.Context, tok string) (*Principal, error) {
	if len(tok) > a.maxToken {
		return nil, unauthorized("invalid_token", "the token is too large", fmt.Errorf("auth: token of %d bytes is over %d", len(tok), a.maxToken))
	}
	now := a.clock.Now()
	if a.cache != nil {
		if p := a.cache.get(tok, now, a.leeway, a.keys.Load()); p != nil {
			return p, nil
		}
	}
	var used *jwkKey
	claims := jwt.MapClaims{}
	_, err := a.parser.ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		if slices.Contains(hmacAlgorithms, alg) {
			if a.secret == nil {
				return nil, errKeyMismatch
			}
			return a.secret, nil
		}
		var kid string
		raw, hasKID := t.Header["kid"]
		if hasKID {
			s, isString := raw.(string)
			if !isString {
				return nil, errUnknownKID
			}
			kid = s
		}
		ks := a.keys.Load()
		if ks == nil {
			var err error
			if ks, err = a.fetchKeys(ctx, false); ks == nil {
				return nil, fmt.Errorf("%w: %v", errJWKSUnavailable, err)
			}
		}
		k := ks.lookup(kid, hasKID)
		if k == nil {
			// Perhaps the issuer rotated its keys: refetch, within bounds.
			if ks2, _ := a.fetchKeys(ctx, false); ks2 != nil {
				k = ks2.lookup(kid, hasKID)
			}
		}
		if k == nil {
			return nil, errUnknownKID
		}
		if !keyFits(k, alg) {
			return nil, errKeyMismatch
		}
		used = k
		return k.key, nil
	})
	if err != nil {
		if errors.Is(err, errJWKSUnavailable) {
			return nil, gwError(reqctx.AuthorizerFailure, "", err)
		}
		return nil, unauthorized("invalid_token", describeJWTError(err), err)
	}
	if !a.audienceOK(claims) {
		return nil, unauthorized("invalid_token", "the token was issued for another audience", errors.New("auth: token aud/client_id is none of the authorizer's audiences"))
	}
	p := &Principal{Kind: KindJWT, Claims: map[string]any(claims), Scopes: scopesOf(claims)}
	p.ID, _ = claims["sub"].(string)
	if a.cache != nil {
		ct := &cachedToken{p: p}
		if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
			ct.exp = exp.Time
		}
		if nbf, err := claims.GetNotBefore(); err == nil && nbf != nil {
			ct.nbf = nbf.Time
		}
		ct.key = used
		a.cache.put(tok, ct, now)
	}
	return p, nil
}

// Handler requires a valid token before calling next; it is
// (&Access{Authorizer: a, Clock: …}).Handler(next). Use [Access] directly
// for scopes and resource policies.
func (a *JWT) Handler(next http.Handler) http.Handler {
	return (&Access{Authorizer: a, Clock: a.clock}).Handler(next)
}

func (a *JWT) audienceOK(claims jwt.MapClaims) bool {
	if aud, err := claims.GetAudience(); err == nil {
		for _, x := range aud {
			if slices.Contains(a.audiences, x) {
				return true
			}
		}
	}
	if cid, ok := claims["client_id"].(string); ok && slices.Contains(a.audiences, cid) {
		return true
	}
	return false
}

func describeJWTError(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the token is malformed"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token was issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "the token has the wrong issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "the token lacks a required claim"
	case errors.Is(err, errUnknownKID):
		return "no signing key matches the token"
	}
	return "the token signature is invalid"
}

// scopesOf reads the scope (space-separated) or scp (list or string) claim.
func scopesOf(claims jwt.MapClaims) []string {
	if s, ok := claims["scope"].(string); ok {
		return strings.Fields(s)
	}
	switch v := claims["scp"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// tokenCache remembers verified tokens, keyed by a hash with a random seed
// and checked against the whole token on every hit. Safe for concurrent
// use.
type tokenCache struct {
	max  int
	seed maphash.Seed

	mu sync.RWMutex // guards m
	m  map[uint64]*cachedToken
}

type cachedToken struct {
	token    string
	p        *Principal
	exp, nbf time.Time
	key      *jwkKey // nil for HMAC tokens
}

func newTokenCache(n int) *tokenCache {
	return &tokenCache{max: n, seed: maphash.MakeSeed(), m: make(map[uint64]*cachedToken)}
}

// get returns the cached principal of a token if it is still valid at now
// and its key is still in ks. It does not allocate.
func (c *tokenCache) get(tok string, now time.Time, leeway time.Duration, ks *keySet) *Principal {
	h := maphash.String(c.seed, tok)
	c.mu.RLock()
	ct := c.m[h]
	c.mu.RUnlock()
	if ct == nil || !equalConstantTime(ct.token, tok) {
		return nil
	}
	if !now.Before(ct.exp.Add(leeway)) || !ct.nbf.IsZero() && now.Before(ct.nbf.Add(-leeway)) {
		return nil
	}
	if ct.key != nil && !ks.has(ct.key) {
		return nil
	}
	return ct.p
}

func (c *tokenCache) put(tok string, ct *cachedToken, now time.Time) {
	ct.token = tok
	h := maphash.String(c.seed, tok)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[h]; !ok && len(c.m) >= c.max {
		for k, v := range c.m {
			if !now.Before(v.exp) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[h] = ct
}

// equalConstantTime compares two strings in time that depends only on
// their lengths.
func equalConstantTime(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
