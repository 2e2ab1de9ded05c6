// Package auth decides who may call an API: API keys, JWT/OIDC authorizers
// with JWKS, custom (Lambda-style) authorizers with result caching, SigV4
// (IAM-style) request verification, IAM-style policies, resource policies
// and private-endpoint network guards.
//
// Every authorizer implements [Authorizer]: it turns a request into a
// [Principal] or a typed gateway error (401 UNAUTHORIZED, 403
// ACCESS_DENIED, 403 INVALID_SIGNATURE, 500 AUTHORIZER_FAILURE …, see
// reqctx.ResponseType). [Access] is the authorization step of one route —
// authorizer, required scopes, resource policy and API key — and [Guard] the
// step before it — source networks and the resource policy's explicit
// denies. Both are usable on their own around any handler, and every
// authorizer has a Handler method for the common case:
//
//	jwtAuth, err := auth.NewJWT("https://issuer.example.com", []string{"my-client-id"})
//	if err != nil { … }
//	defer jwtAuth.Close()
//	mux.Handle("/orders", jwtAuth.Handler(ordersHandler)) // 401 without a valid token
//
//	keys, _ := auth.NewKeys(auth.NewMemoryKeyStore())
//	k, value, _ := keys.Create(ctx, "partner-a") // value is shown once; only its hash is kept
//	mux.Handle("/reports", keys.Handler(reportsHandler)) // 403 without a valid x-api-key
//
// Inside a Portico gateway these steps are composed per route from the API's
// configuration (portico.APIAuth, portico.RouteAuth, portico.StageAuth) and
// what they learn lands in the request context (reqctx.From(ctx).Authorizer,
// .Identity, .APIKeyID), where integrations, usage plans and gateway
// responses ($context.authorizer.claims.sub …) read it.
//
// Shared state — API keys ([KeyStore]) and cached custom-authorizer
// decisions ([DecisionCache]) — has in-memory implementations here and Redis
// ones in package redisstore; package authtest holds the contract suites
// both pass.
package auth
