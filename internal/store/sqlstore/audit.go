package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twofold-id/twofold/internal/store"
)

// AppendAudit appends an event. A counted one is an upsert on its dedup key: the first
// inserts the row, the others add one to its count (the only update the trigger allows).
// The conflict target names the condition of a key that is set: both databases then match
// it to the unique index on the key whether that holds every row or, partial, only the
// rows with a key (a partial one is matched only when the target says so).
//
// While PostgreSQL builds a unique index concurrently, or drops one, it checks a new key
// against that index too but settles a conflict only on the valid one, so the first two
// events of one key at that moment can meet a unique violation, or wait for each other
// until the database ends one of them as a deadlock: the loser's event is counted again,
// on the row the winner inserted (outside a transaction only: inside one, the error has
// ended it).
func (d *DB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	var dedup *string
	if e.Dedup != "" {
		dedup = &e.Dedup
	}
	for try := 1; ; try++ {
		_, err := d.exec(ctx, `INSERT INTO audit_events (at, event, actor_id, subject_id, ip, user_agent, detail, count, dedup)
			VALUES (?,?,?,?,?,?,?,1,?)
			ON CONFLICT (dedup) WHERE dedup IS NOT NULL DO UPDATE SET count = audit_events.count + 1`,
			ms(e.At), e.Event, e.ActorID, e.SubjectID, e.IP, e.UserAgent, e.Detail, dedup)
		if err == nil || dedup == nil || d.inTx() || try == appendTries {
			return err
		}
		var conflict *store.ConflictError
		if !errors.As(err, &conflict) && !d.dialect.isDeadlock(err) {
			return err
		}
	}
}

// appendTries bounds AppendAudit's attempts at a counted event: after a unique violation
// or a deadlock the key's row exists, or will once the winner commits, so the next attempt
// counts on it.
const appendTries = 3

// PruneAudit deletes the events before before under a permit that lives only inside its
// transaction: the delete trigger lets a row go only when a permit's cutoff is past it.
func (d *DB) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := d.WithTx(ctx, func(st store.Store) error {
		tx := st.(*DB)
		if _, err := tx.exec(ctx, `INSERT INTO audit_prune_permits (before) VALUES (?)`, ms(before)); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM audit_events WHERE at < ?`, ms(before))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return tx.wrap(err)
		}
		_, err = tx.exec(ctx, `DELETE FROM audit_prune_permits`)
		return err
	})
	return int(n), err
}

// ListAudit returns events newest first (by id), filtered by f. Every filter is a
// condition on an indexed column; BeforeID continues a walk where the last page ended.
func (d *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	var where []string
	var args []any
	if f.UserID != "" {
		where = append(where, `(actor_id = ? OR subject_id = ?)`)
		args = append(args, f.UserID, f.UserID)
	}
	if prefix, ok := strings.CutSuffix(f.Event, "*"); ok {
		if prefix != "" {
			// substr, not LIKE: nothing in the name is a wildcard, on both databases.
			where = append(where, `substr(event, 1, ?) = ?`)
			args = append(args, utf8.RuneCountInString(prefix), prefix)
		}
	} else if f.Event != "" {
		where = append(where, `event = ?`)
		args = append(args, f.Event)
	}
	if f.IP != "" {
		where = append(where, `ip = ?`)
		args = append(args, f.IP)
	}
	if !f.Since.IsZero() {
		where = append(where, `at >= ?`)
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, `at < ?`)
		args = append(args, f.Until.UnixMilli())
	}
	if f.BeforeID > 0 {
		where = append(where, `id < ?`)
		args = append(args, f.BeforeID)
	}
	q := listQuery{text: `SELECT id, at, event, actor_id, subject_id, ip, user_agent, detail, count, COALESCE(dedup, '') FROM audit_events`,
		args: args}
	if len(where) > 0 {
		q.add(` WHERE ` + strings.Join(where, ` AND `))
	}
	q.add(` ORDER BY id DESC`)
	q.limit(f.Limit)
	return collect(ctx, d, q, func(r scanner) (store.AuditEvent, error) {
		var e store.AuditEvent
		var at int64
		err := r.Scan(&e.ID, &at, &e.Event, &e.ActorID, &e.SubjectID, &e.IP, &e.UserAgent, &e.Detail, &e.Count, &e.Dedup)
		e.At = fromMS(at)
		return e, err
	})
}
