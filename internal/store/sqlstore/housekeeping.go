package sqlstore

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// DeleteExpired removes expired sessions and notes of ended ones, pending secrets, setup tokens, WebAuthn challenges, old counter
// windows and mail links, and mail sent long ago.
func (d *DB) DeleteExpired(ctx context.Context, now, idleBefore time.Time) (int, error) {
	total := 0
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM sessions WHERE expires_at <= ? OR (state = ? AND last_seen_at < ?)`,
			[]any{ms(now), store.StateAuthenticated, ms(idleBefore)}},
		{`DELETE FROM ended_sessions WHERE expires_at <= ?`, []any{ms(now)}},
		{`DELETE FROM totp_pending WHERE expires_at <= ?`, []any{ms(now)}},
		{`DELETE FROM setup_tokens WHERE expires_at <= ?`, []any{ms(now)}},
		{`DELETE FROM webauthn_challenges WHERE expires_at <= ?`, []any{ms(now)}},
		{`DELETE FROM counter_windows WHERE window_start < ?`, []any{ms(now.Add(-24 * time.Hour))}},
		{`DELETE FROM link_tokens WHERE expires_at < ?`, []any{ms(now.Add(-24 * time.Hour))}},
		{`DELETE FROM mail_queue WHERE status = 'sent' AND finished_at < ?`, []any{ms(now.Add(-store.SentMailKept))}},
	} {
		res, err := d.exec(ctx, q.sql, q.args...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, d.wrap(err)
		}
		total += int(n)
	}
	return total, nil
}
