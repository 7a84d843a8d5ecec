package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

const apiTokenColumns = `id, token_hash, name, scopes, created_by, created_at, expires_at, last_used_at, revoked_at`

// CreateAPIToken stores an API token.
func (d *DB) CreateAPIToken(ctx context.Context, t *store.APIToken) error {
	_, err := d.exec(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES (?,?,?,?,?,?,?,?,?)`,
		t.ID, t.TokenHash, t.Name, strings.Join(t.Scopes, " "), t.CreatedBy, ms(t.CreatedAt), ms(t.ExpiresAt),
		ms(t.LastUsedAt), ms(t.RevokedAt))
	return err
}

// GetAPIToken returns a token by id.
func (d *DB) GetAPIToken(ctx context.Context, id string) (*store.APIToken, error) {
	return d.scanAPIToken(d.queryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = ?`, id))
}

// GetAPITokenByHash returns a token by the hash of its secret.
func (d *DB) GetAPITokenByHash(ctx context.Context, tokenHash []byte) (*store.APIToken, error) {
	return d.scanAPIToken(d.queryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`, tokenHash))
}

// ListAPITokens returns every token, newest first.
func (d *DB) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := d.query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.APIToken
	for rows.Next() {
		t, err := d.scanAPIToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, d.wrap(rows.Err())
}

// RevokeAPIToken revokes a live token, once.
func (d *DB) RevokeAPIToken(ctx context.Context, id string, now time.Time) error {
	return d.execOne(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, ms(now), id)
}

// RevokeAPITokensBy revokes the live tokens of an administrator.
func (d *DB) RevokeAPITokensBy(ctx context.Context, createdBy string, now time.Time) (int, error) {
	if createdBy == "" {
		return 0, nil
	}
	return d.execCount(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE created_by = ? AND revoked_at = 0`, ms(now), createdBy)
}

// TouchAPIToken records a use when the last one recorded is older than notAfter.
func (d *DB) TouchAPIToken(ctx context.Context, id string, at, notAfter time.Time) (bool, error) {
	n, err := d.execCount(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND last_used_at < ?`,
		ms(at), id, ms(notAfter))
	return n > 0, err
}

func (d *DB) scanAPIToken(r interface{ Scan(...any) error }) (*store.APIToken, error) {
	var t store.APIToken
	var scopes string
	var created, expires, used, revoked int64
	if err := r.Scan(&t.ID, &t.TokenHash, &t.Name, &scopes, &t.CreatedBy, &created, &expires, &used, &revoked); err != nil {
		return nil, d.wrap(err)
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromMS(created), fromMS(expires), fromMS(used), fromMS(revoked)
	return &t, nil
}
