package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

const webauthnColumns = `id, user_id, credential_id, public_key, attestation_format, sign_count, aaguid, transports,
	user_verified, backup_eligible, backup_state, discoverable, name, created_at, last_used_at`

// CreateWebAuthnCredential stores a new security key or passkey.
func (d *DB) CreateWebAuthnCredential(ctx context.Context, c *store.WebAuthnCredential) error {
	if err := checkText([]any{strings.Join(c.Transports, ",")}); err != nil {
		return err
	}
	_, err := d.exec(ctx, `INSERT INTO webauthn_credentials (`+webauthnColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		c.ID, c.UserID, c.CredentialID, c.PublicKey, c.AttestationFormat, int64(c.SignCount), nonNil(c.AAGUID),
		strings.Join(c.Transports, ","), boolInt(c.UserVerified), boolInt(c.BackupEligible), boolInt(c.BackupState),
		boolInt(c.Discoverable), c.Name, ms(c.CreatedAt), ms(c.LastUsedAt))
	if errors.Is(err, store.ErrConflict) {
		return &store.ConflictError{Field: "credential"}
	}
	return err
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanWebAuthn(r scanner) (*store.WebAuthnCredential, error) {
	var c store.WebAuthnCredential
	var count, created, used int64
	var transports string
	var uv, be, bs, disc int
	if err := r.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.PublicKey, &c.AttestationFormat, &count, &c.AAGUID, &transports,
		&uv, &be, &bs, &disc, &c.Name, &created, &used); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count)
	if transports != "" {
		c.Transports = strings.Split(transports, ",")
	}
	c.UserVerified, c.BackupEligible, c.BackupState, c.Discoverable = uv != 0, be != 0, bs != 0, disc != 0
	c.CreatedAt, c.LastUsedAt = fromMS(created), fromMS(used)
	return &c, nil
}

// ListWebAuthnCredentials returns the user's keys, oldest first.
func (d *DB) ListWebAuthnCredentials(ctx context.Context, userID string) ([]store.WebAuthnCredential, error) {
	rows, err := d.query(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE user_id = ?
		ORDER BY created_at, id`+d.dialect.bytewise, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.WebAuthnCredential
	for rows.Next() {
		c, err := scanWebAuthn(rows)
		if err != nil {
			return nil, d.wrap(err)
		}
		out = append(out, *c)
	}
	return out, d.wrap(rows.Err())
}

// CountWebAuthnCredentials counts the user's keys.
func (d *DB) CountWebAuthnCredentials(ctx context.Context, userID string) (int, error) {
	var n int
	err := d.queryRow(ctx, `SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = ?`, userID).Scan(&n)
	return n, d.wrap(err)
}

// GetWebAuthnCredential finds a key by the authenticator's credential ID.
func (d *DB) GetWebAuthnCredential(ctx context.Context, credentialID []byte) (*store.WebAuthnCredential, error) {
	c, err := scanWebAuthn(d.queryRow(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials WHERE credential_id = ?`,
		credentialID))
	if err != nil {
		return nil, d.wrap(err)
	}
	return c, nil
}

// RenameWebAuthnCredential names one of the user's keys.
func (d *DB) RenameWebAuthnCredential(ctx context.Context, userID, id, name string) error {
	return d.execOne(ctx, `UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
}

// DeleteWebAuthnCredential removes one of the user's keys.
func (d *DB) DeleteWebAuthnCredential(ctx context.Context, userID, id string) error {
	return d.execOne(ctx, `DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`, id, userID)
}

// DeleteUserWebAuthnCredentials removes every key of the user.
func (d *DB) DeleteUserWebAuthnCredentials(ctx context.Context, userID string) (int, error) {
	return d.execCount(ctx, `DELETE FROM webauthn_credentials WHERE user_id = ?`, userID)
}

// UseWebAuthnCredential records an assertion whose counter went up (or stays 0 for good).
func (d *DB) UseWebAuthnCredential(ctx context.Context, userID, id string, signCount uint32, backupState bool, now time.Time) error {
	n := int64(signCount)
	rule := `sign_count < ?` // the counter went up
	if n == 0 {
		rule = `sign_count = ?` // no counter, now and before
	}
	return d.execOne(ctx, `UPDATE webauthn_credentials SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND user_id = ? AND `+rule, n, boolInt(backupState), ms(now), id, userID, n)
}

// CreateWebAuthnChallenge stores a pending challenge.
func (d *DB) CreateWebAuthnChallenge(ctx context.Context, c *store.WebAuthnChallenge) error {
	if len(c.Data) > store.MaxChallengeData {
		return store.ErrInvalidText
	}
	_, err := d.exec(ctx, `INSERT INTO webauthn_challenges (challenge_hash, kind, bound_to, user_id, data, created_at, expires_at)
		VALUES (?,?,?,?,?,?,?)`, c.ChallengeHash, c.Kind, c.BoundTo, c.UserID, nonNil(c.Data), ms(c.CreatedAt), ms(c.ExpiresAt))
	return err
}

// ConsumeWebAuthnChallenge deletes and returns a live challenge of kind bound to boundTo.
func (d *DB) ConsumeWebAuthnChallenge(ctx context.Context, challengeHash []byte, kind, boundTo string, now time.Time) (*store.WebAuthnChallenge, error) {
	var c store.WebAuthnChallenge
	var created, expires int64
	err := d.queryRow(ctx, `DELETE FROM webauthn_challenges
		WHERE challenge_hash = ? AND kind = ? AND bound_to = ? AND expires_at > ?
		RETURNING challenge_hash, kind, bound_to, user_id, data, created_at, expires_at`,
		challengeHash, kind, boundTo, ms(now)).
		Scan(&c.ChallengeHash, &c.Kind, &c.BoundTo, &c.UserID, &c.Data, &created, &expires)
	if err != nil {
		return nil, d.wrap(err)
	}
	c.CreatedAt, c.ExpiresAt = fromMS(created), fromMS(expires)
	return &c, nil
}
