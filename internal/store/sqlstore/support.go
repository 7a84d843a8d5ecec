package sqlstore

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

const caseColumns = `id, reference, full_name, email, email_norm, organisation, phone, category, description,
	status, assignee_id, ip, user_agent, created_at, updated_at, email_confirmed_at, email_confirmed_ip,
	email_confirmed_user_id, email_confirmed_norm, closed_at, closed_by, resolution, description_message`

// notClosed is the condition under which a case may still change.
const notClosed = ` AND status <> '` + store.CaseResolved + `' AND status <> '` + store.CaseRejected + `'`

func scanCase(s scanner) (store.SupportCase, error) {
	var c store.SupportCase
	var created, updated, confirmed, closed int64
	if err := s.Scan(&c.ID, &c.Reference, &c.FullName, &c.Email, &c.EmailNorm, &c.Organisation, &c.Phone,
		&c.Category, &c.Description, &c.Status, &c.AssigneeID, &c.IP, &c.UserAgent, &created, &updated,
		&confirmed, &c.EmailConfirmedIP, &c.EmailConfirmedUserID, &c.EmailConfirmedNorm, &closed,
		&c.ClosedBy, &c.Resolution, &c.DescriptionMessage); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt, c.EmailConfirmedAt, c.ClosedAt = fromMS(created), fromMS(updated), fromMS(confirmed), fromMS(closed)
	return c, nil
}

// CreateCase inserts a support case.
func (d *DB) CreateCase(ctx context.Context, c *store.SupportCase) error {
	_, err := d.exec(ctx, `INSERT INTO support_cases (`+caseColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		c.ID, c.Reference, c.FullName, c.Email, c.EmailNorm, c.Organisation, c.Phone, c.Category, c.Description,
		c.Status, c.AssigneeID, c.IP, c.UserAgent, ms(c.CreatedAt), ms(c.UpdatedAt), ms(c.EmailConfirmedAt),
		c.EmailConfirmedIP, c.EmailConfirmedUserID, c.EmailConfirmedNorm, ms(c.ClosedAt), c.ClosedBy, c.Resolution,
		c.DescriptionMessage)
	return err
}

// GetCase returns the case with id.
func (d *DB) GetCase(ctx context.Context, id string) (*store.SupportCase, error) {
	return d.getCase(ctx, `id = ?`, id)
}

// GetCaseByReference returns the case with reference.
func (d *DB) GetCaseByReference(ctx context.Context, reference string) (*store.SupportCase, error) {
	return d.getCase(ctx, `reference = ?`, reference)
}

// getCase returns the case the condition cond on its one argument arg selects.
func (d *DB) getCase(ctx context.Context, cond string, arg any) (*store.SupportCase, error) {
	c, err := scanCase(d.queryRow(ctx, `SELECT `+caseColumns+` FROM support_cases WHERE `+cond, arg))
	if err != nil {
		return nil, d.wrap(err)
	}
	return &c, nil
}

// ListCases returns the selected cases, newest first.
func (d *DB) ListCases(ctx context.Context, f store.CaseFilter) ([]store.SupportCase, error) {
	q := listQuery{text: `SELECT ` + caseColumns + ` FROM support_cases WHERE 1 = 1`}
	if f.Status != "" {
		q.add(` AND status = ?`, f.Status)
	}
	if err := checkText([]any{f.Search}); err != nil { // before ToLower makes it text
		return nil, err
	}
	if f.Search != "" {
		p := containing(f.Search)
		q.add(` AND (LOWER(reference) LIKE ? ESCAPE '\' OR LOWER(full_name) LIKE ? ESCAPE '\'
			OR email_norm LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\' OR LOWER(organisation) LIKE ? ESCAPE '\')`,
			p, p, p, p, p)
	}
	q.add(` ORDER BY created_at DESC, id`)
	q.limit(f.Limit)
	return collect(ctx, d, q, scanCase)
}

// AssignCase sets the case's assignee while it is not closed.
func (d *DB) AssignCase(ctx context.Context, id, assigneeID string, now time.Time) error {
	return d.execOne(ctx, `UPDATE support_cases SET assignee_id = ?, updated_at = ? WHERE id = ?`+notClosed,
		assigneeID, ms(now), id)
}

