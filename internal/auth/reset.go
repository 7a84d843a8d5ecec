package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/recovery"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/totp"
)

// Forgotten password: fixed limits.
const (
	// ResetLinkTTL is how long a password reset link works.
	ResetLinkTTL = 30 * time.Minute
	// ResetLinksPerHour is how many reset links one account gets mailed in one clock hour.
	ResetLinksPerHour = 3
	// ResetProofTTL is how long a checked second factor carries over to the new-password
	// step of the reset pages.
	ResetProofTTL = 10 * time.Minute
)

var (
	errResetCodeMissing = apperr.Msg(apperr.CodeInvalidCode, "err.reset_code_missing")
	errResetKeyMissing  = apperr.Msg(apperr.CodeInvalidCode, "err.reset_key_missing")
	errResetProofStale  = apperr.Msg(apperr.CodeInvalidCode, "err.reset_proof_stale")
	// errResetKeyProofStale: a key's proof expired. Same code as a code's; the message
	// asks for the key again, not for a new code from an app the user may not have.
	errResetKeyProofStale = apperr.Msg(apperr.CodeInvalidCode, "err.reset_key_proof_stale")
	// errResetKeyRemoved: the key whose answer proved the reset is no longer the
	// account's. Its code is key_not_registered, as for an answer of a key removed before
	// it was checked; the message says the password stayed and the link still works.
	errResetKeyRemoved = apperr.Msg(apperr.CodeKeyNotRegistered, "err.reset_key_removed")
	errSamePassword    = apperr.Msg(apperr.CodeWeakPassword, "err.same_password")
)

