package store

import (
	"context"
	"time"
)

// KeyCheckStore keeps the key check value: a constant sealed with the master key the
// database was made with, by which a start with another key is told apart and refused.
type KeyCheckStore interface {
	// KeyCheck returns the sealed key check value, or ErrNotFound when none is stored (a
	// new database, or one from before the key check).
	KeyCheck(ctx context.Context) ([]byte, error)
	// PutKeyCheck stores sealed as the key check value unless one is stored already, in
	// one conditional insert that does nothing then: of instances that put theirs at once
	// the first one's stays, and each reads back (KeyCheck) which one that is. It never
	// replaces a stored value.
	PutKeyCheck(ctx context.Context, sealed []byte, now time.Time) error
	// AnyTOTPSecret returns one confirmed authenticator's sealed secret with its user's id
	// (the additional data it is sealed with), or ErrNotFound when there is none: what
	// tells a wrong master key for a database without a key check value.
	AnyTOTPSecret(ctx context.Context) (userID string, sealed []byte, err error)
	// NewestOIDCSigningKey returns the newest ID token signing key, retired or expired
	// ones too, or ErrNotFound when there is none: what tells a wrong master key for a
	// database without a key check value and without authenticators.
	NewestOIDCSigningKey(ctx context.Context) (*OIDCSigningKey, error)
}
