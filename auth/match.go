package auth

// globMatch reports whether s matches pattern p, in which * matches any run
// of characters (including none and including "/") and ? any one
// character, as IAM matches Action and Resource values. It runs in
// O(len(p)·len(s)) at worst and does not allocate.
func globMatch(p, s string) bool { return glob(p, s, false) }

func glob(p, s string, fold bool) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(p) {
			switch c := p[px]; {
			case c == '*':
				starP, starS = px, sx
				px++
				continue
			case c == '?' || c == s[sx] || fold && lower(c) == lower(s[sx]):
				px++
				sx++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		px, sx = starP+1, starS
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasWildcard reports whether p contains * or ?.
func hasWildcard(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '*' || p[i] == '?' {
			return true
		}
	}
	return false
}
