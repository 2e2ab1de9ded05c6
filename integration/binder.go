package integration

import (
	"net/http"

	"github.com/portico-gw/portico/internal/stagevar"
)

// Binder is implemented by integrations whose configuration refers to stage
// variables. The gateway calls BindStage once per deployment with the stage's
// variables and serves the handler it returns; an error (such as a reference
// to an undefined variable) fails the deployment.
type Binder interface {
	BindStage(vars map[string]string) (http.Handler, error)
}

// ExpandStageVariables replaces every ${stageVariables.name} in s with the
// variable's value; a reference to an undefined variable is an error naming
// it.
func ExpandStageVariables(s string, vars map[string]string) (string, error) {
	return stagevar.Expand(s, vars)
}
