package auth

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// A security key or passkey as the second factor of a forgotten-password reset: the link
// draws a challenge bound to itself, and the key's answer takes the place of a code.

// resetBinding is what a reset's challenge is bound to: the stored hash of the link's
// token, so that only an answer handed in with that link is taken, and the database never
// holds the token itself.
func resetBinding(l *store.LinkToken) string {
	return "reset:" + hex.EncodeToString(l.TokenHash)
}

// BeginResetKey starts a check of one of the account's keys for the reset through the link
// token names. It returns the options for navigator.credentials.get() with the account's
// keys allowed; the challenge is bound to this link, answers once and expires in
// ChallengeTTL. Nothing else changes (the link stays live). Errors: links.ErrInvalid,
// not_found when the account has no key.
func (s *Service) BeginResetKey(ctx context.Context, token string) (*protocol.CredentialAssertion, error) {
	l, u, _, err := s.resetTarget(ctx, token)
	if err != nil {
		return nil, err
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(creds) == 0 {
		return nil, errNoKeys
	}
	opts, sd, err := s.webauthn.BeginLogin(&waUser{u: &u.Account, creds: creds})
	if err != nil {
		return nil, err
	}
	expires := s.now().Add(ChallengeTTL)
	if l.ExpiresAt.Before(expires) { // the challenge never outlives the link
		expires = l.ExpiresAt
	}
	if err := s.saveChallenge(ctx, s.store, sd, store.ChallengeReset, resetBinding(l), u.ID, expires); err != nil {
		return nil, err
	}
	return opts, nil
}

// CheckResetKey is the key's side of CheckResetCode: it checks the key's answer
// (credentialJSON, an AuthenticationResponseJSON) to the challenge BeginResetKey drew for
// this link exactly as ResetPassword would, and returns a sealed proof, bound to this link
// and valid ResetProofTTL, for the new-password step. The challenge is used up whatever
// the outcome, and an accepted answer is recorded as the key's use (its counter); the link
// is spent only when the reset succeeds. Errors: links.ErrInvalid, bad_request for an
// answer that cannot be read; for a refused one challenge_expired (used, expired, or drawn
// for another link or a sign-in), wrong_origin (another origin or RP ID),
// key_not_registered (another user's key, or one removed meanwhile), key_counter_regressed,
// or invalid_credential (any other check); not_found when the account has no key,
// throttled.
func (s *Service) CheckResetKey(ctx context.Context, token string, credentialJSON []byte, m Meta) (string, error) {
	l, u, f, err := s.resetTarget(ctx, token)
	if err != nil {
		return "", err
	}
	m.ActorID = u.ID
	p, _, err := s.checkKey(ctx, l, u, f, credentialJSON, m)
	if err != nil {
		return "", err
	}
	return s.sealProof(l, p)
}

// checkKey checks a key's answer for a reset of u's password through the link l. Like
// checkFactor, the attempt spends a slot of the second-factor budget first; a refused
// answer is audited and counted, and the slot stays a failure until the reset succeeds. An
// answer refused because a parallel reset used the link meanwhile is links.ErrInvalid and
// releases the slot, as any error that is not a refused answer does. An answer that cannot
// be read is a 400 and spends nothing; a readable one for an account without a key is
// errNoKeys, also spending nothing. The challenge is consumed whatever the outcome (of
// parallel answers one gets it); an accepted answer is recorded at once (the key's counter
// must go up), and the proof names the key.
func (s *Service) checkKey(ctx context.Context, l *store.LinkToken, u *store.User, f factors, credentialJSON []byte, m Meta) (_ *factorProof, _ *attempt, err error) {
	parsed, err := parseAssertion(credentialJSON)
	if err != nil {
		return nil, nil, err
	}
	if f.keys == 0 {
		return nil, nil, errNoKeys
	}
	try, err := s.beginResetAttempt(ctx, l.TokenHash, u, m)
	if err != nil {
		return nil, nil, err
	}
	defer func() { try.end(ctx, err) }()
	a := try.a
	fail := func(reason string, answer error) (*factorProof, *attempt, error) {
		return try.refused(ctx, audit.WebAuthnFailed, "password reset: "+reason, answer)
	}
	sd, ch, err := s.takeChallenge(ctx, parsed.Response.CollectedClientData.Challenge, store.ChallengeReset, resetBinding(l))
	if errors.Is(err, errChallengeGone) {
		return fail("challenge unknown, used, expired or drawn for another link", err)
	} else if err != nil {
		return nil, nil, err
	}
	if ch.UserID != u.ID { // the link names its account: cannot happen
		return fail("challenge drawn for another account", errChallengeGone)
	}
	if err := s.checkOrigin(parsed.Response.CollectedClientData, parsed.Response.AuthenticatorData.RPIDHash); err != nil {
		return fail("origin or RP ID is not this site's", err)
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	// The link proved the mailbox: telling its holder the key is not one of the account's
	// says nothing about other accounts.
	if findKey(creds, parsed.RawID) == nil {
		return fail("not one of the user's keys (another user's, removed or unknown)", errKeyNotRegistered)
	}
	cred, err := s.webauthn.ValidateLogin(&waUser{u: &u.Account, creds: creds}, *sd, parsed)
	if err != nil {
		return fail(libReason(err), ErrInvalidCredential)
	}
	key := findKey(creds, cred.ID)
	if key == nil { // the library found it among creds: cannot happen
		return fail("credential not found", ErrInvalidCredential)
	}
	err = s.accountTx(ctx, u.ID, func(st store.Store) error {
		return s.useKey(ctx, st, u.ID, key, cred)
	})
	var refused *keyRefusal
	if errors.As(err, &refused) {
		s.refusedKey(ctx, refused, u.ID, m)
		return fail(refused.reason, refused.answer())
	}
	if err != nil {
		return nil, nil, err
	}
	return &factorProof{UserID: u.ID, Key: key.ID, Expires: s.now().Add(ResetProofTTL).UnixMilli()}, a, nil
}

// keyLister is the store method keyStillThere reads.
type keyLister interface {
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]store.WebAuthnCredential, error)
}

// keyStillThere returns errKeyNotRegistered when the user no longer has the key id.
func keyStillThere(ctx context.Context, st keyLister, userID, id string) error {
	creds, err := st.ListWebAuthnCredentials(ctx, userID)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if c.ID == id {
			return nil
		}
	}
	return errKeyNotRegistered
}
