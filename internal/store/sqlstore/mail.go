package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

const mailColumns = `id, kind, recipient, message, status, created_at, next_attempt_at, give_up_at,
	attempts, last_error, claim, claimed_until, finished_at`

func scanMail(sc scanner) (store.QueuedMail, error) {
	var m store.QueuedMail
	var created, next, giveUp, claimed, finished int64
	err := sc.Scan(&m.ID, &m.Kind, &m.To, &m.Message, &m.Status, &created, &next, &giveUp,
		&m.Attempts, &m.LastError, &m.Claim, &claimed, &finished)
	m.CreatedAt, m.NextAttemptAt, m.GiveUpAt = fromMS(created), fromMS(next), fromMS(giveUp)
	m.ClaimedUntil, m.FinishedAt = fromMS(claimed), fromMS(finished)
	return m, err
}

// EnqueueMail stores a pending mail.
func (d *DB) EnqueueMail(ctx context.Context, m *store.QueuedMail) error {
	err := d.queryRow(ctx, `INSERT INTO mail_queue (kind, recipient, message, status, created_at,
		next_attempt_at, give_up_at) VALUES (?,?,?,?,?,?,?) RETURNING id`,
		m.Kind, m.To, m.Message, store.MailPending, ms(m.CreatedAt), ms(m.NextAttemptAt), ms(m.GiveUpAt)).Scan(&m.ID)
	if err != nil {
		return d.wrap(err)
	}
	m.Status, m.Attempts, m.LastError, m.Claim = store.MailPending, 0, "", ""
	m.ClaimedUntil, m.FinishedAt = time.Time{}, time.Time{}
	return nil
}

// ClaimMail claims due mail in one statement. On PostgreSQL the rows are picked with
// FOR UPDATE SKIP LOCKED, so parallel senders take disjoint sets without waiting on each
// other; the outer condition is checked again on the locked row, so a row another
// sender claimed meanwhile is never taken twice. SQLite runs one writer at a time.
func (d *DB) ClaimMail(ctx context.Context, claim string, now, leaseUntil time.Time, limit int) ([]store.QueuedMail, error) {
	due := `status = 'pending' AND next_attempt_at <= ? AND claimed_until <= ?`
	out, err := collect(ctx, d, listQuery{text: `UPDATE mail_queue SET claim = ?, claimed_until = ?, attempts = attempts + 1
		WHERE ` + due + ` AND id IN (SELECT id FROM mail_queue WHERE ` + due + `
			ORDER BY next_attempt_at, id LIMIT ?` + d.dialect.skipLocked + `)
		RETURNING ` + mailColumns,
		args: []any{claim, ms(leaseUntil), ms(now), ms(now), ms(now), ms(now), limit}}, scanMail)
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order; senders work oldest due first.
	sortMail(out)
	return out, nil
}

// MarkMailSent finishes a claimed mail.
func (d *DB) MarkMailSent(ctx context.Context, id int64, claim string, now time.Time) error {
	return d.execOne(ctx, `UPDATE mail_queue SET status = 'sent', message = NULL, last_error = '', claim = '',
		claimed_until = 0, finished_at = ? WHERE id = ? AND claim = ? AND claim <> '' AND status = 'pending'`, ms(now), id, claim)
}

// DeferMail schedules the next attempt of a claimed mail.
func (d *DB) DeferMail(ctx context.Context, id int64, claim, errText string, next time.Time) error {
	return d.execOne(ctx, `UPDATE mail_queue SET next_attempt_at = ?, last_error = ?, claim = '', claimed_until = 0
		WHERE id = ? AND claim = ? AND claim <> '' AND status = 'pending'`, ms(next), errText, id, claim)
}

// FailMail gives up on a claimed mail.
func (d *DB) FailMail(ctx context.Context, id int64, claim, errText string, now time.Time) error {
	return d.execOne(ctx, `UPDATE mail_queue SET status = 'failed', last_error = ?, claim = '', claimed_until = 0,
		finished_at = ? WHERE id = ? AND claim = ? AND claim <> '' AND status = 'pending'`, errText, ms(now), id, claim)
}

// RetryMail makes a failed mail pending again.
func (d *DB) RetryMail(ctx context.Context, id int64, now, giveUpAt time.Time) error {
	return d.execOne(ctx, `UPDATE mail_queue SET status = 'pending', next_attempt_at = ?, give_up_at = ?,
		attempts = 0, finished_at = 0 WHERE id = ? AND status = 'failed'`, ms(now), ms(giveUpAt), id)
}

// GetMail returns one mail.
func (d *DB) GetMail(ctx context.Context, id int64) (*store.QueuedMail, error) {
	m, err := scanMail(d.queryRow(ctx, `SELECT `+mailColumns+` FROM mail_queue WHERE id = ?`, id))
	if err != nil {
		return nil, d.wrap(err)
	}
	return &m, nil
}

// ListMail returns mail newest first.
func (d *DB) ListMail(ctx context.Context, f store.MailFilter) ([]store.QueuedMail, error) {
	q := listQuery{text: `SELECT ` + mailColumns + ` FROM mail_queue`}
	if f.Status != "" {
		q.add(` WHERE status = ?`, f.Status)
	}
	q.add(` ORDER BY id DESC`)
	q.limit(f.Limit)
	return collect(ctx, d, q, scanMail)
}

// NextMailDue returns when the earliest pending mail is due.
func (d *DB) NextMailDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	err := d.queryRow(ctx, `SELECT MIN(CASE WHEN claimed_until > next_attempt_at THEN claimed_until
		ELSE next_attempt_at END) FROM mail_queue WHERE status = 'pending'`).Scan(&due)
	if err != nil {
		return time.Time{}, false, d.wrap(err)
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(due.Int64).UTC(), true, nil
}

// MailQueueStats counts pending and failed mail and finds the earliest due, in one query
// over the rows of those two states (the index on status finds them).
func (d *DB) MailQueueStats(ctx context.Context) (store.MailQueueStats, error) {
	var st store.MailQueueStats
	var due sql.NullInt64
	err := d.queryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),
			MIN(CASE WHEN status <> 'pending' THEN NULL
				WHEN claimed_until > next_attempt_at THEN claimed_until ELSE next_attempt_at END)
		FROM mail_queue WHERE status IN ('pending', 'failed')`).Scan(&st.Pending, &st.Failed, &due)
	if err != nil {
		return store.MailQueueStats{}, d.wrap(err)
	}
	if due.Valid {
		st.NextDue = time.UnixMilli(due.Int64).UTC()
	}
	return st, nil
}

func sortMail(list []store.QueuedMail) {
	slices.SortFunc(list, func(a, b store.QueuedMail) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
