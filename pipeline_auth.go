//lint:file-ignore ST1005 configuration errors name the fields at fault (RouteAuth.Scopes, APIAuth.ResourcePolicy …).

package portico

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/auth"
)

// The authorizer types of [Authorizer.Type].
const (
	// AuthorizerJWT verifies JWT/OIDC bearer tokens against an issuer's JWKS
	// (the model's JWT and Cognito authorizers).
	AuthorizerJWT = "JWT"
	// AuthorizerToken is a custom authorizer given one header's token.
	AuthorizerToken = "TOKEN"
	// AuthorizerRequest is a custom authorizer given the whole request.
	AuthorizerRequest = "REQUEST"
)

// AuthorizerIAM is the [RouteAuth.Authorizer] value that requires SigV4
// (IAM-style) signatures, verified against [WithCredentials].
const AuthorizerIAM = "AWS_IAM"

// The stage endpoint types of [StageAuth.EndpointType].
const (
	EndpointRegional = "REGIONAL"
	EndpointEdge     = "EDGE"
	EndpointPrivate  = "PRIVATE"
)

// APIAuth holds an API's authorizers, API-key source and resource policy.
// The zero value has none of them.
type APIAuth struct {
	// Authorizers are the API's authorizers by name; routes name the one
	// they use in [RouteAuth.Authorizer].
	Authorizers map[string]Authorizer
	// APIKeySource says where the API key of a route that requires one
	// comes from: "HEADER" ("" means it: the x-api-key header) or
	// "AUTHORIZER" (the usageIdentifierKey of the route's custom
	// authorizer).
	APIKeySource string
	// ResourcePolicy is the API's resource policy, an IAM-style JSON policy
	// document (see auth.Policy): who may call which methods from where.
	// Resources may be written "execute-api:/{stage}/{METHOD}/{path}".
	// nil means no resource policy. A malformed policy fails the deploy,
	// naming the statement. It is evaluated for every route: explicit
	// denies before the authorizer runs, then together with the
	// authorizer's result by the model's evaluation table (see auth.Access).
	ResourcePolicy []byte
}

// Authorizer is one authorizer of an API. Type says which fields apply.
type Authorizer struct {
	// Type is AuthorizerJWT, AuthorizerToken or AuthorizerRequest; "" when
	// Custom is set.
	Type string

	// Issuer is the token issuer (JWT, required): an absolute http(s) URL,
	// the iss claim, whose OIDC discovery document names the JWKS.
	Issuer string
	// Audiences are the accepted aud (or Cognito client_id) values (JWT,
	// required).
	Audiences []string
	// JWKSURL, if set, is where the JWKS is fetched instead of the
	// discovery document's jwks_uri (JWT).
	JWKSURL string
	// Leeway is the clock difference allowed for exp, nbf and iat (JWT).
	Leeway time.Duration

	// Function is a custom authorizer's function (TOKEN, REQUEST); exactly
	// one of Function and Integration is set.
	Function auth.AuthorizerFunc
	// Integration is a custom authorizer served by any handler: it receives
	// the authorizer event as a JSON POST and answers the response as JSON
	// (see auth.FromHandler).
	Integration http.Handler
	// IdentitySources say where the caller's identity is:
	// "$request.header.NAME", "$request.querystring.NAME",
	// "$request.cookie.NAME" (JWT), "$stageVariables.NAME", "$context.NAME"
	// (REQUEST), or the model's "method.request.header.NAME" forms. JWT and
	// TOKEN take at most one (default the Authorization header); REQUEST
	// takes any number, all required, and caches results per their values.
	IdentitySources []string
	// IdentityValidationExpression is a regular expression a TOKEN must
	// match entirely, else 401 without calling the authorizer.
	IdentityValidationExpression string
	// ResultTTL is how long a custom authorizer's results are cached: 0
	// means 300 s, at most 3600 s; a negative value turns caching off (the
	// model's 0).
	ResultTTL time.Duration
	// PayloadFormatVersion is the REQUEST event format, "1.0" ("" means it)
	// or "2.0".
	PayloadFormatVersion string

	// Custom is any other authorizer, used as it is (Type must be "").
	Custom auth.Authorizer
}

