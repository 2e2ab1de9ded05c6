//lint:file-ignore ST1005 parse messages are the model gateway's client messages and name parameters (Credential, SignedHeaders …).

package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/clock"
	"github.com/portico-gw/portico/reqctx"
)

// SigV4 constants.
const (
	sigV4Algorithm   = "AWS4-HMAC-SHA256"
	amzDateLayout    = "20060102T150405Z"
	amzDayLayout     = "20060102"
	emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	// maxAuthorizationBytes bounds the Authorization header SigV4 parses.
	maxAuthorizationBytes = 4096
	// maxPresignExpires is the longest a presigned URL may live (7 days).
	maxPresignExpires = 7 * 24 * time.Hour
)

// Credential is an IAM-style credential: an access key pair, and the
// principal and policy it stands for.
type Credential struct {
	// AccessKeyID and SecretAccessKey are the key pair; both required.
	AccessKeyID, SecretAccessKey string
	// SessionToken, when set, must come with every request signed with the
	// pair (X-Amz-Security-Token), as with temporary credentials.
	SessionToken string
	// Expires, when not zero, is when the credential stops working (403
	// EXPIRED_TOKEN).
	Expires time.Time
	// AccountID is the principal's 12-digit account.
	AccountID string
	// UserID and UserName identify the principal ($context.identity.caller
	// and .user carry UserID; aws:userid, aws:username).
	UserID, UserName string
	// ARN is the principal's ARN, what resource-policy Principal elements
	// name ("arn:aws:iam::123456789012:user/alice").
	ARN string
	// Policy is the principal's identity policy: execute-api:Invoke Allow
	// and Deny statements on method ARNs. nil allows nothing by itself
	// (only a resource policy can then let the principal in).
	Policy *Policy
}

// CredentialStore finds credentials by access key id. Implementations are
// safe for concurrent use and return [ErrUnknownAccessKey] (matched with
// errors.Is) for an unknown id; any other error means the store failed.
type CredentialStore interface {
	Credential(ctx context.Context, accessKeyID string) (Credential, error)
}

// StaticCredentials is a fixed, in-memory [CredentialStore]. Safe for
// concurrent use.
type StaticCredentials struct {
	byID map[string]Credential
}

var _ CredentialStore = (*StaticCredentials)(nil)

// NewStaticCredentials returns a store of creds; it fails on a credential
// without an access key id or secret, or on a duplicate id.
func NewStaticCredentials(creds ...Credential) (*StaticCredentials, error) {
	s := &StaticCredentials{byID: make(map[string]Credential, len(creds))}
	for i, c := range creds {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("auth: NewStaticCredentials: credential %d: no access key id or secret", i)
		}
		if _, dup := s.byID[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("auth: NewStaticCredentials: duplicate access key id %q", c.AccessKeyID)
		}
		s.byID[c.AccessKeyID] = c
	}
	return s, nil
}

// Credential implements [CredentialStore].
func (s *StaticCredentials) Credential(_ context.Context, id string) (Credential, error) {
	c, ok := s.byID[id]
	if !ok {
		return Credential{}, ErrUnknownAccessKey
	}
	return c, nil
}

// SigV4 verifies requests signed with AWS Signature Version 4 for the
// execute-api service (the model's AWS_IAM authorization), in the
// Authorization header form or the presigned-URL query form, with session
// tokens. It checks the credential scope, the date against the clock
// (±5 minutes; presigned URLs until X-Amz-Expires), the session token, and
// the signature over the method, the path as sent (percent-encoded again,
// as every service but S3 signs it), the sorted query, the signed headers
// and a SHA-256 of the body — which it reads (bounded by
// [WithMaxBodyBytes]) and puts back for the integration.
//
// Unsigned requests get 403 MISSING_AUTHENTICATION_TOKEN; a bad or
// tampered signature, a wrong scope or an unknown key 403
// INVALID_SIGNATURE; a date outside the window 403 INVALID_SIGNATURE
// "Signature expired: …"; an expired credential 403 EXPIRED_TOKEN. The
// principal carries the credential's policy, which [Access] evaluates.
//
// A signature may be replayed within its window, as with the model
// gateway. Safe for concurrent use.
type SigV4 struct {
	store   CredentialStore
	clock   clock.Clock
	region  string
	service string
	maxBody int64
	skew    time.Duration
}