// SetCaseStatus sets a (not final) status while the case is not closed.
func (d *DB) SetCaseStatus(ctx context.Context, id, status string, now time.Time) error {
	return d.execOne(ctx, `UPDATE support_cases SET status = ?, updated_at = ? WHERE id = ?`+notClosed,
		status, ms(now), id)
}

// ConfirmCaseEmail records proof of e-mail ownership while the case is not closed.
func (d *DB) ConfirmCaseEmail(ctx context.Context, id, userID, emailNorm, ip string, now time.Time) error {
	return d.execOne(ctx, `UPDATE support_cases SET email_confirmed_at = ?, email_confirmed_ip = ?,
		email_confirmed_user_id = ?, email_confirmed_norm = ?, updated_at = ? WHERE id = ?`+notClosed,
		ms(now), ip, userID, emailNorm, ms(now), id)
}

// CloseCase sets a final status, once.
func (d *DB) CloseCase(ctx context.Context, id, status, closedBy, reason string, now time.Time) error {
	return d.execOne(ctx, `UPDATE support_cases SET status = ?, closed_at = ?, closed_by = ?, resolution = ?,
		updated_at = ? WHERE id = ?`+notClosed, status, ms(now), closedBy, reason, ms(now), id)
}

// AddCaseEvent appends a timeline entry.
func (d *DB) AddCaseEvent(ctx context.Context, e *store.CaseEvent) error {
	err := d.queryRow(ctx, `INSERT INTO support_case_events (case_id, at, kind, actor_id, body, message)
		VALUES (?,?,?,?,?,?) RETURNING id`, e.CaseID, ms(e.At), e.Kind, e.ActorID, e.Body, e.Message).Scan(&e.ID)
	if err == nil {
		e.At = fromMS(ms(e.At)) // as kept, to the millisecond
	}
	return d.wrap(err)
}

