package apperr

import (
	"errors"
	"time"

	"github.com/twofold-id/twofold/internal/i18n"
)

// Stable error codes. The web layer maps each to an HTTP status in one table.
const (
	CodeBadRequest               = "bad_request"
	CodeInvalidCredentials       = "invalid_credentials"
	CodeInvalidCode              = "invalid_code"
	CodeUnauthenticated          = "unauthenticated"
	CodeReauthenticationRequired = "reauthentication_required"
	CodeForbidden                = "forbidden"
	CodeWeakPassword             = "weak_password"
	CodeNoPendingEnrollment      = "no_pending_enrollment"
	CodeConflict                 = "conflict"
	CodeNotFound                 = "not_found"
	CodeBusy                     = "busy"
	CodeUnavailable              = "unavailable"
	CodeInvalidToken             = "invalid_token"
	CodeInvalidEmail             = "invalid_email"
	CodeThrottled                = "throttled"    // a failure budget makes this attempt wait (429)
	CodeRateLimited              = "rate_limited" // too many requests from one client address (429)
	// CodeLastAdmin: the change would leave no enabled administrator, or an administrator
	// tried to disable, demote or delete themselves (409).
	CodeLastAdmin = "last_admin"
	// CodeInvalidCredential: a security key's or passkey's answer was refused, for a
	// reason that has no code of its own below (a signature that does not verify, a
	// disabled account, ...).
	CodeInvalidCredential = "invalid_credential"
	// The refusals of a key's answer a person can act on (KeyRefusals): the challenge
	// expired or was used (try again), the answer came from another address than the site's,
	// the key is not (or no longer) registered for the account, a passkey did not verify its
	// user (no PIN or biometric), the key's counter went back (a possible copy), and at
	// registration a key registered already or a model the organisation does not accept.
	CodeChallengeExpired         = "challenge_expired"
	CodeWrongOrigin              = "wrong_origin"
	CodeKeyNotRegistered         = "key_not_registered"
	CodeUserVerificationRequired = "user_verification_required"
	CodeKeyCounterRegressed      = "key_counter_regressed"
	CodeKeyAlreadyRegistered     = "key_already_registered"
	CodeKeyModelNotAllowed       = "key_model_not_allowed"
	// CodeLastFactor: removing this second factor would leave none where one is required.
	CodeLastFactor = "last_factor"
	// CodeMFAChanged: the account's MFA is no longer in the state the request was made
	// on (an MFA reset carrying the state an agent saw on the case): reload, then decide
	// again (409).
	CodeMFAChanged = "mfa_changed"
	// CodeSecurityKeyRequired: the phishing-resistant policy wants a security key or
	// passkey where another factor was offered (403).
	CodeSecurityKeyRequired = "security_key_required"
	// CodeTokenCannotManageAdmins: an API token tried to change an administrator's account,
	// or to make an administrator; only an administrator's session may (403).
	CodeTokenCannotManageAdmins = "token_cannot_manage_admins"
)

// KeyRefusals are the codes of a refused security key or passkey answer: a failed
// attempt at sign-in (401), a refused key when adding one (400).
var KeyRefusals = []string{CodeInvalidCredential, CodeChallengeExpired, CodeWrongOrigin, CodeKeyNotRegistered,
	CodeUserVerificationRequired, CodeKeyCounterRegressed, CodeKeyAlreadyRegistered, CodeKeyModelNotAllowed}

// Error is an application error. Message is safe to show; it never carries a secret or a
// detail that would help an attacker (such as whether an account exists).
type Error struct {
	Code string
	// Message is the message in English: the API's detail and the log's text.
	Message string
	// Key is the message's key in the catalog (internal/i18n), with its Args; Text
	// shows it in a person's language. Empty for a message not in the catalog.
	Key        string
	Args       []any
	RetryAfter time.Duration // set for busy and throttled answers
	// Field names the form field the error is about ("username", "code"); empty when it
	// is about the whole request. Pages show the message beside that field.
	Field string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// In returns a copy of e about the form field field.
func (e *Error) In(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// New returns an application error with a message only in English; people see it as it
// is. Msg is for a message pages show.
func New(code, message string) *Error { return &Error{Code: code, Message: message} }

// Msg returns an application error whose message is key in the catalog, filled in with
// args (name and value pairs, as i18n.T takes them). Its Message is the English text.
func Msg(code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args, Message: i18n.T(i18n.Default, key, args...)}
}

// RateLimited returns a rate_limited error whose message is key in the catalog, to be
// tried again after wait (at least a second).
func RateLimited(key string, wait time.Duration) *Error {
	return retryAfter(Msg(CodeRateLimited, key), max(wait, time.Second))
}

// Text returns the message in lang; English when it is not in the catalog.
func (e *Error) Text(lang string) string {
	if e.Key == "" {
		return e.Message
	}
	return i18n.T(lang, e.Key, e.Args...)
}

// As returns the application error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Common errors with their fixed user-facing messages.
var (
	ErrInvalidCredentials = Msg(CodeInvalidCredentials, "err.invalid_credentials")
	ErrInvalidCode        = Msg(CodeInvalidCode, "err.invalid_code")
	ErrInvalidRecovery    = Msg(CodeInvalidCode, "err.invalid_recovery")
	ErrUnauthenticated    = Msg(CodeUnauthenticated, "err.unauthenticated")
	ErrReauthentication   = Msg(CodeReauthenticationRequired, "err.reauthentication")
	ErrNoPending          = Msg(CodeNoPendingEnrollment, "err.no_pending")
	ErrBusy               = retryAfter(Msg(CodeBusy, "err.busy"), time.Second)
	ErrUnavailable        = retryAfter(Msg(CodeUnavailable, "err.unavailable"), 5*time.Second)
)

func retryAfter(e *Error, d time.Duration) *Error {
	e.RetryAfter = d
	return e
}
