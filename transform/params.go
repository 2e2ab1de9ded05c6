package transform

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/reqctx"
	"github.com/portico-gw/portico/transform/jsonpath"
)

// Parameter mapping: the model gateway's two syntaxes, compiled into one
// list of operations.
//
// REST: "integration.request.header.X": "method.request.querystring.q",
// "method.response.header.X": "integration.response.body.id" — the whole
// value is one source or a 'literal'.
//
// HTTP APIs: "append:header.X" / "overwrite:querystring.q" /
// "remove:header.X" / "overwrite:path" / "overwrite:statuscode": a value
// mixing literal text and $request.header.X, $request.querystring.q,
// $request.body.a.b, $request.path[.name], $response.header.X,
// $response.body.a, $context.name and $stageVariables.name (also written
// ${request.header.X}).

type target uint8

const (
	tgtHeader target = iota
	tgtQuery
	tgtPathParam
	tgtPath
	tgtStatus
)

type action uint8

const (
	actSet action = iota
	actAppend
	actRemove
)

type srcKind uint8

const (
	srcMethodPath srcKind = iota
	srcMethodQuery
	srcMethodQueryJoined
	srcMethodMultiQuery
	srcMethodHeader
	srcMethodHeaderJoined
	srcMethodMultiHeader
	srcMethodBody
	srcMethodBodyPath
	srcRequestPath
	srcIntegHeader
	srcIntegMultiHeader
	srcIntegBody
	srcIntegBodyPath
	srcStageVar
	srcContext
)

type paramSource struct {
	kind srcKind
	name string
	path *jsonpath.Path
	ctx  ctxFunc
}

type valuePart struct {
	lit string
	src *paramSource // nil for literal text
}

type mapOp struct {
	key    string // as configured, for messages
	target target
	action action
	name   string
	// value is one source (REST) or parts to concatenate (HTTP APIs).
	value []valuePart
	whole bool // REST: a missing source skips the operation
}

// mapEnv is what mapping values are read from.
type mapEnv struct {
	pathParams map[string]string
	query      url.Values
	header     http.Header
	reqBody    *Input
	respHeader http.Header
	respBody   *Input
	rc         *reqctx.Context
	stageVars  map[string]string
	reqPath    string
}

// errCRLF is the cause of a mapped header, query or path value holding CR,
// LF or NUL, which is refused rather than sent.
var errCRLF = errors.New("transform: mapped value contains CR, LF or NUL")

func hasCRLF(s string) bool { return strings.ContainsAny(s, "\r\n\x00") }

// values reads a source: ok is false when it is absent.
func (s *paramSource) values(env *mapEnv) ([]string, bool, error) {
	one := func(v string, ok bool) ([]string, bool, error) {
		if !ok {
			return nil, false, nil
		}
		return []string{v}, true, nil
	}
	switch s.kind {
	case srcMethodPath:
		v, ok := env.pathParams[s.name]
		return one(v, ok)
	case srcMethodQuery:
		vs := env.query[s.name]
		if len(vs) == 0 {
			return nil, false, nil
		}
		return vs[:1], true, nil
	case srcMethodQueryJoined:
		vs := env.query[s.name]
		return one(strings.Join(vs, ","), len(vs) > 0)
	case srcMethodMultiQuery:
		vs := env.query[s.name]
		return vs, len(vs) > 0, nil
	case srcMethodHeader:
		vs := env.header.Values(s.name)
		if len(vs) == 0 {
			return nil, false, nil
		}
		return vs[:1], true, nil
	case srcMethodHeaderJoined:
		vs := env.header.Values(s.name)
		return one(strings.Join(vs, ","), len(vs) > 0)
	case srcMethodMultiHeader:
		vs := env.header.Values(s.name)
		return vs, len(vs) > 0, nil
	case srcMethodBody:
		return one(string(env.reqBody.Body), len(env.reqBody.Body) > 0)
	case srcMethodBodyPath:
		return bodyPath(env.reqBody, s.path)
	case srcRequestPath:
		if s.name == "" {
			return one(env.reqPath, true)
		}
		v, ok := env.pathParams[s.name]
		return one(v, ok)
	case srcIntegHeader:
		vs := env.respHeader.Values(s.name)
		if len(vs) == 0 {
			return nil, false, nil
		}
		return vs[:1], true, nil
	case srcIntegMultiHeader:
		vs := env.respHeader.Values(s.name)
		return vs, len(vs) > 0, nil
	case srcIntegBody:
		return one(string(env.respBody.Body), len(env.respBody.Body) > 0)
	case srcIntegBodyPath:
		return bodyPath(env.respBody, s.path)
	case srcStageVar:
		v, ok := env.stageVars[s.name]
		return one(v, ok)
	case srcContext:
		rc := env.rc
		if rc == nil {
			rc = &reqctx.Context{}
		}
		v := s.ctx(rc)
		if v == nil {
			return nil, false, nil
		}
		return one(contextString(v), true)
	}
	return nil, false, nil
}

