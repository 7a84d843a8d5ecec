package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

// BeginWebAuthnLogin starts a check of one of the user's keys: the second factor of an
// mfa_required session, or a fresh proof (step-up) in an authenticated one. It returns the
// options for navigator.credentials.get() with the user's keys allowed; the challenge is
// bound to the session and expires in ChallengeTTL. Errors: apperr.ErrUnauthenticated in
// another state, not_found when the user has no key.
func (s *Service) BeginWebAuthnLogin(ctx context.Context, cur *Current) (*protocol.CredentialAssertion, error) {
	if err := requireState(cur, store.StateMFARequired, store.StateAuthenticated); err != nil {
		return nil, err
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, cur.User.ID)
	if err != nil {
		return nil, err
	}
	if len(creds) == 0 {
		return nil, errNoKeys
	}
	opts, sd, err := s.webauthn.BeginLogin(&waUser{u: cur.User, creds: creds})
	if err != nil {
		return nil, err
	}
	if err := s.saveChallenge(ctx, s.store, sd, store.ChallengeAssertion, cur.Session.ID, cur.User.ID, s.now().Add(ChallengeTTL)); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishWebAuthnLogin checks the browser's answer (an AuthenticationResponseJSON) to the
// session's challenge and returns the session's new token. An mfa_required session becomes
// authenticated with amr pwd hwk [user] mfa (user when the key verified its user); an
// authenticated one records the proof (as of now) and gains hwk [user] mfa. The challenge
// is used up whatever the outcome; of parallel answers exactly one wins. Every attempt
// spends a slot of the user's second-factor budget first, as a code does; a refused answer
// is audited and counted. A counter that did not increase is refused and audited as a
// possible cloned key. Errors: bad_request for an answer that cannot be read; for a
// refused one challenge_expired (used, expired or another session's), wrong_origin
// (another origin or RP ID), key_not_registered (another user's key, or one removed
// meanwhile), key_counter_regressed, or invalid_credential (any other check); throttled.
func (s *Service) FinishWebAuthnLogin(ctx context.Context, cur *Current, credentialJSON []byte, m Meta) (_ string, err error) {
	if err := requireState(cur, store.StateMFARequired, store.StateAuthenticated); err != nil {
		return "", err
	}
	if cur.Session.State == store.StateMFARequired { // a sign-in, not a step-up
		defer s.countSignIn(metrics.StepWebAuthn, &err)
	}
	m.ActorID = cur.User.ID
	parsed, err := parseAssertion(credentialJSON)
	if err != nil {
		return "", err
	}
	a, err := s.reserve(ctx, store.BudgetSecondFactor, cur.User.ID, cur.User.ID, m)
	if err != nil {
		return "", err
	}
	fail := func(reason string, answer error) (string, error) {
		s.recordAside(ctx, audit.WebAuthnFailed, cur.User.ID, m, reason)
		s.attemptFailed(ctx, a, cur.User.ID, m)
		return "", answer
	}
	sd, _, err := s.takeChallenge(ctx, parsed.Response.CollectedClientData.Challenge, store.ChallengeAssertion, cur.Session.ID)
	if errors.Is(err, errChallengeGone) {
		return fail("challenge unknown, used or expired", err)
	} else if err != nil {
		s.release(ctx, a)
		return "", err
	}
	if err := s.checkOrigin(parsed.Response.CollectedClientData, parsed.Response.AuthenticatorData.RPIDHash); err != nil {
		return fail("origin or RP ID is not this site's", err)
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, cur.User.ID)
	if err != nil {
		s.release(ctx, a)
		return "", err
	}
	// The user proved the password: telling them the key is not one of theirs says
	// nothing they do not know.
	if findKey(creds, parsed.RawID) == nil {
		return fail("not one of the user's keys (another user's, removed or unknown)", errKeyNotRegistered)
	}
	cred, err := s.webauthn.ValidateLogin(&waUser{u: cur.User, creds: creds}, *sd, parsed)
	if err != nil {
		return fail(libReason(err), ErrInvalidCredential)
	}
	key := findKey(creds, cred.ID)
	if key == nil { // the library found it among creds: cannot happen
		return fail("credential not found", ErrInvalidCredential)
	}
	uv := parsed.Response.AuthenticatorData.Flags.HasUserVerified()
	var tok string
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		if err := s.useKey(ctx, st, cur.User.ID, key, cred); err != nil {
			return err
		}
		if err := st.ResetBudget(ctx, store.BudgetSecondFactor, cur.User.ID); err != nil {
			return err
		}
		amr := withKeyAMR(cur.Session.AMR, uv)
		signingIn := cur.Session.State == store.StateMFARequired
		var err error
		if tok, err = s.stepUp(ctx, st, cur, store.StateAuthenticated, amr, true); err != nil {
			return err
		}
		if !signingIn {
			return s.record(ctx, st, audit.WebAuthnVerified, cur.User.ID, m, "key "+key.ID+" proved again (step-up); amr="+strings.Join(amr, " "))
		}
		if err := st.SetUserLastLogin(ctx, cur.User.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, st, audit.LoginSucceeded, cur.User.ID, m, "amr="+strings.Join(amr, " ")+" key "+key.ID)
	})
	var refused *keyRefusal
	if errors.As(err, &refused) {
		s.refusedKey(ctx, refused, cur.User.ID, m)
		return fail(refused.reason, refused.answer())
	}
	if err != nil {
		return "", err
	}
	return tok, nil
}