// NewSigV4 returns a verifier of requests signed with the credentials in
// store. Options: [WithRegion], [WithService], [WithMaxBodyBytes],
// [WithClockSkew], [WithClock].
func NewSigV4(store CredentialStore, opts ...Option) (*SigV4, error) {
	if store == nil {
		return nil, errors.New("auth: NewSigV4: nil CredentialStore")
	}
	o := options{service: "execute-api", maxBodyBytes: 10 << 20, clockSkew: 5 * time.Minute}
	if err := applyOptions("NewSigV4", &o, optRegion|optService|optMaxBodyBytes|optClockSkew|optClock, opts); err != nil {
		return nil, err
	}
	if o.service == "" || o.maxBodyBytes <= 0 || o.clockSkew <= 0 {
		return nil, errors.New("auth: NewSigV4: empty service, or non-positive body limit or clock skew")
	}
	return &SigV4{store: store, clock: o.clock, region: o.region, service: o.service, maxBody: o.maxBodyBytes, skew: o.clockSkew}, nil
}

// Handler requires a valid signature before calling next; it is
// (&Access{Authorizer: v, Clock: …}).Handler(next), so the credential's
// policy must allow the call.
func (v *SigV4) Handler(next http.Handler) http.Handler {
	return (&Access{Authorizer: v, Clock: v.clock}).Handler(next)
}

// sigV4Auth is a parsed signature: from the Authorization header or the
// presigned query.
type sigV4Auth struct {
	accessKey string
	day       string
	region    string
	service   string
	signed    []string // signed header names, lower case, sorted
	signedRaw string
	signature []byte
}

func invalidSig(msg string, cause error) *reqctx.Error {
	if cause == nil {
		cause = errors.New("auth: sigv4: " + msg)
	}
	return gwError(reqctx.InvalidSignature, msg, cause)
}

// parseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260102/region/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// strictly: each parameter exactly once, nothing else, header names lower
// case, sorted, unique and including host.
func parseAuthorization(h string) (sigV4Auth, error) {
	var a sigV4Auth
	if len(h) > maxAuthorizationBytes {
		return a, fmt.Errorf("Authorization header of %d bytes is over %d", len(h), maxAuthorizationBytes)
	}
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return a, errors.New("Authorization header requires the AWS4-HMAC-SHA256 scheme with 'Credential', 'SignedHeaders' and 'Signature' parameters")
	}
	var cred, signed, sig string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return a, fmt.Errorf("Authorization header: malformed parameter")
		}
		switch k {
		case "Credential":
			cred, ok = val, !seen[0]
			seen[0] = true
		case "SignedHeaders":
			signed, ok = val, !seen[1]
			seen[1] = true
		case "Signature":
			sig, ok = val, !seen[2]
			seen[2] = true
		default:
			return a, fmt.Errorf("Authorization header: unknown parameter")
		}
		if !ok {
			return a, fmt.Errorf("Authorization header: parameter %s given twice", k)
		}
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return a, errors.New("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
	}
	return parseSigParts(cred, signed, sig)
}

func parseSigParts(cred, signed, sig string) (sigV4Auth, error) {
	var a sigV4Auth
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] == "" || parts[4] != "aws4_request" {
		return a, errors.New("Credential must be ACCESS_KEY/YYYYMMDD/region/service/aws4_request")
	}
	if _, err := time.Parse(amzDayLayout, parts[1]); err != nil || len(parts[1]) != 8 {
		return a, errors.New("Credential date must be YYYYMMDD")
	}
	a.accessKey, a.day, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	if signed == "" {
		return a, errors.New("SignedHeaders is empty")
	}
	a.signed = strings.Split(signed, ";")
	for i, h := range a.signed {
		if h == "" || !validToken(h) || strings.ToLower(h) != h {
			return a, errors.New("SignedHeaders must be lower-case header names separated by ';'")
		}
		if i > 0 && a.signed[i-1] >= h {
			return a, errors.New("SignedHeaders must be sorted and unique")
		}
	}
	if !slices.Contains(a.signed, "host") {
		return a, errors.New("SignedHeaders must include host")
	}
	a.signedRaw = signed
	if len(sig) != 64 || strings.ToLower(sig) != sig {
		return a, errors.New("Signature must be 64 lower-case hex digits")
	}
	b, err := hex.DecodeString(sig)
	if err != nil {
		return a, errors.New("Signature must be 64 lower-case hex digits")
	}
	a.signature = b
	return a, nil
}

