package auth

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/portico-gw/portico/clock"
)

// Option configures one of the package's components ([NewJWT],
// [NewTokenAuthorizer], [NewRequestAuthorizer], [NewSigV4], [NewKeys]). Each
// constructor documents the options it takes and returns an error for one
// that does not apply to it, so that a misplaced option never goes
// unnoticed.
type Option func(*options)

type optionBit uint32

const (
	optClock optionBit = 1 << iota
	optLogger
	optHTTPClient
	optJWKSURL
	optLeeway
	optAlgorithms
	optHMACSecret
	optIdentitySource
	optJWKSRefresh
	optJWKSRefetch
	optTokenCache
	optMaxTokenBytes
	optResultTTL
	optDecisionCache
	optCacheNamespace
	optTokenPattern
	optTimeout
	optPayloadFormat
	optRegion
	optService
	optMaxBodyBytes
	optClockSkew
	optKeyLength
)

var optionNames = map[optionBit]string{
	optClock:          "WithClock",
	optLogger:         "WithLogger",
	optHTTPClient:     "WithHTTPClient",
	optJWKSURL:        "WithJWKSURL",
	optLeeway:         "WithLeeway",
	optAlgorithms:     "WithAlgorithms",
	optHMACSecret:     "WithHMACSecret",
	optIdentitySource: "WithIdentitySource",
	optJWKSRefresh:    "WithJWKSRefresh",
	optJWKSRefetch:    "WithJWKSRefetchInterval",
	optTokenCache:     "WithTokenCache",
	optMaxTokenBytes:  "WithMaxTokenBytes",
	optResultTTL:      "WithResultTTL",
	optDecisionCache:  "WithDecisionCache",
	optCacheNamespace: "WithCacheNamespace",
	optTokenPattern:   "WithTokenPattern",
	optTimeout:        "WithTimeout",
	optPayloadFormat:  "WithPayloadFormat",
	optRegion:         "WithRegion",
	optService:        "WithService",
	optMaxBodyBytes:   "WithMaxBodyBytes",
	optClockSkew:      "WithClockSkew",
	optKeyLength:      "WithKeyLength",
}

type options struct {
	set optionBit

	clock          clock.Clock
	logger         *slog.Logger
	httpClient     *http.Client
	jwksURL        string
	leeway         time.Duration
	algorithms     []string
	hmacSecret     []byte
	identitySource string
	jwksRefresh    time.Duration
	jwksRefetch    time.Duration
	tokenCache     int
	maxTokenBytes  int
	resultTTL      time.Duration
	decisionCache  DecisionCache
	cacheNamespace string
	tokenPattern   string
	timeout        time.Duration
	payloadFormat  string
	region         string
	service        string
	maxBodyBytes   int64
	clockSkew      time.Duration
	keyLength      int
}

// applyOptions applies opts over o and fails if one of them is not among
// allowed, naming the component.
func applyOptions(component string, o *options, allowed optionBit, opts []Option) error {
	for _, opt := range opts {
		if opt == nil {
			return fmt.Errorf("auth: %s: nil Option", component)
		}
		opt(o)
	}
	if extra := o.set &^ allowed; extra != 0 {
		var names []string
		for bit := optionBit(1); bit != 0 && bit <= extra; bit <<= 1 {
			if extra&bit != 0 {
				names = append(names, optionNames[bit])
			}
		}
		return fmt.Errorf("auth: %s does not take %s", component, strings.Join(names, ", "))
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	o.clock = clock.OrReal(o.clock)
	return nil
}

// WithClock makes the component read time from c (default: the real clock).
// Tests pass a fake clock. Applies to every component.
func WithClock(c clock.Clock) Option {
	return func(o *options) { o.clock = c; o.set |= optClock }
}

// WithLogger sets where a component logs problems it cannot return, such
// as a failed background JWKS refresh or an unreachable decision cache
// (default slog.Default()). Secrets (tokens, keys, signatures) are never
// logged. Applies to [NewJWT], [NewTokenAuthorizer], [NewRequestAuthorizer].
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l; o.set |= optLogger }
}

// WithHTTPClient sets the client a [JWT] authorizer fetches the OIDC
// discovery document and the JWKS with (default: a client with no proxy
// settings beyond the environment's and the [WithTimeout] deadline).
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c; o.set |= optHTTPClient }
}

// WithJWKSURL makes a [JWT] authorizer fetch its keys from url instead of
// the jwks_uri of the issuer's OIDC discovery document.
func WithJWKSURL(url string) Option {
	return func(o *options) { o.jwksURL = url; o.set |= optJWKSURL }
}

// WithLeeway allows d of clock difference when a [JWT] authorizer checks
// exp, nbf and iat (default 0, as the model gateway).
func WithLeeway(d time.Duration) Option {
	return func(o *options) { o.leeway = d; o.set |= optLeeway }
}

// WithAlgorithms sets the signature algorithms a [JWT] authorizer accepts
// (default RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512,
// EdDSA). HS256, HS384 and HS512 are accepted only together with
// [WithHMACSecret]; "none" never.
func WithAlgorithms(algs ...string) Option {
	return func(o *options) { o.algorithms = append([]string(nil), algs...); o.set |= optAlgorithms }
}

