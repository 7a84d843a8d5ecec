package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

const linkColumns = `token_hash, purpose, user_id, email, payload, created_at, expires_at, used_at`

// CreateLinkToken stores a mail link.
func (d *DB) CreateLinkToken(ctx context.Context, l *store.LinkToken) error {
	if len(l.Payload) > store.MaxLinkPayload {
		return store.ErrInvalidText
	}
	_, err := d.exec(ctx, `INSERT INTO link_tokens (`+linkColumns+`) VALUES (?,?,?,?,?,?,?,?)`,
		l.TokenHash, l.Purpose, nullText(l.UserID), l.Email, l.Payload, ms(l.CreatedAt), ms(l.ExpiresAt), ms(l.UsedAt))
	return err
}

// PeekLinkToken returns a live link without changing it.
func (d *DB) PeekLinkToken(ctx context.Context, purpose string, tokenHash []byte, now time.Time) (*store.LinkToken, error) {
	return d.scanLink(d.queryRow(ctx, `SELECT `+linkColumns+` FROM link_tokens
		WHERE token_hash = ? AND purpose = ? AND used_at = 0 AND expires_at > ?`, tokenHash, purpose, ms(now)))
}

// ConsumeLinkToken marks a live link used in one conditional update.
func (d *DB) ConsumeLinkToken(ctx context.Context, purpose string, tokenHash []byte, now time.Time) (*store.LinkToken, error) {
	return d.scanLink(d.queryRow(ctx, `UPDATE link_tokens SET used_at = ?
		WHERE token_hash = ? AND purpose = ? AND used_at = 0 AND expires_at > ?
		RETURNING `+linkColumns, ms(now), tokenHash, purpose, ms(now)))
}

// InvalidateLinkTokens ends the user's live links of purpose.
func (d *DB) InvalidateLinkTokens(ctx context.Context, purpose, userID string, now time.Time) (int, error) {
	return d.execCount(ctx, `UPDATE link_tokens SET used_at = ?
		WHERE user_id = ? AND purpose = ? AND used_at = 0 AND expires_at > ?`, ms(now), userID, purpose, ms(now))
}

// CountLinkTokens counts the user's links of purpose issued since since.
func (d *DB) CountLinkTokens(ctx context.Context, purpose, userID string, since time.Time) (int, error) {
	var n int
	err := d.queryRow(ctx, `SELECT COUNT(*) FROM link_tokens WHERE user_id = ? AND purpose = ? AND created_at >= ?`,
		userID, purpose, ms(since)).Scan(&n)
	return n, d.wrap(err)
}

// LatestLinkToken returns the user's most recent link of purpose.
func (d *DB) LatestLinkToken(ctx context.Context, purpose, userID string) (*store.LinkToken, error) {
	return d.scanLink(d.queryRow(ctx, `SELECT `+linkColumns+` FROM link_tokens WHERE user_id = ? AND purpose = ?
		ORDER BY created_at DESC, token_hash LIMIT 1`, userID, purpose))
}

func (d *DB) scanLink(r row) (*store.LinkToken, error) {
	var l store.LinkToken
	var userID sql.NullString
	var created, expires, used int64
	if err := r.Scan(&l.TokenHash, &l.Purpose, &userID, &l.Email, &l.Payload, &created, &expires, &used); err != nil {
		return nil, d.wrap(err)
	}
	l.UserID = userID.String
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromMS(created), fromMS(expires), fromMS(used)
	return &l, nil
}

// nullText stores an empty string as NULL (a column whose foreign key may be absent).
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}
