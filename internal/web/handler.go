package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
)

// handlerFunc is an HTTP handler that returns its error instead of writing it. A route
// hands the error to Error, so every failure is answered the same way.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// isAPI reports the requests answered in JSON, which get problem documents, not pages:
// the JSON API and the health checks.
func isAPI(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz"
}

// Error answers r with err; it is the one place that writes an error. The JSON API gets an
// RFC 9457 problem document, a page the error page. An error returned through onForm draws
// its form again with the message instead. Status, code, message and Retry-After come from
// the application error; anything else is logged and answered as an internal error.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	var fe *formError
	switch {
	case errors.As(err, &fe):
		e := s.classify(r, fe.err)
		setRetryAfter(w, e.RetryAfter)
		if err := fe.show(statusOf[e.Code], formProblem{Message: e.Text(s.lang(r)), Field: e.Field}); err != nil {
			// The form could not be drawn: the error page says why instead.
			w.Header().Del("Retry-After")
			s.renderError(w, r, err)
		}
	case isAPI(r):
		s.writeProblem(w, r, err)
	default:
		s.renderError(w, r, err)
	}
}

// formError is an error a form shows in place (for example a wrong code under the code
// field): Error draws the form again with the error's message and status.
type formError struct {
	err  error
	show func(status int, msg formProblem) error
}

// formProblem is what a form shows of its error: the message safe to show, and the field
// it is about (the input's id), which the page marks invalid, describes by the message and
// focuses; an empty Field puts the message above the form.
type formProblem struct{ Message, Field string }

func (e *formError) Error() string { return e.err.Error() }
func (e *formError) Unwrap() error { return e.err }

// onForm returns err to be shown on its form by show, which draws the page with status and
// the problem; nil stays nil. show returns an error when the page cannot be drawn (its
// data failed to load); Error then shows the error page.
func onForm(err error, show func(status int, msg formProblem) error) error {
	if err == nil {
		return nil
	}
	return &formError{err: err, show: show}
}

// setRetryAfter is the one writer of Retry-After (rate limited, busy, unavailable,
// throttled sign-ins): whole seconds, rounded up. Zero sends none.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d <= 0 {
		return
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
}

// inputCodes are the application errors about what was typed into a form; others (busy,
// throttled, an expired link) are about the whole request.
var inputCodes = map[string]bool{
	apperr.CodeBadRequest: true, apperr.CodeInvalidCredentials: true, apperr.CodeInvalidCode: true,
	apperr.CodeWeakPassword: true, apperr.CodeConflict: true, apperr.CodeInvalidEmail: true,
	apperr.CodeReauthenticationRequired: true,
}

// atField says that err is about the form field field (the input's id) when it is an error
// about the input that names no field of its own; any other error is returned as it is.
func atField(field string, err error) error {
	if e, ok := apperr.As(err); ok && e.Field == "" && inputCodes[e.Code] {
		return e.In(field)
	}
	return err
}