// RouteAuth says who may call a route. The zero value lets anyone call it
// (subject to the API's resource policy).
type RouteAuth struct {
	// Authorizer names one of the API's authorizers, or is AuthorizerIAM
	// for SigV4 signatures; "" (or "NONE") means no authorizer.
	Authorizer string
	// APIKeyRequired makes the route require an API key from the gateway's
	// key store ([WithAPIKeys]): a missing, unknown or disabled key gets
	// 403 INVALID_API_KEY. The key's id lands in reqctx (APIKeyID) for
	// usage plans.
	APIKeyRequired bool
	// Scopes, for a JWT authorizer, are the route's authorization scopes:
	// the token's scope or scp claim must hold at least one, else 403.
	Scopes []string
}

// StageAuth holds a stage's endpoint settings. The zero value is a
// regional endpoint open to every source network.
type StageAuth struct {
	// EndpointType is EndpointRegional ("" means it), EndpointEdge (served
	// like a regional one) or EndpointPrivate. Exports show it.
	EndpointType string
	// AllowedNetworks are, for a private endpoint, the source networks
	// (labels given by [WithSourceNetworks]) allowed to call the stage; every
	// other request gets 403. A private endpoint needs at least one.
	AllowedNetworks []string
}

type authOptions struct {
	keys      auth.KeyStore
	creds     auth.CredentialStore
	networks  auth.NetworkFunc
	decisions auth.DecisionCache
	region    string
	client    *http.Client
}

// WithAPIKeys makes the gateway check API keys against store (an
// auth.MemoryKeyStore, or redisstore's to share keys between instances).
// Manage the keys with auth.NewKeys over the same store. Routes with
// [RouteAuth.APIKeyRequired] need it.
func WithAPIKeys(store auth.KeyStore) Option { return func(o *options) { o.auth.keys = store } }

// WithCredentials makes the gateway verify SigV4 signatures against store.
// Routes with the AuthorizerIAM authorizer need it.
func WithCredentials(store auth.CredentialStore) Option {
	return func(o *options) { o.auth.creds = store }
}

// WithSourceNetworks labels every request with the source networks f
// returns (reqctx Identity.Networks), e.g. auth.CIDRNetworks or per
// listener with auth.LabelNetworks and auth.ContextNetworks (the default
// when unset). Private endpoints and the aws:SourceVpc and aws:SourceVpce
// policy conditions match these labels.
func WithSourceNetworks(f auth.NetworkFunc) Option { return func(o *options) { o.auth.networks = f } }

// WithDecisionCache makes every custom authorizer cache its results in c
// (such as redisstore's, shared between instances) instead of the
// gateway's memory.
func WithDecisionCache(c auth.DecisionCache) Option {
	return func(o *options) { o.auth.decisions = c }
}

// WithRegion sets the region in method ARNs (default "local"), which
// policies match.
func WithRegion(region string) Option { return func(o *options) { o.auth.region = region } }

// WithAuthHTTPClient sets the client JWT authorizers fetch OIDC discovery
// documents and JWKS with (default: a client of its own per authorizer).
func WithAuthHTTPClient(c *http.Client) Option { return func(o *options) { o.auth.client = c } }

// authState holds what authorization keeps across deployments: the JWT
// authorizers (whose JWKS caches and refresh goroutines outlive a deploy),
// the key checker, the SigV4 verifier and the default decision cache. The
// zero value is ready.
type authState struct {
	mu        sync.Mutex // guards the fields below
	jwts      map[string]*auth.JWT
	keys      *auth.Keys
	sigv4     *auth.SigV4
	decisions auth.DecisionCache
}

// closeAuth stops the JWT authorizers' background JWKS refresh; Shutdown
// calls it.
func (g *Gateway) closeAuth() {
	g.auth.mu.Lock()
	jwts := g.auth.jwts
	g.auth.jwts = nil
	g.auth.mu.Unlock()
	for _, a := range jwts {
		_ = a.Close()
	}
}