// RequestPasswordReset mails a reset link to the account that login (a username or an
// e-mail address) names, valid ResetLinkTTL. Whatever the account (unknown, disabled,
// invited and without a password yet, or mailed ResetLinksPerHour links this clock hour
// already) it returns nil after the same store calls and no hashing: where no link is
// mailed it stores a decoy, so neither the answer nor the work tells whether the account
// exists.
//
// The read by login only finds the account's id: the link's transaction locks that row
// (an unknown name locks an id no account has, the same query) and decides on it, and the
// link and its mail go to that row's address, so an address changed or an account
// disabled since the read is seen. The hour's allowance is taken in the same transaction,
// after those rules, for every name alike: from the account's window for a link that may
// go out, from the name's own window otherwise, so a request that mails nothing spends
// none of the account's links, and parallel requests still mail no more than
// ResetLinksPerHour. The mail is queued in the link's transaction, so the answer never
// waits for the mail server.
func (s *Service) RequestPasswordReset(ctx context.Context, login string, m Meta) error {
	if len(login) > maxIdentifier {
		login = ""
	}
	norm := NormalizeLogin(AsText(login))
	id := "" // no account has it: an unknown name locks nothing, with the same query
	found, err := s.store.GetUserByLogin(ctx, norm)
	switch {
	case err == nil && norm != "":
		id = found.ID
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	now := s.now()
	// An unknown name takes a lock of its own name's, the same statement as an account's
	// (and no queue behind other unknown names).
	lock := id
	if lock == "" {
		lock = "login:" + norm
	}
	return s.accountTx(ctx, lock, func(st store.Store) error {
		u, err := st.LockUser(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			u = nil
		case err != nil:
			return err
		}
		uid, window := "", loginKey(norm) // a name that gets no link takes from a window of its own
		detail, send := "no account matches: no link sent", false
		switch {
		case u == nil:
		case u.Disabled:
			uid, detail = u.ID, "account disabled: no link sent"
		case u.PasswordHash == NoPassword:
			uid, detail = u.ID, "no password yet (the invitation is the way in): no link sent"
		default:
			uid, window, send = u.ID, u.ID, true
		}
		// One conditional write counts the link, so parallel requests never mail more
		// than ResetLinksPerHour; it is taken for every name alike.
		took, err := throttle.TakeHourly(ctx, st, "password_reset:"+window, now, ResetLinksPerHour)
		if err != nil {
			return err
		}
		link := links.Link{Purpose: store.LinkPasswordReset, TTL: ResetLinkTTL, Decoy: true}
		switch {
		case send && !took.Granted:
			detail = fmt.Sprintf("%d links this hour already: no link sent", ResetLinksPerHour)
		case send:
			link = links.Link{Purpose: store.LinkPasswordReset, UserID: u.ID, Email: u.Email, TTL: ResetLinkTTL}
			detail = "link sent"
		}
		tok, err := links.Issue(ctx, st, s.rand, now, link)
		if err != nil {
			return err
		}
		if !link.Decoy {
			// Queued with the link: the answer never waits for the mail server, which
			// would say that an account exists.
			n := Notice{Kind: NoticeResetLink, At: now, IP: m.IP, UserAgent: m.UserAgent,
				Link: links.URL(s.publicURL, "/password/reset", tok), ExpiresAt: now.Add(ResetLinkTTL)}
			if err := s.notifier.Notify(ctx, st, &u.Account, n); err != nil {
				return err
			}
		}
		return s.record(ctx, st, audit.PasswordResetRequested, uid, m, detail)
	})
}

// ResetLink is what the reset page shows about a live link.
type ResetLink struct {
	Username   string
	NeedsCode  bool // the account has a second factor: it is asked for first
	ExpiresAt  time.Time
	HasKey     bool // the account has a security key or passkey to offer (BeginResetKey)
	HasApp     bool // an authenticator app code is accepted (not under the key policy with a key)
	HasRecover bool // the account has a recovery code to offer instead of a code
}

// CheckResetLink tells the page a link's GET shows whether the link can still be used and
// what it will ask for. It changes nothing (mail scanners open links). A link of a
// disabled account is links.ErrInvalid like a used one.
func (s *Service) CheckResetLink(ctx context.Context, token string) (*ResetLink, error) {
	l, u, f, err := s.resetTarget(ctx, token)
	if err != nil {
		return nil, err
	}
	return &ResetLink{Username: u.Username, NeedsCode: f.any(), ExpiresAt: l.ExpiresAt,
		HasKey: f.keys > 0, HasApp: s.resetTakesApp(u, f), HasRecover: f.any() && f.recovery}, nil
}

// resetTakesApp reports whether a reset of u's password accepts an authenticator code:
// when u has the app, unless the phishing-resistant policy wants u's key instead (as at
// sign-in; the recovery code stays the way out of a lost key).
func (s *Service) resetTakesApp(u *store.User, f factors) bool {
	return f.totp && !(f.keys > 0 && s.PhishingResistant(&u.Account))
}

// resetTarget returns the live reset link token names, its account and the account's
// second factors. links.ErrInvalid when the link cannot be used.
func (s *Service) resetTarget(ctx context.Context, token string) (*store.LinkToken, *store.User, factors, error) {
	l, err := links.Peek(ctx, s.store, store.LinkPasswordReset, token, s.now())
	if err != nil {
		return nil, nil, factors{}, err
	}
	u, err := s.store.GetUser(ctx, l.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, factors{}, links.ErrInvalid
	}
	if err != nil {
		return nil, nil, factors{}, err
	}
	if u.Disabled {
		return nil, nil, factors{}, links.ErrInvalid
	}
	// A key counts like an app: one factor never recovers the other. The reset takes the
	// key's answer, the app code or the recovery code.
	f, err := s.factorsOf(ctx, s.store, u.ID)
	if err != nil {
		return nil, nil, factors{}, err
	}
	return l, u, f, nil
}

// factorProof is a second factor checked for a reset and not used up yet: the final step
// accepts the authenticator step, or swaps the recovery code, in its transaction.
type factorProof struct {
	UserID   string `json:"u"`
	Step     int64  `json:"s,omitempty"` // authenticator step to accept
	Recovery []byte `json:"r,omitempty"` // keyed hash of the recovery code to use up
	Key      string `json:"k,omitempty"` // ID of the key whose answer was accepted (and recorded)
	Expires  int64  `json:"e"`           // Unix milliseconds
}

// checkFactor checks a code or a recovery code for a reset of u's password through the
// link token names. The attempt spends a slot of the same second-factor budget as a
// sign-in, reserved before anything is compared; a wrong code is audited and counted, and
// the slot stays a failure until the reset succeeds. A code refused because a parallel
// reset used the link (and with it the code's step) meanwhile is no wrong code: the answer
// is links.ErrInvalid and the slot is released, as it is on any error that is not a wrong
// code. Nothing is used up here. A user whom the phishing-resistant policy holds to a key
// gets ErrSecurityKeyRequired for an authenticator code, which is not checked and spends
// nothing; the recovery code stays theirs to use.
func (s *Service) checkFactor(ctx context.Context, u *store.User, f factors, token, code string, m Meta) (_ *factorProof, _ *attempt, err error) {
	if code == "" {
		if f.keys > 0 && !s.resetTakesApp(u, f) {
			return nil, nil, errResetKeyMissing
		}
		return nil, nil, errResetCodeMissing
	}
	if _, err := totp.NormalizeCode(code); err == nil && f.totp && !s.resetTakesApp(u, f) {
		return nil, nil, ErrSecurityKeyRequired
	}
	try, err := s.beginResetAttempt(ctx, links.Hash(token), u, m)
	if err != nil {
		return nil, nil, err
	}
	defer func() { try.end(ctx, err) }()
	a := try.a
	proof := &factorProof{UserID: u.ID, Expires: s.now().Add(ResetProofTTL).UnixMilli()}
	fail := func(event string, answer error) (*factorProof, *attempt, error) {
		return try.refused(ctx, event, "password reset", answer)
	}
	if _, err := totp.NormalizeCode(code); err == nil {
		c, err := s.store.GetTOTP(ctx, u.ID)
		if errors.Is(err, store.ErrNotFound) { // security keys only: no code is right
			return fail(audit.TOTPFailed, apperr.ErrInvalidCode)
		}
		if err != nil {
			return nil, nil, err
		}
		secret, err := s.totpBox.Open(c.SecretEnc, []byte(u.ID))
		if err != nil {
			return nil, nil, err
		}
		step, ok := totp.Match(secret, code, s.now())
		if !ok || step <= c.LastStep {
			return fail(audit.TOTPFailed, apperr.ErrInvalidCode)
		}
		proof.Step = step
		return proof, a, nil
	}
	normalized, err := recovery.Normalize(code)
	if err != nil {
		return fail(audit.RecoveryCodeFailed, apperr.ErrInvalidCode)
	}
	hash := s.recovery.Hash(normalized)
	rc, err := s.store.GetRecoveryCode(ctx, u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	if err != nil || subtle.ConstantTimeCompare(rc.CodeHash, hash) != 1 {
		return fail(audit.RecoveryCodeFailed, apperr.ErrInvalidRecovery)
	}
	proof.Recovery = hash
	return proof, a, nil
}

// CheckResetCode is the first step of the reset pages for an account with a second
// factor: it checks code (an authenticator code or the recovery code) exactly as
// ResetPassword would, and returns a sealed proof, bound to this link and valid
// ResetProofTTL, that the new-password step hands to ResetPassword instead of the code.
// Nothing is used up: the link, the code's step and the recovery code are spent only when
// the reset succeeds. Errors: links.ErrInvalid, invalid_code, security_key_required,
// throttled.
func (s *Service) CheckResetCode(ctx context.Context, token, code string, m Meta) (string, error) {
	l, u, f, err := s.resetTarget(ctx, token)
	if err != nil {
		return "", err
	}
	if !f.any() {
		return "", nil // nothing to prove: the new-password step asks for no code
	}
	m.ActorID = u.ID
	p, _, err := s.checkFactor(ctx, u, f, token, code, m)
	if err != nil {
		return "", err
	}
	return s.sealProof(l, p)
}

// sealProof seals p for the link l: only that link's reset opens it (openProof).
func (s *Service) sealProof(l *store.LinkToken, p *factorProof) (string, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	sealed, err := s.proofBox.Seal(plain, l.TokenHash)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openProof returns the proof sealed for link l and user u, or, when it no longer holds,
// errResetKeyProofStale for a key's proof and errResetProofStale for any other.
func (s *Service) openProof(l *store.LinkToken, u *store.User, sealed string) (*factorProof, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return nil, errResetProofStale
	}
	plain, err := s.proofBox.Open(raw, l.TokenHash)
	if err != nil {
		return nil, errResetProofStale
	}
	var p factorProof
	if err := json.Unmarshal(plain, &p); err != nil || p.UserID != u.ID || s.now().UnixMilli() >= p.Expires {
		if err == nil && p.Key != "" {
			return nil, errResetKeyProofStale
		}
		return nil, errResetProofStale
	}
	return &p, nil
}

// ResetRequest is a new password set through a reset link.
type ResetRequest struct {
	Token       string
	NewPassword string
	// Code is an authenticator code or the recovery code; required when the account has
	// a second factor, unless Credential or Proof carries one.
	Code string
	// Credential is a security key's answer (an AuthenticationResponseJSON) to the
	// challenge BeginResetKey drew for this link; it takes the place of Code.
	Credential []byte
	// Proof is what CheckResetCode or CheckResetKey returned for this link.
	Proof string
}

// ResetPassword sets a new password through a reset link. When the account has a second
// factor, it is checked (Credential, a key's answer to BeginResetKey's challenge; Code; or
// Proof from CheckResetCode or CheckResetKey) before anything about the password is: the
// link alone never replaces it. Under the phishing-resistant policy a user with a key
// gets ErrSecurityKeyRequired for an app code (the key or the recovery code prove it).
// The password policy applies, and the password the account has now is refused. That
// comparison spends no password budget: the link and the second factor prove enough, the
// answer tells only their holder that the new password is the old one, and so wrong
// sign-ins by whoever knows the username never block a reset. In one transaction the link
// is used up (of parallel submissions one wins), the code's step is accepted or the
// recovery code swapped for a fresh one (a key's answer was recorded when it was checked),
// the password replaced, both budgets reset, and End's PasswordReset ends every session,
// application grant and live reset link; nobody is signed in. The fresh recovery code is
// returned when the recovery code was used. Any refusal leaves the link live (a key's
// challenge is used up once the answer was checked); only a wrong code or a refused key
// answer counts as a second-factor failure (the slot of any other refusal is released).
// A key's proof whose key was removed from the account after its answer was checked is
// refused with key_not_registered (errResetKeyRemoved) and counts no failure.
// Errors: links.ErrInvalid (400 invalid_token), bad_request, weak_password, invalid_code,
// the refusals of a key's answer (CheckResetKey), security_key_required, throttled, busy.
func (s *Service) ResetPassword(ctx context.Context, req ResetRequest, m Meta) (freshRecovery string, err error) {
	l, u, f, err := s.resetTarget(ctx, req.Token)
	if err != nil {
		return "", err
	}
	m.ActorID = u.ID
	// The policy first: it reveals nothing and spends no attempt.
	if len(req.NewPassword) > 4*s.policy.MaxLength+4 {
		return "", apperr.Msg(apperr.CodeWeakPassword, "err.password_too_long", "Max", s.policy.MaxLength)
	}
	if err := s.checkPolicy(req.NewPassword, u.Username, u.Email); err != nil {
		return "", err
	}
	var proof *factorProof
	var a *attempt
	if f.any() {
		switch {
		case req.Proof != "":
			proof, err = s.openProof(l, u, req.Proof)
		case req.Credential != nil:
			proof, a, err = s.checkKey(ctx, l, u, f, req.Credential, m)
		default:
			proof, a, err = s.checkFactor(ctx, u, f, req.Token, req.Code, m)
		}
		if err != nil {
			return "", err
		}
	}
	wrongCode := false
	defer func() {
		if err != nil && !wrongCode {
			s.release(ctx, a) // the code was right: the refusal is no failure of it
		}
	}()
	same := false
	if u.PasswordHash != NoPassword { // an invited account has no password to compare with
		if same, _, err = s.hasher.Verify(ctx, req.NewPassword, u.PasswordHash); err != nil {
			return "", hashErr(err)
		}
	}
	if same {
		// A parallel reset of this link may have set this very password meanwhile: then
		// the link is used up, and that is the answer.
		if _, err := links.Peek(ctx, s.store, store.LinkPasswordReset, req.Token, s.now()); err != nil {
			return "", err
		}
		return "", errSamePassword
	}
	hash, err := s.hasher.Hash(ctx, req.NewPassword)
	if err != nil {
		return "", hashErr(err)
	}
	var freshHash []byte
	if proof != nil && proof.Recovery != nil {
		if freshRecovery, freshHash, err = s.newRecoveryCode(); err != nil {
			return "", err
		}
	}
	now := s.now()
	err = s.accountTx(ctx, u.ID, func(st store.Store) error {
		if _, err := links.Consume(ctx, st, store.LinkPasswordReset, req.Token, now); err != nil {
			return err
		}
		detail := "second factor: none"
		if proof != nil {
			if proof.Recovery != nil {
				if err := st.ConsumeRecoveryCode(ctx, u.ID, proof.Recovery, freshHash, now); errors.Is(err, store.ErrNotFound) {
					return apperr.ErrInvalidRecovery
				} else if err != nil {
					return err
				}
				if err := s.record(ctx, st, audit.RecoveryCodeUsed, u.ID, m, "password reset; a fresh recovery code was issued"); err != nil {
					return err
				}
				st.AfterCommit(s.metrics.RecoveryCodeUsed)
				detail = "second factor: recovery code"
			} else if proof.Key != "" {
				// The key's answer was checked and recorded already; a key removed since
				// proves nothing any more.
				if err := keyStillThere(ctx, st, u.ID, proof.Key); errors.Is(err, errKeyNotRegistered) {
					return errResetKeyRemoved
				} else if err != nil {
					return err
				}
				detail = "second factor: security key " + proof.Key
			} else {
				if err := st.AcceptTOTPStep(ctx, u.ID, proof.Step, now); errors.Is(err, store.ErrNotFound) {
					return apperr.ErrInvalidCode // used meanwhile, or a newer code was
				} else if err != nil {
					return err
				}
				detail = "second factor: authenticator code"
			}
			if err := st.ResetBudget(ctx, store.BudgetSecondFactor, u.ID); err != nil {
				return err
			}
		}
		if err := st.ResetBudget(ctx, store.BudgetPassword, u.ID); err != nil {
			return err
		}
		if err := st.SetUserPasswordHash(ctx, u.ID, hash, now); err != nil {
			return err
		}
		if _, err := s.EndIn(ctx, st, PasswordReset, u.ID, "", m); err != nil {
			return err
		}
		if err := s.notify(ctx, st, &u.Account, NoticePasswordReset, m); err != nil {
			return err
		}
		return s.record(ctx, st, audit.PasswordReset, u.ID, m, detail)
	})
	if err != nil {
		if code, ok := apperr.As(err); ok && code.Code == apperr.CodeInvalidCode {
			wrongCode = true
			s.recordAside(ctx, audit.PasswordResetFailed, u.ID, m, "the second factor was used meanwhile")
			s.attemptFailed(ctx, a, u.ID, m)
		}
		return "", err
	}
	return freshRecovery, nil
}

// resetAttempt is one second-factor attempt of a password reset through the link whose
// token hashes to linkHash: a slot of u's second-factor budget, reserved before anything
// is compared, that stays a failure when the answer was refused and is released otherwise.
type resetAttempt struct {
	s        *Service
	linkHash []byte
	u        *store.User
	m        Meta
	a        *attempt
	counted  bool
}

// beginResetAttempt reserves the slot (throttled when the budget makes it wait). Defer
// end with the attempt's error.
func (s *Service) beginResetAttempt(ctx context.Context, linkHash []byte, u *store.User, m Meta) (*resetAttempt, error) {
	a, err := s.reserve(ctx, store.BudgetSecondFactor, u.ID, u.ID, m)
	if err != nil {
		return nil, err
	}
	return &resetAttempt{s: s, linkHash: linkHash, u: u, m: m, a: a}, nil
}

// refused audits a refused answer (event, with detail) and counts it as a failure, then
// returns answer. An answer refused because a parallel reset used the link meanwhile is
// no wrong answer: refused returns links.ErrInvalid and the slot is released.
func (t *resetAttempt) refused(ctx context.Context, event, detail string, answer error) (*factorProof, *attempt, error) {
	s := t.s
	if _, err := s.store.PeekLinkToken(ctx, store.LinkPasswordReset, t.linkHash, s.now()); errors.Is(err, store.ErrNotFound) {
		return nil, nil, links.ErrInvalid
	} else if err != nil {
		return nil, nil, err
	}
	t.counted = true
	s.recordAside(ctx, event, t.u.ID, t.m, detail)
	s.attemptFailed(ctx, t.a, t.u.ID, t.m)
	return nil, t.a, answer
}

// end releases the slot when the attempt ended in err without a counted refusal.
func (t *resetAttempt) end(ctx context.Context, err error) {
	if err != nil && !t.counted {
		t.s.release(ctx, t.a)
	}
}
