//lint:file-ignore ST1005 messages name policy elements (Null, Bool, IpAddress …), which are capitalised.

package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

type condOp uint8

const (
	opStringEquals condOp = iota
	opStringEqualsIgnoreCase
	opStringLike
	opIP
	opBool
	opDateEquals
	opDateLess
	opDateLessEq
	opDateGreater
	opDateGreaterEq
	opNull
)

type opInfo struct {
	op     condOp
	negate bool
}

var condOps = map[string]opInfo{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"ArnEquals":                 {opStringLike, false}, // ARN operators take wildcards
	"ArnNotEquals":              {opStringLike, true},
	"ArnLike":                   {opStringLike, false},
	"ArnNotLike":                {opStringLike, true},
	"IpAddress":                 {opIP, false},
	"NotIpAddress":              {opIP, true},
	"Bool":                      {opBool, false},
	"DateEquals":                {opDateEquals, false},
	"DateNotEquals":             {opDateEquals, true},
	"DateLessThan":              {opDateLess, false},
	"DateLessThanEquals":        {opDateLessEq, false},
	"DateGreaterThan":           {opDateGreater, false},
	"DateGreaterThanEquals":     {opDateGreaterEq, false},
	"Null":                      {opNull, false},
}

type condKey uint8

const (
	keySourceIP condKey = iota
	keySourceVpc
	keySourceVpce
	keySecureTransport
	keyUserAgent
	keyReferer
	keyCurrentTime
	keyPrincipalArn
	keyPrincipalAccount
	keyPrincipalType
	keyUserID
	keyUsername
)

type keyKind uint8

const (
	kindString keyKind = iota
	kindIP
	kindBool
	kindDate
)

var condKeys = map[string]struct {
	key  condKey
	kind keyKind
}{
	"aws:sourceip":         {keySourceIP, kindIP},
	"aws:sourcevpc":        {keySourceVpc, kindString},
	"aws:sourcevpce":       {keySourceVpce, kindString},
	"aws:securetransport":  {keySecureTransport, kindBool},
	"aws:useragent":        {keyUserAgent, kindString},
	"aws:referer":          {keyReferer, kindString},
	"aws:currenttime":      {keyCurrentTime, kindDate},
	"aws:principalarn":     {keyPrincipalArn, kindString},
	"aws:principalaccount": {keyPrincipalAccount, kindString},
	"aws:principaltype":    {keyPrincipalType, kindString},
	"aws:userid":           {keyUserID, kindString},
	"aws:username":         {keyUsername, kindString},
}

type setQualifier uint8

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

type condition struct {
	op       condOp
	negate   bool
	ifExists bool
	set      setQualifier
	key      condKey
	kind     keyKind
	strs     []string
	prefixes []netip.Prefix
	times    []time.Time
	boolVal  bool
}

