package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// WebAuthnOptions configure security keys and passkeys (the webauthn configuration).
type WebAuthnOptions struct {
	RPID          string   // default localhost
	RPOrigins     []string // default http://localhost
	RPDisplayName string   // default "twofold"
	// Passwordless lets a passkey alone sign a user in (BeginPasskeyLogin).
	Passwordless bool
	// AllowedAAGUIDs, when not empty, are the only authenticator models accepted at
	// registration.
	AllowedAAGUIDs []uuid.UUID
}

// ChallengeTTL is how long a WebAuthn challenge can be answered.
const ChallengeTTL = 5 * time.Minute

// MaxKeyName is the longest name a key may have, in characters.
const MaxKeyName = 64

// amr values of a WebAuthn sign-in (RFC 8176): hwk is the proof of possession of a key held
// by an authenticator; user says that the authenticator verified its user (a PIN or a
// biometric: WebAuthn does not say which).
const (
	AMRKey          = "hwk"
	AMRUserVerified = "user"
	AMRMFA          = "mfa"
)

// Errors of the WebAuthn ceremonies. A refusal a person can act on has a code of its own
// and says what to do (try again, use another key, set a PIN on the key, contact
// support); any other refusal is ErrInvalidCredential. The detail of the check that
// failed goes to the log and the audit detail. Before a key's signature is verified, a
// refusal says nothing about an account: on the passkey path (no username) a key is
// unknown, or its challenge gone, whoever asks.
var (
	ErrInvalidCredential = apperr.Msg(apperr.CodeInvalidCredential, "err.key_invalid")
	errKeyRegistered     = apperr.Msg(apperr.CodeKeyAlreadyRegistered, "err.key_registered")
	errKeyNotAllowed     = apperr.Msg(apperr.CodeKeyModelNotAllowed, "err.key_model")
	errChallengeGone     = apperr.Msg(apperr.CodeChallengeExpired, "err.key_challenge_expired")
	errWrongOrigin       = apperr.Msg(apperr.CodeWrongOrigin, "err.key_wrong_origin")
	errKeyNotRegistered  = apperr.Msg(apperr.CodeKeyNotRegistered, "err.key_not_registered")
	errKeyNoUV           = apperr.Msg(apperr.CodeUserVerificationRequired, "err.key_uv_required")
	errKeyCloned         = apperr.Msg(apperr.CodeKeyCounterRegressed, "err.key_cloned")
	errNoKeys            = apperr.Msg(apperr.CodeNotFound, "err.key_none")
	errNoSuchKey         = apperr.Msg(apperr.CodeNotFound, "err.key_no_such")
	ErrPasswordlessOff   = apperr.Msg(apperr.CodeNotFound, "err.passkey_off")
	errLastFactor        = apperr.Msg(apperr.CodeLastFactor, "err.key_last_factor")
	errReauthKey         = apperr.Msg(apperr.CodeReauthenticationRequired, "err.reauth_key")
	errKeyName           = apperr.Msg(apperr.CodeBadRequest, "err.key_name", "Max", MaxKeyName).In("name")
)

// checkOrigin refuses (errWrongOrigin) an answer the browser made at another address than
// the site's (clientDataJSON's origin) or for another relying party (the authenticator
// data's RP ID hash). The library refuses it too, as one of many reasons; this one a
// person can act on: open the site at its usual address. Neither value is secret, nor
// says anything of an account.
func (s *Service) checkOrigin(c protocol.CollectedClientData, rpIDHash []byte) error {
	want := sha256.Sum256([]byte(s.webauthn.Config.RPID))
	if !protocol.IsOriginInHaystack(c.Origin, s.webauthn.Config.RPOrigins) || subtle.ConstantTimeCompare(rpIDHash, want[:]) != 1 {
		return errWrongOrigin
	}
	return nil
}