func (g *Gateway) region() string {
	if g.opts.auth.region != "" {
		return g.opts.auth.region
	}
	return auth.DefaultRegion
}

// guardStep checks the stage's endpoint type and source networks and the
// resource policy's explicit denies, before any authorizer (pipeline step
// 3). It is nil for a route of a regional stage with no resource policy on
// a gateway that does not label source networks.
func (g *Gateway) guardStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	sa := d.stage.Auth
	var allowed []string
	switch sa.EndpointType {
	case "", EndpointRegional, EndpointEdge:
		if len(sa.AllowedNetworks) > 0 {
			return nil, fmt.Errorf("stage %q: StageAuth.AllowedNetworks apply only to a PRIVATE endpoint", d.stage.Name)
		}
	case EndpointPrivate:
		if len(sa.AllowedNetworks) == 0 {
			return nil, fmt.Errorf("stage %q: a PRIVATE endpoint needs StageAuth.AllowedNetworks", d.stage.Name)
		}
		allowed = slices.Clone(sa.AllowedNetworks)
	default:
		return nil, fmt.Errorf("stage %q: StageAuth.EndpointType %q: want REGIONAL, EDGE or PRIVATE", d.stage.Name, sa.EndpointType)
	}
	policy, err := g.resourcePolicy(d)
	if err != nil {
		return nil, err
	}
	if allowed == nil && policy == nil && g.opts.auth.networks == nil {
		return nil, nil
	}
	guard := &auth.Guard{
		Networks:       allowed,
		NetworksOf:     g.opts.auth.networks,
		ResourcePolicy: policy,
		Region:         g.region(),
		Clock:          g.clock,
	}
	return guard.Handler, nil
}

// authorizeStep runs the route's authorizer, checks its scopes, combines
// its decision with the resource policy and checks the API key (pipeline
// step 4). It is nil for a route with none of these.
func (g *Gateway) authorizeStep(d *Deployment, rt *Route) (func(http.Handler) http.Handler, error) {
	ra := rt.Auth
	aa := d.api.Auth
	policy, err := g.resourcePolicy(d)
	if err != nil {
		return nil, err
	}
	switch aa.APIKeySource {
	case "", auth.APIKeySourceHeader, auth.APIKeySourceAuthorizer:
	default:
		return nil, fmt.Errorf("APIAuth.APIKeySource %q: want HEADER or AUTHORIZER", aa.APIKeySource)
	}
	for name, cfg := range aa.Authorizers {
		if err := cfg.validate(); err != nil {
			return nil, fmt.Errorf("APIAuth.Authorizers[%q]: %w", name, err)
		}
	}
	access := &auth.Access{
		ResourcePolicy: policy,
		APIKeySource:   aa.APIKeySource,
		Region:         g.region(),
		Clock:          g.clock,
	}
	name := ra.Authorizer
	switch name {
	case "", "NONE":
		if len(ra.Scopes) > 0 {
			return nil, errors.New("RouteAuth.Scopes need a JWT authorizer")
		}
	case AuthorizerIAM:
		if len(ra.Scopes) > 0 {
			return nil, errors.New("RouteAuth.Scopes need a JWT authorizer, not AWS_IAM")
		}
		if access.Authorizer, err = g.sigV4(); err != nil {
			return nil, err
		}
	default:
		cfg, ok := aa.Authorizers[name]
		if !ok {
			return nil, fmt.Errorf("RouteAuth.Authorizer %q: the API has no such authorizer", name)
		}
		if len(ra.Scopes) > 0 && cfg.Type != AuthorizerJWT {
			return nil, fmt.Errorf("RouteAuth.Scopes need a JWT authorizer; %q is %s", name, cfg.kind())
		}
		if access.Authorizer, err = g.buildAuthorizer(d, name, cfg); err != nil {
			return nil, fmt.Errorf("APIAuth.Authorizers[%q]: %w", name, err)
		}
		access.Scopes = slices.Clone(ra.Scopes)
	}
	if ra.APIKeyRequired {
		if access.APIKeys, err = g.apiKeys(); err != nil {
			return nil, err
		}
		if aa.APIKeySource == auth.APIKeySourceAuthorizer {
			cfg, ok := aa.Authorizers[name]
			if !ok || (cfg.Type != AuthorizerToken && cfg.Type != AuthorizerRequest && cfg.Custom == nil) {
				return nil, errors.New("APIKeySource AUTHORIZER needs the route to have a custom authorizer, whose usageIdentifierKey is the key")
			}
		}
	}
	if access.Authorizer == nil && access.ResourcePolicy == nil && access.APIKeys == nil {
		return nil, nil
	}
	return access.Handler, nil
}

