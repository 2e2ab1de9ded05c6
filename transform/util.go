package transform

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/portico-gw/portico/transform/jsonpath"
)

// The $util functions of mapping templates, shared by both template
// languages. They follow the model gateway (whose templates run on Java):
// escapeJavaScript and urlEncode reproduce Java's escaping.

// EscapeJavaScript escapes s for a JavaScript string literal the way the
// model gateway's $util.escapeJavaScript does: quotes (single and double),
// backslash, slash and control characters get backslash escapes, and every
// character outside ASCII becomes \uXXXX. Because it escapes ' as \', its
// output inside a JSON string is not valid JSON when s holds a single
// quote, as in the model gateway.
func EscapeJavaScript(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch r {
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			switch {
			case r < 0x20 || r > 0x7f:
				if r > 0xffff {
					r1, r2 := utf16.EncodeRune(r)
					writeU(&b, r1)
					writeU(&b, r2)
				} else {
					if r == utf8.RuneError {
						r = 0xfffd
					}
					writeU(&b, r)
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	const hex = "0123456789ABCDEF"
	b.WriteString(`\u`)
	b.WriteByte(hex[r>>12&0xf])
	b.WriteByte(hex[r>>8&0xf])
	b.WriteByte(hex[r>>4&0xf])
	b.WriteByte(hex[r&0xf])
}

// URLEncode encodes s as application/x-www-form-urlencoded, as Java's
// URLEncoder does: letters, digits and . - * _ stay, space becomes +, every
// other byte of the UTF-8 encoding becomes %XX.
func URLEncode(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// URLDecode decodes application/x-www-form-urlencoded text: + is a space
// and %XX a byte. A malformed escape is an error.
func URLDecode(s string) (string, error) {
	return url.QueryUnescape(s)
}

// Base64Encode encodes s with standard base64 (with padding).
func Base64Encode(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// Base64Decode decodes standard base64 (padding optional).
func Base64Decode(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return "", errors.New("base64Decode: input is not valid base64")
	}
	return string(b), nil
}

// ParseJSON parses a JSON text into the values templates work with
// (map[string]any, []any, json.Number, string, bool, nil).
func ParseJSON(s string) (any, error) {
	return jsonpath.Decode([]byte(s))
}
