package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/recovery"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/totp"
)

// amrMFA is the amr of a session that passed the password and a one-time code.
var amrMFA = []string{"pwd", "otp", "mfa"}

// acceptCode checks a code against the user's authenticator and marks its step used, in st.
// Wrong, malformed and replayed codes all give apperr.ErrInvalidCode. A correct code resets
// the second-factor budget in st; callers reserve a slot in it (outside st) first.
func (s *Service) acceptCode(ctx context.Context, st store.Store, userID, code string) error {
	c, err := st.GetTOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.ErrInvalidCode
	}
	if err != nil {
		return err
	}
	secret, err := s.totpBox.Open(c.SecretEnc, []byte(userID))
	if err != nil {
		return err
	}
	step, ok := totp.Match(secret, code, s.now())
	if !ok {
		return apperr.ErrInvalidCode
	}
	if err := st.AcceptTOTPStep(ctx, userID, step, s.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return apperr.ErrInvalidCode // replayed, or older than the last accepted code
		}
		return err
	}
	return st.ResetBudget(ctx, store.BudgetSecondFactor, userID)
}

// VerifyTOTP finishes an mfa_required sign-in with an authenticator code and returns the
// session's new token. A wrong code and a replayed one get the same apperr.ErrInvalidCode;
// of parallel submissions of one code exactly one wins. Under the phishing-resistant policy
// the code does not finish the sign-in: a user with a key gets ErrSecurityKeyRequired (the
// code is not checked), one without moves to enrollment_required to add a key.
func (s *Service) VerifyTOTP(ctx context.Context, cur *Current, code string, m Meta) (_ string, err error) {
	if err := requireState(cur, store.StateMFARequired); err != nil {
		return "", err
	}
	defer s.countSignIn(metrics.StepTOTP, &err)
	m.ActorID = cur.User.ID
	next, err := s.afterCode(ctx, cur)
	if err != nil {
		return "", err
	}
	a, err := s.reserve(ctx, store.BudgetSecondFactor, cur.User.ID, cur.User.ID, m)
	if err != nil {
		return "", err
	}
	var tok string
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		if err := s.acceptCode(ctx, st, cur.User.ID, code); err != nil {
			return err
		}
		var err error
		if tok, err = s.stepUp(ctx, st, cur, next, amrMFA, true); err != nil {
			return err
		}
		if next != store.StateAuthenticated {
			// The code proves the user, but under the phishing-resistant policy only a key
			// finishes the sign-in: the session may add one, nothing else.
			return s.record(ctx, st, audit.PasswordVerified, cur.User.ID, m, "code accepted; next="+next+" (a security key is required)")
		}
		if err := st.SetUserLastLogin(ctx, cur.User.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, st, audit.LoginSucceeded, cur.User.ID, m, "amr=pwd otp mfa")
	})
	if errors.Is(err, apperr.ErrInvalidCode) {
		s.recordAside(ctx, audit.TOTPFailed, cur.User.ID, m, "")
		s.attemptFailed(ctx, a, cur.User.ID, m)
	}
	return tok, err
}

// UseRecoveryCode finishes an mfa_required sign-in with the recovery code. The code works
// once: in the same transaction it is replaced by a fresh one, which is returned with the
// session's new token. Of parallel submissions of one code exactly one wins. The sign-in
// is a full MFA sign-in and a proof of the second factor, like one with a code.
func (s *Service) UseRecoveryCode(ctx context.Context, cur *Current, code string, m Meta) (token, fresh string, err error) {
	if err := requireState(cur, store.StateMFARequired); err != nil {
		return "", "", err
	}
	defer s.countSignIn(metrics.StepRecoveryCode, &err)
	m.ActorID = cur.User.ID // also for the login.succeeded row below, not only spendRecoveryCode's
	fresh, err = s.spendRecoveryCode(ctx, cur, code, m, "a fresh recovery code was issued", func(st store.Store) error {
		var err error
		if token, err = s.stepUp(ctx, st, cur, store.StateAuthenticated, amrMFA, true); err != nil {
			return err
		}
		if err := st.SetUserLastLogin(ctx, cur.User.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, st, audit.LoginSucceeded, cur.User.ID, m, "amr=pwd otp mfa (recovery code)")
	})
	if err != nil {
		return "", "", err
	}
	return token, fresh, nil
}