// ListCaseEvents returns a case's timeline, oldest first.
func (d *DB) ListCaseEvents(ctx context.Context, caseID string) ([]store.CaseEvent, error) {
	rows, err := d.query(ctx, `SELECT id, case_id, at, kind, actor_id, body, message FROM support_case_events
		WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.CaseEvent
	for rows.Next() {
		var e store.CaseEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.CaseID, &at, &e.Kind, &e.ActorID, &e.Body, &e.Message); err != nil {
			return nil, d.wrap(err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, d.wrap(rows.Err())
}

// CreateEmailLink stores a link, ending the case's earlier unused links and dropping
// expired ones.
func (d *DB) CreateEmailLink(ctx context.Context, l *store.EmailLink) error {
	if _, err := d.exec(ctx, `DELETE FROM support_email_links WHERE (case_id = ? AND used_at = 0) OR expires_at <= ?`,
		l.CaseID, ms(l.CreatedAt)); err != nil {
		return err
	}
	_, err := d.exec(ctx, `INSERT INTO support_email_links (token_hash, case_id, user_id, email_norm, created_by,
		created_at, expires_at, used_at) VALUES (?,?,?,?,?,?,?,?)`,
		l.TokenHash, l.CaseID, l.UserID, l.EmailNorm, l.CreatedBy, ms(l.CreatedAt), ms(l.ExpiresAt), ms(l.UsedAt))
	return err
}

// GetEmailLink returns a usable link.
func (d *DB) GetEmailLink(ctx context.Context, tokenHash []byte, now time.Time) (*store.EmailLink, error) {
	var l store.EmailLink
	var created, expires, used int64
	err := d.queryRow(ctx, `SELECT token_hash, case_id, user_id, email_norm, created_by, created_at, expires_at, used_at
		FROM support_email_links WHERE token_hash = ? AND used_at = 0 AND expires_at > ?`, tokenHash, ms(now)).
		Scan(&l.TokenHash, &l.CaseID, &l.UserID, &l.EmailNorm, &l.CreatedBy, &created, &expires, &used)
	if err != nil {
		return nil, d.wrap(err)
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromMS(created), fromMS(expires), fromMS(used)
	return &l, nil
}

// UseEmailLink spends a usable link, once.
func (d *DB) UseEmailLink(ctx context.Context, tokenHash []byte, now time.Time) error {
	return d.execOne(ctx, `UPDATE support_email_links SET used_at = ? WHERE token_hash = ? AND used_at = 0 AND expires_at > ?`,
		ms(now), tokenHash, ms(now))
}

const resetColumns = `id, case_id, user_id, requested_by, verification, note, requested_at, status, decided_by, decided_at, requested_by_token`

// CreateMFAReset stores a reset record.
func (d *DB) CreateMFAReset(ctx context.Context, r *store.MFAReset) error {
	_, err := d.exec(ctx, `INSERT INTO support_mfa_resets (`+resetColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.CaseID, r.UserID, r.RequestedBy, r.Verification, r.Note, ms(r.RequestedAt), r.Status,
		r.DecidedBy, ms(r.DecidedAt), r.RequestedByToken)
	return err
}

func scanReset(row scanner) (*store.MFAReset, error) {
	var r store.MFAReset
	var requested, decided int64
	if err := row.Scan(&r.ID, &r.CaseID, &r.UserID, &r.RequestedBy, &r.Verification, &r.Note,
		&requested, &r.Status, &r.DecidedBy, &decided, &r.RequestedByToken); err != nil {
		return nil, err
	}
	r.RequestedAt, r.DecidedAt = fromMS(requested), fromMS(decided)
	return &r, nil
}

// GetPendingMFAReset returns the case's reset waiting for approval.
func (d *DB) GetPendingMFAReset(ctx context.Context, caseID string) (*store.MFAReset, error) {
	r, err := scanReset(d.queryRow(ctx, `SELECT `+resetColumns+` FROM support_mfa_resets WHERE case_id = ? AND status = ?`,
		caseID, store.ResetPending))
	return r, d.wrap(err)
}

// ListPendingMFAResets returns the user's resets waiting for approval, oldest first.
func (d *DB) ListPendingMFAResets(ctx context.Context, userID string) ([]store.MFAReset, error) {
	return d.listResets(ctx, `SELECT `+resetColumns+` FROM support_mfa_resets WHERE user_id = ? AND status = ?
		ORDER BY requested_at, id`+d.dialect.bytewise, userID, store.ResetPending)
}

// ListMFAResets returns the user's resets in every status, oldest first.
func (d *DB) ListMFAResets(ctx context.Context, userID string) ([]store.MFAReset, error) {
	return d.listResets(ctx, `SELECT `+resetColumns+` FROM support_mfa_resets WHERE user_id = ?
		ORDER BY requested_at, id`+d.dialect.bytewise, userID)
}

// listResets returns the resets query selects (resetColumns).
func (d *DB) listResets(ctx context.Context, query string, args ...any) ([]store.MFAReset, error) {
	rows, err := d.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.MFAReset
	for rows.Next() {
		r, err := scanReset(rows)
		if err != nil {
			return nil, d.wrap(err)
		}
		out = append(out, *r)
	}
	return out, d.wrap(rows.Err())
}

// ApproveMFAReset marks a pending reset done, unless its requester approves it.
func (d *DB) ApproveMFAReset(ctx context.Context, id, approverID string, now time.Time) error {
	return d.execOne(ctx, `UPDATE support_mfa_resets SET status = ?, decided_by = ?, decided_at = ?
		WHERE id = ? AND status = ? AND requested_by <> ?`,
		store.ResetDone, approverID, ms(now), id, store.ResetPending, approverID)
}

// CancelMFAResets cancels the case's pending resets.
func (d *DB) CancelMFAResets(ctx context.Context, caseID, by string, now time.Time) (int, error) {
	res, err := d.exec(ctx, `UPDATE support_mfa_resets SET status = ?, decided_by = ?, decided_at = ?
		WHERE case_id = ? AND status = ?`, store.ResetCancelled, by, ms(now), caseID, store.ResetPending)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), d.wrap(err)
}
