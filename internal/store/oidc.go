package store

import (
	"context"
	"time"
)

// OIDCClient is an application that signs users in through OpenID Connect.
type OIDCClient struct {
	ID   string // the client_id
	Name string // unique, for people and the CLI
	// SecretHash is the SHA-256 of the client secret; nil for a public client, which has none.
	SecretHash             []byte
	Public                 bool // no secret: PKCE (S256) is required
	FirstParty             bool // trusted: no consent page
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	IDTokenAlg             string // "ES256" (default) or "RS256"
	CreatedAt              time.Time
}

// OIDCAuthRequest is an authorization request waiting for the user's sign-in, and then for
// its code to be exchanged. UserID is empty until the sign-in completed it.
type OIDCAuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	Scopes              []string
	ResponseType        string
	ResponseMode        string
	Prompt              []string
	MaxAge              int64 // seconds; -1 when the request has none
	ACRValues           []string
	CodeChallenge       string
	CodeChallengeMethod string
	LoginHint           string
	CreatedAt           time.Time
	ExpiresAt           time.Time // the row goes after this; the sign-in must finish before

	// Set by CompleteOIDCAuthRequest.
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string

	// Set by SaveOIDCAuthCode and ClaimOIDCAuthCode.
	CodeHash      []byte // SHA-256 of the authorization code; nil before one is issued
	CodeExpiresAt time.Time
	CodeUsedAt    time.Time // zero while unused

	// SessionLive is set by GetOIDCAuthRequestByCode: whether the session that signed in
	// (SessionID, of UserID) was authenticated and unexpired at the time it was given.
	SessionLive bool
}

// OIDCConsent records that a user let a client have the scopes.
type OIDCConsent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	GrantedAt time.Time
}

// OIDCApplication is a client as its user sees it: one consented to, or one holding a
// grant of the user (a first-party client asks no consent).
type OIDCApplication struct {
	ClientID string
	Name     string
	// Scopes the user consented to; for a client without a consent, those of its grants.
	Scopes      []string
	ConsentedAt time.Time // zero without a consent
	// LastUsedAt is when the client last got a grant or token for the user, as far as they
	// are kept (they go at expiry); zero when none is.
	LastUsedAt time.Time
}

// OIDCGrant is one authorization of a client by a user (one code exchange): the anchor of
// a family of access and refresh tokens. Deleting it revokes every token of the family.
type OIDCGrant struct {
	ID        string
	ClientID  string
	UserID    string
	SessionID string // the twofold session that signed in
	Scopes    []string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	Offline   bool // refresh tokens were issued (scope offline_access)
	CreatedAt time.Time
	ExpiresAt time.Time // when the last token of the family expires
}

// OIDCAccessToken is an opaque access token; Grant is filled in by GetOIDCAccessToken.
type OIDCAccessToken struct {
	ID        string
	GrantID   string
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	Grant     *OIDCGrant
}

// OIDCRefreshToken is a refresh token, kept as its SHA-256 only. A used token stays (with
// UsedAt set) so that presenting it again is recognised as reuse.
type OIDCRefreshToken struct {
	TokenHash []byte
	GrantID   string
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while it is the family's current token
}

// OIDCSigningKey is a token signing key, its private part sealed with the master key. The
// current key of an algorithm (RetiredAt zero) signs; retired keys stay published in the
// JWKS until ExpiresAt.
type OIDCSigningKey struct {
	ID         string // the JWK "kid"
	Alg        string // "ES256" or "RS256"
	PrivateEnc []byte
	CreatedAt  time.Time
	RetiredAt  time.Time // zero while current
	ExpiresAt  time.Time // zero while current
}

