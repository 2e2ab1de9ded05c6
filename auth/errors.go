package auth

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/reqctx"
)

// Errors returned by [Keys] and the [KeyStore] implementations. Callers
// branch on them with errors.Is; an API-key step turns each into 403
// INVALID_API_KEY.
var (
	// ErrMissingAPIKey: the request carries no API key.
	ErrMissingAPIKey = errors.New("auth: no API key")
	// ErrUnknownAPIKey: no key has the value presented.
	ErrUnknownAPIKey = errors.New("auth: unknown API key")
	// ErrAPIKeyDisabled: the key exists but is disabled.
	ErrAPIKeyDisabled = errors.New("auth: API key is disabled")
	// ErrKeyNotFound: no key has the id (or hash) asked for.
	ErrKeyNotFound = errors.New("auth: API key not found")
	// ErrKeyExists: a key with that id or value already exists.
	ErrKeyExists = errors.New("auth: API key already exists")
)

// ErrUnauthorized is what a custom authorizer function returns to refuse a
// caller with 401 UNAUTHORIZED, as a Lambda authorizer does by failing with
// the message "Unauthorized". Any other error is an authorizer failure
// (500 AUTHORIZER_FAILURE).
var ErrUnauthorized = errors.New("Unauthorized")

// ErrUnknownAccessKey is returned by a [CredentialStore] that has no
// credential for an access key id.
var ErrUnknownAccessKey = errors.New("auth: unknown access key")

// PolicyError is a malformed policy document: it names the statement (by
// index from 0 and Sid) and the element at fault.
type PolicyError struct {
	// Statement is the index of the statement, -1 for the document itself.
	Statement int
	// Sid is the statement's Sid, if it has one.
	Sid string
	// Err says what is wrong.
	Err error
}

// Error implements error.
func (e *PolicyError) Error() string {
	switch {
	case e.Statement < 0:
		return "auth: policy: " + e.Err.Error()
	case e.Sid != "":
		return fmt.Sprintf("auth: policy statement %d (Sid %q): %v", e.Statement, e.Sid, e.Err)
	}
	return fmt.Sprintf("auth: policy statement %d: %v", e.Statement, e.Err)
}

// Unwrap returns the cause.
func (e *PolicyError) Unwrap() error { return e.Err }

// gwError builds a gateway error with a custom client message.
func gwError(t reqctx.ResponseType, msg string, cause error) *reqctx.Error {
	return &reqctx.Error{Type: t, Message: msg, Err: cause}
}

// unauthorized is 401 UNAUTHORIZED with a Bearer challenge (RFC 6750): an
// empty errCode for a missing token, "invalid_token" for a bad one.
func unauthorized(errCode, description string, cause error) *reqctx.Error {
	e := reqctx.NewError(reqctx.Unauthorized, cause)
	v := `Bearer`
	if errCode != "" {
		v = `Bearer error="` + errCode + `", error_description="` + description + `"`
	}
	e.Header = map[string][]string{"Www-Authenticate": {v}}
	return e
}