// queryPair is one query parameter, unescaped.
type queryPair struct{ k, v string }

// parseRawQuery splits a raw query the way the signer's url.Values does,
// but refuses what url.ParseQuery would silently drop (";" separators, bad
// escapes), so that the signature covers exactly what the integration sees.
func parseRawQuery(raw string) ([]queryPair, error) {
	var out []queryPair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		if strings.Contains(part, ";") {
			return nil, errors.New("query contains ';'")
		}
		k, v, _ := strings.Cut(part, "=")
		var err error
		if k, err = url.QueryUnescape(k); err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		out = append(out, queryPair{k, v})
	}
	return out, nil
}

// Authorize implements [Authorizer]; methodARN is not used (the
// credential's policy is evaluated by [Access]).
func (v *SigV4) Authorize(r *http.Request, _ string) (*Principal, error) {
	cred, err := v.Verify(r)
	if err != nil {
		return nil, err
	}
	id := cred.UserID
	if id == "" {
		id = cred.AccessKeyID
	}
	return &Principal{
		Kind: KindIAM, ID: id, ARN: cred.ARN, AccountID: cred.AccountID, Policy: cred.Policy,
		AccessKey: cred.AccessKeyID, UserName: cred.UserName, UserID: cred.UserID,
	}, nil
}

