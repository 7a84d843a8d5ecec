package sqlstore

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// CreateSetupToken stores a first-administrator setup token hash.
func (d *DB) CreateSetupToken(ctx context.Context, tokenHash []byte, expiresAt time.Time) error {
	_, err := d.exec(ctx, `INSERT INTO setup_tokens (token_hash, expires_at) VALUES (?, ?)`, tokenHash, ms(expiresAt))
	return err
}

// CheckSetupToken reports store.ErrNotFound unless the token is usable.
func (d *DB) CheckSetupToken(ctx context.Context, tokenHash []byte, now time.Time) error {
	var n int
	err := d.queryRow(ctx, `SELECT 1 FROM setup_tokens WHERE token_hash = ? AND used_at = 0 AND expires_at > ?`,
		tokenHash, ms(now)).Scan(&n)
	return d.wrap(err)
}

// UseSetupToken marks the token used, once.
func (d *DB) UseSetupToken(ctx context.Context, tokenHash []byte, now time.Time) error {
	return d.execOne(ctx, `UPDATE setup_tokens SET used_at = ? WHERE token_hash = ? AND used_at = 0 AND expires_at > ?`,
		ms(now), tokenHash, ms(now))
}

// MarkAdminExisted records for good that an administrator exists and deletes every setup
// token.
func (d *DB) MarkAdminExisted(ctx context.Context, now time.Time) error {
	return d.WithTx(ctx, func(st store.Store) error {
		tx := st.(*DB)
		if _, err := tx.exec(ctx, `INSERT INTO install_facts (name, recorded_at) VALUES ('admin_existed', ?)
			ON CONFLICT (name) DO NOTHING`, ms(now)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM setup_tokens`)
		return err
	})
}

// ClaimFirstAdmin records that an administrator exists; store.ErrConflict when that was
// recorded already. On PostgreSQL the insert of a key another transaction inserted waits
// for that one to commit or roll back; on SQLite transactions take turns anyway.
func (d *DB) ClaimFirstAdmin(ctx context.Context, now time.Time) error {
	n, err := d.execCount(ctx, `INSERT INTO install_facts (name, recorded_at) VALUES ('admin_existed', ?)
		ON CONFLICT (name) DO NOTHING`, ms(now))
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// AdminHasExisted reports whether MarkAdminExisted was ever called.
func (d *DB) AdminHasExisted(ctx context.Context) (bool, error) {
	var n int
	err := d.queryRow(ctx, `SELECT COUNT(*) FROM install_facts WHERE name = 'admin_existed'`).Scan(&n)
	return n > 0, d.wrap(err)
}

// HoldsSealedData reports whether the database holds lasting data sealed or keyed with a
// master key: the key check value (written by the first start with a key), an
// authenticator secret, a recovery code, an OpenID Connect signing key or a mail not yet
// sent. Such a database was set up with a key that no other key replaces: a new one would
// open none of it. Short-lived data (a pending setup, a notice for the next page) is not
// counted.
func (d *DB) HoldsSealedData(ctx context.Context) (bool, error) {
	var n int
	err := d.queryRow(ctx, `SELECT CASE WHEN
		EXISTS (SELECT 1 FROM key_check) OR
		EXISTS (SELECT 1 FROM totp_credentials) OR
		EXISTS (SELECT 1 FROM recovery_codes) OR
		EXISTS (SELECT 1 FROM oidc_signing_keys) OR
		EXISTS (SELECT 1 FROM mail_queue WHERE message IS NOT NULL)
		THEN 1 ELSE 0 END`).Scan(&n)
	return n > 0, d.wrap(err)
}
