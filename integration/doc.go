// Package integration holds Portico's backends: what a route calls once the
// gateway has let a request through.
//
// Every integration is an [net/http.Handler], so an existing handler is
// already one. This package adds the model gateway's kinds: Lambda-style
// functions ([Function], payload formats 1.0 and 2.0, JSON-compatible with
// github.com/aws/aws-lambda-go/events), mocks ([Mock]), and HTTP backends.
//
// Integrations whose configuration refers to stage variables
// (${stageVariables.name}) implement [Binder]; the gateway binds them once per
// deployment, so a reference to a variable the stage lacks is a deploy error,
// never an empty string at request time.
//
// Integrations report failures with [reqctx.WriteError], so the gateway
// renders them as its gateway responses (INTEGRATION_FAILURE,
// INTEGRATION_TIMEOUT, REQUEST_TOO_LARGE …).
package integration
