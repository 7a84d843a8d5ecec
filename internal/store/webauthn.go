package store

import (
	"context"
	"time"
)

// WebAuthnCredential is a registered security key or passkey. The browser and the
// authenticator hold the private key; only the public key and what the authenticator
// reported about itself are kept.
type WebAuthnCredential struct {
	ID           string // twofold's own identifier, shown in the API
	UserID       string
	CredentialID []byte // the authenticator's credential ID (rawId)
	PublicKey    []byte // COSE_Key as the authenticator sent it
	// AttestationFormat is the attestation statement's format ("none" unless asked for).
	AttestationFormat string
	SignCount         uint32 // the signature counter the last accepted assertion carried
	AAGUID            []byte // the authenticator model (16 bytes, zeros when it says none)
	Transports        []string
	UserVerified      bool // user verification happened at registration
	BackupEligible    bool // the credential may be synced to other devices (a multi-device passkey)
	BackupState       bool // it is synced now, as the last assertion said
	// Discoverable: the authenticator keeps it (a resident key), so it can sign a user in
	// without a username: a passkey. Otherwise a security key used after the password.
	Discoverable bool
	Name         string
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero when never used after registration
}

// Kinds of WebAuthn challenge: each is accepted only by the ceremony that drew it.
const (
	ChallengeRegistration = "registration" // adding a key, bound to the session
	ChallengeAssertion    = "assertion"    // the second factor or a proof, bound to the session
	ChallengePasskey      = "passkey"      // a passkey sign-in, bound to a pre-session cookie
	ChallengeReset        = "reset"        // the second factor of a password reset, bound to its link
)

// WebAuthnChallenge is a challenge handed to a browser and waiting for its answer. Only its
// SHA-256 is the key; Data is what the ceremony needs to check the answer (never a secret).
type WebAuthnChallenge struct {
	ChallengeHash []byte
	Kind          string
	// BoundTo is what may answer it: a session's ID; for a passkey sign-in, the
	// SHA-256 (hex) of the pre-session cookie's value; for a password reset, the stored
	// hash (hex) of the reset link's token.
	BoundTo   string
	UserID    string // the user it was drawn for; empty for a passkey sign-in
	Data      []byte // the ceremony's state (JSON), at most MaxChallengeData bytes
	CreatedAt time.Time
	ExpiresAt time.Time
}

// MaxChallengeData bounds WebAuthnChallenge.Data.
const MaxChallengeData = 16 << 10

// WebAuthnStore holds security keys and passkeys and their pending challenges. Its
// methods follow the same rules as Store's: atomic on their own, sentinel errors.
type WebAuthnStore interface {
	// CreateWebAuthnCredential stores c. A credential ID already registered (to any user)
	// gives a *ConflictError with field "credential".
	CreateWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error
	// ListWebAuthnCredentials returns the user's credentials, oldest first.
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]WebAuthnCredential, error)
	// CountWebAuthnCredentials counts the user's credentials.
	CountWebAuthnCredentials(ctx context.Context, userID string) (int, error)
	// GetWebAuthnCredential returns the credential whose authenticator credential ID is
	// credentialID, whoever's it is, or ErrNotFound.
	GetWebAuthnCredential(ctx context.Context, credentialID []byte) (*WebAuthnCredential, error)
	// RenameWebAuthnCredential sets the name of the user's credential id; ErrNotFound
	// when the user has no such credential.
	RenameWebAuthnCredential(ctx context.Context, userID, id, name string) error
	// DeleteWebAuthnCredential removes the user's credential id; ErrNotFound when the user
	// has no such credential (another user's is never touched).
	DeleteWebAuthnCredential(ctx context.Context, userID, id string) error
	// DeleteUserWebAuthnCredentials removes every credential of the user and returns how
	// many went.
	DeleteUserWebAuthnCredentials(ctx context.Context, userID string) (int, error)
	// UseWebAuthnCredential records an accepted assertion of the user's credential id in
	// one conditional update: the counter becomes signCount and the backup state
	// backupState, but only while the stored counter is below signCount, or both are 0
	// (an authenticator without a counter). Otherwise (a counter that did not increase,
	// or the credential is gone) ErrNotFound, so of parallel assertions carrying one
	// counter value at most one is recorded.
	UseWebAuthnCredential(ctx context.Context, userID, id string, signCount uint32, backupState bool, now time.Time) error

	// CreateWebAuthnChallenge stores a pending challenge; a hash already stored gives a
	// *ConflictError, Data longer than MaxChallengeData gives ErrInvalidText.
	CreateWebAuthnChallenge(ctx context.Context, c *WebAuthnChallenge) error
	// ConsumeWebAuthnChallenge removes and returns the challenge whose hash is
	// challengeHash, in one conditional delete, but only while it is of kind, bound to
	// boundTo and unexpired at now; otherwise ErrNotFound (and a challenge of another kind
	// or binding is left alone). Of any number of parallel consumes exactly one gets it.
	ConsumeWebAuthnChallenge(ctx context.Context, challengeHash []byte, kind, boundTo string, now time.Time) (*WebAuthnChallenge, error)
}