// resourcePolicy parses the API's resource policy for the deployment (nil
// if it has none).
func (g *Gateway) resourcePolicy(d *Deployment) (*auth.Policy, error) {
	doc := d.api.Auth.ResourcePolicy
	if doc == nil {
		return nil, nil
	}
	p, err := auth.ParseResourcePolicy(doc, g.region(), g.opts.accountID, d.api.apiID())
	if err != nil {
		return nil, fmt.Errorf("APIAuth.ResourcePolicy: %w", err)
	}
	return p, nil
}

func (a *Authorizer) kind() string {
	if a.Type == "" && a.Custom != nil {
		return "a custom auth.Authorizer"
	}
	return "of type " + a.Type
}

// validate checks the fields that apply to the authorizer's type.
func (a *Authorizer) validate() error {
	custom := a.Function != nil || a.Integration != nil
	switch a.Type {
	case "":
		if a.Custom == nil {
			return errors.New("Type: want JWT, TOKEN or REQUEST (or set Custom)")
		}
		if custom || a.Issuer != "" || len(a.IdentitySources) > 0 {
			return errors.New("Custom takes no other field")
		}
	case AuthorizerJWT:
		if a.Issuer == "" || len(a.Audiences) == 0 {
			return errors.New("a JWT authorizer needs an Issuer and Audiences")
		}
		if custom || a.Custom != nil {
			return errors.New("a JWT authorizer takes no Function, Integration or Custom")
		}
		if len(a.IdentitySources) > 1 {
			return errors.New("a JWT authorizer takes at most one identity source")
		}
	case AuthorizerToken, AuthorizerRequest:
		if (a.Function != nil) == (a.Integration != nil) {
			return fmt.Errorf("a %s authorizer needs exactly one of Function and Integration", a.Type)
		}
		if a.Custom != nil || a.Issuer != "" {
			return fmt.Errorf("a %s authorizer takes no Custom or Issuer", a.Type)
		}
		if a.Type == AuthorizerToken && len(a.IdentitySources) > 1 {
			return errors.New("a TOKEN authorizer takes at most one identity source")
		}
	default:
		return fmt.Errorf("Type %q: want JWT, TOKEN or REQUEST", a.Type)
	}
	return nil
}

// buildAuthorizer returns the authorizer cfg describes: JWT authorizers are
// shared by every deployment with the same settings (one JWKS cache and
// refresh each); custom authorizers share the gateway's decision cache
// under the namespace "{api id}/{name}".
func (g *Gateway) buildAuthorizer(d *Deployment, name string, cfg Authorizer) (auth.Authorizer, error) {
	switch cfg.Type {
	case "":
		return cfg.Custom, nil
	case AuthorizerJWT:
		return g.jwt(cfg)
	}
	opts := []auth.Option{auth.WithClock(g.clock), auth.WithLogger(g.logger), auth.WithCacheNamespace(d.api.apiID() + "/" + name)}
	switch {
	case cfg.ResultTTL < 0:
		opts = append(opts, auth.WithResultTTL(0))
	case cfg.ResultTTL > 0:
		opts = append(opts, auth.WithResultTTL(cfg.ResultTTL))
	}
	if cfg.ResultTTL >= 0 {
		opts = append(opts, auth.WithDecisionCache(g.decisionCache()))
	}
	fn := cfg.Function
	if fn == nil {
		fn = auth.FromHandler(cfg.Integration)
	}
	if cfg.Type == AuthorizerToken {
		if len(cfg.IdentitySources) == 1 {
			opts = append(opts, auth.WithIdentitySource(cfg.IdentitySources[0]))
		}
		if cfg.IdentityValidationExpression != "" {
			opts = append(opts, auth.WithTokenPattern(cfg.IdentityValidationExpression))
		}
		return auth.NewTokenAuthorizer(fn, opts...)
	}
	if cfg.PayloadFormatVersion != "" {
		opts = append(opts, auth.WithPayloadFormat(cfg.PayloadFormatVersion))
	}
	return auth.NewRequestAuthorizer(fn, cfg.IdentitySources, opts...)
}

