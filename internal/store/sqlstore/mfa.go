package sqlstore

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// GetTOTP returns the user's confirmed authenticator.
func (d *DB) GetTOTP(ctx context.Context, userID string) (*store.TOTPCredential, error) {
	var c store.TOTPCredential
	var created, used int64
	err := d.queryRow(ctx, `SELECT user_id, secret_enc, last_step, created_at, last_used_at
		FROM totp_credentials WHERE user_id = ?`, userID).
		Scan(&c.UserID, &c.SecretEnc, &c.LastStep, &created, &used)
	if err != nil {
		return nil, d.wrap(err)
	}
	c.CreatedAt, c.LastUsedAt = fromMS(created), fromMS(used)
	return &c, nil
}

// PutTOTP creates or replaces the user's authenticator.
func (d *DB) PutTOTP(ctx context.Context, c *store.TOTPCredential) error {
	_, err := d.exec(ctx, `INSERT INTO totp_credentials (user_id, secret_enc, last_step, created_at, last_used_at)
		VALUES (?,?,?,?,?)
		ON CONFLICT (user_id) DO UPDATE SET secret_enc = excluded.secret_enc, last_step = excluded.last_step,
			created_at = excluded.created_at, last_used_at = excluded.last_used_at`,
		c.UserID, c.SecretEnc, c.LastStep, ms(c.CreatedAt), ms(c.LastUsedAt))
	return err
}

// AcceptTOTPStep marks step used if it is newer than the last accepted step.
func (d *DB) AcceptTOTPStep(ctx context.Context, userID string, step int64, now time.Time) error {
	return d.execOne(ctx, `UPDATE totp_credentials SET last_step = ?, last_used_at = ?
		WHERE user_id = ? AND last_step < ?`, step, ms(now), userID, step)
}

// DeleteTOTP removes the user's authenticator.
func (d *DB) DeleteTOTP(ctx context.Context, userID string) error {
	_, err := d.exec(ctx, `DELETE FROM totp_credentials WHERE user_id = ?`, userID)
	return err
}

// PutPendingTOTP creates or replaces the user's unconfirmed secret.
func (d *DB) PutPendingTOTP(ctx context.Context, p *store.PendingTOTP) error {
	_, err := d.exec(ctx, `INSERT INTO totp_pending (user_id, session_id, secret_enc, created_at, expires_at) VALUES (?,?,?,?,?)
		ON CONFLICT (user_id) DO UPDATE SET session_id = excluded.session_id, secret_enc = excluded.secret_enc,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		p.UserID, p.SessionID, p.SecretEnc, ms(p.CreatedAt), ms(p.ExpiresAt))
	return err
}

// GetPendingTOTP returns the user's unexpired unconfirmed secret.
func (d *DB) GetPendingTOTP(ctx context.Context, userID string, now time.Time) (*store.PendingTOTP, error) {
	var p store.PendingTOTP
	var created, expires int64
	err := d.queryRow(ctx, `SELECT user_id, session_id, secret_enc, created_at, expires_at FROM totp_pending
		WHERE user_id = ? AND expires_at > ?`, userID, ms(now)).Scan(&p.UserID, &p.SessionID, &p.SecretEnc, &created, &expires)
	if err != nil {
		return nil, d.wrap(err)
	}
	p.CreatedAt, p.ExpiresAt = fromMS(created), fromMS(expires)
	return &p, nil
}

// ClaimPendingTOTP removes the session's unconfirmed secret if it is still secretEnc.
func (d *DB) ClaimPendingTOTP(ctx context.Context, userID, sessionID string, secretEnc []byte) error {
	return d.execOne(ctx, `DELETE FROM totp_pending WHERE user_id = ? AND session_id = ? AND secret_enc = ?`,
		userID, sessionID, secretEnc)
}

// DeleteOrphanedPendingTOTP removes the user's unconfirmed secret whose session has ended.
func (d *DB) DeleteOrphanedPendingTOTP(ctx context.Context, userID string) (int, error) {
	return d.execCount(ctx, `DELETE FROM totp_pending WHERE user_id = ?
		AND session_id NOT IN (SELECT id FROM sessions WHERE user_id = ?)`, userID, userID)
}

// GetSecondFactors reads the user's second factors in one query.
func (d *DB) GetSecondFactors(ctx context.Context, userID string) (store.SecondFactors, error) {
	var f store.SecondFactors
	err := d.queryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = ?),
		(SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = ?),
		EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = ?)`,
		userID, userID, userID).Scan(&f.TOTP, &f.WebAuthnKeys, &f.RecoveryCode)
	return f, d.wrap(err)
}

// GetRecoveryCode returns the user's active recovery code hash.
func (d *DB) GetRecoveryCode(ctx context.Context, userID string) (*store.RecoveryCode, error) {
	var c store.RecoveryCode
	var created int64
	err := d.queryRow(ctx, `SELECT user_id, code_hash, created_at FROM recovery_codes WHERE user_id = ?`, userID).
		Scan(&c.UserID, &c.CodeHash, &created)
	if err != nil {
		return nil, d.wrap(err)
	}
	c.CreatedAt = fromMS(created)
	return &c, nil
}

// PutRecoveryCode creates or replaces the user's recovery code.
func (d *DB) PutRecoveryCode(ctx context.Context, c *store.RecoveryCode) error {
	_, err := d.exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?,?,?)
		ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at`,
		c.UserID, c.CodeHash, ms(c.CreatedAt))
	return err
}

// ConsumeRecoveryCode swaps oldHash for newHash in one conditional update.
func (d *DB) ConsumeRecoveryCode(ctx context.Context, userID string, oldHash, newHash []byte, now time.Time) error {
	return d.execOne(ctx, `UPDATE recovery_codes SET code_hash = ?, created_at = ?
		WHERE user_id = ? AND code_hash = ?`, newHash, ms(now), userID, oldHash)
}

// DeleteRecoveryCode removes the user's recovery code.
func (d *DB) DeleteRecoveryCode(ctx context.Context, userID string) error {
	_, err := d.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID)
	return err
}
