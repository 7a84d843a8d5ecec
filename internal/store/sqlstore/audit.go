package sqlstore

import (
	"context"

	"github.com/twofold-id/twofold/internal/store"
)

// AppendAudit appends an event.
func (d *DB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	_, err := d.exec(ctx, `INSERT INTO audit_events (at, event, actor_id, subject_id, ip, user_agent, detail)
		VALUES (?,?,?,?,?,?,?)`, ms(e.At), e.Event, e.ActorID, e.SubjectID, e.IP, e.UserAgent, e.Detail)
	return err
}

// ListAudit returns events newest first.
func (d *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	q := `SELECT id, at, event, actor_id, subject_id, ip, user_agent, detail FROM audit_events`
	var args []any
	if f.UserID != "" {
		q += ` WHERE actor_id = ? OR subject_id = ?`
		args = append(args, f.UserID, f.UserID)
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Event, &e.ActorID, &e.SubjectID, &e.IP, &e.UserAgent, &e.Detail); err != nil {
			return nil, d.wrap(err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, d.wrap(rows.Err())
}