// bodyPath reads a JSONPath of a body: a string as it is, anything else as
// JSON.
func bodyPath(in *Input, p *jsonpath.Path) ([]string, bool, error) {
	doc, err := in.document()
	if err != nil {
		return nil, false, err
	}
	v, ok := p.Value(doc)
	if !ok {
		return nil, false, nil
	}
	if s, isStr := v.(string); isStr {
		return []string{s}, true, nil
	}
	return []string{string(jsonpath.AppendJSON(nil, v))}, true, nil
}

// eval computes an operation's values; ok is false when a REST operation's
// source is absent (the operation is then skipped).
func (op *mapOp) eval(env *mapEnv) ([]string, bool, error) {
	if op.whole {
		p := op.value[0]
		if p.src == nil {
			return []string{p.lit}, true, nil
		}
		return p.src.values(env)
	}
	var b strings.Builder
	for _, p := range op.value {
		if p.src == nil {
			b.WriteString(p.lit)
			continue
		}
		vs, ok, err := p.src.values(env)
		if err != nil {
			return nil, false, err
		}
		if ok {
			b.WriteString(strings.Join(vs, ","))
		}
	}
	return []string{b.String()}, true, nil
}

// paramSide says which mapping keys and sources are valid.
type paramSide uint8

const (
	requestSide paramSide = iota
	responseSide
)

// hopHeaders may not be set by any mapping.
var hopHeaders = map[string]bool{
	"Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Keep-Alive": true,
	"Te": true, "Trailer": true, "Upgrade": true, "Host": true,
}

