// Package openapi imports OpenAPI documents into Portico APIs and exports
// deployed APIs as OpenAPI documents, with the model gateway's
// x-amazon-apigateway-* extensions.
//
// [Import] reads OpenAPI 3.0, 3.1 and Swagger 2.0 documents, JSON or YAML,
// with local $refs, and builds a [portico.API]: one route per operation,
// request validation and models from parameters, request bodies and
// responses, authorizers from security schemes, and integrations from
// x-amazon-apigateway-integration (functions come from an
// [integration.Registry]). [Export] and [Document] go the other way, from a
// [portico.Stage], [portico.Deployment] or [portico.API].
//
//	reg := integration.Registry{"getPet": integration.Function(getPet)}
//	imp, err := openapi.Import(doc, openapi.ImportOptions{Registry: reg})
//	if err != nil {
//		return err // unknown integration types, unresolved functions …
//	}
//	for _, w := range imp.Warnings {
//		log.Println(w) // #/paths/~1pets/get/...: what was not imported
//	}
//	stage, err := gw.Deploy(imp.API, portico.StageConfig{Name: "prod", Auth: imp.Endpoint})
//	…
//	yaml, warnings, err := openapi.Export(stage, openapi.ExportOptions{Format: openapi.YAML})
//
// # Limits
//
// Import refuses documents larger than [MaxDocumentBytes] (6 MB, the model
// gateway's import limit) and documents nested deeper than [MaxDepth]
// levels, or that expand (through YAML aliases) to more than
// [MaxNodes] values. Only local references ("#/...") are followed; a
// reference to another file or URL is an error. Schemas that a model
// cannot refer to by name are inlined at most [MaxDepth] levels deep, and
// at most 200,000 schema nodes are converted per document. Bad input is
// reported as an error, never a panic.
//
// # What is not imported
//
// servers and basePath are not imported: stages and base path mappings
// say where an API is served. Webhooks, callbacks,
// x-amazon-apigateway-documentation and -tag-value are not imported, with
// a warning; parts that only document (examples, links, tags, external
// docs) are left out silently, as they change nothing the gateway does.
// Every other part imported only in part is reported as a [Warning] with
// its JSON pointer.
//
// # Concurrency
//
// Import and Export share no state between calls and may run
// concurrently; Export reads the API it is given, which must not change
// meanwhile.
package openapi
