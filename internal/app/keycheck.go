package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
)

// KeyCheckPurpose names the keyring box that seals the key check value.
const KeyCheckPurpose = "key-check"

// keyCheckValue is the constant the key check value seals. Nothing secret: what it proves
// is that the key opens it; the random nonce makes every database's value different.
var keyCheckValue = []byte("twofold master key check")

// errWrongKey: the master key does not open what the database holds.
var errWrongKey = errors.New("the master key does not open the database")

// KeyReader is what tells whether a master key is a database's own: its key check value,
// and for a database from before the key check its newest authenticator secret and newest
// signing key. Each answers store.ErrNotFound when the database holds none
// (store.KeyCheckStore, sqlstore.Backup).
type KeyReader interface {
	KeyCheck(ctx context.Context) ([]byte, error)
	AnyTOTPSecret(ctx context.Context) (userID string, sealed []byte, err error)
	NewestOIDCSigningKey(ctx context.Context) (*store.OIDCSigningKey, error)
}

// keyCheckStore is the store checkMasterKey writes the key check value to.
type keyCheckStore interface {
	KeyReader
	PutKeyCheck(ctx context.Context, sealed []byte, now time.Time) error
}

// KeyOpens reports whether keys is the master key of the database r reads: the key opens
// its key check value; or, when it has none (a database from before the key check), its
// newest authenticator secret or its newest ID token signing key (an installation whose
// users all sign in with passkeys seals no authenticator secret, but signs tokens). A
// database with neither says nothing against any key: KeyOpens is true then. It writes
// nothing.
func KeyOpens(ctx context.Context, r KeyReader, keys *secrets.Keyring) (bool, error) {
	sealed, err := r.KeyCheck(ctx)
	if err == nil {
		return opensCheck(keys, sealed), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	held := false
	userID, secret, err := r.AnyTOTPSecret(ctx)
	switch {
	case err == nil:
		if _, err := keys.Box(auth.TOTPSecretPurpose).Open(secret, []byte(userID)); err == nil {
			return true, nil
		}
		held = true
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	k, err := r.NewestOIDCSigningKey(ctx)
	switch {
	case err == nil:
		return oidc.OpensSigningKey(keys, k), nil
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	return !held, nil
}

// opensCheck reports whether keys opens the key check value sealed.
func opensCheck(keys *secrets.Keyring, sealed []byte) bool {
	_, err := keys.Box(KeyCheckPurpose).Open(sealed, []byte(KeyCheckPurpose))
	return err == nil
}

// checkMasterKey makes sure keys is the master key of the database st: errWrongKey when
// it is not, and then it writes nothing. A database without a key check value (a new one,
// or one from before the key check) is first checked against its newest authenticator
// secret and signing key (KeyOpens), so that a wrong key at the upgrade is refused rather than recorded;
// then it gets the value, in an insert that does nothing when another instance was first,
// and the value is read back and checked: of two instances starting at once with
// different keys, the one that lost the race is refused too.
func checkMasterKey(ctx context.Context, st keyCheckStore, keys *secrets.Keyring, now time.Time) error {
	sealed, err := st.KeyCheck(ctx)
	if errors.Is(err, store.ErrNotFound) {
		if err = putKeyCheck(ctx, st, keys, now); err != nil {
			return err
		}
		sealed, err = st.KeyCheck(ctx)
	}
	if err != nil {
		return fmt.Errorf("check the master key: %w", err)
	}
	if !opensCheck(keys, sealed) {
		return errWrongKey
	}
	return nil
}

// putKeyCheck gives a database without a key check value one sealed with keys, unless
// the key opens none of what KeyOpens reads there (errWrongKey).
func putKeyCheck(ctx context.Context, st keyCheckStore, keys *secrets.Keyring, now time.Time) error {
	opens, err := KeyOpens(ctx, st, keys)
	if err != nil {
		return fmt.Errorf("check the master key: %w", err)
	}
	if !opens {
		return errWrongKey
	}
	sealed, err := keys.Box(KeyCheckPurpose).Seal(keyCheckValue, []byte(KeyCheckPurpose))
	if err == nil {
		err = st.PutKeyCheck(ctx, sealed, now)
	}
	if err != nil {
		return fmt.Errorf("record the master key check: %w", err)
	}
	return nil
}

// WrongKeyError is Open's answer when the master key in use (TWOFOLD_MASTER_KEY or the
// key file) does not open the database, which was made with another key: another
// installation's key file, a mistyped variable, a second instance on one PostgreSQL
// database with a key of its own. The server would start but check no code and sign no
// token, so nothing starts and nothing is written.
type WrongKeyError struct {
	// Source is where the key came from: "TWOFOLD_MASTER_KEY", the quoted path of the key
	// file, or "the options" for a key given in Options.MasterKey.
	Source string
	// Database names the database, such as `the database "..."`.
	Database string
}

func (e *WrongKeyError) Error() string {
	return fmt.Sprintf("the master key from %s does not open %s: it was made with another key. Put back the key "+
		"this database was made with (in the key file or TWOFOLD_MASTER_KEY) and start again; "+
		"see \"A wrong master key\" in docs/operations.md", e.Source, e.Database)
}

// newWrongKeyError names where the key came from and which database it fails to open.
func newWrongKeyError(cfg *config.Config, o Options) *WrongKeyError {
	e := &WrongKeyError{Source: apperr.QuotePath(cfg.MasterKeyPath()), Database: "the database " + apperr.QuotePath(cfg.DatabasePath())}
	switch {
	case o.MasterKey != nil:
		e.Source = "the options"
	case o.MasterKeyEnv != "":
		e.Source = "TWOFOLD_MASTER_KEY"
	}
	if cfg.Database.Postgres() {
		e.Database = "the PostgreSQL database"
	}
	return e
}