// keyRefusal is an assertion refused inside the transaction (a counter that did not go
// up, a key removed meanwhile): a failed attempt with the reason for the audit log.
// cloned marks a counter that did not go up, audited on its own once the transaction is
// over (a write beside the transaction would wait for it).
type keyRefusal struct {
	reason string
	cloned bool
}

func (e *keyRefusal) Error() string { return "webauthn: " + e.reason }

// answer is what the person is told: a possible copy of the key, or a key that is no
// longer registered.
func (e *keyRefusal) answer() error {
	if e.cloned {
		return errKeyCloned
	}
	return errKeyNotRegistered
}

// useKey records the accepted assertion cred of the user's key in st with one conditional
// update: the counter must go up (or stay 0 for an authenticator without one). A counter
// that did not go up is a cloned keyRefusal; a key removed meanwhile is a keyRefusal too.
func (s *Service) useKey(ctx context.Context, st store.Store, userID string, key *store.WebAuthnCredential, cred *webauthn.Credential) error {
	count := cred.Authenticator.SignCount
	if cred.Authenticator.CloneWarning {
		return &keyRefusal{reason: fmt.Sprintf("key %s (%s): signature counter %d is not above %d: possible cloned key", key.ID, key.Name, count, key.SignCount), cloned: true}
	}
	err := st.UseWebAuthnCredential(ctx, userID, key.ID, count, cred.Flags.BackupState, s.now())
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	now, err := st.GetWebAuthnCredential(ctx, key.CredentialID)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && now.UserID != userID):
		return &keyRefusal{reason: "key " + key.ID + " was removed meanwhile"}
	case err != nil:
		return err
	}
	return &keyRefusal{reason: fmt.Sprintf("key %s (%s): signature counter %d is not above %d: possible cloned key", key.ID, key.Name, count, now.SignCount), cloned: true}
}

// refusedKey audits and counts a keyRefusal: a counter that did not go up also gets a
// webauthn.counter_regressed event, since two authenticators may hold the key.
func (s *Service) refusedKey(ctx context.Context, r *keyRefusal, subject string, m Meta) {
	if r.cloned {
		s.recordAside(ctx, audit.WebAuthnCounterRegressed, subject, m, r.reason+"; assertion refused")
	}
}

func findKey(creds []store.WebAuthnCredential, credentialID []byte) *store.WebAuthnCredential {
	for i := range creds {
		if subtle.ConstantTimeCompare(creds[i].CredentialID, credentialID) == 1 {
			return &creds[i]
		}
	}
	return nil
}

// PreSessionTTL is how long the pre-session cookie of a passkey sign-in lives: as long as
// its challenge.
const PreSessionTTL = ChallengeTTL

// PreSessionName tells apart the pre-session values of one browser's passkey challenges
// (the sign-in page's autofill offer and its button, two tabs): the first 8 hex digits of
// the SHA-256 of the challenge, in the base64url form clientDataJSON names it in. The
// caller keeps each value under a name of its own, so that no begin call replaces another's
// and the finish call finds the value of the challenge its answer names.
func PreSessionName(challenge string) string {
	h := sha256.Sum256([]byte(challenge))
	return hex.EncodeToString(h[:4])
}

// BeginPasskeyLogin starts a passkey sign-in, without a session: it returns the options
// for navigator.credentials.get() (no allowed credentials, so the authenticator offers its
// discoverable ones; user verification required), a new random pre-session value for the
// caller to keep in a short-lived cookie, and that cookie's name (PreSessionName of the
// challenge): the challenge is bound to the value and expires in ChallengeTTL. The value
// is always drawn here, never taken from the browser, so that nobody who can plant a
// cookie chooses what a victim's challenge is bound to. not_found when passwordless
// sign-in is off.
func (s *Service) BeginPasskeyLogin(ctx context.Context) (_ *protocol.CredentialAssertion, pre, name string, _ error) {
	if !s.passwordless {
		return nil, "", "", ErrPasswordlessOff
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, "", "", fmt.Errorf("read random: %w", err)
	}
	pre = base64.RawURLEncoding.EncodeToString(b)
	opts, sd, err := s.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", "", err
	}
	if err := s.saveChallenge(ctx, s.store, sd, store.ChallengePasskey, preSessionBinding(pre), "", s.now().Add(ChallengeTTL)); err != nil {
		return nil, "", "", err
	}
	return opts, pre, PreSessionName(sd.Challenge), nil
}

// passkeyAddrKey is the failure budget of passkey answers whose key is unknown: per client
// address, a password-kind budget so that it is forgotten when idle like an unknown
// username's.
func passkeyAddrKey(ip string) string { return "passkey:" + ip }

