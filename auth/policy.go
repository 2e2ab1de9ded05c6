//lint:file-ignore ST1005 messages name policy elements (Version, Statement, Effect …), which are capitalised.

package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Decision is the outcome of evaluating a [Policy] for a request.
type Decision uint8

// The decisions, as the model's evaluation tables name them.
const (
	// Neither: no statement applies — an implicit deny unless another
	// policy allows the call.
	Neither Decision = iota
	// Allow: an Allow statement applies and no Deny statement does.
	Allow
	// Deny: a Deny statement applies. An explicit deny always wins.
	Deny
)

// String returns "Allow", "Deny" or "Neither".
func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Neither"
}

// MaxPolicyBytes is the largest policy document [ParsePolicy] accepts.
const MaxPolicyBytes = 64 << 10

// Request is what a [Policy] is evaluated against: who calls what, from
// where. The zero value of a field means the request context has no such
// key (an absent aws:SourceIp, no principal …).
type Request struct {
	// Action is the action asked for; "" means [ActionInvoke].
	Action string
	// Resource is the resource, normally a method ARN ([MethodARN]).
	Resource string
	// Principal is the caller; nil means anonymous, which only Principal
	// "*" matches.
	Principal *Principal
	// SourceIP is aws:SourceIp.
	SourceIP netip.Addr
	// Networks are the source-network labels of the request, the values of
	// aws:SourceVpc and aws:SourceVpce.
	Networks []string
	// SecureTransport is aws:SecureTransport (the request came over TLS).
	SecureTransport bool
	// UserAgent and Referer are aws:UserAgent and aws:Referer.
	UserAgent, Referer string
	// Time is aws:CurrentTime.
	Time time.Time
}

// Policy is a parsed IAM-style policy document: a resource policy, a custom
// authorizer's policy or an IAM credential's policy. It is immutable and
// safe for concurrent use. It marshals to and from its JSON document, so
// that it can be a field of a JSON-encoded authorizer response.
//
// Supported elements: Version ("2012-10-17", "2008-10-17" or none), Id,
// Statement (one or a list) with Sid, Effect, Principal or NotPrincipal
// ("*" or {"AWS": accounts or ARNs}; Service, Federated and CanonicalUser
// principals are accepted and never match), Action or NotAction, Resource
// or NotResource (with * and ? wildcards; "execute-api:/stage/METHOD/path"
// is short for the API's own ARNs in resource policies), and Condition with
// the operators String(Not)Equals(IgnoreCase), String(Not)Like,
// Arn(Not)Equals, Arn(Not)Like, IpAddress, NotIpAddress, Bool, Date*,
// Null, the IfExists suffix and the ForAnyValue: and ForAllValues:
// qualifiers, on the keys aws:SourceIp, aws:SourceVpc, aws:SourceVpce,
// aws:SecureTransport, aws:UserAgent, aws:Referer, aws:CurrentTime,
// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid
// and aws:username. aws:SourceVpc and aws:SourceVpce both match the
// request's source-network labels ([Request.Networks]); a condition
// operator over them holds if any label matches (or, negated, if none
// does).
type Policy struct {
	doc   []byte
	stmts []statement
}

type statement struct {
	sid       string
	deny      bool
	principal principalSpec
	actions   []string
	notAction bool
	resources []string
	notRes    bool
	conds     []condition
}

type principalSpec struct {
	present  bool
	not      bool
	any      bool
	accounts []string
	arns     []string
}

// ParsePolicy parses a policy document. Every problem is a *[PolicyError]
// naming the statement and element at fault: an unknown element, an Effect
// other than Allow or Deny, a missing Action or Resource, a malformed
// Principal, an unknown condition operator or key, a bad CIDR or date.
func ParsePolicy(doc []byte) (*Policy, error) {
	if len(doc) > MaxPolicyBytes {
		return nil, &PolicyError{Statement: -1, Err: fmt.Errorf("document of %d bytes is over the limit of %d", len(doc), MaxPolicyBytes)}
	}
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := decodeStrict(doc, &raw); err != nil {
		return nil, &PolicyError{Statement: -1, Err: err}
	}
	switch raw.Version {
	case "", "2012-10-17", "2008-10-17":
	default:
		return nil, &PolicyError{Statement: -1, Err: fmt.Errorf("Version %q: want 2012-10-17", raw.Version)}
	}
	var rawStmts []json.RawMessage
	switch firstByte(raw.Statement) {
	case '[':
		if err := json.Unmarshal(raw.Statement, &rawStmts); err != nil {
			return nil, &PolicyError{Statement: -1, Err: fmt.Errorf("Statement: %w", err)}
		}
	case '{':
		rawStmts = []json.RawMessage{raw.Statement}
	default:
		return nil, &PolicyError{Statement: -1, Err: errors.New("Statement: want an object or a list of objects")}
	}
	p := &Policy{doc: bytes.Clone(doc), stmts: make([]statement, 0, len(rawStmts))}
	for i, rs := range rawStmts {
		st, sid, err := parseStatement(rs)
		if err != nil {
			return nil, &PolicyError{Statement: i, Sid: sid, Err: err}
		}
		p.stmts = append(p.stmts, st)
	}
	return p, nil
}

