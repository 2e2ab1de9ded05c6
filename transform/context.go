package transform

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/reqctx"
)

// The $context variables templates and parameter mappings may read, by
// dotted name. A nil *reqctx.Context reads as empty.

type ctxFunc func(rc *reqctx.Context) any

const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

func certTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

var contextVars = map[string]ctxFunc{
	"requestId":                              func(rc *reqctx.Context) any { return rc.RequestID },
	"extendedRequestId":                      func(rc *reqctx.Context) any { return rc.ExtendedRequestID },
	"requestTime":                            func(rc *reqctx.Context) any { return rc.RequestTime.UTC().Format(requestTimeLayout) },
	"requestTimeEpoch":                       func(rc *reqctx.Context) any { return rc.RequestTime.UnixMilli() },
	"accountId":                              func(rc *reqctx.Context) any { return rc.AccountID },
	"apiId":                                  func(rc *reqctx.Context) any { return rc.APIID },
	"stage":                                  func(rc *reqctx.Context) any { return rc.Stage },
	"deploymentId":                           func(rc *reqctx.Context) any { return rc.DeploymentID },
	"routeKey":                               func(rc *reqctx.Context) any { return rc.RouteKey },
	"resourcePath":                           func(rc *reqctx.Context) any { return rc.ResourcePath },
	"resourceId":                             func(rc *reqctx.Context) any { return rc.ResourceID },
	"path":                                   func(rc *reqctx.Context) any { return rc.Path },
	"httpMethod":                             func(rc *reqctx.Context) any { return rc.HTTPMethod },
	"protocol":                               func(rc *reqctx.Context) any { return rc.Protocol },
	"domainName":                             func(rc *reqctx.Context) any { return rc.DomainName },
	"domainPrefix":                           func(rc *reqctx.Context) any { return rc.DomainPrefix },
	"integrationLatency":                     func(rc *reqctx.Context) any { return rc.IntegrationLatency.Milliseconds() },
	"customDomain.basePathMatched":           func(rc *reqctx.Context) any { return rc.BasePathMatched },
	"error.message":                          func(rc *reqctx.Context) any { return rc.Error.Message },
	"error.messageString":                    func(rc *reqctx.Context) any { return reqctx.JSONString(rc.Error.Message) },
	"error.responseType":                     func(rc *reqctx.Context) any { return string(rc.Error.Type) },
	"error.validationErrorString":            func(rc *reqctx.Context) any { return rc.Error.ValidationErrorString },
	"identity.sourceIp":                      func(rc *reqctx.Context) any { return rc.Identity.SourceIP },
	"identity.userAgent":                     func(rc *reqctx.Context) any { return rc.Identity.UserAgent },
	"identity.apiKey":                        func(rc *reqctx.Context) any { return rc.APIKey },
	"identity.apiKeyId":                      func(rc *reqctx.Context) any { return rc.APIKeyID },
	"identity.caller":                        func(rc *reqctx.Context) any { return rc.Identity.Caller },
	"identity.user":                          func(rc *reqctx.Context) any { return rc.Identity.User },
	"identity.userArn":                       func(rc *reqctx.Context) any { return rc.Identity.UserARN },
	"identity.accessKey":                     func(rc *reqctx.Context) any { return rc.Identity.AccessKey },
	"identity.accountId":                     func(rc *reqctx.Context) any { return rc.Identity.AccountID },
	"identity.clientCert.clientCertPem":      func(rc *reqctx.Context) any { return certField(rc, 0) },
	"identity.clientCert.subjectDN":          func(rc *reqctx.Context) any { return certField(rc, 1) },
	"identity.clientCert.issuerDN":           func(rc *reqctx.Context) any { return certField(rc, 2) },
	"identity.clientCert.serialNumber":       func(rc *reqctx.Context) any { return certField(rc, 3) },
	"identity.clientCert.validity.notBefore": func(rc *reqctx.Context) any { return certField(rc, 4) },
	"identity.clientCert.validity.notAfter":  func(rc *reqctx.Context) any { return certField(rc, 5) },
	// Cognito and organization fields exist for templates exported from the
	// model gateway; Portico has no Cognito identities, so they are empty.
	"identity.cognitoIdentityPoolId":         func(*reqctx.Context) any { return "" },
	"identity.cognitoIdentityId":             func(*reqctx.Context) any { return "" },
	"identity.cognitoAuthenticationType":     func(*reqctx.Context) any { return "" },
	"identity.cognitoAuthenticationProvider": func(*reqctx.Context) any { return "" },
	"identity.principalOrgId":                func(*reqctx.Context) any { return "" },
	"authorizer.principalId":                 func(rc *reqctx.Context) any { return rc.Authorizer.PrincipalID },
	"authorizer.claims":                      func(rc *reqctx.Context) any { return rc.Authorizer.Claims },
	"authorizer.scopes": func(rc *reqctx.Context) any {
		out := make([]any, len(rc.Authorizer.Scopes))
		for i, s := range rc.Authorizer.Scopes {
			out[i] = s
		}
		return out
	},
}

func certField(rc *reqctx.Context, i int) string {
	c := rc.Identity.ClientCert
	if c == nil {
		return ""
	}
	switch i {
	case 0:
		return c.ClientCertPEM
	case 1:
		return c.SubjectDN
	case 2:
		return c.IssuerDN
	case 3:
		return c.SerialNumber
	case 4:
		return certTime(c.NotBefore)
	}
	return certTime(c.NotAfter)
}

// contextGroups are the dotted prefixes that hold further variables.
var contextGroups = map[string]bool{
	"identity": true, "identity.clientCert": true, "identity.clientCert.validity": true,
	"error": true, "authorizer": true, "customDomain": true,
}

// contextMembers are the first segments of the variables ($context.X…),
// for template checks.
func contextMembers() []string {
	seen := map[string]bool{"requestOverride": true, "responseOverride": true}
	for k := range contextVars {
		first, _, _ := strings.Cut(k, ".")
		seen[first] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// compileContextVar returns the reader of a dotted $context name, or an
// error for an unknown one. authorizer.NAME reads the authorizer's context
// (and authorizer.claims.NAME a JWT claim).
func compileContextVar(name string) (ctxFunc, error) {
	if f, ok := contextVars[name]; ok {
		return f, nil
	}
	if claim, ok := strings.CutPrefix(name, "authorizer.claims."); ok && claim != "" {
		return func(rc *reqctx.Context) any { return rc.Authorizer.Claims[claim] }, nil
	}
	if key, ok := strings.CutPrefix(name, "authorizer."); ok && key != "" && !strings.Contains(key, ".") {
		return func(rc *reqctx.Context) any { return rc.Authorizer.Context[key] }, nil
	}
	return nil, fmt.Errorf("unknown context variable %q", name)
}

// contextString renders a context value for a header or query value.
func contextString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
