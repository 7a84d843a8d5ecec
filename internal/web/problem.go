package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// statusOf is the one table from application error codes to HTTP status.
var statusOf = map[string]int{
	apperr.CodeBadRequest:               http.StatusBadRequest,
	apperr.CodeInvalidCredentials:       http.StatusUnauthorized,
	apperr.CodeInvalidCode:              http.StatusUnauthorized,
	apperr.CodeUnauthenticated:          http.StatusUnauthorized,
	apperr.CodeReauthenticationRequired: http.StatusForbidden,
	apperr.CodeForbidden:                http.StatusForbidden,
	apperr.CodeWeakPassword:             http.StatusBadRequest,
	apperr.CodeNoPendingEnrollment:      http.StatusConflict,
	apperr.CodeConflict:                 http.StatusConflict,
	apperr.CodeNotFound:                 http.StatusNotFound,
	apperr.CodeBusy:                     http.StatusServiceUnavailable,
	apperr.CodeUnavailable:              http.StatusServiceUnavailable,
	apperr.CodeInvalidToken:             http.StatusBadRequest,
	apperr.CodeInvalidEmail:             http.StatusBadRequest,
	apperr.CodeThrottled:                http.StatusTooManyRequests,
	apperr.CodeRateLimited:              http.StatusTooManyRequests,
	apperr.CodeInvalidCredential:        http.StatusUnauthorized,
	apperr.CodeChallengeExpired:         http.StatusUnauthorized,
	apperr.CodeWrongOrigin:              http.StatusUnauthorized,
	apperr.CodeKeyNotRegistered:         http.StatusUnauthorized,
	apperr.CodeUserVerificationRequired: http.StatusUnauthorized,
	apperr.CodeKeyCounterRegressed:      http.StatusUnauthorized,
	apperr.CodeKeyAlreadyRegistered:     http.StatusUnauthorized,
	apperr.CodeKeyModelNotAllowed:       http.StatusUnauthorized,
	apperr.CodeLastFactor:               http.StatusConflict,
	apperr.CodeMFAChanged:               http.StatusConflict,
	apperr.CodeLastAdmin:                http.StatusConflict,
	apperr.CodeSecurityKeyRequired:      http.StatusForbidden,
	apperr.CodeTokenCannotManageAdmins:  http.StatusForbidden,
	codeTooLarge:                        http.StatusRequestEntityTooLarge,
	codeUnsupportedType:                 http.StatusUnsupportedMediaType,
	codeMethodNotAllowed:                http.StatusMethodNotAllowed,
	codeInternal:                        http.StatusInternalServerError,
}

const (
	codeTooLarge         = "request_too_large"
	codeUnsupportedType  = "unsupported_media_type"
	codeMethodNotAllowed = "method_not_allowed"
	codeInternal         = "internal"
)

// errNotText answers input the store refused as text: a NUL or bytes that are not UTF-8
// that no handler caught before.
var errNotText = apperr.Msg(apperr.CodeBadRequest, "err.not_text")

// problem is an RFC 9457 problem document with twofold's stable code.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// classify turns any error into an application error, logging what users must not see.
func (s *Server) classify(r *http.Request, err error) *apperr.Error {
	if errors.Is(err, store.ErrUnavailable) { // an apperr too: log the cause before answering it
		s.log.WarnContext(r.Context(), "database unavailable", "method", shownMethod(r), "path", r.URL.Path, "err", err)
	}
	if e, ok := apperr.As(err); ok {
		if _, known := statusOf[e.Code]; known {
			if e.Code == apperr.CodeBusy {
				s.metrics.BusyAnswered()
			}
			return e
		}
	}
	if errors.Is(err, store.ErrInvalidText) {
		return errNotText
	}
	s.log.ErrorContext(r.Context(), "request failed", "method", shownMethod(r), "path", r.URL.Path, "err", err)
	return apperr.Msg(codeInternal, "err.internal")
}

// writeProblem answers a JSON API request with an error (Error decides when).
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	e := s.classify(r, err)
	status := statusOf[e.Code]
	var so *statusOverride
	if errors.As(err, &so) && slices.Contains(so.codes, e.Code) {
		status = so.status
	}
	setRetryAfter(w, e.RetryAfter)
	if status == http.StatusUnauthorized && e.Code == apperr.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Cookie realm="twofold"`)
	}
	var be *bearerError
	if errors.As(err, &be) {
		w.Header().Set("WWW-Authenticate", be.challenge())
	}
	contentProblem.set(w.Header())
	noStore.set(w.Header())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{
		Type:   "urn:twofold:problem:" + e.Code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: e.Message,
		Code:   e.Code,
	})
}

// statusOverride answers the application error code with status instead of the table's,
// for an endpoint whose contract says so: a key refused while adding it is a 400 (the
// caller is signed in), where the same refusal at sign-in is a 401.
type statusOverride struct {
	err    error
	codes  []string
	status int
}

func (e *statusOverride) Error() string { return e.err.Error() }
func (e *statusOverride) Unwrap() error { return e.err }

// answerCodesWith returns err to be answered with status when its code is one of codes;
// nil stays nil.
func answerCodesWith(err error, codes []string, status int) error {
	if err == nil {
		return nil
	}
	return &statusOverride{err: err, codes: codes, status: status}
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	contentJSON.set(w.Header())
	noStore.set(w.Header())
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