// newWebAuthn builds the relying party from o, with the defaults filled in.
func newWebAuthn(o WebAuthnOptions) (*webauthn.WebAuthn, error) {
	if o.RPID == "" {
		o.RPID = "localhost"
	}
	if len(o.RPOrigins) == 0 {
		o.RPOrigins = []string{"http://localhost"}
	}
	if o.RPDisplayName == "" {
		o.RPDisplayName = "twofold"
	}
	return webauthn.New(&webauthn.Config{
		RPID:                  o.RPID,
		RPDisplayName:         o.RPDisplayName,
		RPOrigins:             o.RPOrigins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: ChallengeTTL, TimeoutUVD: ChallengeTTL},
			Registration: webauthn.TimeoutConfig{Timeout: ChallengeTTL, TimeoutUVD: ChallengeTTL},
		},
	})
}

// waUser is a user as the WebAuthn library sees it. The user handle is the account's
// random ID: it names no person and never changes.
type waUser struct {
	u     *store.Account
	creds []store.WebAuthnCredential
}

func (w *waUser) WebAuthnID() []byte   { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string { return w.u.Username }
func (w *waUser) WebAuthnDisplayName() string {
	if w.u.DisplayName != "" {
		return w.u.DisplayName
	}
	return w.u.Username
}
func (w *waUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(w.creds))
	for _, c := range w.creds {
		out = append(out, libCredential(&c))
	}
	return out
}

func libCredential(c *store.WebAuthnCredential) webauthn.Credential {
	tr := make([]protocol.AuthenticatorTransport, 0, len(c.Transports))
	for _, t := range c.Transports {
		tr = append(tr, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID: c.CredentialID, PublicKey: c.PublicKey, AttestationFormat: c.AttestationFormat, Transport: tr,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: c.UserVerified,
			BackupEligible: c.BackupEligible, BackupState: c.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

// WebAuthnKeys lists the user's security keys and passkeys, oldest first.
func (s *Service) WebAuthnKeys(ctx context.Context, userID string) ([]store.WebAuthnCredential, error) {
	return s.store.ListWebAuthnCredentials(ctx, userID)
}

// PasswordlessEnabled reports whether a passkey alone may sign a user in.
func (s *Service) PasswordlessEnabled() bool { return s.passwordless }

// challengeKey is how a challenge is stored: the SHA-256 of its base64url form, the form
// the browser reports in clientDataJSON.
func challengeKey(challenge string) []byte {
	h := sha256.Sum256([]byte(challenge))
	return h[:]
}

// saveChallenge stores the ceremony state sd as a challenge of kind bound to boundTo.
func (s *Service) saveChallenge(ctx context.Context, st Store, sd *webauthn.SessionData, kind, boundTo, userID string, expires time.Time) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	now := s.now()
	return st.CreateWebAuthnChallenge(ctx, &store.WebAuthnChallenge{ChallengeHash: challengeKey(sd.Challenge), Kind: kind,
		BoundTo: boundTo, UserID: userID, Data: data, CreatedAt: now, ExpiresAt: expires})
}

// takeChallenge consumes the challenge the answer names (clientDataJSON's challenge), of
// kind and bound to boundTo, and returns the ceremony state it kept: errChallengeGone
// when there is none (expired, answered already, drawn by another session or ceremony).
func (s *Service) takeChallenge(ctx context.Context, challenge, kind, boundTo string) (*webauthn.SessionData, *store.WebAuthnChallenge, error) {
	if challenge == "" || len(challenge) > 1024 || !utf8.ValidString(challenge) {
		return nil, nil, errChallengeGone
	}
	ch, err := s.store.ConsumeWebAuthnChallenge(ctx, challengeKey(challenge), kind, boundTo, s.now())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidText) {
		return nil, nil, errChallengeGone
	}
	if err != nil {
		return nil, nil, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(ch.Data, &sd); err != nil {
		return nil, nil, fmt.Errorf("stored webauthn challenge: %w", err)
	}
	if sd.Challenge != challenge { // the hash matched: only a corrupt row gets here
		return nil, nil, errChallengeGone
	}
	return &sd, ch, nil
}

// preSessionBinding is what a passkey challenge is bound to: the SHA-256 of the
// pre-session cookie's value, so the database never holds the value itself.
func preSessionBinding(token string) string {
	h := sha256.Sum256([]byte(token))
	return "pre:" + hex.EncodeToString(h[:])
}

// badAnswer is a credential that could not even be read (not the JSON form, broken
// base64url or CBOR): a 400 with the library's reason, never a failed attempt.
func badAnswer(err error) error {
	msg := "The security key's answer could not be read."
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		msg += " " + strings.TrimSuffix(pe.Details, ".") + "."
	}
	return apperr.New(apperr.CodeBadRequest, msg).In("credential")
}

// parseCreation reads a RegistrationResponseJSON.
func parseCreation(body []byte) (p *protocol.ParsedCredentialCreationData, err error) {
	defer func() { // the parser is not ours: a panic on hostile input is a bad answer, not a crash
		if v := recover(); v != nil {
			p, err = nil, badAnswer(fmt.Errorf("parse panic: %v", v))
		}
	}()
	p, err = protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, badAnswer(err)
	}
	return p, nil
}

