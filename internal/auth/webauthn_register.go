package auth

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

// mayChangeFactors decides whether cur may add a key now: an authenticated session of a
// user with a second factor needs a recent proof of it (errReauthKey otherwise); a user
// without one may add the first freely (it is what forced enrollment is for); an
// enrollment session may add a key only while the user has none.
func (s *Service) mayChangeFactors(ctx context.Context, st Store, cur *Current) error {
	f, err := s.factorsOf(ctx, st, cur.User.ID)
	if err != nil {
		return err
	}
	switch cur.Session.State {
	case store.StateAuthenticated:
		if f.any() && !s.provedRecently(cur.Session) {
			return errReauthKey
		}
		return nil
	case store.StateEnrollmentRequired:
		if f.keys > 0 {
			return apperr.ErrUnauthenticated // left over from before a key was added
		}
		return nil
	}
	return apperr.ErrUnauthenticated
}

// BeginWebAuthnRegistration starts adding a security key or passkey for cur's user and
// returns the options for navigator.credentials.create(): the user's keys are excluded, a
// resident key (passkey) is preferred, no attestation is asked for. The challenge is bound
// to the session and expires in ChallengeTTL. Errors: apperr.ErrUnauthenticated for a
// session that may not add one, reauthentication_required when the user has a second
// factor and the session has not proved it within RecentProof.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, cur *Current, m Meta) (*protocol.CredentialCreation, error) {
	if err := s.mayChangeFactors(ctx, s.store, cur); err != nil {
		if errors.Is(err, errReauthKey) {
			m.ActorID = cur.User.ID
			s.recordAside(ctx, audit.ReauthFailed, cur.User.ID, m, "add a security key")
		}
		return nil, err
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, cur.User.ID)
	if err != nil {
		return nil, err
	}
	user := &waUser{u: cur.User, creds: creds}
	exclude := make([]protocol.CredentialDescriptor, 0, len(creds))
	for _, c := range user.WebAuthnCredentials() {
		exclude = append(exclude, c.Descriptor())
	}
	opts, sd, err := s.webauthn.BeginRegistration(user, webauthn.WithExclusions(exclude),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, err
	}
	if err := s.saveChallenge(ctx, s.store, sd, store.ChallengeRegistration, cur.Session.ID, cur.User.ID, s.now().Add(ChallengeTTL)); err != nil {
		return nil, err
	}
	return opts, nil
}

// KeyAdded is a registered key, with the session's new token and, when it is the user's
// first second factor, the recovery code issued with it (shown once).
type KeyAdded struct {
	Key          store.WebAuthnCredential
	Token        string
	RecoveryCode string
}

