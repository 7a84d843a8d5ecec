package apperr

import (
	"errors"
	"time"
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
	// CodeInvalidCredential: a security key's or passkey's answer was refused.
	CodeInvalidCredential = "invalid_credential"
	// CodeLastFactor: removing this second factor would leave none where one is required.
	CodeLastFactor = "last_factor"
)

// Error is an application error. Message is safe to show; it never carries a secret or a
// detail that would help an attacker (such as whether an account exists).
type Error struct {
	Code       string
	Message    string
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

// New returns an application error.
func New(code, message string) *Error { return &Error{Code: code, Message: message} }

// As returns the application error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Common errors with their fixed user-facing messages.
var (
	ErrInvalidCredentials = New(CodeInvalidCredentials, "The username or password is incorrect.")
	ErrInvalidCode        = New(CodeInvalidCode, "That code didn't work. Each code works only once: if you just used it, wait for the next one.")
	ErrInvalidRecovery    = New(CodeInvalidCode, "That recovery code is not valid, or it was used already.")
	ErrUnauthenticated    = New(CodeUnauthenticated, "Sign in to continue.")
	ErrReauthentication   = New(CodeReauthenticationRequired, "Confirm that it is you: enter a current code from your authenticator app. Lost it? Sign in again with your recovery code.")
	ErrNoPending          = New(CodeNoPendingEnrollment, "There is no authenticator setup in progress, or it expired. Start the setup again.")
	ErrBusy               = &Error{Code: CodeBusy, Message: "The server is busy. Try again in a moment.", RetryAfter: time.Second}
	ErrUnavailable        = &Error{Code: CodeUnavailable, Message: "The service is temporarily unavailable. Try again in a moment.", RetryAfter: 5 * time.Second}
)