// Verify checks r's signature and returns the credential that signed it,
// or a 403 (or 413, 500) *reqctx.Error as [SigV4] describes. It may
// replace r.Body with an equivalent reader.
func (v *SigV4) Verify(r *http.Request) (Credential, error) {
	now := v.clock.Now().UTC()
	query, err := parseRawQuery(r.URL.RawQuery)
	if err != nil {
		return Credential{}, invalidSig("The request signature we calculated does not match the signature you provided", err)
	}
	authz := r.Header.Values("Authorization")
	presigned := false
	for _, p := range query {
		if strings.HasPrefix(p.k, "X-Amz-") && (p.k == "X-Amz-Algorithm" || p.k == "X-Amz-Credential" || p.k == "X-Amz-Signature") {
			presigned = true
		}
	}
	switch {
	case len(authz) > 1:
		return Credential{}, invalidSig("Only one Authorization header is allowed", nil)
	case len(authz) == 1 && presigned:
		return Credential{}, invalidSig("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified", nil)
	case len(authz) == 0 && !presigned:
		return Credential{}, reqctx.NewError(reqctx.MissingAuthenticationToken, errors.New("auth: sigv4: request is not signed"))
	}

	var (
		a        sigV4Auth
		amzDate  string
		token    string
		expires  time.Duration
		hasToken bool
	)
	if presigned {
		if a, amzDate, token, hasToken, expires, err = parsePresigned(query); err != nil {
			return Credential{}, invalidSig(err.Error(), nil)
		}
	} else {
		if a, err = parseAuthorization(authz[0]); err != nil {
			return Credential{}, invalidSig(err.Error(), nil)
		}
		dates := r.Header.Values("X-Amz-Date")
		if len(dates) != 1 || !slices.Contains(a.signed, "x-amz-date") {
			return Credential{}, invalidSig("Authorization header requires existence of a signed X-Amz-Date header", nil)
		}
		amzDate = dates[0]
		toks := r.Header.Values("X-Amz-Security-Token")
		switch len(toks) {
		case 0:
		case 1:
			if !slices.Contains(a.signed, "x-amz-security-token") {
				return Credential{}, invalidSig("X-Amz-Security-Token must be signed", nil)
			}
			token, hasToken = toks[0], true
		default:
			return Credential{}, invalidSig("Only one X-Amz-Security-Token is allowed", nil)
		}
		if r.Header.Get("X-Amz-Content-Sha256") != "" && !slices.Contains(a.signed, "x-amz-content-sha256") {
			return Credential{}, invalidSig("X-Amz-Content-Sha256 must be signed", nil)
		}
	}
	signedAt, err := time.Parse(amzDateLayout, amzDate)
	if err != nil || len(amzDate) != len(amzDateLayout) {
		return Credential{}, invalidSig("X-Amz-Date must be YYYYMMDDTHHMMSSZ", nil)
	}
	if amzDate[:8] != a.day {
		return Credential{}, invalidSig("Date in Credential scope does not match YYYYMMDD from X-Amz-Date", nil)
	}
	if err := v.checkTime(signedAt, now, presigned, expires); err != nil {
		return Credential{}, err
	}
	if a.service != v.service {
		return Credential{}, invalidSig("Credential should be scoped to correct service: '"+v.service+"'.", nil)
	}
	if v.region != "" && a.region != v.region {
		return Credential{}, invalidSig("Credential should be scoped to a valid region.", nil)
	}

	cred, err := v.store.Credential(r.Context(), a.accessKey)
	switch {
	case errors.Is(err, ErrUnknownAccessKey):
		return Credential{}, invalidSig("The security token included in the request is invalid.", fmt.Errorf("auth: sigv4: unknown access key: %w", err))
	case err != nil:
		return Credential{}, gwError(reqctx.AuthorizerFailure, "", fmt.Errorf("auth: sigv4: credential store: %w", err))
	}
	if !cred.Expires.IsZero() && !now.Before(cred.Expires) {
		return Credential{}, reqctx.NewError(reqctx.ExpiredToken, errors.New("auth: sigv4: the credential has expired"))
	}
	if hasToken != (cred.SessionToken != "") || subtle.ConstantTimeCompare([]byte(token), []byte(cred.SessionToken)) != 1 {
		return Credential{}, invalidSig("The security token included in the request is invalid.", errors.New("auth: sigv4: session token mismatch"))
	}

	payload, err := v.payloadHash(r)
	if err != nil {
		return Credential{}, err
	}
	if !presigned {
		if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payload {
			return Credential{}, invalidSig("The provided 'x-amz-content-sha256' header does not match what was computed.", nil)
		}
	}
	canonHeaders, err := canonicalHeaders(r, a.signed)
	if err != nil {
		return Credential{}, invalidSig(err.Error(), nil)
	}
	key := signingKey(cred.SecretAccessKey, a.day, a.region, a.service)
	scope := a.day + "/" + a.region + "/" + a.service + "/aws4_request"
	sign := func(payload string) []byte {
		creq := r.Method + "\n" + canonicalURI(rawPathOf(r)) + "\n" + canonicalQuery(query, presigned) + "\n" +
			canonHeaders + "\n" + a.signedRaw + "\n" + payload
		sum := sha256.Sum256([]byte(creq))
		sts := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
		return hmacSHA256(key, []byte(sts))
	}
	ok := hmac.Equal(sign(payload), a.signature)
	if !ok && presigned && payload == emptyPayloadHash {
		// A presigned URL may leave an empty body unsigned.
		ok = hmac.Equal(sign(unsignedPayload), a.signature)
	}
	if !ok {
		return Credential{}, invalidSig("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.", errors.New("auth: sigv4: signature mismatch"))
	}
	return cred, nil
}

// skewDefault marks a presigned URL without X-Amz-Expires: it lives only
// as long as a header signature (the clock-skew window).
const skewDefault = -1

func parsePresigned(query []queryPair) (a sigV4Auth, amzDate, token string, hasToken bool, expires time.Duration, err error) {
	vals := map[string]string{}
	for _, p := range query {
		switch p.k {
		case "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token":
			if _, dup := vals[p.k]; dup {
				return a, "", "", false, 0, fmt.Errorf("query parameter %s given twice", p.k)
			}
			vals[p.k] = p.v
		}
	}
	if vals["X-Amz-Algorithm"] != sigV4Algorithm {
		return a, "", "", false, 0, errors.New("X-Amz-Algorithm must be AWS4-HMAC-SHA256")
	}
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if _, ok := vals[k]; !ok {
			return a, "", "", false, 0, fmt.Errorf("presigned URL requires the %s query parameter", k)
		}
	}
	if a, err = parseSigParts(vals["X-Amz-Credential"], vals["X-Amz-SignedHeaders"], vals["X-Amz-Signature"]); err != nil {
		return a, "", "", false, 0, err
	}
	expires = skewDefault
	if s, ok := vals["X-Amz-Expires"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || time.Duration(n)*time.Second > maxPresignExpires {
			return a, "", "", false, 0, errors.New("X-Amz-Expires must be 1-604800 seconds")
		}
		expires = time.Duration(n) * time.Second
	}
	token, hasToken = vals["X-Amz-Security-Token"]
	return a, vals["X-Amz-Date"], token, hasToken, expires, nil
}

