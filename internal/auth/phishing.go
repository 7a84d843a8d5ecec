package auth

import (
	"context"
	"errors"
	"slices"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// Answers of the phishing-resistant policy (mfa.phishing_resistant).
var (
	// ErrSecurityKeyRequired refuses an authenticator code offered as the second factor of
	// a user under the policy who has a key.
	ErrSecurityKeyRequired = apperr.Msg(apperr.CodeSecurityKeyRequired, "err.key_required")
	// ErrKeyEnrollmentOnly refuses an authenticator app setup for a user under the policy.
	ErrKeyEnrollmentOnly = apperr.Msg(apperr.CodeSecurityKeyRequired, "err.key_enrollment_only")
)

// PhishingResistant reports whether the user's second factor must be a security key or
// passkey (mfa.phishing_resistant lists the user's role). Such users always need MFA.
func (s *Service) PhishingResistant(u *store.Account) bool {
	return s.keyForRole != nil && s.keyForRole(u.Role)
}

// MeetsKeyPolicy reports whether cur's session is good enough for what the
// phishing-resistant policy guards (the support and admin consoles, applications): a user
// under the policy must have used a key in this session; anyone else passes.
func (s *Service) MeetsKeyPolicy(cur *Current) bool {
	return !s.PhishingResistant(cur.User) || slices.Contains(cur.Session.AMR, AMRKey)
}

// enrollmentMethods lists what a user who must set up a second factor before the sign-in
// ends may set up: an authenticator app or a key; only a key under the policy.
func (s *Service) enrollmentMethods(u *store.Account) []string {
	if s.PhishingResistant(u) {
		return []string{MethodWebAuthnEnrollment}
	}
	return []string{MethodTOTPEnrollment, MethodWebAuthnEnrollment}
}

// keyCounter is the store method that tells whether a user has keys.
type keyCounter interface {
	CountWebAuthnCredentials(ctx context.Context, userID string) (int, error)
}

// HasKey reports whether the user has registered a security key or passkey.
func (s *Service) HasKey(ctx context.Context, userID string) (bool, error) {
	return hasKey(ctx, s.store, userID)
}

func hasKey(ctx context.Context, st keyCounter, userID string) (bool, error) {
	n, err := st.CountWebAuthnCredentials(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return n > 0, err
}

// afterCode is the state a correct authenticator code (or the recovery code, as a code)
// leads cur's user to: authenticated, or, for a user under the policy without a key,
// enrollment_required, where only a key can be added. A user under the policy who has a
// key gets ErrSecurityKeyRequired: the code does not finish the sign-in.
func (s *Service) afterCode(ctx context.Context, cur *Current) (string, error) {
	if !s.PhishingResistant(cur.User) {
		return store.StateAuthenticated, nil
	}
	has, err := hasKey(ctx, s.store, cur.User.ID)
	if err != nil {
		return "", err
	}
	if has {
		return "", ErrSecurityKeyRequired
	}
	return store.StateEnrollmentRequired, nil
}

// ProveWithCode proves the second factor again in an authenticated session with a current
// authenticator code (which counts as used), so that the session may add or remove a
// security key for the next RecentProof. A wrong or replayed code is
// apperr.ErrInvalidCode and spends the second-factor budget. A user under the
// phishing-resistant policy who has a key gets ErrSecurityKeyRequired: the key proves it.
func (s *Service) ProveWithCode(ctx context.Context, cur *Current, code string, m Meta) error {
	if cur.Session.State != store.StateAuthenticated {
		return apperr.ErrUnauthenticated
	}
	if _, err := s.afterCode(ctx, cur); err != nil {
		return err
	}
	m.ActorID = cur.User.ID
	a, err := s.reserve(ctx, store.BudgetSecondFactor, cur.User.ID, cur.User.ID, m)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		if err := s.acceptCode(ctx, st, cur.User.ID, code); err != nil {
			return err
		}
		return st.SetSessionSecondFactor(ctx, cur.Session.ID, now)
	})
	if errors.Is(err, apperr.ErrInvalidCode) {
		s.recordAside(ctx, audit.ReauthFailed, cur.User.ID, m, "confirm it is you")
		s.attemptFailed(ctx, a, cur.User.ID, m)
	}
	if err != nil {
		return err
	}
	cur.Session.SecondFactorAt = now
	return nil
}