// ProveWithRecoveryCode proves the second factor again in an authenticated session with
// the recovery code, for a user who has lost the authenticator and whose last proof is
// too old to replace it (see BeginTOTPSetup). The code works once: it is replaced by a
// fresh one, returned, and the session records the proof. Wrong, malformed and used codes
// get apperr.ErrInvalidRecovery and spend the second-factor budget.
func (s *Service) ProveWithRecoveryCode(ctx context.Context, cur *Current, code string, m Meta) (fresh string, err error) {
	if cur.Session.State != store.StateAuthenticated {
		return "", apperr.ErrUnauthenticated
	}
	now := s.now()
	fresh, err = s.spendRecoveryCode(ctx, cur, code, m, "a fresh recovery code was issued (second factor proved again)", func(st store.Store) error {
		return st.SetSessionSecondFactor(ctx, cur.Session.ID, now)
	})
	if err != nil {
		return "", err
	}
	cur.Session.SecondFactorAt = now
	return fresh, nil
}

// spendRecoveryCode uses up the user's recovery code when code is it: in one transaction
// the code is replaced by a fresh one (returned), the second-factor budget is reset, the
// use is audited with detail, and then runs. The attempt first reserves a slot in the
// second-factor budget; a wrong, malformed or used code is audited, counted and answered
// with apperr.ErrInvalidRecovery. Of parallel submissions of one code exactly one wins. The
// user is told by a notice.
func (s *Service) spendRecoveryCode(ctx context.Context, cur *Current, code string, m Meta, detail string, then func(st store.Store) error) (string, error) {
	m.ActorID = cur.User.ID
	a, err := s.reserve(ctx, store.BudgetSecondFactor, cur.User.ID, cur.User.ID, m)
	if err != nil {
		return "", err
	}
	normalized, err := recovery.Normalize(code)
	if err != nil {
		s.recordAside(ctx, audit.RecoveryCodeFailed, cur.User.ID, m, "malformed")
		s.attemptFailed(ctx, a, cur.User.ID, m)
		return "", apperr.ErrInvalidRecovery
	}
	fresh, freshHash, err := s.newRecoveryCode()
	if err != nil {
		return "", err
	}
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		err := st.ConsumeRecoveryCode(ctx, cur.User.ID, s.recovery.Hash(normalized), freshHash, s.now())
		if errors.Is(err, store.ErrNotFound) {
			return apperr.ErrInvalidCode
		}
		if err != nil {
			return err
		}
		if err := st.ResetBudget(ctx, store.BudgetSecondFactor, cur.User.ID); err != nil {
			return err
		}
		if err := s.record(ctx, st, audit.RecoveryCodeUsed, cur.User.ID, m, detail); err != nil {
			return err
		}
		if err := s.notify(ctx, st, cur.User, NoticeRecoveryCodeUsed, m); err != nil {
			return err
		}
		return then(st)
	})
	if err != nil {
		if errors.Is(err, apperr.ErrInvalidCode) {
			s.recordAside(ctx, audit.RecoveryCodeFailed, cur.User.ID, m, "")
			s.attemptFailed(ctx, a, cur.User.ID, m)
			return "", apperr.ErrInvalidRecovery
		}
		return "", err
	}
	s.metrics.RecoveryCodeUsed()
	return fresh, nil
}

// Setup is an authenticator secret waiting for confirmation.
type Setup struct {
	Secret    string // base32, for manual entry
	URI       string // otpauth:// key URI
	QRPNG     []byte
	ExpiresAt time.Time
}

// RecentProof is how old a session's last second-factor proof (a code or the recovery
// code) may be for the session to replace the authenticator without proving it again.
const RecentProof = 10 * time.Minute

// provedRecently reports whether the session proved the second factor at most RecentProof
// ago.
func (s *Service) provedRecently(sess *store.Session) bool {
	return !sess.SecondFactorAt.IsZero() && s.now().Sub(sess.SecondFactorAt) <= RecentProof
}

// ProvedRecently reports whether cur's session may replace the authenticator without
// proving the second factor again: it proved it at most RecentProof ago.
func (s *Service) ProvedRecently(cur *Current) bool { return s.provedRecently(cur.Session) }

