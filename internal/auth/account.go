package auth

import (
	"context"
	"errors"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store"
)

// ChangePassword replaces the user's password after checking the current one
// (apperr.ErrInvalidCredentials when wrong) and the policy (weak_password with the reason).
// What else ends is End's PasswordChanged: every other session and application grant.
func (s *Service) ChangePassword(ctx context.Context, cur *Current, current, next string, m Meta) error {
	if err := s.CheckPassword(ctx, cur, current, audit.PasswordChangeFailed, m); err != nil {
		return err
	}
	m.ActorID = cur.User.ID
	if err := s.checkPolicy(next, cur.User.Username, cur.User.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return hashErr(err)
	}
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		if err := st.SetUserPasswordHash(ctx, cur.User.ID, hash, s.now()); err != nil {
			return err
		}
		if _, err := s.EndIn(ctx, st, PasswordChanged, cur.User.ID, cur.Session.ID, m); err != nil {
			return err
		}
		if err := s.notify(ctx, st, cur.User, NoticePasswordChanged, m); err != nil {
			return err
		}
		return s.record(ctx, st, audit.PasswordChanged, cur.User.ID, m, "")
	})
	return err
}

// errWrongCurrent answers a wrong current password before an account change.
var errWrongCurrent = apperr.Msg(apperr.CodeInvalidCredentials, "err.wrong_current_password")

// CheckPassword checks the signed-in user's current password before an account change:
// apperr.ErrUnauthenticated unless the sign-in is finished, invalid_credentials ("The
// current password is incorrect.") when wrong, recorded as failedEvent. It spends the same
// failure budget as signing in with the password (a throttled answer once it is spent),
// and a right password refills it, as a sign-in does.
func (s *Service) CheckPassword(ctx context.Context, cur *Current, pw, failedEvent string, m Meta) error {
	if cur.Session.State != store.StateAuthenticated {
		return apperr.ErrUnauthenticated
	}
	m.ActorID = cur.User.ID
	if len(pw) > 4*s.policy.MaxLength+4 {
		return errWrongCurrent
	}
	// The hash is read here, not with the session: a request's Current holds the account only.
	u, err := s.store.GetUser(ctx, cur.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.ErrUnauthenticated
	} else if err != nil {
		return err
	}
	a, err := s.reserve(ctx, store.BudgetPassword, cur.User.ID, cur.User.ID, m)
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		s.release(ctx, a) // not checked: no failure
		return hashErr(err)
	}
	if !ok {
		s.recordAside(ctx, failedEvent, cur.User.ID, m, "wrong current password")
		s.attemptFailed(ctx, a, cur.User.ID, m)
		return errWrongCurrent
	}
	return s.store.ResetBudget(ctx, store.BudgetPassword, cur.User.ID)
}

// checkPolicy maps a password policy refusal to a weak_password error with its reason.
func (s *Service) checkPolicy(pw string, userInputs ...string) error {
	err := s.policy.Check(pw, userInputs...)
	var pe *password.PolicyError
	if errors.As(err, &pe) {
		return apperr.Msg(apperr.CodeWeakPassword, pe.Key, pe.Args...)
	}
	return err
}

// SetPassword replaces u's password without the current one, for an administrator at the
// console. The policy applies (weak_password with the reason). In one transaction the
// password is replaced and End's PasswordReset ends every session, application grant and
// live reset link; the user is told by mail.
func (s *Service) SetPassword(ctx context.Context, u *store.User, pw string, m Meta) (Ended, error) {
	if len(pw) > 4*s.policy.MaxLength+4 {
		return Ended{}, apperr.Msg(apperr.CodeWeakPassword, "err.password_too_long", "Max", s.policy.MaxLength)
	}
	if err := s.checkPolicy(pw, u.Username, u.Email); err != nil {
		return Ended{}, err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return Ended{}, hashErr(err)
	}
	var ended Ended
	err = s.accountTx(ctx, u.ID, func(st store.Store) error {
		now := s.now()
		if err := st.SetUserPasswordHash(ctx, u.ID, hash, now); err != nil {
			return err
		}
		if ended, err = s.EndIn(ctx, st, PasswordReset, u.ID, "", m); err != nil {
			return err
		}
		if err := s.notify(ctx, st, &u.Account, NoticePasswordSet, m); err != nil {
			return err
		}
		return s.record(ctx, st, audit.PasswordSet, u.ID, m, "set at the console")
	})
	if err != nil {
		return Ended{}, err
	}
	u.PasswordHash = hash
	return ended, nil
}

// SetDisplayName sets the name the user goes by (applications get it as the OIDC name
// claim); an empty name clears it, and the claim carries the username again.
func (s *Service) SetDisplayName(ctx context.Context, cur *Current, name string, m Meta) (string, error) {
	name, err := ValidateDisplayName(name)
	if err != nil {
		return "", err
	}
	m.ActorID = cur.User.ID
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		if err := st.SetUserDisplayName(ctx, cur.User.ID, name, s.now()); err != nil {
			return err
		}
		detail := "display name set"
		if name == "" {
			detail = "display name cleared"
		}
		return s.record(ctx, st, audit.ProfileChanged, cur.User.ID, m, detail)
	})
	if err != nil {
		return "", err
	}
	cur.User.DisplayName = name
	return name, nil
}

// SetLanguage stores the language the user chose for the pages (a supported tag, which
// the caller checks; empty clears it). Their mails are written in it.
func (s *Service) SetLanguage(ctx context.Context, cur *Current, lang string) error {
	if err := s.store.SetUserLanguage(ctx, cur.User.ID, lang, s.now()); err != nil {
		return err
	}
	cur.User.Language = lang
	return nil
}