// ParseResourcePolicy parses a resource policy for the API apiID of account
// accountID in region (an empty region is [DefaultRegion]): like
// [ParsePolicy], and besides, every statement must have a Principal or
// NotPrincipal, and resources written "execute-api:/{stage}/{METHOD}/{path}"
// are expanded to the API's ARNs.
func ParseResourcePolicy(doc []byte, region, accountID, apiID string) (*Policy, error) {
	p, err := ParsePolicy(doc)
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = DefaultRegion
	}
	base := "arn:aws:execute-api:" + region + ":" + accountID + ":" + apiID + "/"
	for i := range p.stmts {
		st := &p.stmts[i]
		if !st.principal.present {
			return nil, &PolicyError{Statement: i, Sid: st.sid, Err: errors.New("a resource policy statement needs a Principal")}
		}
		res := make([]string, len(st.resources))
		for j, r := range st.resources {
			if rest, ok := strings.CutPrefix(r, "execute-api:/"); ok {
				r = base + rest
			}
			res[j] = r
		}
		st.resources = res
	}
	return p, nil
}

// AllowPolicy returns a policy allowing execute-api:Invoke on resources
// (method ARNs, with * and ? wildcards), what a custom authorizer returns to
// let a caller in.
func AllowPolicy(resources ...string) *Policy { return simplePolicy("Allow", resources) }

// DenyPolicy returns a policy explicitly denying execute-api:Invoke on
// resources.
func DenyPolicy(resources ...string) *Policy { return simplePolicy("Deny", resources) }

func simplePolicy(effect string, resources []string) *Policy {
	resources = append([]string(nil), resources...)
	doc, _ := json.Marshal(map[string]any{ // strings and lists always marshal
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":   effect,
			"Action":   ActionInvoke,
			"Resource": resources,
		}},
	})
	return &Policy{doc: doc, stmts: []statement{{
		deny:      effect == "Deny",
		actions:   []string{ActionInvoke},
		resources: resources,
	}}}
}

// String returns the policy document.
func (p *Policy) String() string {
	if p == nil {
		return ""
	}
	return string(p.doc)
}

// MarshalJSON returns the policy document.
func (p *Policy) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil
	}
	return bytes.Clone(p.doc), nil
}

// UnmarshalJSON parses a policy document with [ParsePolicy].
func (p *Policy) UnmarshalJSON(b []byte) error {
	q, err := ParsePolicy(b)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// Evaluate decides the request under the policy: [Deny] if a Deny statement
// applies, else [Allow] if an Allow statement does, else [Neither]. A
// statement applies when its principal, action, resource and every
// condition match. A nil policy decides Neither. Evaluate does not
// allocate.
func (p *Policy) Evaluate(req *Request) Decision {
	if p == nil {
		return Neither
	}
	action := req.Action
	if action == "" {
		action = ActionInvoke
	}
	d := Neither
	for i := range p.stmts {
		st := &p.stmts[i]
		if !st.applies(req, action) {
			continue
		}
		if st.deny {
			return Deny
		}
		d = Allow
	}
	return d
}

func (st *statement) applies(req *Request, action string) bool {
	if !st.principal.matches(req.Principal) {
		return false
	}
	if matchAny(st.actions, action, true) == st.notAction {
		return false
	}
	if matchAny(st.resources, req.Resource, false) == st.notRes {
		return false
	}
	for i := range st.conds {
		if !st.conds[i].eval(req) {
			return false
		}
	}
	return true
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if p == "*" || glob(p, s, fold) {
			return true
		}
	}
	return false
}

func (ps *principalSpec) matches(p *Principal) bool {
	if !ps.present {
		return true
	}
	m := ps.any
	if !m && p != nil {
		for _, a := range ps.accounts {
			if p.AccountID != "" && p.AccountID == a {
				m = true
				break
			}
		}
		for _, a := range ps.arns {
			if p.ARN != "" && p.ARN == a {
				m = true
				break
			}
		}
	}
	return m != ps.not
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON document")
	}
	return nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

type rawStatement struct {
	Sid          string                                `json:"Sid"`
	Effect       string                                `json:"Effect"`
	Principal    json.RawMessage                       `json:"Principal"`
	NotPrincipal json.RawMessage                       `json:"NotPrincipal"`
	Action       json.RawMessage                       `json:"Action"`
	NotAction    json.RawMessage                       `json:"NotAction"`
	Resource     json.RawMessage                       `json:"Resource"`
	NotResource  json.RawMessage                       `json:"NotResource"`
	Condition    map[string]map[string]json.RawMessage `json:"Condition"`
}

