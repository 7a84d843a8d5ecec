package sqlstore

import (
	"context"
	"time"
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
