package sdk

import (
	"strconv"
	"strings"
	"unicode"
)

// initialisms are the words Go spells in capitals (Effective Go, "MixedCaps").
var initialisms = map[string]string{
	"api": "API", "arn": "ARN", "db": "DB", "dns": "DNS", "http": "HTTP", "https": "HTTPS",
	"id": "ID", "ids": "IDs", "ip": "IP", "json": "JSON", "jwt": "JWT", "sql": "SQL",
	"tcp": "TCP", "tls": "TLS", "ttl": "TTL", "udp": "UDP", "ui": "UI", "uid": "UID",
	"uri": "URI", "url": "URL", "uuid": "UUID", "xml": "XML",
}

// words splits s into words: runs of ASCII letters and digits, split again
// where a lower-case letter or digit meets an upper-case one ("getPetByID"
// → get, Pet, By, ID) and before the last capital of a run of capitals
// followed by a lower-case letter ("HTTPServer" → HTTP, Server). Every other
// character separates words.
func words(s string) []string {
	var out []string
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	isLower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isUpper(c) && !isLower(c) && !isDigit(c) {
			flush()
			continue
		}
		if len(cur) > 0 && isUpper(c) {
			prev := cur[len(cur)-1]
			if isLower(prev) || isDigit(prev) {
				flush()
			} else if isUpper(prev) && i+1 < len(s) && isLower(s[i+1]) {
				flush()
			}
		}
		cur = append(cur, c)
	}
	flush()
	return out
}

// exportedName turns s into an exported Go identifier made of ASCII letters
// and digits: words capitalised, initialisms in capitals, an "X" before a
// leading digit, and fallback when nothing is left.
func exportedName(s, fallback string) string {
	var b strings.Builder
	for _, w := range words(s) {
		if up, ok := initialisms[strings.ToLower(w)]; ok {
			b.WriteString(up)
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]))
		b.WriteString(w[1:])
	}
	name := b.String()
	if name == "" {
		return fallback
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "X" + name
	}
	return name
}

// lowerFirst lower-cases the leading word of an exported name: "GetPet" →
// "getPet", "HTTPStatus" → "httpStatus", "ID" → "id".
func lowerFirst(name string) string {
	r := []rune(name)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	switch {
	case n == 0:
		return name
	case n == 1 || n == len(r):
		n = min(n, len(r))
	default:
		n-- // "HTTPStatus": keep the S of Status.
	}
	for i := 0; i < n; i++ {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

// namespace hands out unique identifiers: the first claim of a name gets
// it, later claims get the name with "2", "3", … appended.
type namespace struct {
	used map[string]bool
}

func newNamespace(reserved ...string) *namespace {
	ns := &namespace{used: make(map[string]bool)}
	for _, r := range reserved {
		ns.used[r] = true
	}
	return ns
}

// claim returns name, or the first free name+N (N ≥ 2), and marks it used.
func (ns *namespace) claim(name string) string {
	if !ns.used[name] {
		ns.used[name] = true
		return name
	}
	for i := 2; ; i++ {
		n := name + strconv.Itoa(i)
		if !ns.used[n] {
			ns.used[n] = true
			return n
		}
	}
}

// comment returns text as Go line comments with prefix before each line,
// with control characters removed; "" for blank text.
func comment(prefix, text string) string {
	text = strings.TrimSpace(cleanText(text))
	if text == "" {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			b.WriteString(prefix + "//\n")
			continue
		}
		b.WriteString(prefix + "// " + line + "\n")
	}
	return b.String()
}

// cleanText drops control characters (other than newline and tab) and
// invalid UTF-8, so that documentation text cannot break generated code.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return -1
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff':
			return -1
		}
		return r
	}, s)
}

// oneLine is cleanText on a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(cleanText(s)), " ")
}
