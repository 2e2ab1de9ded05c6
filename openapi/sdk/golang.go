package sdk

import (
	"fmt"
	"go/format"
	"go/token"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// GoOptions configures [Go]. The zero value is usable: package "client",
// standard library only.
type GoOptions struct {
	// Package is the generated package's name; "" means "client". It must
	// be a Go identifier that is not a keyword, "_" or "main".
	Package string
	// SigV4 adds WithSigV4, an option signing requests with the
	// aws-sdk-go-v2 SigV4 signer (importing github.com/aws/aws-sdk-go-v2).
	// Without it the generated code imports only the standard library, and
	// SigV4 is done by passing any signer to WithSigner.
	SigV4 bool
}

// goReserved are the package-level names of the generated runtime.
var goReserved = []string{
	"Client", "Option", "Signer", "SignerFunc", "New", "APIError",
	"WithAPIKey", "WithBearerToken", "WithSigner", "WithHTTPClient", "WithUserAgent", "WithHeader", "WithRetry", "WithSigV4",
}

// Go generates the source of a Go package (one file, gofmt'ed) holding a
// client for doc's operations and types for its schemas; see the package
// documentation for what the code contains. The output is the same for the
// same document and options. Schemas the generator cannot map become
// json.RawMessage with a comment, and cookie parameters are left out, so
// Go fails only on a nil document ([ErrNilDocument]), a bad package name,
// or (a bug) output that does not format.
func Go(doc *openapi3.T, opts GoOptions) ([]byte, error) {
	pkg := opts.Package
	if pkg == "" {
		pkg = "client"
	}
	if !token.IsIdentifier(pkg) || pkg == "_" || pkg == "main" {
		return nil, fmt.Errorf("sdk: GoOptions.Package %q is not a Go package name", pkg)
	}
	ops, err := collect(doc)
	if err != nil {
		return nil, err
	}
	title := "the API"
	if doc.Info != nil && oneLine(doc.Info.Title) != "" {
		title = strconv.Quote(oneLine(doc.Info.Title))
		if len(title) > 100 {
			title = title[:100] + "…"
		}
		title = "the API " + title
	}
	ns := newNamespace(goReserved...)
	models := newGoModels(doc, ns)
	var b strings.Builder
	// The title goes in last, so that no placeholder in it is expanded.
	header, runtime := goRuntimeHeader, goRuntime
	if opts.SigV4 {
		header = strings.ReplaceAll(header, "{{SIGV4IMPORTS}}", goSigV4Imports)
		runtime = strings.ReplaceAll(runtime, "{{SIGV4}}", goSigV4)
	} else {
		header = strings.ReplaceAll(header, "{{SIGV4IMPORTS}}", "")
		runtime = strings.ReplaceAll(runtime, "{{SIGV4}}", "")
	}
	header = strings.ReplaceAll(header, "{{PACKAGE}}", pkg)
	runtime = strings.ReplaceAll(runtime, "{{PACKAGE}}", pkg)
	header = strings.ReplaceAll(header, "{{TITLE}}", strings.ReplaceAll(title, "\n", " "))
	b.WriteString(header)
	b.WriteString(runtime)

	// Operation methods first: they add the input types and the inline
	// schemas of bodies and parameters, declared below with the models.
	var methods strings.Builder
	var inputs strings.Builder
	for _, op := range ops {
		goOperation(&methods, &inputs, op, models, ns)
	}
	b.WriteString(methods.String())
	b.WriteString(inputs.String())
	models.declare(&b)

	src, err := format.Source([]byte(b.String()))
	if err != nil {
		return nil, fmt.Errorf("sdk: generated Go code does not format (a bug in Portico's generator): %w", err)
	}
	return src, nil
}

// goParam is a parameter as a field of an operation's input struct.
type goParam struct {
	param
	field string
	t     goType
	expr  string // field type
}

func goOperation(b, inputs *strings.Builder, op *operation, m *goModels, ns *namespace) {
	fields := newNamespace()
	var ps []goParam
	for _, p := range op.params {
		gp := goParam{param: p, field: fields.claim(exportedName(p.name, "Param"))}
		if p.schema == nil {
			gp.t = goType{expr: "string", kind: kString}
		} else {
			gp.t = m.typeOf(p.schema, op.name+gp.field, 1)
		}
		gp.expr = gp.t.expr
		switch {
		case gp.t.kind == kStruct:
			gp.expr = "*" + gp.t.expr
		case !p.required && (gp.t.kind == kInt || gp.t.kind == kFloat || gp.t.kind == kBool):
			gp.expr = "*" + gp.t.expr
		case p.required && gp.t.nullable && gp.t.kind != kString:
			gp.expr = fieldExpr(gp.t)
		}
		ps = append(ps, gp)
	}
	var bodyField string
	var bodyType goType
	if op.body != nil {
		bodyField = fields.claim("Body")
		if op.body.json {
			bodyType = m.typeOf(op.body.schema, op.name+"Request", 1)
		} else {
			bodyType = goType{expr: "[]byte", kind: kSlice}
		}
	}
	input := ""
	if len(ps) > 0 || op.body != nil {
		input = ns.claim(op.name + "Input")
		fmt.Fprintf(inputs, "// %s holds the parameters and body of [Client.%s].\ntype %s struct {\n", input, op.name, input)
		for _, p := range ps {
			inputs.WriteString(comment("\t", p.description))
			req := "optional"
			if p.required {
				req = "required"
			}
			zero := ""
			if !p.required {
				zero = "; the zero value leaves it out"
			}
			fmt.Fprintf(inputs, "\t// %s is the %s %s parameter %s%s.\n", p.field, req, p.in, strconv.QuoteToASCII(p.name), zero)
			inputs.WriteString(rawComment("\t", p.t))
			fmt.Fprintf(inputs, "\t%s %s\n", p.field, p.expr)
		}
		if op.body != nil {
			req := "optional; nil sends no body"
			if op.body.required {
				req = "required"
			}
			fmt.Fprintf(inputs, "\t// %s is the request body (%s), sent as %s.\n", bodyField, req, strconv.QuoteToASCII(op.body.mediaType))
			if op.body.json {
				inputs.WriteString(rawComment("\t", bodyType))
			}
			fmt.Fprintf(inputs, "\t%s %s\n", bodyField, fieldExpr(bodyType))
		}
		inputs.WriteString("}\n\n")
	}

	// The result.
	var result, zero string
	var resType goType
	if op.result != nil {
		if op.result.json {
			resType = m.typeOf(op.result.schema, op.name+"Response", 1)
			if resType.kind == kStruct {
				result, zero = "*"+resType.expr, "nil"
			} else {
				result, zero = resType.expr, "nil"
				switch resType.kind {
				case kString:
					zero = `""`
					if resType.expr != "string" {
						zero = resType.expr + `("")`
					}
				case kInt, kFloat:
					zero = "0"
				case kBool:
					zero = "false"
				}
			}
		} else {
			result, zero = "[]byte", "nil"
		}
	}

	// Doc comment.
	fmt.Fprintf(b, "// %s calls %s %s.\n", op.name, op.method, strconv.QuoteToASCII(op.path)[1:len(strconv.QuoteToASCII(op.path))-1])
	if s := comment("", op.summary); s != "" {
		b.WriteString("//\n" + s)
	}
	if s := comment("", op.description); s != "" {
		b.WriteString("//\n" + s)
	}
	if result != "" {
		status := "the success status"
		if op.status != 0 {
			status = strconv.Itoa(op.status)
		}
		fmt.Fprintf(b, "//\n// It returns the body of the %s response", status)
		if resType.kind == kRaw && op.result.json {
			fmt.Fprintf(b, " (any JSON value: %s)", resType.note)
		}
		b.WriteString("; ")
	} else {
		b.WriteString("//\n// ")
	}
	b.WriteString("a response outside 2xx is an [*APIError].\n")
	if op.auth != "" {
		b.WriteString("//\n// It needs " + op.auth + ".\n")
	}
	if op.deprecated {
		b.WriteString("//\n// Deprecated: the API marks this operation deprecated.\n")
	}

	sig := "ctx context.Context"
	if input != "" {
		sig += ", in *" + input
	}
	rets := "error"
	if result != "" {
		rets = "(" + result + ", error)"
	}
	fail := "return err"
	if result != "" {
		fail = "return " + zero + ", err"
	}
	fmt.Fprintf(b, "func (c *Client) %s(%s) %s {\n", op.name, sig, rets)
	if input != "" {
		fmt.Fprintf(b, "\tif in == nil {\n\t\tin = &%s{}\n\t}\n", input)
	}

	// Path.
	path := op.path
	var expr []string
	for len(path) > 0 {
		i := strings.IndexByte(path, '{')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(path[i:], '}')
		}
		if i < 0 || j < 0 {
			expr = append(expr, strconv.Quote(path))
			break
		}
		if i > 0 {
			expr = append(expr, strconv.Quote(path[:i]))
		}
		name := strings.TrimSuffix(path[i+1:i+j], "+")
		greedy := strings.HasSuffix(path[i+1:i+j], "+")
		for _, p := range ps {
			if p.in == "path" && p.name == name {
				v := "param(" + valueExpr(p) + ")"
				if p.t.kind == kString && !strings.HasPrefix(p.expr, "*") {
					e := fmt.Sprintf("fmt.Errorf(%q, %q, %q)", "%s: path parameter %q is empty", op.name, p.name)
					fmt.Fprintf(b, "\tif in.%s == \"\" {\n\t\t%s\n\t}\n", p.field, strings.Replace(fail, "err", e, 1))
				}
				if greedy {
					expr = append(expr, "escapePath("+v+")")
				} else {
					expr = append(expr, "url.PathEscape("+v+")")
				}
				break
			}
		}
		path = path[i+j+1:]
	}
	if len(expr) == 0 {
		expr = []string{`""`}
	}
	fmt.Fprintf(b, "\tpath := %s\n", strings.Join(expr, " + "))

	// Query and headers.
	query, header := "nil", "nil"
	for _, p := range ps {
		if p.in == "path" {
			continue
		}
		var add string
		switch p.in {
		case "query":
			if query == "nil" {
				b.WriteString("\tquery := url.Values{}\n")
				query = "query"
			}
			add = "query.Add(" + strconv.Quote(p.name) + ", %s)"
		case "header":
			if header == "nil" {
				b.WriteString("\theader := http.Header{}\n")
				header = "header"
			}
			add = "header.Add(" + strconv.Quote(p.name) + ", %s)"
		}
		cond := setCond(p)
		if cond != "" {
			fmt.Fprintf(b, "\tif %s {\n", cond)
		}
		if p.t.kind == kSlice && !strings.HasPrefix(p.expr, "*") {
			if p.in == "header" {
				fmt.Fprintf(b, "\t\tvals := make([]string, 0, len(in.%s))\n\t\tfor _, v := range in.%s {\n\t\t\tvals = append(vals, param(v))\n\t\t}\n\t\t%s\n",
					p.field, p.field, fmt.Sprintf(add, `strings.Join(vals, ",")`))
			} else {
				fmt.Fprintf(b, "\t\tfor _, v := range in.%s {\n\t\t\t%s\n\t\t}\n", p.field, fmt.Sprintf(add, "param(v)"))
			}
		} else {
			fmt.Fprintf(b, "\t\t%s\n", fmt.Sprintf(add, "param("+valueExpr(p)+")"))
		}
		if cond != "" {
			b.WriteString("\t}\n")
		}
	}

	// Body.
	bodyVar, ctype := "nil", `""`
	if op.body != nil {
		bodyVar, ctype = "body", strconv.Quote(op.body.mediaType)
		b.WriteString("\tvar body []byte\n")
		cond := ""
		fe := fieldExpr(bodyType)
		if strings.HasPrefix(fe, "*") || bodyType.kind == kSlice || bodyType.kind == kMap || bodyType.kind == kRaw {
			cond = "in." + bodyField + " != nil"
		}
		if cond != "" {
			fmt.Fprintf(b, "\tif %s {\n", cond)
		}
		if op.body.json {
			fmt.Fprintf(b, "\t\tvar err error\n\t\tif body, err = json.Marshal(in.%s); err != nil {\n\t\t\t%s\n\t\t}\n",
				bodyField, strings.Replace(fail, "err", fmt.Sprintf("fmt.Errorf(\"%%s: encoding the body: %%w\", %q, err)", op.name), 1))
		} else {
			fmt.Fprintf(b, "\t\tbody = in.%s\n", bodyField)
		}
		if cond != "" {
			b.WriteString("\t}\n")
		}
	}

	call := fmt.Sprintf("c.do(ctx, %q, path, %s, %s, %s, %s)", op.method, query, header, bodyVar, ctype)
	switch {
	case result == "":
		fmt.Fprintf(b, "\t_, err := %s\n\treturn err\n}\n\n", call)
	case !op.result.json:
		fmt.Fprintf(b, "\treturn %s\n}\n\n", call)
	default:
		fmt.Fprintf(b, "\tdata, err := %s\n\tif err != nil {\n\t\treturn %s, err\n\t}\n", call, zero)
		fmt.Fprintf(b, "\tvar out %s\n\tif err := decode(data, &out, %q); err != nil {\n\t\treturn %s, err\n\t}\n", resType.expr, op.name, zero)
		if resType.kind == kStruct {
			b.WriteString("\treturn &out, nil\n}\n\n")
		} else {
			b.WriteString("\treturn out, nil\n}\n\n")
		}
	}
}

// valueExpr is the value of an input field for param().
func valueExpr(p goParam) string {
	if strings.HasPrefix(p.expr, "*") && p.t.kind != kStruct {
		return "*in." + p.field
	}
	return "in." + p.field
}

// setCond is the condition under which an optional parameter is sent; ""
// for always.
func setCond(p goParam) string {
	switch {
	case strings.HasPrefix(p.expr, "*"):
		return "in." + p.field + " != nil"
	case p.t.kind == kSlice || p.t.kind == kMap || p.t.kind == kRaw:
		return "len(in." + p.field + ") > 0"
	case !p.required && p.t.kind == kString:
		return "in." + p.field + ` != ""`
	}
	return ""
}