func (g *Gateway) jwt(cfg Authorizer) (*auth.JWT, error) {
	src := ""
	if len(cfg.IdentitySources) == 1 {
		src = cfg.IdentitySources[0]
	}
	key := strings.Join([]string{cfg.Issuer, strings.Join(cfg.Audiences, "\x01"), cfg.JWKSURL, src, cfg.Leeway.String()}, "\x00")
	g.auth.mu.Lock()
	defer g.auth.mu.Unlock()
	if a := g.auth.jwts[key]; a != nil {
		return a, nil
	}
	if g.closing.Load() {
		return nil, ErrClosed
	}
	opts := []auth.Option{auth.WithClock(g.clock), auth.WithLogger(g.logger), auth.WithLeeway(cfg.Leeway)}
	if cfg.JWKSURL != "" {
		opts = append(opts, auth.WithJWKSURL(cfg.JWKSURL))
	}
	if src != "" {
		opts = append(opts, auth.WithIdentitySource(src))
	}
	if g.opts.auth.client != nil {
		opts = append(opts, auth.WithHTTPClient(g.opts.auth.client))
	}
	a, err := auth.NewJWT(cfg.Issuer, cfg.Audiences, opts...)
	if err != nil {
		return nil, err
	}
	if g.auth.jwts == nil {
		g.auth.jwts = map[string]*auth.JWT{}
	}
	g.auth.jwts[key] = a
	return a, nil
}

func (g *Gateway) sigV4() (*auth.SigV4, error) {
	if g.opts.auth.creds == nil {
		return nil, errors.New("RouteAuth.Authorizer AWS_IAM needs a credential store: portico.WithCredentials")
	}
	g.auth.mu.Lock()
	defer g.auth.mu.Unlock()
	if g.auth.sigv4 == nil {
		// The stage's body limit (MaxBytesReader) bounds what SigV4 reads.
		v, err := auth.NewSigV4(g.opts.auth.creds, auth.WithClock(g.clock), auth.WithMaxBodyBytes(1<<62))
		if err != nil {
			return nil, err
		}
		g.auth.sigv4 = v
	}
	return g.auth.sigv4, nil
}

func (g *Gateway) apiKeys() (*auth.Keys, error) {
	if g.opts.auth.keys == nil {
		return nil, errors.New("RouteAuth.APIKeyRequired needs a key store: portico.WithAPIKeys")
	}
	g.auth.mu.Lock()
	defer g.auth.mu.Unlock()
	if g.auth.keys == nil {
		k, err := auth.NewKeys(g.opts.auth.keys, auth.WithClock(g.clock))
		if err != nil {
			return nil, err
		}
		g.auth.keys = k
	}
	return g.auth.keys, nil
}

func (g *Gateway) decisionCache() auth.DecisionCache {
	if g.opts.auth.decisions != nil {
		return g.opts.auth.decisions
	}
	g.auth.mu.Lock()
	defer g.auth.mu.Unlock()
	if g.auth.decisions == nil {
		g.auth.decisions = auth.NewMemoryDecisionCache(0)
	}
	return g.auth.decisions
}
