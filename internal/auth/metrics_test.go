package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

// TestSignInResult: how a sign-in step's error counts in the metrics.
func TestSignInResult(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want metrics.Result
	}{
		{nil, metrics.OK},
		{apperr.ErrInvalidCredentials, metrics.Invalid},
		{apperr.ErrInvalidCode, metrics.Invalid},
		{apperr.ErrInvalidRecovery, metrics.Invalid},
		{ErrInvalidCredential, metrics.Invalid},
		{errChallengeGone, metrics.Invalid},
		{errKeyNotRegistered, metrics.Invalid},
		{errKeyNoUV, metrics.Invalid},
		{errKeyCloned, metrics.Invalid},
		{errWrongOrigin, metrics.Invalid},
		{apperr.New(apperr.CodeThrottled, "wait"), metrics.Throttled},
		{fmt.Errorf("login: %w", apperr.ErrBusy), metrics.Busy},
		{hashErr(errors.New("boom")), metrics.Failed},
		{fmt.Errorf("%w: connection refused", store.ErrUnavailable), metrics.Failed},
		{context.Canceled, metrics.Failed},
	} {
		if got := signInResult(tc.err); got != tc.want {
			t.Errorf("signInResult(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