// parseAssertion reads an AuthenticationResponseJSON.
func parseAssertion(body []byte) (p *protocol.ParsedCredentialAssertionData, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, badAnswer(fmt.Errorf("parse panic: %v", v))
		}
	}()
	p, err = protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, badAnswer(err)
	}
	return p, nil
}

// libReason is the detail of a library refusal for the audit log and the server log.
func libReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		r := pe.Type + ": " + pe.Details
		if pe.DevInfo != "" {
			r += " (" + pe.DevInfo + ")"
		}
		return r
	}
	return err.Error()
}

// keyName checks and tidies a key's name; empty stays empty (the caller names it).
func keyName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "", nil
	}
	// No control or format characters: the security page and the admin console show the
	// name, where a direction override would make it read as another. A joiner where
	// writing needs one ("👩", joiner, "💻") is text.
	if !IsText(name) || ContainsUnseen(name) || utf8.RuneCountInString(name) > MaxKeyName {
		return "", errKeyName
	}
	return name, nil
}

// factors is which second factors a user has.
type factors struct {
	totp     bool
	keys     int
	recovery bool
}

func (f factors) any() bool { return f.totp || f.keys > 0 }

// factorsOf reads the user's second factors in st, in one query.
func (s *Service) factorsOf(ctx context.Context, st Store, userID string) (factors, error) {
	f, err := st.GetSecondFactors(ctx, userID)
	if err != nil {
		return factors{}, err
	}
	return factors{totp: f.TOTP, keys: f.WebAuthnKeys, recovery: f.RecoveryCode}, nil
}

// secondFactorMethods lists what can finish the sign-in of u after the password: a key
// first, then the app code, then the recovery code. Under the phishing-resistant policy
// the app code is not offered to a user who has a key (see afterCode).
func (s *Service) secondFactorMethods(u *store.User, f factors) []string {
	var m []string
	if f.keys > 0 {
		m = append(m, MethodWebAuthn)
	}
	if f.totp && !(f.keys > 0 && s.PhishingResistant(&u.Account)) {
		m = append(m, MethodTOTP)
	}
	if f.recovery {
		m = append(m, MethodRecoveryCode)
	}
	return m
}

// withKeyAMR is amr with hwk (and user when the authenticator verified its user) and mfa
// added, in that order, where missing.
func withKeyAMR(amr []string, uv bool) []string {
	out := slices.Clone(amr)
	add := []string{AMRKey}
	if uv {
		add = append(add, AMRUserVerified)
	}
	add = append(add, AMRMFA)
	for _, v := range add {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// CountWebAuthnKeys counts the user's security keys and passkeys.
func (s *Service) CountWebAuthnKeys(ctx context.Context, userID string) (int, error) {
	return s.store.CountWebAuthnCredentials(ctx, userID)
}
