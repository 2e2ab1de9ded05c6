// Package sdk generates client SDKs from an OpenAPI 3 document, such as the
// one Portico exports for a deployed stage: a Go package ([Go]) and a
// TypeScript module ([TypeScript]).
//
//	doc, err := openapi3.NewLoader().LoadFromFile("pets.yaml")
//	if err != nil { … }
//	src, err := sdk.Go(doc, sdk.GoOptions{Package: "pets"})
//	if err != nil { … }
//	err = os.WriteFile("pets/client.go", src, 0o644)
//
// # What a generated client holds
//
// Both clients hold one method per operation, named from its operationId
// or else from its method and path ("GET /pets/{id}" → GetPetsID), made a
// valid identifier and deduplicated deterministically (operations with an
// operationId claim their names first, in path then method order; a later
// clash gets a number). Path, query and header parameters are fields of an
// input type; cookie parameters are left out. The request body and the
// success response (the lowest 2xx status, else 2XX) are typed from their
// JSON schemas; other media types are bytes (Go) or strings (TypeScript).
// Models come from components/schemas: objects become structs
// (interfaces), allOf of objects is merged, string enums become constants
// (union types), additionalProperties become maps, nullable values are
// pointers (| null); any other schema — oneOf, anyOf, several types,
// unresolved references — becomes json.RawMessage (unknown) with a comment.
// Recursive schemas are fine. Generation never fails on an unusual schema.
//
// Both clients authenticate with an API key (x-api-key), a bearer token,
// extra headers or a request signer for AWS Signature Version 4 (service
// execute-api), and say in each operation's documentation which
// credentials its security requirements ask for; they
// retry 429 responses honouring Retry-After, with a bounded number of
// attempts and a wait the caller's context (AbortSignal) can end, and
// return responses outside 2xx as an APIError carrying the status, the
// x-amzn-ErrorType error type and the body's message.
//
// The Go client imports only the standard library unless
// [GoOptions].SigV4 asks for a WithSigV4 option built on the aws-sdk-go-v2
// signer. The TypeScript client uses the global fetch and has no built-in
// signer: SigV4 is a user-supplied function (ClientOptions.signer).
//
// Output is deterministic: the same document and options give the same
// bytes.
package sdk
