package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store"
)

// Sign-in methods offered after the password step.
const (
	MethodTOTP           = "totp"
	MethodRecoveryCode   = "recovery_code"
	MethodTOTPEnrollment = "totp_enrollment"
	// MethodWebAuthnEnrollment: a security key or passkey can be set up instead of the
	// app (and only it under the phishing-resistant policy).
	MethodWebAuthnEnrollment = "webauthn_enrollment"
	MethodWebAuthn           = "webauthn" // a security key or passkey (offered first)
)

// LoginResult is the session a correct password opens.
type LoginResult struct {
	Current *Current
	Methods []string // what can finish the sign-in; empty when authenticated
}

// Login checks a username or e-mail and password. Unknown user, wrong password and disabled
// account all return apperr.ErrInvalidCredentials after the same hashing work. Every attempt
// first reserves a slot in the password budget of the account (or, when no account matches,
// of the identifier): a throttled attempt gets apperr code throttled and is not checked; a
// success resets the budget. On success
// the new session is mfa_required (an authenticator is set up), enrollment_required (MFA is
// required but none is set up) or authenticated.
//
// An identifier or password that is not sign-in text (see IsText) is a wrong one: the
// identifier, made text, matches no account and takes the unknown-identifier path; the
// password is checked and then refused. Same answer, same work, never a database error.
func (s *Service) Login(ctx context.Context, identifier, pw string, m Meta) (*LoginResult, error) {
	return s.LoginReplacing(ctx, identifier, pw, "", m)
}

// LoginReplacing is Login in a browser that holds a session already: held is its token
// ("" for none). A successful sign-in ends the held session as End(SessionReplaced) does,
// whoever's it is, in the transaction that opens the new one, so one browser never keeps
// two and both changes commit together; a failed sign-in leaves it alone. A held token
// that resolves to no live session (unknown, expired, ended meanwhile) is ignored.
func (s *Service) LoginReplacing(ctx context.Context, identifier, pw, held string, m Meta) (_ *LoginResult, err error) {
	defer s.countSignIn(metrics.StepPassword, &err)
	asked := m // the request's own meta, for ending the held session as End would
	if len(identifier) > maxIdentifier || len(pw) > 4*s.policy.MaxLength+4 {
		return nil, apperr.ErrInvalidCredentials
	}
	if s.hasher.Saturated() {
		// A burst beyond the hash queue is refused before any other work: no lookup, no
		// reservation of an attempt, so a busy answer is cheap and costs the account nothing.
		return nil, apperr.ErrBusy
	}
	identifier = AsText(identifier)
	pwIsText := IsText(pw)
	norm := NormalizeLogin(identifier)
	u, err := s.store.GetUserByLogin(ctx, norm)
	if errors.Is(err, store.ErrNotFound) || norm == "" {
		// Throttled exactly like an account (a budget of its own), then the same hashing work.
		a, err := s.reserve(ctx, store.BudgetPassword, loginKey(norm), "", m)
		if err != nil {
			return nil, err
		}
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
			s.release(ctx, a) // not checked: no failure
			return nil, hashErr(err)
		}
		s.failLogin(ctx, "", m, "unknown identifier")
		s.attemptFailed(ctx, a, "", m)
		return nil, apperr.ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	a, err := s.reserve(ctx, store.BudgetPassword, u.ID, u.ID, m)
	if err != nil {
		return nil, err
	}
	ok, rehash, err := s.verifyPassword(ctx, pw, u)
	if err != nil {
		s.release(ctx, a) // not checked (busy, or the stored hash is broken): no failure
		return nil, hashErr(err)
	}
	ok = ok && pwIsText
	if !ok || u.Disabled {
		reason := "wrong password"
		switch {
		case ok:
			reason = "account disabled"
		case u.PasswordHash == NoPassword:
			reason = "invitation not accepted"
		}
		s.failLogin(ctx, u.ID, m, reason)
		s.attemptFailed(ctx, a, u.ID, m)
		return nil, apperr.ErrInvalidCredentials
	}
	if rehash {
		if h, err := s.hasher.Hash(ctx, pw); err == nil {
			_ = s.store.SetUserPasswordHash(ctx, u.ID, h, s.now())
		}
	}

	state, methods := store.StateAuthenticated, []string(nil)
	f, err := s.factorsOf(ctx, s.store, u.ID)
	switch {
	case err != nil:
		return nil, err
	case f.any():
		state, methods = store.StateMFARequired, s.secondFactorMethods(u, f)
	case s.MFARequired(&u.Account):
		state, methods = store.StateEnrollmentRequired, s.enrollmentMethods(&u.Account)
	}

	sess, tok, err := s.newSession(u, state, []string{"pwd"}, m)
	if err != nil {
		return nil, err
	}
	var replaced *Current
	if held != "" {
		if c, err := s.Authenticate(ctx, held); err == nil {
			replaced = c
		}
	}
	m.ActorID = u.ID
	err = s.accountTx(ctx, u.ID, func(st store.Store) error {
		if err := st.ResetBudget(ctx, store.BudgetPassword, u.ID); err != nil {
			return err
		}
		if err := st.CreateSession(ctx, sess); err != nil {
			return err
		}
		if state == store.StateAuthenticated {
			if err := st.SetUserLastLogin(ctx, u.ID, s.now()); err != nil {
				return err
			}
			if err := s.record(ctx, st, audit.LoginSucceeded, u.ID, m, "amr=pwd"); err != nil {
				return err
			}
		} else if err := s.record(ctx, st, audit.PasswordVerified, u.ID, m, "next="+state); err != nil {
			return err
		}
		if replaced == nil {
			return nil
		}
		if err := TokenMayChangeIn(ctx, st, replaced.User.ID, asked); err != nil {
			return err
		}
		_, err := s.EndIn(ctx, st, SessionReplaced, replaced.User.ID, replaced.Session.ID, asked)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &LoginResult{Current: &Current{Session: &sess.Session, User: &u.Account, Token: tok}, Methods: methods}, nil
}

// verifyPassword checks pw against u's hash. An account without a password (invited, not
// accepted yet) matches no password, after the same hashing work as a wrong one.
func (s *Service) verifyPassword(ctx context.Context, pw string, u *store.User) (ok, rehash bool, err error) {
	if u.PasswordHash == NoPassword {
		return false, false, s.hasher.VerifyDummy(ctx, pw)
	}
	return s.hasher.Verify(ctx, pw, u.PasswordHash)
}

func (s *Service) failLogin(ctx context.Context, userID string, m Meta, reason string) {
	s.recordAside(ctx, audit.LoginFailed, userID, m, reason)
}

// hashErr maps password hashing failures: too many hashes at once is a 503 busy.
func hashErr(err error) error {
	if errors.Is(err, password.ErrBusy) {
		return apperr.ErrBusy
	}
	if errors.Is(err, password.ErrMalformedHash) {
		return fmt.Errorf("stored password hash: %w", err)
	}
	return err
}

// requireState refuses a session that is not in one of the states.
func requireState(cur *Current, states ...string) error {
	for _, st := range states {
		if cur.Session.State == st {
			return nil
		}
	}
	if cur.Session.State == store.StateAuthenticated {
		return apperr.Msg(apperr.CodeConflict, "err.already_signed_in")
	}
	return apperr.ErrUnauthenticated
}