// BeginTOTPSetup draws a new authenticator secret for the user, valid for 10 minutes until
// confirmed. Replacing an active authenticator needs a recent second-factor proof: a
// current code from it (which counts as used and is recorded as the session's latest
// proof), or, without a code, a session that proved the second factor (a code or the
// recovery code) at most RecentProof ago, and then the setup expires when that proof
// stops being recent, so it cannot be confirmed later; else apperr.ErrReauthentication. So a user who
// lost the device signs in with the recovery code and replaces it. A user under the
// phishing-resistant policy gets ErrKeyEnrollmentOnly.
func (s *Service) BeginTOTPSetup(ctx context.Context, cur *Current, currentCode string, m Meta) (*Setup, error) {
	if st := cur.Session.State; st != store.StateAuthenticated && st != store.StateEnrollmentRequired {
		return nil, apperr.ErrUnauthenticated
	}
	if s.PhishingResistant(cur.User) {
		return nil, ErrKeyEnrollmentOnly
	}
	m.ActorID = cur.User.ID
	secret, err := totp.GenerateSecret(s.rand)
	if err != nil {
		return nil, err
	}
	sealed, err := s.totpBox.Seal(secret, []byte(cur.User.ID))
	if err != nil {
		return nil, err
	}
	now := s.now()
	pending := &store.PendingTOTP{UserID: cur.User.ID, SessionID: cur.Session.ID, SecretEnc: sealed, CreatedAt: now, ExpiresAt: now.Add(PendingSetupTTL)}
	var a *attempt // a code checked against the active authenticator is a second-factor attempt
	proved := false
	if currentCode != "" && cur.Session.State == store.StateAuthenticated {
		if _, err := s.store.GetTOTP(ctx, cur.User.ID); err == nil {
			if a, err = s.reserve(ctx, store.BudgetSecondFactor, cur.User.ID, cur.User.ID, m); err != nil {
				return nil, err
			}
		}
	}
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		if _, err := st.GetTOTP(ctx, cur.User.ID); err == nil {
			if cur.Session.State != store.StateAuthenticated {
				return apperr.ErrUnauthenticated
			}
			switch {
			case currentCode != "":
				if err := s.acceptCode(ctx, st, cur.User.ID, currentCode); errors.Is(err, apperr.ErrInvalidCode) {
					return apperr.ErrReauthentication
				} else if err != nil {
					return err
				}
				if err := st.SetSessionSecondFactor(ctx, cur.Session.ID, now); err != nil {
					return err
				}
				proved = true
			case !s.provedRecently(cur.Session):
				return apperr.ErrReauthentication
			default:
				// The proof must still be recent when the setup is confirmed: the
				// setup ends with it.
				if end := cur.Session.SecondFactorAt.Add(RecentProof); end.Before(pending.ExpiresAt) {
					pending.ExpiresAt = end
				}
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		} else if cur.Session.State == store.StateAuthenticated {
			// Adding an app beside security keys changes the second factors too.
			n, err := st.CountWebAuthnCredentials(ctx, cur.User.ID)
			if err != nil {
				return err
			}
			if n > 0 && !s.provedRecently(cur.Session) {
				return apperr.ErrReauthentication
			}
			if n > 0 {
				if end := cur.Session.SecondFactorAt.Add(RecentProof); end.Before(pending.ExpiresAt) {
					pending.ExpiresAt = end
				}
			}
		}
		if err := st.PutPendingTOTP(ctx, pending); err != nil {
			return err
		}
		return s.record(ctx, st, audit.TOTPSetupStarted, cur.User.ID, m, "")
	})
	if errors.Is(err, apperr.ErrReauthentication) {
		s.recordAside(ctx, audit.ReauthFailed, cur.User.ID, m, "replace authenticator")
		s.attemptFailed(ctx, a, cur.User.ID, m)
	}
	if err != nil {
		return nil, err
	}
	if proved {
		cur.Session.SecondFactorAt = now
	}
	return s.setupView(cur.User, secret, pending.ExpiresAt)
}

// PendingSetup shows the user's unconfirmed secret again (for the setup page), or returns
// apperr.ErrNoPending when there is none or it expired, and apperr.ErrUnauthenticated to a
// session that is not authenticated while the user already has an authenticator.
func (s *Service) PendingSetup(ctx context.Context, cur *Current) (*Setup, error) {
	if err := s.refuseStaleEnrollment(ctx, s.store, cur); err != nil {
		return nil, err
	}
	p, err := s.pendingOf(ctx, cur)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.ErrNoPending
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.totpBox.Open(p.SecretEnc, []byte(cur.User.ID))
	if err != nil {
		return nil, err
	}
	return s.setupView(cur.User, secret, p.ExpiresAt)
}

