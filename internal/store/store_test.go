package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// TestUnavailableIsTheApplications503: a backend's unavailability, however wrapped, is
// the application's 503 error without any caller mapping it, and stays recognisable (with
// its cause) for the log.
func TestUnavailableIsTheApplications503(t *testing.T) {
	cause := errors.New("connection reset by peer")
	err := fmt.Errorf("get user: %w", fmt.Errorf("%w: %w", store.ErrUnavailable, cause))
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, cause) {
		t.Fatalf("%v lost the sentinel or its cause", err)
	}
	e, ok := apperr.As(err)
	if !ok || e != apperr.ErrUnavailable {
		t.Fatalf("apperr.As(%v) = %v, %v; want apperr.ErrUnavailable", err, e, ok)
	}
	if _, ok := apperr.As(fmt.Errorf("x: %w", store.ErrNotFound)); ok {
		t.Fatal("ErrNotFound became an application error")
	}
}