func parseStatement(b []byte) (statement, string, error) {
	var rs rawStatement
	if err := decodeStrict(b, &rs); err != nil {
		return statement{}, "", err
	}
	st := statement{sid: rs.Sid}
	switch rs.Effect {
	case "Allow":
	case "Deny":
		st.deny = true
	default:
		return st, rs.Sid, fmt.Errorf("Effect %q: want Allow or Deny", rs.Effect)
	}
	var err error
	if st.principal, err = parsePrincipal(rs.Principal, rs.NotPrincipal); err != nil {
		return st, rs.Sid, err
	}
	if st.actions, st.notAction, err = pickList("Action", rs.Action, rs.NotAction); err != nil {
		return st, rs.Sid, err
	}
	for _, a := range st.actions {
		if a != "*" && !strings.Contains(a, ":") {
			return st, rs.Sid, fmt.Errorf("Action %q: want service:action, e.g. %s", a, ActionInvoke)
		}
	}
	if st.resources, st.notRes, err = pickList("Resource", rs.Resource, rs.NotResource); err != nil {
		return st, rs.Sid, err
	}
	for _, r := range st.resources {
		if r != "*" && !strings.HasPrefix(r, "arn:") && !strings.HasPrefix(r, "execute-api:/") {
			return st, rs.Sid, fmt.Errorf("Resource %q: want an ARN, execute-api:/… or *", r)
		}
	}
	if st.conds, err = parseConditions(rs.Condition); err != nil {
		return st, rs.Sid, err
	}
	return st, rs.Sid, nil
}

// pickList reads the one of name and Not<name> that is present.
func pickList(name string, pos, neg json.RawMessage) ([]string, bool, error) {
	switch {
	case pos != nil && neg != nil:
		return nil, false, fmt.Errorf("both %s and Not%s", name, name)
	case pos != nil:
		l, err := stringList(pos)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", name, err)
		}
		return l, false, nil
	case neg != nil:
		l, err := stringList(neg)
		if err != nil {
			return nil, false, fmt.Errorf("Not%s: %w", name, err)
		}
		return l, true, nil
	}
	return nil, false, fmt.Errorf("no %s or Not%s", name, name)
}

// stringList reads a JSON string or a non-empty list of non-empty strings.
func stringList(b json.RawMessage) ([]string, error) {
	var l []string
	switch firstByte(b) {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		l = []string{s}
	case '[':
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, errors.New("want a string or a list of strings")
		}
	default:
		return nil, errors.New("want a string or a list of strings")
	}
	if len(l) == 0 {
		return nil, errors.New("empty list")
	}
	for _, s := range l {
		if s == "" {
			return nil, errors.New("empty string")
		}
	}
	return l, nil
}

func parsePrincipal(pos, neg json.RawMessage) (principalSpec, error) {
	ps := principalSpec{}
	raw, name := pos, "Principal"
	switch {
	case pos != nil && neg != nil:
		return ps, errors.New("both Principal and NotPrincipal")
	case neg != nil:
		raw, name, ps.not = neg, "NotPrincipal", true
	case pos == nil:
		return ps, nil
	}
	ps.present = true
	if firstByte(raw) == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return ps, fmt.Errorf("%s: %w", name, err)
		}
		if s != "*" {
			return ps, fmt.Errorf("%s %q: want \"*\" or an object such as {\"AWS\": \"123456789012\"}", name, s)
		}
		ps.any = true
		return ps, nil
	}
	var m map[string]json.RawMessage
	if firstByte(raw) != '{' || json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return ps, fmt.Errorf("%s: want \"*\" or an object such as {\"AWS\": \"123456789012\"}", name)
	}
	for typ, v := range m {
		vals, err := stringList(v)
		if err != nil {
			return ps, fmt.Errorf("%s %s: %w", name, typ, err)
		}
		switch typ {
		case "AWS":
			for _, a := range vals {
				switch {
				case a == "*":
					ps.any = true
				case isAccountID(a):
					ps.accounts = append(ps.accounts, a)
				case strings.HasPrefix(a, "arn:") && !hasWildcard(a):
					if acct, ok := rootAccount(a); ok {
						ps.accounts = append(ps.accounts, acct)
					} else {
						ps.arns = append(ps.arns, a)
					}
				default:
					return ps, fmt.Errorf("%s AWS %q: want \"*\", a 12-digit account id or an ARN without wildcards", name, a)
				}
			}
		case "Service", "Federated", "CanonicalUser":
			// Valid, but no caller of a Portico gateway is one of these.
		default:
			return ps, fmt.Errorf("%s: unknown principal type %q (want AWS)", name, typ)
		}
	}
	return ps, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// rootAccount returns the account of "arn:aws:iam::123456789012:root".
func rootAccount(arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return "", false
	}
	acct, res, ok := strings.Cut(rest, ":")
	if !ok || res != "root" || !isAccountID(acct) {
		return "", false
	}
	return acct, true
}