// FinishWebAuthnRegistration checks the browser's answer (a RegistrationResponseJSON) to
// the session's registration challenge and stores the key under name (empty: "Passkey" or
// "Security key"). The challenge is used up whatever the outcome. Registering a key is not
// a sign-in with it: the session keeps its amr, and an enrollment session becomes
// authenticated. Every other session ends (FactorChanged); the user is told by mail; the
// first second factor comes with a recovery code. Errors: bad_request for an answer that
// cannot be read; for a refused one challenge_expired (expired or used), wrong_origin
// (another origin or RP ID), key_already_registered, key_model_not_allowed, or
// invalid_credential (any other check); and those of BeginWebAuthnRegistration.
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, cur *Current, name string, credentialJSON []byte, m Meta) (*KeyAdded, error) {
	m.ActorID = cur.User.ID
	if err := s.mayChangeFactors(ctx, s.store, cur); err != nil {
		return nil, err
	}
	// The name first: a name to mend must not spend the challenge, or the key must be
	// touched again for it.
	name, err := keyName(name)
	if err != nil {
		return nil, err
	}
	parsed, err := parseCreation(credentialJSON)
	if err != nil {
		return nil, err
	}
	sd, _, err := s.takeChallenge(ctx, parsed.Response.CollectedClientData.Challenge, store.ChallengeRegistration, cur.Session.ID)
	if err != nil {
		s.recordAside(ctx, audit.WebAuthnRegisterFailed, cur.User.ID, m, "challenge unknown, used or expired")
		return nil, err
	}
	if err := s.checkOrigin(parsed.Response.CollectedClientData, parsed.Response.AttestationObject.AuthData.RPIDHash); err != nil {
		s.recordAside(ctx, audit.WebAuthnRegisterFailed, cur.User.ID, m, "origin or RP ID is not this site's")
		return nil, err
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, cur.User.ID)
	if err != nil {
		return nil, err
	}
	cred, err := s.webauthn.CreateCredential(&waUser{u: cur.User, creds: creds}, *sd, parsed)
	if err != nil {
		s.recordAside(ctx, audit.WebAuthnRegisterFailed, cur.User.ID, m, libReason(err))
		return nil, ErrInvalidCredential
	}
	if len(s.allowedAAGUIDs) > 0 {
		id, err := uuid.FromBytes(cred.Authenticator.AAGUID)
		if err != nil || !slices.Contains(s.allowedAAGUIDs, id) {
			s.recordAside(ctx, audit.WebAuthnRegisterFailed, cur.User.ID, m, "authenticator model not allowed: aaguid="+id.String())
			return nil, errKeyNotAllowed
		}
	}
	for _, c := range creds {
		if bytes.Equal(c.CredentialID, cred.ID) {
			return nil, errKeyRegistered
		}
	}
	discoverable := cred.Extensions.RK != nil && *cred.Extensions.RK
	if name == "" {
		name = "Security key"
		if discoverable {
			name = "Passkey"
		}
	}
	now := s.now()
	key := store.WebAuthnCredential{
		ID: newID(), UserID: cur.User.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		AttestationFormat: cred.AttestationFormat, SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID,
		UserVerified: cred.Flags.UserVerified, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		Discoverable: discoverable, Name: name, CreatedAt: now,
	}
	for _, t := range cred.Transport {
		if v := string(t); IsText(v) && !strings.Contains(v, ",") && len(v) <= 32 && len(key.Transports) < 8 {
			key.Transports = append(key.Transports, v)
		}
	}
	out := &KeyAdded{}
	err = s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		if err := s.mayChangeFactors(ctx, st, cur); err != nil {
			return err
		}
		f, err := s.factorsOf(ctx, st, cur.User.ID)
		if err != nil {
			return err
		}
		if err := st.CreateWebAuthnCredential(ctx, &key); errors.Is(err, store.ErrConflict) {
			return errKeyRegistered
		} else if err != nil {
			return err
		}
		if !f.any() {
			// The first second factor: a recovery code comes with it, and failures
			// against earlier factors say nothing any more.
			rc, hash, err := s.newRecoveryCode()
			if err != nil {
				return err
			}
			if err := st.PutRecoveryCode(ctx, &store.RecoveryCode{UserID: cur.User.ID, CodeHash: hash, CreatedAt: now}); err != nil {
				return err
			}
			if err := st.ResetBudget(ctx, store.BudgetSecondFactor, cur.User.ID); err != nil {
				return err
			}
			out.RecoveryCode = rc
		}
		if _, err := s.EndIn(ctx, st, FactorChanged, cur.User.ID, cur.Session.ID, m); err != nil {
			return err
		}
		signingIn := cur.Session.State == store.StateEnrollmentRequired
		amr := cur.Session.AMR
		if out.Token, err = s.stepUp(ctx, st, cur, store.StateAuthenticated, amr, false); err != nil {
			return err
		}
		if signingIn {
			if err := st.SetUserLastLogin(ctx, cur.User.ID, now); err != nil {
				return err
			}
			if err := s.record(ctx, st, audit.LoginSucceeded, cur.User.ID, m, "amr="+strings.Join(amr, " ")+" (enrollment)"); err != nil {
				return err
			}
		}
		if err := s.notify(ctx, st, cur.User, NoticeWebAuthnAdded, m); err != nil {
			return err
		}
		detail := "key " + key.ID + " (" + kindOf(&key) + ") added"
		if out.RecoveryCode != "" {
			detail += ", recovery code issued"
		}
		return s.record(ctx, st, audit.WebAuthnAdded, cur.User.ID, m, detail)
	})
	if err != nil {
		return nil, err
	}
	s.metrics.FactorEnrolled(metrics.FactorWebAuthn)
	out.Key = key
	return out, nil
}