func (v *SigV4) checkTime(signedAt, now time.Time, presigned bool, expires time.Duration) error {
	f := func(t time.Time) string { return t.UTC().Format(amzDateLayout) }
	mins := strconv.Itoa(int(v.skew / time.Minute))
	if signedAt.After(now.Add(v.skew)) {
		return invalidSig("Signature not yet current: "+f(signedAt)+" is still later than "+f(now.Add(v.skew))+" ("+f(now)+" + "+mins+" min.)", nil)
	}
	if presigned && expires != skewDefault {
		if end := signedAt.Add(expires); now.After(end) {
			return invalidSig("Signature expired: "+f(end)+" is now earlier than "+f(now)+" (presigned URL)", nil)
		}
		return nil
	}
	if signedAt.Before(now.Add(-v.skew)) {
		return invalidSig("Signature expired: "+f(signedAt)+" is now earlier than "+f(now.Add(-v.skew))+" ("+f(now)+" - "+mins+" min.)", nil)
	}
	return nil
}

// payloadHash reads the body, puts it back and returns its SHA-256 in hex.
func (v *SigV4) payloadHash(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return emptyPayloadHash, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, v.maxBody+1))
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		e := reqctx.AsError(fmt.Errorf("auth: sigv4: reading the body: %w", err))
		if e.Type == reqctx.Default5XX {
			e.Type = reqctx.BadRequestBody
		}
		return "", e
	}
	if int64(len(b)) > v.maxBody {
		return "", reqctx.NewError(reqctx.RequestTooLarge, fmt.Errorf("auth: sigv4: body over %d bytes", v.maxBody))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// rawPathOf is the escaped path the client signed: the request context's
// RawPath (the path as received, before a gateway strips the stage), else
// the URL's.
func rawPathOf(r *http.Request) string {
	if rc := reqctx.From(r.Context()); rc != nil && rc.RawPath != "" {
		return rc.RawPath
	}
	return r.URL.EscapedPath()
}

// canonicalURI percent-encodes the escaped path once more: every byte but
// A-Z a-z 0-9 - _ . ~ and "/".
func canonicalURI(escaped string) string {
	if escaped == "" {
		return "/"
	}
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(escaped) + 16)
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if unreserved(c) || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalQuery encodes every pair (but the signature of a presigned URL)
// and sorts them by encoded name, then value.
func canonicalQuery(query []queryPair, presigned bool) string {
	enc := make([]queryPair, 0, len(query))
	for _, p := range query {
		if presigned && p.k == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, queryPair{awsEscape(p.k), awsEscape(p.v)})
	}
	slices.SortFunc(enc, func(x, y queryPair) int {
		if c := strings.Compare(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.v, y.v)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// awsEscape is SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ as
// %XX.
func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// canonicalHeaders renders the signed headers: name:value lines, values
// trimmed with runs of spaces collapsed, several values joined by ",".
func canonicalHeaders(r *http.Request, signed []string) (string, error) {
	var b strings.Builder
	for _, name := range signed {
		var vals []string
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = r.Header.Values("Content-Length")
			if len(vals) == 0 && r.ContentLength > 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			vals = r.Header.Values(name)
		}
		if len(vals) == 0 {
			return "", fmt.Errorf("signed header %s is missing from the request", name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(collapseSpaces(v)))
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// collapseSpaces trims spaces at both ends and collapses inner runs of
// spaces to one, as the SDK signers do.
func collapseSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func signingKey(secret, day, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(day))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}
