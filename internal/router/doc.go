// Package router matches request paths to route templates, compiled once at
// deploy time.
//
// Templates are made of literal segments, parameters ("{id}", a whole
// segment) and at most one greedy parameter, last ("{proxy+}", one or more
// segments). Matching rules:
//
//   - The request path is split on "/"; one trailing slash is ignored and ""
//     is "/". Literals compare case-sensitively on the escaped path, so
//     "%2F" inside a segment belongs to that segment.
//   - At each level a literal child beats a parameter, which beats a greedy
//     parameter; when a branch fails deeper down, the next is tried. A
//     parameter never matches an empty segment; a greedy parameter needs at
//     least one segment ("/api/{proxy+}" does not match "/api").
//   - Among the resources that match the path, in that precedence order, the
//     first that declares the request method wins, else the first with ANY;
//     HEAD is served by GET when the resource has no HEAD. When resources
//     match the path but none serves the method, the result is
//     MethodNotAllowed with the first such resource's Allow list.
//
// Lookup does not allocate.
package router
