package sqlstore

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// selectKeyCheck reads the key check value (DB.KeyCheck, Backup.KeyCheck).
const selectKeyCheck = `SELECT sealed FROM key_check WHERE id = 1`

// selectNewestTOTPSecret reads the newest authenticator's sealed secret and its user's id
// (DB.AnyTOTPSecret, Backup.AnyTOTPSecret): the newest, because a database from before
// the key check whose key file was once lost and made anew holds older secrets sealed
// with the lost key beside newer ones sealed with the key in use.
const selectNewestTOTPSecret = `SELECT user_id, secret_enc FROM totp_credentials ORDER BY created_at DESC, user_id LIMIT 1`

// selectNewestSigningKey reads the newest ID token signing key (DB.NewestOIDCSigningKey,
// Backup.NewestOIDCSigningKey), for the same reason as selectNewestTOTPSecret.
const selectNewestSigningKey = `SELECT id, alg, private_enc, created_at FROM oidc_signing_keys
	ORDER BY created_at DESC, id LIMIT 1`

// KeyCheck returns the sealed key check value; store.ErrNotFound when none is stored.
func (d *DB) KeyCheck(ctx context.Context) ([]byte, error) {
	var sealed []byte
	err := d.queryRow(ctx, selectKeyCheck).Scan(&sealed)
	return sealed, d.wrap(err)
}

// PutKeyCheck stores sealed unless a key check value is stored. On PostgreSQL the insert
// of the row another transaction inserted waits for that one to end, then does nothing.
func (d *DB) PutKeyCheck(ctx context.Context, sealed []byte, now time.Time) error {
	_, err := d.exec(ctx, `INSERT INTO key_check (id, sealed, created_at) VALUES (1, ?, ?)
		ON CONFLICT (id) DO NOTHING`, sealed, ms(now))
	return err
}

// AnyTOTPSecret returns the newest authenticator's sealed secret and its user's id
// (selectNewestTOTPSecret); store.ErrNotFound when there is none.
func (d *DB) AnyTOTPSecret(ctx context.Context) (string, []byte, error) {
	var userID string
	var sealed []byte
	err := d.queryRow(ctx, selectNewestTOTPSecret).Scan(&userID, &sealed)
	if err != nil {
		return "", nil, d.wrap(err)
	}
	return userID, sealed, nil
}

// NewestOIDCSigningKey returns the newest signing key (selectNewestSigningKey);
// store.ErrNotFound when there is none.
func (d *DB) NewestOIDCSigningKey(ctx context.Context) (*store.OIDCSigningKey, error) {
	var k store.OIDCSigningKey
	var created int64
	if err := d.queryRow(ctx, selectNewestSigningKey).Scan(&k.ID, &k.Alg, &k.PrivateEnc, &created); err != nil {
		return nil, d.wrap(err)
	}
	k.CreatedAt = fromMS(created)
	return &k, nil
}