// refuseStaleEnrollment returns apperr.ErrUnauthenticated for a session that is not
// authenticated while the user already has an authenticator: an enrollment_required
// session left over from before the setup may neither see nor confirm a replacement.
func (s *Service) refuseStaleEnrollment(ctx context.Context, st Store, cur *Current) error {
	if cur.Session.State == store.StateAuthenticated {
		return nil
	}
	_, err := st.GetTOTP(ctx, cur.User.ID)
	switch {
	case err == nil:
		return apperr.ErrUnauthenticated
	case errors.Is(err, store.ErrNotFound):
		return nil
	}
	return err
}

func (s *Service) setupView(u *store.Account, secret []byte, expires time.Time) (*Setup, error) {
	uri := totp.KeyURI(s.issuer, u.Username, secret)
	png, err := totp.QRCodePNG(uri, 256)
	if err != nil {
		return nil, err
	}
	return &Setup{Secret: totp.EncodeSecret(secret), URI: uri, QRPNG: png, ExpiresAt: expires}, nil
}

// ConfirmTOTPSetup activates the pending secret when code is correct for it. The code counts
// as used; a recovery code is issued (replacing any earlier one) and returned with the
// session's new token, except for an app added beside security keys: the user keeps the
// recovery code that came with the first key, and the returned one is empty. The session becomes authenticated with the amr it had: enrolling is
// not an MFA sign-in (a session that had mfa keeps it, one that had a password alone
// stays so until a sign-in with a code).
func (s *Service) ConfirmTOTPSetup(ctx context.Context, cur *Current, code string, m Meta) (token, recoveryCode string, err error) {
	if cur.Session.State != store.StateAuthenticated && cur.Session.State != store.StateEnrollmentRequired {
		return "", "", apperr.ErrUnauthenticated
	}
	if s.PhishingResistant(cur.User) {
		return "", "", ErrKeyEnrollmentOnly
	}
	m.ActorID = cur.User.ID
	if err := s.refuseStaleEnrollment(ctx, s.store, cur); err != nil {
		return "", "", err
	}
	p, err := s.pendingOf(ctx, cur)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", apperr.ErrNoPending
	}
	if err != nil {
		return "", "", err
	}
	secret, err := s.totpBox.Open(p.SecretEnc, []byte(cur.User.ID))
	if err != nil {
		return "", "", err
	}
	step, ok := totp.Match(secret, code, s.now())
	if !ok {
		s.recordAside(ctx, audit.TOTPConfirmFailed, cur.User.ID, m, "")
		return "", "", apperr.ErrInvalidCode
	}
	recoveryCode, rcHash, err := s.newRecoveryCode()
	if err != nil {
		return "", "", err
	}
	now := s.now()
	notice := NoticeTOTPEnrolled
	issued := true
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		event := audit.TOTPEnrolled
		if err := s.refuseStaleEnrollment(ctx, st, cur); err != nil {
			return err
		}
		f, err := s.factorsOf(ctx, st, cur.User.ID)
		if err != nil {
			return err
		}
		if f.totp {
			event, notice = audit.TOTPReplaced, NoticeTOTPReplaced
		}
		// The first second factor comes with a recovery code, as does a replaced app; an
		// app added beside keys keeps the recovery code the user has.
		issued = !(f.keys > 0 && !f.totp && f.recovery)
		if err := st.ClaimPendingTOTP(ctx, cur.User.ID, cur.Session.ID, p.SecretEnc); errors.Is(err, store.ErrNotFound) {
			return apperr.ErrNoPending // claimed by a parallel confirmation, or replaced since
		} else if err != nil {
			return err
		}
		cred := &store.TOTPCredential{UserID: cur.User.ID, SecretEnc: p.SecretEnc, LastStep: step, CreatedAt: now, LastUsedAt: now}
		if err := st.PutTOTP(ctx, cred); err != nil {
			return err
		}
		// A new authenticator and recovery code: failures against the old ones say nothing.
		if err := st.ResetBudget(ctx, store.BudgetSecondFactor, cur.User.ID); err != nil {
			return err
		}
		if issued {
			if err := st.PutRecoveryCode(ctx, &store.RecoveryCode{UserID: cur.User.ID, CodeHash: rcHash, CreatedAt: now}); err != nil {
				return err
			}
		}
		// Every other session was opened without this authenticator (a password alone, or
		// the old device being replaced): they end, so only MFA sessions remain.
		if _, err := s.EndIn(ctx, st, FactorChanged, cur.User.ID, cur.Session.ID, m); err != nil {
			return err
		}
		// The confirming code proves that the new device answers, not who holds it:
		// whoever knew the password could have bound it. The session keeps the methods it
		// signed in with (a password alone stays a password), so "mfa", which the support
		// console and applications demand, comes only from a sign-in with a code of an
		// authenticator that existed before it.
		signingIn := cur.Session.State == store.StateEnrollmentRequired
		if token, err = s.stepUp(ctx, st, cur, store.StateAuthenticated, cur.Session.AMR, false); err != nil {
			return err
		}
		if signingIn { // the enrollment finished a sign-in
			if err := st.SetUserLastLogin(ctx, cur.User.ID, s.now()); err != nil {
				return err
			}
			if err := s.record(ctx, st, audit.LoginSucceeded, cur.User.ID, m, "amr="+strings.Join(cur.Session.AMR, " ")+" (enrollment)"); err != nil {
				return err
			}
		}
		if err := s.notify(ctx, st, cur.User, notice, m); err != nil {
			return err
		}
		detail := "recovery code issued"
		if !issued {
			detail = "beside security keys; recovery code kept"
		}
		return s.record(ctx, st, event, cur.User.ID, m, detail)
	})
	if err != nil {
		return "", "", err
	}
	s.metrics.FactorEnrolled(metrics.FactorTOTP)
	if !issued {
		recoveryCode = ""
	}
	return token, recoveryCode, nil
}