// reservedHTTP are the headers HTTP APIs reserve from mapping.
func reservedHTTP(name string) bool {
	c := http.CanonicalHeaderKey(name)
	switch c {
	case "Authorization", "Connection", "Content-Encoding", "Content-Length", "Content-Location",
		"Forwarded", "Keep-Alive", "Origin", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailers", "Transfer-Encoding", "Upgrade", "Via", "Host":
		return true
	}
	l := strings.ToLower(name)
	for _, p := range []string{"access-control-", "apigw-", "x-amz-", "x-amzn-", "x-forwarded-"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// compileParams compiles a parameter mapping. stageVars, when not nil, are
// the stage's variables: a reference to another is an error.
func compileParams(m map[string]string, side paramSide, stageVars map[string]string) ([]mapOp, error) {
	ops := make([]mapOp, 0, len(m))
	for _, key := range sortedKeys(m) {
		op, err := compileParam(key, m[key], side, stageVars)
		if err != nil {
			return nil, fmt.Errorf("transform: mapping %q: %w", key, err)
		}
		ops = append(ops, op)
	}
	// Removals first, then overwrites, then appends, as HTTP APIs apply them.
	order := func(a action) int {
		switch a {
		case actRemove:
			return 0
		case actSet:
			return 1
		}
		return 2
	}
	sortStable(ops, func(a, b mapOp) bool { return order(a.action) < order(b.action) })
	return ops, nil
}

func sortStable(ops []mapOp, less func(a, b mapOp) bool) {
	for i := 1; i < len(ops); i++ {
		for j := i; j > 0 && less(ops[j], ops[j-1]); j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
}

func compileParam(key, value string, side paramSide, stageVars map[string]string) (mapOp, error) {
	op := mapOp{key: key}
	if act, rest, ok := strings.Cut(key, ":"); ok && !strings.HasPrefix(key, "integration.") && !strings.HasPrefix(key, "method.") {
		// HTTP API syntax.
		switch act {
		case "append":
			op.action = actAppend
		case "overwrite":
			op.action = actSet
		case "remove":
			op.action = actRemove
		default:
			return op, fmt.Errorf("unknown action %q (want append, overwrite or remove)", act)
		}
		switch {
		case strings.HasPrefix(rest, "header."):
			op.target, op.name = tgtHeader, strings.TrimPrefix(rest, "header.")
			if !validHeaderName(op.name) {
				return op, fmt.Errorf("bad header name %q", op.name)
			}
			if reservedHTTP(op.name) {
				return op, fmt.Errorf("header %s is reserved and cannot be mapped", op.name)
			}
		case side == requestSide && strings.HasPrefix(rest, "querystring."):
			op.target, op.name = tgtQuery, strings.TrimPrefix(rest, "querystring.")
			if !validParamName(op.name) {
				return op, fmt.Errorf("bad query string parameter name %q", op.name)
			}
		case side == requestSide && rest == "path":
			op.target = tgtPath
			if op.action != actSet {
				return op, errors.New("the path can only be overwritten")
			}
		case side == responseSide && rest == "statuscode":
			op.target = tgtStatus
			if op.action != actSet {
				return op, errors.New("the status code can only be overwritten")
			}
		default:
			if side == requestSide {
				return op, errors.New("want header.NAME, querystring.NAME or path after the action")
			}
			return op, errors.New("want header.NAME or statuscode after the action")
		}
		if op.action == actRemove {
			return op, nil
		}
		parts, err := compileHTTPValue(value, side, stageVars)
		if err != nil {
			return op, err
		}
		op.value = parts
		return op, nil
	}
	// REST syntax.
	op.action, op.whole = actSet, true
	var rest string
	var ok bool
	if side == requestSide {
		rest, ok = strings.CutPrefix(key, "integration.request.")
	} else {
		rest, ok = strings.CutPrefix(key, "method.response.")
	}
	in, name, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || name == "" {
		if side == requestSide {
			return op, errors.New("want integration.request.{header|querystring|path}.NAME or ACTION:{header|querystring}.NAME")
		}
		return op, errors.New("want method.response.header.NAME or ACTION:header.NAME")
	}
	op.name = name
	switch {
	case in == "header":
		op.target = tgtHeader
		if !validHeaderName(name) {
			return op, fmt.Errorf("bad header name %q", name)
		}
		if hopHeaders[http.CanonicalHeaderKey(name)] {
			return op, fmt.Errorf("header %s cannot be mapped", name)
		}
	case side == requestSide && in == "querystring":
		op.target = tgtQuery
	case side == requestSide && in == "path":
		op.target = tgtPathParam
	default:
		return op, fmt.Errorf("cannot map %q", in)
	}
	if side == requestSide && op.target != tgtHeader && !validParamName(name) {
		return op, fmt.Errorf("bad parameter name %q", name)
	}
	src, lit, err := compileRESTValue(value, side, stageVars)
	if err != nil {
		return op, err
	}
	op.value = []valuePart{{lit: lit, src: src}}
	return op, nil
}

func compileRESTValue(v string, side paramSide, stageVars map[string]string) (*paramSource, string, error) {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		lit := v[1 : len(v)-1]
		if hasCRLF(lit) {
			return nil, "", errCRLF
		}
		return nil, lit, nil
	}
	if name, ok := strings.CutPrefix(v, "stageVariables."); ok {
		return stageSource(name, stageVars)
	}
	if name, ok := strings.CutPrefix(v, "context."); ok {
		f, err := compileContextVar(name)
		if err != nil {
			return nil, "", err
		}
		return &paramSource{kind: srcContext, name: name, ctx: f}, "", nil
	}
	prefix, bodyKind, pathKind := "method.request.", srcMethodBody, srcMethodBodyPath
	if side == responseSide {
		prefix, bodyKind, pathKind = "integration.response.", srcIntegBody, srcIntegBodyPath
	}
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return nil, "", fmt.Errorf("value %q: want %s…, stageVariables.NAME, context.NAME or a 'literal'", v, prefix)
	}
	if rest == "body" {
		return &paramSource{kind: bodyKind}, "", nil
	}
	if jp, ok := strings.CutPrefix(rest, "body."); ok {
		p, err := bodyJSONPath(jp)
		if err != nil {
			return nil, "", err
		}
		return &paramSource{kind: pathKind, path: p}, "", nil
	}
	in, name, ok := strings.Cut(rest, ".")
	if !ok || name == "" {
		return nil, "", fmt.Errorf("value %q: no parameter name", v)
	}
	var kinds map[string]srcKind
	if side == requestSide {
		kinds = map[string]srcKind{
			"path": srcMethodPath, "querystring": srcMethodQuery, "multivaluequerystring": srcMethodMultiQuery,
			"header": srcMethodHeader, "multivalueheader": srcMethodMultiHeader,
		}
	} else {
		kinds = map[string]srcKind{"header": srcIntegHeader, "multivalueheader": srcIntegMultiHeader}
	}
	k, ok := kinds[in]
	if !ok {
		return nil, "", fmt.Errorf("value %q: unknown source %q", v, in)
	}
	return &paramSource{kind: k, name: name}, "", nil
}

func stageSource(name string, stageVars map[string]string) (*paramSource, string, error) {
	if name == "" {
		return nil, "", errors.New("empty stage variable name")
	}
	if stageVars != nil {
		if _, ok := stageVars[name]; !ok {
			return nil, "", fmt.Errorf("stage variable %q is not defined", name)
		}
	}
	return &paramSource{kind: srcStageVar, name: name}, "", nil
}

// bodyJSONPath turns "a.b[0]" into the query $.a.b[0].
func bodyJSONPath(jp string) (*jsonpath.Path, error) {
	expr := "$." + jp
	if strings.HasPrefix(jp, "[") {
		expr = "$" + jp
	}
	p, err := jsonpath.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("body path %q: %w", jp, err)
	}
	return p, nil
}

