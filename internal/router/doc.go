// Package router matches request methods and paths to route templates,
// compiled once at deploy time with the path-template rules of Amazon API
// Gateway REST APIs.
//
// Routes are added to a [Builder] and compiled into an immutable [Router]:
//
//	var b router.Builder
//	if err := b.Add("GET", "/pets/{id}", 1); err != nil {
//		return err // a *router.TemplateError
//	}
//	_ = b.Add("ANY", "/{proxy+}", 2)
//	rt, err := b.Build()
//	...
//	var p router.Params
//	m := rt.Lookup(r.Method, r.URL.EscapedPath(), &p) // m.Value == 1, p.Get("id")
//
// # Templates
//
// A template starts with "/"; "/" alone is the root and one trailing slash
// is ignored ("/pets/" is "/pets"). Each segment between slashes is
// non-empty and one of:
//
//   - a literal, without "{", "}", "?", "#", white space or control
//     characters, compared with the escaped request path, so write it
//     escaped: "/caf%C3%A9", not "/café";
//   - a parameter "{name}", the whole segment;
//   - a greedy parameter "{name+}", the whole segment and the last one.
//
// Names are one or more of A-Z a-z 0-9 _ . , : - and are unique within a
// template; a template has at most [MaxParams] parameters. Parameters at
// the same place in two templates, below the same parent, must have the
// same name ("/pets/{id}" and "/pets/{petId}/toys" conflict), but a
// parameter and a greedy parameter may be siblings. A method is "ANY" or
// an upper-case token of A-Z 0-9 _ -. Adding the same method and template
// twice, parameter names aside, is an error.
//
// # Matching
//
// [Router.Lookup] follows these rules:
//
//   - The path is split on "/", after ignoring one trailing slash; ""
//     is "/". Segments are compared on the escaped path and
//     case-sensitively, so "%2F" inside a segment belongs to that segment
//     and never separates two.
//   - At each level a literal child is tried first, then the parameter
//     child, then the greedy child, and when a branch fails deeper down the
//     next one is tried (backtracking). A parameter matches one non-empty
//     segment; a greedy parameter matches the rest of the path, at least
//     one segment: "/api/{proxy+}" does not match "/api" or "/api/".
//   - The resources (templates) that match the whole path are taken in that
//     precedence order, and the first one that serves the method wins. A
//     resource serves a method it declares; else, for HEAD, its GET; else
//     its ANY. So with "GET /pets/{id}" and "ANY /{proxy+}", GET /pets/1
//     finds the first route and POST /pets/1 the second.
//   - If resources match the path but none serves the method, the result is
//     [MethodNotAllowed], with the template and Allow list (declared
//     methods, sorted) of the first of them. If none matches the path, the
//     result is [NotFound].
//
// Lookup does not allocate: parameter values are substrings of the path,
// left escaped, and a [Match] holds strings computed by [Builder.Build].
package router