// NewRecoveryCode replaces the user's recovery code after a second-factor proof: a current
// authenticator code (which counts as used, and as the session's latest proof), or, without
// a code, a session that proved the second factor (a key, a code or the recovery code) at
// most RecentProof ago, so a user whose only factor is a key confirms with it first. Without
// a code and a recent proof it is reauthentication_required (errReauthKey). A user under the
// phishing-resistant policy who has a key gets ErrSecurityKeyRequired for a code, without
// its being checked: the key proves it. The old recovery code stops working at once.
func (s *Service) NewRecoveryCode(ctx context.Context, cur *Current, code string, m Meta) (string, error) {
	if cur.Session.State != store.StateAuthenticated {
		return "", apperr.ErrUnauthenticated
	}
	m.ActorID = cur.User.ID
	rc, hash, err := s.newRecoveryCode()
	if err != nil {
		return "", err
	}
	if code == "" {
		if err := s.renewRecoveryCodeAfterProof(ctx, cur, hash, m); err != nil {
			return "", err
		}
		return rc, nil
	}
	// Under the phishing-resistant policy the key is the proof, not an app code.
	if _, err := s.afterCode(ctx, cur); err != nil {
		return "", err
	}
	a, err := s.reserve(ctx, store.BudgetSecondFactor, cur.User.ID, cur.User.ID, m)
	if err != nil {
		return "", err
	}
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		if err := s.acceptCode(ctx, st, cur.User.ID, code); err != nil {
			return err
		}
		if err := st.SetSessionSecondFactor(ctx, cur.Session.ID, s.now()); err != nil {
			return err
		}
		if err := st.PutRecoveryCode(ctx, &store.RecoveryCode{UserID: cur.User.ID, CodeHash: hash, CreatedAt: s.now()}); err != nil {
			return err
		}
		return s.record(ctx, st, audit.RecoveryCodeRenewed, cur.User.ID, m, "")
	})
	if errors.Is(err, apperr.ErrInvalidCode) {
		s.recordAside(ctx, audit.ReauthFailed, cur.User.ID, m, "new recovery code")
		s.attemptFailed(ctx, a, cur.User.ID, m)
	}
	if err != nil {
		return "", err
	}
	return rc, nil
}

// renewRecoveryCodeAfterProof stores hash as the user's recovery code when cur's session
// proved the second factor recently and the user has one.
func (s *Service) renewRecoveryCodeAfterProof(ctx context.Context, cur *Current, hash []byte, m Meta) error {
	if !s.provedRecently(cur.Session) {
		s.recordAside(ctx, audit.ReauthFailed, cur.User.ID, m, "new recovery code")
		return errReauthKey
	}
	return s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		f, err := s.factorsOf(ctx, st, cur.User.ID)
		if err != nil {
			return err
		}
		if !f.any() {
			return apperr.ErrReauthentication
		}
		if err := st.PutRecoveryCode(ctx, &store.RecoveryCode{UserID: cur.User.ID, CodeHash: hash, CreatedAt: s.now()}); err != nil {
			return err
		}
		return s.record(ctx, st, audit.RecoveryCodeRenewed, cur.User.ID, m, "after a recent second-factor proof")
	})
}

