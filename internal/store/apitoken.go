package store

import (
	"context"
	"time"
)

// APIToken is a token for automation on the admin API. Only the SHA-256 of the token is
// stored; the token itself is shown once, when it is created.
type APIToken struct {
	ID        string
	TokenHash []byte
	Name      string
	// Scopes are what the token may do (users:read, audit:read, ...), at least one.
	Scopes []string
	// CreatedBy is the user who created the token; empty for the server console.
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never expires
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero while not revoked
}

// Live reports whether the token may be used at now: not revoked and not expired.
func (t *APIToken) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// APITokenStore keeps API tokens. Its methods follow the same rules as Store's: atomic on
// their own, sentinel errors.
type APITokenStore interface {
	// CreateAPIToken stores t; an id or hash already stored gives a *ConflictError.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// GetAPIToken returns the token with id, revoked and expired ones included, or
	// ErrNotFound.
	GetAPIToken(ctx context.Context, id string) (*APIToken, error)
	// GetAPITokenByHash returns the token whose hash is tokenHash, revoked and expired ones
	// included (the caller decides), or ErrNotFound.
	GetAPITokenByHash(ctx context.Context, tokenHash []byte) (*APIToken, error)
	// ListAPITokens returns every token, newest first.
	ListAPITokens(ctx context.Context) ([]APIToken, error)
	// RevokeAPIToken marks the token revoked at now in one conditional update; ErrNotFound
	// for an unknown id or a token revoked already.
	RevokeAPIToken(ctx context.Context, id string, now time.Time) error
	// RevokeAPITokensBy marks every token that createdBy created and that is not revoked
	// yet revoked at now, and returns how many; createdBy "" (the server console) revokes
	// none.
	RevokeAPITokensBy(ctx context.Context, createdBy string, now time.Time) (int, error)
	// TouchAPIToken sets the token's last use to at, but only when the last use recorded is
	// before notAfter (one conditional update): a token used all the time is written at most
	// once per interval, however many instances serve it. It reports whether it wrote.
	TouchAPIToken(ctx context.Context, id string, at, notAfter time.Time) (bool, error)
}