// WithHMACSecret makes a [JWT] authorizer accept tokens signed with HS256,
// HS384 or HS512 under secret (at least 32 bytes). JWKS keys are never used
// as HMAC secrets, so a token that names an HS algorithm cannot be verified
// with a public key.
func WithHMACSecret(secret []byte) Option {
	return func(o *options) { o.hmacSecret = append([]byte(nil), secret...); o.set |= optHMACSecret }
}

// WithIdentitySource says where a [JWT] or TOKEN authorizer finds the
// token: "$request.header.NAME" (default "$request.header.Authorization";
// a "Bearer " prefix is removed), "$request.querystring.NAME" or
// "$request.cookie.NAME". The model's "method.request.header.NAME" form is
// accepted too.
func WithIdentitySource(src string) Option {
	return func(o *options) { o.identitySource = src; o.set |= optIdentitySource }
}

// WithJWKSRefresh sets how often a [JWT] authorizer refetches its JWKS in
// the background (default 1 h; 0 turns background refresh off, leaving only
// the refetch on an unknown key id).
func WithJWKSRefresh(d time.Duration) Option {
	return func(o *options) { o.jwksRefresh = d; o.set |= optJWKSRefresh }
}

// WithJWKSRefetchInterval bounds how often a token with an unknown key id
// makes a [JWT] authorizer refetch its JWKS (default one fetch per 30 s),
// so that tokens with made-up key ids cannot make it hammer the issuer.
func WithJWKSRefetchInterval(d time.Duration) Option {
	return func(o *options) { o.jwksRefetch = d; o.set |= optJWKSRefetch }
}

// WithTokenCache sets how many verified tokens a [JWT] authorizer
// remembers (default 10 000; 0 turns the cache off). A cached token is
// served without verifying its signature again until it expires or its key
// leaves the JWKS.
func WithTokenCache(n int) Option {
	return func(o *options) { o.tokenCache = n; o.set |= optTokenCache }
}

// WithMaxTokenBytes sets the longest token a [JWT] or TOKEN authorizer
// accepts (default 8 192 bytes); longer ones get 401 without being parsed.
func WithMaxTokenBytes(n int) Option {
	return func(o *options) { o.maxTokenBytes = n; o.set |= optMaxTokenBytes }
}

// WithResultTTL sets how long a custom authorizer's results are cached per
// identity-source values (default 300 s, at most 3600 s; 0 turns caching
// off).
func WithResultTTL(d time.Duration) Option {
	return func(o *options) { o.resultTTL = d; o.set |= optResultTTL }
}

// WithDecisionCache sets where a custom authorizer caches its results
// (default: a private [MemoryDecisionCache] of 10 000 entries). Share one
// Redis cache (redisstore) between gateway instances to share results.
func WithDecisionCache(c DecisionCache) Option {
	return func(o *options) { o.decisionCache = c; o.set |= optDecisionCache }
}

// WithCacheNamespace prefixes a custom authorizer's cache keys with ns, so
// that authorizers sharing one [DecisionCache] never see each other's
// results (default: none; the gateway uses the API id and authorizer name).
func WithCacheNamespace(ns string) Option {
	return func(o *options) { o.cacheNamespace = ns; o.set |= optCacheNamespace }
}

// WithTokenPattern sets a TOKEN authorizer's identity validation
// expression: a token that the regular expression does not match entirely
// gets 401 without the authorizer being called.
func WithTokenPattern(re string) Option {
	return func(o *options) { o.tokenPattern = re; o.set |= optTokenPattern }
}

// WithTimeout bounds one call: of a custom authorizer's function (default
// 10 s), or of a [JWT] authorizer's discovery or JWKS fetch (default
// 1.5 s).
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d; o.set |= optTimeout }
}

// WithPayloadFormat sets the event a custom authorizer receives: "1.0"
// (default; the REST model: type, methodArn, headers …) or "2.0" (the HTTP
// model: version, routeArn, identitySource …).
func WithPayloadFormat(v string) Option {
	return func(o *options) { o.payloadFormat = v; o.set |= optPayloadFormat }
}

// WithRegion makes a [SigV4] verifier accept only signatures scoped to
// region (default: any region).
func WithRegion(region string) Option {
	return func(o *options) { o.region = region; o.set |= optRegion }
}

// WithService sets the service name a [SigV4] signature must be scoped to
// (default "execute-api").
func WithService(service string) Option {
	return func(o *options) { o.service = service; o.set |= optService }
}

// WithMaxBodyBytes bounds the body a [SigV4] verifier reads to hash it
// (default 10 MB); a longer body gets 413 REQUEST_TOO_LARGE. Inside a
// gateway the stage's body limit applies as well.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) { o.maxBodyBytes = n; o.set |= optMaxBodyBytes }
}

// WithClockSkew sets how far a [SigV4] signature's date may be from the
// verifier's clock (default 5 min, the model gateway's).
func WithClockSkew(d time.Duration) Option {
	return func(o *options) { o.clockSkew = d; o.set |= optClockSkew }
}

// WithKeyLength sets the length of the API key values [Keys.Create] and
// [Keys.Rotate] generate (default 40; 20–128).
func WithKeyLength(n int) Option {
	return func(o *options) { o.keyLength = n; o.set |= optKeyLength }
}