func (s *Service) newRecoveryCode() (display string, hash []byte, err error) {
	display, err = recovery.Generate(s.rand)
	if err != nil {
		return "", nil, err
	}
	n, err := recovery.Normalize(display)
	if err != nil {
		return "", nil, err
	}
	return display, s.recovery.Hash(n), nil
}

// MFAStatus is what the security page shows about a user's second factors.
type MFAStatus struct {
	TOTP             bool
	Since            time.Time // when the authenticator was confirmed
	LastUsed         time.Time
	WebAuthn         []store.WebAuthnCredential // security keys and passkeys, oldest first
	RecoveryCode     bool
	RecoveryCodeDate time.Time
	Required         bool
}

// HasSecondFactor reports whether the user has an authenticator app or a key.
func (m *MFAStatus) HasSecondFactor() bool { return m.TOTP || len(m.WebAuthn) > 0 }

// Status reports the user's MFA state: which second factors the user has (the support
// case page lists them), and whether the policy requires one.
func (s *Service) Status(ctx context.Context, u *store.Account) (*MFAStatus, error) {
	st := &MFAStatus{Required: s.MFARequired(u)}
	c, err := s.store.GetTOTP(ctx, u.ID)
	switch {
	case err == nil:
		st.TOTP, st.Since, st.LastUsed = true, c.CreatedAt, c.LastUsedAt
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	if st.WebAuthn, err = s.store.ListWebAuthnCredentials(ctx, u.ID); err != nil {
		return nil, err
	}
	rc, err := s.store.GetRecoveryCode(ctx, u.ID)
	switch {
	case err == nil:
		st.RecoveryCode, st.RecoveryCodeDate = true, rc.CreatedAt
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return st, nil
}

// resetLookback is how many of a user's newest audit events ResetBySupport reads.
const resetLookback = 200

// ResetBySupport returns when the support desk or the console last reset the user's
// second factors, when that reset is what left the user without an authenticator: zero
// when the user has one, was never reset, set one up since, or the reset is no longer
// among the newest audit events.
func (s *Service) ResetBySupport(ctx context.Context, u *store.Account) (time.Time, error) {
	if f, err := s.factorsOf(ctx, s.store, u.ID); err != nil {
		return time.Time{}, err
	} else if f.any() {
		return time.Time{}, nil
	}
	events, err := s.store.ListAudit(ctx, store.AuditFilter{UserID: u.ID, Limit: resetLookback})
	if err != nil {
		return time.Time{}, err
	}
	for _, e := range events { // newest first
		if e.SubjectID != u.ID {
			continue
		}
		switch e.Event {
		case audit.SupportMFAReset:
			return e.At, nil
		case audit.TOTPEnrolled, audit.TOTPReplaced, audit.WebAuthnAdded:
			return time.Time{}, nil
		}
	}
	return time.Time{}, nil
}

// HoldRecoveryCode keeps a freshly issued recovery code, sealed, on the session until the
// user confirms having saved it (the HTML pages show it until then and nowhere after).
func (s *Service) HoldRecoveryCode(ctx context.Context, cur *Current, code string) error {
	sealed, err := s.noticeBox.Seal([]byte(code), []byte(cur.Session.ID))
	if err != nil {
		return err
	}
	cur.Session.NoticeEnc = sealed
	return s.store.SetSessionNotice(ctx, cur.Session.ID, sealed)
}

// HeldRecoveryCode returns the code held on the session, or "" when none is waiting.
func (s *Service) HeldRecoveryCode(cur *Current) string {
	if len(cur.Session.NoticeEnc) == 0 {
		return ""
	}
	b, err := s.noticeBox.Open(cur.Session.NoticeEnc, []byte(cur.Session.ID))
	if err != nil {
		return ""
	}
	return string(b)
}

// AcknowledgeRecoveryCode forgets the held code once the user has saved it.
func (s *Service) AcknowledgeRecoveryCode(ctx context.Context, cur *Current) error {
	cur.Session.NoticeEnc = nil
	return s.store.SetSessionNotice(ctx, cur.Session.ID, nil)
}

// pendingOf returns the unexpired setup that cur's session started; a setup another
// session of the user started (someone else who knows the password, or another tab) is
// store.ErrNotFound here, so its secret is never shown to or confirmed by this session.
func (s *Service) pendingOf(ctx context.Context, cur *Current) (*store.PendingTOTP, error) {
	p, err := s.store.GetPendingTOTP(ctx, cur.User.ID, s.now())
	if err != nil {
		return nil, err
	}
	if p.SessionID != cur.Session.ID {
		return nil, store.ErrNotFound
	}
	return p, nil
}