// FinishPasskeyLogin checks the browser's answer to the challenge it names, bound to the
// pre-session value preSession returns for that challenge's PreSessionName (the cookie of
// that name; "" for none; asked once the answer is read and the attempt counted, just
// before the challenge is consumed), and signs the key's user in completely: a new
// authenticated session with amr hwk user mfa, whose second factor counts as proved now.
// The key must be one of a user's (looked up by its credential ID; the user handle must
// name the same user) and must have verified its user. Every attempt first spends a slot of the key's user's
// second-factor budget, or, for an unknown key, of the client address's budget. Errors:
// not_found when passwordless sign-in is off, bad_request for an unreadable answer; for a
// refused one challenge_expired, wrong_origin, key_not_registered (unknown or removed
// key), user_verification_required (no PIN or biometric; told only once the signature
// verified), key_counter_regressed, or invalid_credential (any other check, a disabled
// account included); throttled. Nothing it answers says whether an account exists: a key
// is known or not whoever holds it, and what is told of an account (its key's user
// verification, its counter) is told only to the holder of the key.
func (s *Service) FinishPasskeyLogin(ctx context.Context, preSession func(name string) string, credentialJSON []byte, m Meta) (_ *LoginResult, err error) {
	if !s.passwordless {
		return nil, ErrPasswordlessOff
	}
	defer s.countSignIn(metrics.StepPasskey, &err)
	parsed, err := parseAssertion(credentialJSON)
	if err != nil {
		return nil, err
	}
	key, err := s.store.GetWebAuthnCredential(ctx, parsed.RawID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var u *store.User
	if key != nil {
		if u, err = s.store.GetUser(ctx, key.UserID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	kind, budget, subject := store.BudgetPassword, passkeyAddrKey(m.IP), ""
	if u != nil {
		kind, budget, subject = store.BudgetSecondFactor, u.ID, u.ID
		m.ActorID = u.ID
	}
	a, err := s.reserve(ctx, kind, budget, subject, m)
	if err != nil {
		return nil, err
	}
	fail := func(reason string, answer error) (*LoginResult, error) {
		s.recordAside(ctx, audit.WebAuthnFailed, subject, m, "passkey sign-in: "+reason)
		s.attemptFailed(ctx, a, subject, m)
		return nil, answer
	}
	challenge := parsed.Response.CollectedClientData.Challenge
	pre := preSession(PreSessionName(challenge))
	sd, _, err := s.takeChallenge(ctx, challenge, store.ChallengePasskey, preSessionBinding(pre))
	if errors.Is(err, errChallengeGone) {
		return fail("challenge unknown, used, expired or of another browser", err)
	} else if err != nil {
		s.release(ctx, a)
		return nil, err
	}
	if err := s.checkOrigin(parsed.Response.CollectedClientData, parsed.Response.AuthenticatorData.RPIDHash); err != nil {
		return fail("origin or RP ID is not this site's", err)
	}
	if u == nil {
		return fail("unknown key", errKeyNotRegistered)
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		s.release(ctx, a)
		return nil, err
	}
	// The signature is verified first; user verification is checked below, so that only
	// the key's holder learns that it is what was missing.
	signed := *sd
	signed.UserVerification = protocol.VerificationPreferred
	_, cred, err := s.webauthn.ValidatePasskeyLogin(func(_, userHandle []byte) (webauthn.User, error) {
		if subtle.ConstantTimeCompare(userHandle, []byte(u.ID)) != 1 {
			return nil, errors.New("the user handle names another account than the key's")
		}
		return &waUser{u: &u.Account, creds: creds}, nil
	}, signed, parsed)
	if err != nil {
		return fail(libReason(err), ErrInvalidCredential)
	}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() || !cred.Flags.UserVerified {
		return fail("no user verification", errKeyNoUV)
	}
	if u.Disabled {
		return fail("account disabled", ErrInvalidCredential)
	}
	key = findKey(creds, cred.ID)
	if key == nil {
		return fail("key removed meanwhile", errKeyNotRegistered)
	}
	amr := []string{AMRKey, AMRUserVerified, AMRMFA}
	sess, tok, err := s.newSession(u, store.StateAuthenticated, amr, m)
	if err != nil {
		return nil, err
	}
	sess.SecondFactorAt = sess.AuthTime
	err = s.accountTx(ctx, u.ID, func(st store.Store) error {
		if err := s.useKey(ctx, st, u.ID, key, cred); err != nil {
			return err
		}
		if err := st.ResetBudget(ctx, store.BudgetSecondFactor, u.ID); err != nil {
			return err
		}
		if err := st.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := st.SetUserLastLogin(ctx, u.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, st, audit.LoginSucceeded, u.ID, m, "amr="+strings.Join(amr, " ")+" passkey "+key.ID)
	})
	var refused *keyRefusal
	if errors.As(err, &refused) {
		s.refusedKey(ctx, refused, u.ID, m)
		return fail(refused.reason, refused.answer())
	}
	if err != nil {
		return nil, err
	}
	return &LoginResult{Current: &Current{Session: &sess.Session, User: &u.Account, Token: tok}}, nil
}