// OIDCStore holds OpenID Connect clients, authorization requests, tokens and signing keys (issue 6).
// Its methods follow the same rules as Store's: atomic on their own, sentinel errors.
type OIDCStore interface {
	// CreateOIDCClient inserts c and sets c.CreatedAt to the time as kept (to the millisecond);
	// a taken name gives a *ConflictError with Field "name".
	CreateOIDCClient(ctx context.Context, c *OIDCClient) error
	// GetOIDCClient and GetOIDCClientByName return ErrNotFound for an unknown client.
	GetOIDCClient(ctx context.Context, id string) (*OIDCClient, error)
	GetOIDCClientByName(ctx context.Context, name string) (*OIDCClient, error)
	// ListOIDCClients returns every client ordered by name.
	ListOIDCClients(ctx context.Context) ([]OIDCClient, error)
	// UpdateOIDCClient replaces the name, secret hash, first-party flag, redirect URIs and
	// ID token algorithm of the client c.ID (its kind and creation time never change);
	// ErrNotFound for an unknown client, a *ConflictError with Field "name" for a name
	// another client has.
	UpdateOIDCClient(ctx context.Context, c *OIDCClient) error
	// DeleteOIDCClient removes the client with its requests, consents, grants and tokens;
	// ErrNotFound for an unknown client.
	DeleteOIDCClient(ctx context.Context, id string) error

	CreateOIDCAuthRequest(ctx context.Context, a *OIDCAuthRequest) error
	// GetOIDCAuthRequest returns ErrNotFound for an unknown request or one expired by now.
	GetOIDCAuthRequest(ctx context.Context, id string, now time.Time) (*OIDCAuthRequest, error)
	// CompleteOIDCAuthRequest records who signed in, in one conditional update: only for a
	// request not completed yet and unexpired at now (ErrNotFound otherwise), so a request
	// is completed once.
	CompleteOIDCAuthRequest(ctx context.Context, id string, done *OIDCAuthRequest, now time.Time) error
	// SaveOIDCAuthCode attaches the hash of the authorization code to a completed request
	// that has none yet, in one conditional update (ErrNotFound otherwise): one code per
	// request.
	SaveOIDCAuthCode(ctx context.Context, id string, codeHash []byte, expiresAt, now time.Time) error
	// GetOIDCAuthRequestByCode returns the request the code was issued for, used or not and
	// expired or not (CodeUsedAt and CodeExpiresAt say which); ErrNotFound when no stored
	// request has the code. It changes nothing: a code is looked up before the client is
	// authenticated, and only ClaimOIDCAuthCode uses it up. SessionLive says whether the
	// session that signed in is authenticated and unexpired at now, in the same query.
	GetOIDCAuthRequestByCode(ctx context.Context, codeHash []byte, now time.Time) (*OIDCAuthRequest, error)
	// ClaimOIDCAuthCode marks the code used and returns its request, in one conditional
	// update: ErrNotFound for an unknown, expired or already used code, so of parallel
	// exchanges of one code (on any instance) exactly one wins.
	ClaimOIDCAuthCode(ctx context.Context, codeHash []byte, now time.Time) (*OIDCAuthRequest, error)
	// RevokeOIDCGrantOfUsedCode deletes the grant (and so every token) issued for a code
	// that was already used, and returns how many grants went (0 or 1).
	RevokeOIDCGrantOfUsedCode(ctx context.Context, codeHash []byte) (int, error)

	// GetOIDCConsent returns ErrNotFound when the user never consented to the client.
	GetOIDCConsent(ctx context.Context, userID, clientID string) (*OIDCConsent, error)
	// PutOIDCConsent creates or replaces the user's consent for the client.
	PutOIDCConsent(ctx context.Context, c *OIDCConsent) error
	// ListUserOIDCApplications returns the clients the user consented to or holds a grant
	// of unexpired at now, ordered by name.
	ListUserOIDCApplications(ctx context.Context, userID string, now time.Time) ([]OIDCApplication, error)
	// DeleteUserOIDCClientAccess removes the user's consent to the client and revokes every
	// grant (and token) the client holds of the user, and returns how many grants went;
	// ErrNotFound when there was neither. Run it in a transaction: it is two statements.
	DeleteUserOIDCClientAccess(ctx context.Context, userID, clientID string) (int, error)

	CreateOIDCGrant(ctx context.Context, g *OIDCGrant) error
	// GetOIDCGrant returns ErrNotFound for an unknown (or revoked) grant.
	GetOIDCGrant(ctx context.Context, id string) (*OIDCGrant, error)
	// DeleteOIDCGrant revokes the grant and every token of it; ErrNotFound when unknown.
	DeleteOIDCGrant(ctx context.Context, id string) error
	// DeleteUserOIDCGrants revokes every grant (access and refresh token) of the user and
	// returns how many grants went.
	DeleteUserOIDCGrants(ctx context.Context, userID string) (int, error)
	// DeleteOtherOIDCGrants revokes every grant of the user not obtained through sessionID,
	// offline grants included, and returns how many went.
	DeleteOtherOIDCGrants(ctx context.Context, userID, sessionID string) (int, error)
	// DeleteSessionOIDCGrants revokes the grants signed in by the session that hold no
	// refresh token (offline grants outlive the session) and returns how many went.
	DeleteSessionOIDCGrants(ctx context.Context, sessionID string) (int, error)

	CreateOIDCAccessToken(ctx context.Context, t *OIDCAccessToken) error
	// GetOIDCAccessToken returns the token with its grant; ErrNotFound when it is unknown,
	// revoked or expired by now.
	GetOIDCAccessToken(ctx context.Context, id string, now time.Time) (*OIDCAccessToken, error)
	// DeleteOIDCAccessToken revokes one access token; unknown tokens are no error.
	DeleteOIDCAccessToken(ctx context.Context, id string) error

	CreateOIDCRefreshToken(ctx context.Context, t *OIDCRefreshToken) error
	// GetOIDCRefreshToken returns the token, used or not; ErrNotFound when unknown.
	GetOIDCRefreshToken(ctx context.Context, tokenHash []byte) (*OIDCRefreshToken, error)
	// RotateOIDCRefreshToken marks the current token oldHash used and stores next in its
	// family, extending the grant to next's expiry. The mark is one conditional update:
	// ErrNotFound when oldHash is unknown, used already or expired at now, so of parallel
	// refreshes with one token exactly one wins.
	RotateOIDCRefreshToken(ctx context.Context, oldHash []byte, next *OIDCRefreshToken, now time.Time) error

	// CreateOIDCSigningKey stores a key; a second current key for one algorithm gives a
	// *ConflictError, so instances racing to create the first key end with one.
	CreateOIDCSigningKey(ctx context.Context, k *OIDCSigningKey) error
	// ListOIDCSigningKeys returns the keys not expired by now, newest first.
	ListOIDCSigningKeys(ctx context.Context, now time.Time) ([]OIDCSigningKey, error)
	// RetireOIDCSigningKeys ends signing with the current key of alg, keeping it published
	// until expiresAt, and returns how many keys it retired (0 or 1).
	RetireOIDCSigningKeys(ctx context.Context, alg string, now, expiresAt time.Time) (int, error)

	// DeleteExpiredOIDC removes expired authorization requests, grants, tokens and signing
	// keys and returns how many rows went. It is idempotent.
	DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error)
}
