package openapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/portico-gw/portico"
	"github.com/portico-gw/portico/integration"
)

// MaxDocumentBytes is the largest document [Import] reads: 6 MB, the model
// gateway's import limit.
const MaxDocumentBytes = 6 << 20

// MaxDepth is how deeply a document may nest (objects and arrays), and how
// deeply [Import] inlines a schema that a model cannot refer to by name.
const MaxDepth = 128

// MaxNodes is how many values (objects, arrays, strings, numbers …) a
// document may hold once its YAML aliases are expanded.
const MaxNodes = 2_000_000

// Mode says what [Import] does with an existing API.
type Mode string

// The import modes.
const (
	// Overwrite ("" means it) builds a new API from the document alone.
	Overwrite Mode = "overwrite"
	// Merge imports the document into [ImportOptions.Into]: see
	// [ImportOptions].
	Merge Mode = "merge"
)

// ImportOptions configure [Import]. The zero value imports a new API with
// no functions.
type ImportOptions struct {
	// Mode is Overwrite ("") or Merge.
	//
	// In Merge mode the result is a copy of Into (Into itself is not
	// changed) to which the document is added: an imported route replaces
	// the route of Into with the same key ("GET /pets", "$default"), the
	// other routes of Into are kept; imported authorizers, models and
	// gateway responses replace those of Into with the same name or type;
	// binary media types are added to those of Into; the API-key source,
	// resource policy, CORS configuration and response compression of the
	// document replace those of Into only when the document sets them. The
	// name, id, type, version and description of Into are kept.
	Mode Mode
	// Into is the API a Merge imports into; required in Merge mode, unused
	// otherwise.
	Into *portico.API
	// Registry holds the functions that aws_proxy and aws integrations and
	// custom authorizers name (by name, NAME:ALIAS or ARN; see
	// [integration.Ref]). An operation without an integration extension is
	// served by the registry entry named by its operationId, if there is
	// one. A name without stage variables that the registry does not hold
	// is an error; one with stage variables is resolved at deploy.
	Registry integration.Registry
	// Name is the API name; "" takes the document's info.title.
	Name string
	// Type is the API type; "" means HTTP for a document exported from an
	// HTTP API (x-amazon-apigateway-importexport-version, or a $default
	// route) and REST otherwise.
	Type portico.APIType
	// ValidateRequests validates the parameters and bodies of every
	// operation that names no request validator
	// (x-amazon-apigateway-request-validator). The model gateway validates
	// none of them; false does the same.
	ValidateRequests bool
	// FailOnWarnings makes Import fail with a *[WarningsError] when the
	// document gives any warning.
	FailOnWarnings bool
}

// Imported is the result of [Import].
type Imported struct {
	// API is the imported API, ready for [portico.Gateway.Deploy].
	// Operations with no integration extension and no registry entry of
	// their operationId have a nil Integration, which Deploy reports
	// naming the route: set it before deploying.
	API *portico.API
	// Endpoint is the stage endpoint the document asks for
	// (x-amazon-apigateway-endpoint-configuration): its EndpointType is the
	// first of types (REGIONAL, EDGE or PRIVATE; "" when the document says
	// nothing), and PRIVATE when vpcEndpointIds are listed, which become
	// AllowedNetworks (the labels a [portico.WithSourceNetworks] function
	// gives). Endpoint settings belong to stages, so Import only suggests
	// them: pass it as [portico.StageConfig].Auth.
	Endpoint portico.StageAuth
	// Warnings list what was imported only in part, or not at all, in a
	// fixed order: document-level settings, schemas, security schemes,
	// then the paths sorted.
	Warnings []Warning
	// Version is the document's version: "2.0", "3.0" or "3.1".
	Version string
}

// Warning is something of the document that was imported only in part or
// not at all.
type Warning struct {
	// Pointer is the JSON pointer of the part of the document the warning
	// is about, as a URI fragment ("#/paths/~1pets/get/parameters/0").
	Pointer string
	// Message says what was not imported and why.
	Message string
}

// String returns "pointer: message".
func (w Warning) String() string { return w.Pointer + ": " + w.Message }

// WarningsError is the error of an [Import] with
// [ImportOptions.FailOnWarnings] that gave warnings.
type WarningsError struct {
	// Warnings are all the warnings the import gave.
	Warnings []Warning
}

// Error lists the first warnings.
func (e *WarningsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "openapi: import failed on %d warning(s)", len(e.Warnings))
	for i, w := range e.Warnings {
		if i == 5 {
			fmt.Fprintf(&b, "; …")
			break
		}
		b.WriteString("; ")
		b.WriteString(w.String())
	}
	return b.String()
}

// ErrInvalidDocument is the cause of every error about a document that
// cannot be read at all (not JSON or YAML, too large, too deep, not an
// OpenAPI or Swagger document, unresolvable references); match it with
// [errors.Is].
var ErrInvalidDocument = errors.New("openapi: invalid document")

// pointer builds a JSON pointer fragment from reference tokens.
func pointer(tokens ...string) string {
	var b strings.Builder
	b.WriteByte('#')
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