func isNameChar(c byte, dots bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || dots && c == '.'
}

// compileHTTPValue parses an HTTP API mapping value.
func compileHTTPValue(v string, side paramSide, stageVars map[string]string) ([]valuePart, error) {
	if hasCRLF(v) {
		return nil, errCRLF
	}
	var parts []valuePart
	var lit strings.Builder
	for i := 0; i < len(v); {
		if v[i] != '$' {
			lit.WriteByte(v[i])
			i++
			continue
		}
		var ref string
		end := 0
		if i+1 < len(v) && v[i+1] == '{' {
			j := strings.IndexByte(v[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("unclosed ${ in %q", v)
			}
			ref, end = v[i+2:i+j], i+j+1
		} else {
			j := i + 1
			for j < len(v) && isNameChar(v[j], true) {
				j++
			}
			ref = strings.TrimRight(v[i+1:j], ".")
			end = i + 1 + len(ref)
		}
		src, err := compileHTTPRef(ref, side, stageVars)
		if err != nil {
			return nil, err
		}
		if src == nil {
			lit.WriteByte('$')
			i++
			continue
		}
		if lit.Len() > 0 {
			parts = append(parts, valuePart{lit: lit.String()})
			lit.Reset()
		}
		parts = append(parts, valuePart{src: src})
		i = end
	}
	if lit.Len() > 0 || len(parts) == 0 {
		parts = append(parts, valuePart{lit: lit.String()})
	}
	return parts, nil
}

// compileHTTPRef compiles "request.header.x" and the like; nil, nil when
// ref is not a reference (a literal $).
func compileHTTPRef(ref string, side paramSide, stageVars map[string]string) (*paramSource, error) {
	switch {
	case strings.HasPrefix(ref, "stageVariables."):
		src, _, err := stageSource(strings.TrimPrefix(ref, "stageVariables."), stageVars)
		return src, err
	case strings.HasPrefix(ref, "context."):
		name := strings.TrimPrefix(ref, "context.")
		f, err := compileContextVar(name)
		if err != nil {
			return nil, err
		}
		return &paramSource{kind: srcContext, name: name, ctx: f}, nil
	case side == requestSide && strings.HasPrefix(ref, "request."):
		rest := strings.TrimPrefix(ref, "request.")
		switch {
		case rest == "path":
			return &paramSource{kind: srcRequestPath}, nil
		case strings.HasPrefix(rest, "path."):
			return &paramSource{kind: srcRequestPath, name: strings.TrimPrefix(rest, "path.")}, nil
		case strings.HasPrefix(rest, "header."):
			return &paramSource{kind: srcMethodHeaderJoined, name: strings.TrimPrefix(rest, "header.")}, nil
		case strings.HasPrefix(rest, "querystring."):
			return &paramSource{kind: srcMethodQueryJoined, name: strings.TrimPrefix(rest, "querystring.")}, nil
		case rest == "body":
			return &paramSource{kind: srcMethodBody}, nil
		case strings.HasPrefix(rest, "body."):
			p, err := bodyJSONPath(strings.TrimPrefix(rest, "body."))
			if err != nil {
				return nil, err
			}
			return &paramSource{kind: srcMethodBodyPath, path: p}, nil
		}
		return nil, fmt.Errorf("unknown reference $%s", ref)
	case side == responseSide && strings.HasPrefix(ref, "response."):
		rest := strings.TrimPrefix(ref, "response.")
		switch {
		case strings.HasPrefix(rest, "header."):
			return &paramSource{kind: srcIntegHeader, name: strings.TrimPrefix(rest, "header.")}, nil
		case rest == "body":
			return &paramSource{kind: srcIntegBody}, nil
		case strings.HasPrefix(rest, "body."):
			p, err := bodyJSONPath(strings.TrimPrefix(rest, "body."))
			if err != nil {
				return nil, err
			}
			return &paramSource{kind: srcIntegBodyPath, path: p}, nil
		}
		return nil, fmt.Errorf("unknown reference $%s", ref)
	case strings.HasPrefix(ref, "request.") || strings.HasPrefix(ref, "response."):
		return nil, fmt.Errorf("$%s cannot be used here", ref)
	}
	return nil, nil
}

// applyHeader applies a header operation to h.
func applyHeader(h http.Header, op *mapOp, vals []string) {
	switch op.action {
	case actRemove:
		h.Del(op.name)
	case actSet:
		h.Del(op.name)
		for _, v := range vals {
			h.Add(op.name, v)
		}
	case actAppend:
		for _, v := range vals {
			h.Add(op.name, v)
		}
	}
}

func applyQuery(q url.Values, op *mapOp, vals []string) {
	switch op.action {
	case actRemove:
		q.Del(op.name)
	case actSet:
		q[op.name] = append([]string(nil), vals...)
	case actAppend:
		q[op.name] = append(q[op.name], vals...)
	}
}

func parseStatus(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("mapped status code %q is not 100-599", s)
	}
	return n, nil
}