func parseConditions(m map[string]map[string]json.RawMessage) ([]condition, error) {
	var out []condition
	for _, opName := range slices.Sorted(maps.Keys(m)) {
		name := opName
		set := setNone
		if rest, ok := strings.CutPrefix(name, "ForAnyValue:"); ok {
			name, set = rest, setAnyValue
		} else if rest, ok := strings.CutPrefix(name, "ForAllValues:"); ok {
			name, set = rest, setAllValues
		}
		ifExists := false
		if rest, ok := strings.CutSuffix(name, "IfExists"); ok && rest != "" {
			name, ifExists = rest, true
		}
		info, ok := condOps[name]
		if !ok || ifExists && info.op == opNull || set != setNone && info.op == opNull {
			return nil, fmt.Errorf("Condition: unknown operator %q", opName)
		}
		keys := m[opName]
		if len(keys) == 0 {
			return nil, fmt.Errorf("Condition %s: no keys", opName)
		}
		for _, keyName := range slices.Sorted(maps.Keys(keys)) {
			k, ok := condKeys[strings.ToLower(keyName)]
			if !ok {
				return nil, fmt.Errorf("Condition %s: unknown key %q", opName, keyName)
			}
			c := condition{op: info.op, negate: info.negate, ifExists: ifExists, set: set, key: k.key, kind: k.kind}
			vals, err := conditionValues(keys[keyName])
			if err != nil {
				return nil, fmt.Errorf("Condition %s %s: %w", opName, keyName, err)
			}
			if err := c.compile(vals); err != nil {
				return nil, fmt.Errorf("Condition %s %s: %w", opName, keyName, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValues reads a string, number or boolean, or a non-empty list
// of them, as strings.
func conditionValues(b json.RawMessage) ([]string, error) {
	var raw []json.RawMessage
	if firstByte(b) == '[' {
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, err
		}
		if len(raw) == 0 {
			return nil, errors.New("empty list")
		}
	} else {
		raw = []json.RawMessage{b}
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, strconv.FormatBool(x))
		case float64:
			out = append(out, strings.TrimSpace(string(r)))
		default:
			return nil, errors.New("values must be strings, numbers or booleans")
		}
	}
	return out, nil
}

func (c *condition) compile(vals []string) error {
	switch c.op {
	case opNull:
		if len(vals) != 1 {
			return errors.New("Null takes one value, true or false")
		}
		b, err := strconv.ParseBool(vals[0])
		if err != nil {
			return fmt.Errorf("Null value %q: want true or false", vals[0])
		}
		c.boolVal = b
		return nil
	case opIP:
		if c.kind != kindIP {
			return errors.New("IpAddress and NotIpAddress apply only to aws:SourceIp")
		}
		for _, v := range vals {
			p, err := parsePrefix(v)
			if err != nil {
				return err
			}
			c.prefixes = append(c.prefixes, p)
		}
		return nil
	case opBool:
		if c.kind != kindBool {
			return errors.New("Bool applies only to aws:SecureTransport")
		}
		if len(vals) != 1 {
			return errors.New("Bool takes one value, true or false")
		}
		b, err := strconv.ParseBool(vals[0])
		if err != nil {
			return fmt.Errorf("Bool value %q: want true or false", vals[0])
		}
		c.boolVal = b
		return nil
	case opDateEquals, opDateLess, opDateLessEq, opDateGreater, opDateGreaterEq:
		if c.kind != kindDate {
			return errors.New("date operators apply only to aws:CurrentTime")
		}
		for _, v := range vals {
			t, err := parseDate(v)
			if err != nil {
				return err
			}
			c.times = append(c.times, t)
		}
		return nil
	}
	if c.kind != kindString {
		return errors.New("string operators do not apply to this key")
	}
	c.strs = vals
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad CIDR %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad IP address %q: %w", s, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("bad date %q: want ISO 8601 (2026-01-02T15:04:05Z) or epoch seconds", s)
}

// stringValues returns the request's values for a string key, using buf for
// a single value so that it does not allocate.
func (c *condition) stringValues(req *Request, buf *[1]string) []string {
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		buf[0] = s
		return buf[:]
	}
	p := req.Principal
	switch c.key {
	case keySourceVpc, keySourceVpce:
		return req.Networks
	case keyUserAgent:
		return one(req.UserAgent)
	case keyReferer:
		return one(req.Referer)
	case keySecureTransport:
		return one(strconv.FormatBool(req.SecureTransport))
	case keyPrincipalArn:
		if p != nil {
			return one(p.ARN)
		}
	case keyPrincipalAccount:
		if p != nil {
			return one(p.AccountID)
		}
	case keyPrincipalType:
		if p != nil && p.Kind == KindIAM {
			return one("User")
		}
	case keyUserID:
		if p != nil {
			return one(p.UserID)
		}
	case keyUsername:
		if p != nil {
			return one(p.UserName)
		}
	case keySourceIP:
		if req.SourceIP.IsValid() {
			return one("ip") // only Null looks at presence
		}
	case keyCurrentTime:
		if !req.Time.IsZero() {
			return one("time")
		}
	}
	return nil
}

func (c *condition) eval(req *Request) bool {
	var buf [1]string
	vals := c.stringValues(req, &buf)
	if c.op == opNull {
		return (len(vals) == 0) == c.boolVal
	}
	n := len(vals)
	if n == 0 {
		switch {
		case c.ifExists:
			return true
		case c.set == setAllValues:
			return true
		case c.set == setAnyValue:
			return false
		}
		return c.negate
	}
	switch c.set {
	case setAnyValue:
		for i := 0; i < n; i++ {
			if c.match(req, vals, i) != c.negate {
				return true
			}
		}
		return false
	case setAllValues:
		for i := 0; i < n; i++ {
			if c.match(req, vals, i) == c.negate {
				return false
			}
		}
		return true
	}
	for i := 0; i < n; i++ {
		if c.match(req, vals, i) {
			return !c.negate
		}
	}
	return c.negate
}

// match reports whether the request's i-th value of the key matches one of
// the condition's values under its (non-negated) operator.
func (c *condition) match(req *Request, vals []string, i int) bool {
	switch c.op {
	case opIP:
		a := req.SourceIP.Unmap()
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	case opBool:
		return req.SecureTransport == c.boolVal
	case opDateEquals, opDateLess, opDateLessEq, opDateGreater, opDateGreaterEq:
		t := req.Time
		for _, v := range c.times {
			var ok bool
			switch c.op {
			case opDateEquals:
				ok = t.Equal(v)
			case opDateLess:
				ok = t.Before(v)
			case opDateLessEq:
				ok = !t.After(v)
			case opDateGreater:
				ok = t.After(v)
			case opDateGreaterEq:
				ok = !t.Before(v)
			}
			if ok {
				return true
			}
		}
		return false
	}
	v := vals[i]
	for _, s := range c.strs {
		switch c.op {
		case opStringEquals:
			if v == s {
				return true
			}
		case opStringEqualsIgnoreCase:
			if strings.EqualFold(v, s) {
				return true
			}
		case opStringLike:
			if globMatch(s, v) {
				return true
			}
		}
	}
	return false
}