// kindOf names a key as the audit log does.
func kindOf(c *store.WebAuthnCredential) string {
	if c.Discoverable {
		return "passkey"
	}
	return "security key"
}

// RenameWebAuthnKey names one of the user's keys anew. errNoSuchKey (not_found) when the
// user has no key id.
func (s *Service) RenameWebAuthnKey(ctx context.Context, cur *Current, id, name string, m Meta) error {
	if cur.Session.State != store.StateAuthenticated {
		return apperr.ErrUnauthenticated
	}
	name, err := keyName(name)
	if err != nil {
		return err
	}
	if name == "" {
		return errKeyName
	}
	m.ActorID = cur.User.ID
	return s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		err := st.RenameWebAuthnCredential(ctx, cur.User.ID, id, name)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidText) {
			return errNoSuchKey
		} else if err != nil {
			return err
		}
		return s.record(ctx, st, audit.WebAuthnRenamed, cur.User.ID, m, "key "+id)
	})
}

// RemoveWebAuthnKey removes one of the user's keys. It needs a recent second-factor proof
// (reauthentication_required otherwise), and refuses with last_factor to remove the
// user's last second factor while the policy requires MFA (the last key, under the
// phishing-resistant policy). Removing the last one (where
// allowed) removes the recovery code with it. Every other session ends (FactorChanged);
// the user is told by mail. errNoSuchKey (not_found) when the user has no key id.
func (s *Service) RemoveWebAuthnKey(ctx context.Context, cur *Current, id string, m Meta) error {
	if cur.Session.State != store.StateAuthenticated {
		return apperr.ErrUnauthenticated
	}
	m.ActorID = cur.User.ID
	if !s.provedRecently(cur.Session) {
		s.recordAside(ctx, audit.ReauthFailed, cur.User.ID, m, "remove a security key")
		return errReauthKey
	}
	return s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		creds, err := st.ListWebAuthnCredentials(ctx, cur.User.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(creds, func(c store.WebAuthnCredential) bool { return c.ID == id })
		if i < 0 {
			return errNoSuchKey
		}
		f, err := s.factorsOf(ctx, st, cur.User.ID)
		if err != nil {
			return err
		}
		last := !f.totp && f.keys <= 1
		// Under the phishing-resistant policy a code is no second factor: the last key is
		// the last one, whatever else the user has.
		lastKey := f.keys <= 1 && s.PhishingResistant(cur.User)
		if (last && s.MFARequired(cur.User)) || lastKey {
			return errLastFactor
		}
		if err := st.DeleteWebAuthnCredential(ctx, cur.User.ID, id); errors.Is(err, store.ErrNotFound) {
			return errNoSuchKey
		} else if err != nil {
			return err
		}
		if last {
			if err := st.DeleteRecoveryCode(ctx, cur.User.ID); err != nil {
				return err
			}
		}
		if _, err := s.EndIn(ctx, st, FactorChanged, cur.User.ID, cur.Session.ID, m); err != nil {
			return err
		}
		if err := s.notify(ctx, st, cur.User, NoticeWebAuthnRemoved, m); err != nil {
			return err
		}
		detail := "key " + id + " (" + kindOf(&creds[i]) + ") removed"
		if last {
			detail += "; no second factor left, recovery code removed"
		}
		return s.record(ctx, st, audit.WebAuthnRemoved, cur.User.ID, m, detail)
	})
}
