package auth

import (
	"slices"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/metrics"
)

// signInResult is how a sign-in step that returned err ended, for the metrics.
func signInResult(err error) metrics.Result {
	if err == nil {
		return metrics.OK
	}
	e, ok := apperr.As(err)
	if !ok {
		return metrics.Failed
	}
	if slices.Contains(apperr.KeyRefusals, e.Code) {
		return metrics.Invalid
	}
	switch e.Code {
	case apperr.CodeInvalidCredentials, apperr.CodeInvalidCode, apperr.CodeBadRequest:
		return metrics.Invalid
	case apperr.CodeThrottled:
		return metrics.Throttled
	case apperr.CodeBusy:
		return metrics.Busy
	}
	return metrics.Failed
}

// countSignIn counts an attempt at step that ended with *err (call it deferred).
func (s *Service) countSignIn(step metrics.Step, err *error) {
	s.metrics.SignIn(step, signInResult(*err))
}
