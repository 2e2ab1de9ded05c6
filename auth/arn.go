package auth

import (
	"net/http"
	"strings"

	"github.com/portico-gw/portico/reqctx"
)

// DefaultRegion is the region in method ARNs when none is configured.
const DefaultRegion = "local"

// ActionInvoke is the action every API call is: execute-api:Invoke.
const ActionInvoke = "execute-api:Invoke"

// MethodARN returns the ARN of a method call, as policies name it:
// arn:aws:execute-api:{region}:{accountID}:{apiID}/{stage}/{METHOD}/{path},
// where path is the request path below the stage without its leading "/".
// An empty region is [DefaultRegion].
func MethodARN(region, accountID, apiID, stage, method, path string) string {
	if region == "" {
		region = DefaultRegion
	}
	path = strings.TrimPrefix(path, "/")
	var b strings.Builder
	b.Grow(len("arn:aws:execute-api:::///") + len(region) + len(accountID) + len(apiID) + len(stage) + len(method) + len(path))
	b.WriteString("arn:aws:execute-api:")
	b.WriteString(region)
	b.WriteByte(':')
	b.WriteString(accountID)
	b.WriteByte(':')
	b.WriteString(apiID)
	b.WriteByte('/')
	b.WriteString(stage)
	b.WriteByte('/')
	b.WriteString(method)
	b.WriteByte('/')
	b.WriteString(path)
	return b.String()
}

// requestARN is the method ARN of r: from its Portico request context when
// a gateway serves it, else from the request alone, with account
// "000000000000" and "-" for the API id and the stage (see [Access]).
func requestARN(r *http.Request, region string) string {
	if rc := reqctx.From(r.Context()); rc != nil && rc.APIID != "" {
		path := rc.RoutePath
		if path == "" {
			path = r.URL.Path
		}
		return MethodARN(region, rc.AccountID, rc.APIID, rc.Stage, rc.HTTPMethod, path)
	}
	return MethodARN(region, standaloneAccount, standaloneAPI, standaloneStage, r.Method, r.URL.Path)
}

// Placeholders in the method ARN of a request served outside a gateway.
const (
	standaloneAccount = "000000000000"
	standaloneAPI     = "-"
	standaloneStage   = "-"
)
