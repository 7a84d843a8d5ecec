package sqlstore

import (
	"context"
	"strings"

	"github.com/twofold-id/twofold/internal/store"
)

// userStatus is the account's status (store.UserActive, ...) as an SQL expression over
// users u; its one argument is the failure count that locks a budget. An account's budgets
// are the ones keyed by its id: each kind is named, so that both databases find them by the
// budgets' key (kind, bkey) instead of reading every budget for every account listed (a
// spray of unknown names leaves one budget per name).
const userStatus = `CASE WHEN u.disabled <> 0 THEN 'disabled'
	WHEN u.password_hash = '' THEN 'invited'
	WHEN EXISTS (SELECT 1 FROM throttle_budgets b WHERE b.kind IN ('` + store.BudgetPassword + `', '` +
	store.BudgetSecondFactor + `') AND b.bkey = u.id AND b.failures >= ?) THEN 'locked'
	ELSE 'active' END`

// userWhere appends to q the WHERE clause of f's query: search and filters but no
// status, paging or order.
func (d *DB) userWhere(q *listQuery, f store.UserFilter) error {
	if err := checkText([]any{f.Query, f.Role, f.ID}); err != nil { // before ToLower makes it text
		return err
	}
	q.add(` WHERE 1 = 1`)
	if f.ID != "" {
		q.add(` AND u.id = ?`, f.ID)
	}
	if f.Query != "" {
		p := containing(f.Query)
		q.add(` AND (u.username_norm LIKE ? ESCAPE '\' OR LOWER(u.username) LIKE ? ESCAPE '\'
			OR u.email_norm LIKE ? ESCAPE '\' OR LOWER(u.display_name) LIKE ? ESCAPE '\')`, p, p, p, p)
	}
	if f.Role != "" {
		q.add(` AND u.role = ?`, f.Role)
	}
	const totp = `EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = u.id)`
	const keys = `EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)`
	switch f.MFA {
	case store.MFANone:
		q.add(` AND NOT ` + totp + ` AND NOT ` + keys)
	case store.MFAApp:
		q.add(` AND ` + totp)
	case store.MFAKey:
		q.add(` AND ` + keys)
	}
	return nil
}

// SearchUsers returns a page of the users f selects, newest first.
func (d *DB) SearchUsers(ctx context.Context, f store.UserFilter) ([]store.UserSummary, error) {
	cols := "u." + strings.Join(strings.Fields(strings.ReplaceAll(userColumns, ",", " ")), ", u.")
	q := listQuery{text: `SELECT * FROM (SELECT ` + cols + `,
		CASE WHEN EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = u.id) THEN 1 ELSE 0 END AS has_totp,
		(SELECT COUNT(*) FROM webauthn_credentials w WHERE w.user_id = u.id) AS n_keys,
		` + userStatus + ` AS status
		FROM users u`, args: []any{f.LockedAt}}
	if err := d.userWhere(&q, f); err != nil {
		return nil, err
	}
	q.add(`) x WHERE 1 = 1`)
	if f.Status != "" {
		q.add(` AND x.status = ?`, f.Status)
	}
	if !f.After.IsZero() {
		q.add(` AND (x.created_at < ? OR (x.created_at = ? AND x.id`+d.dialect.bytewise+` < ?))`,
			ms(f.After.At), ms(f.After.At), f.After.ID)
	}
	q.add(` ORDER BY x.created_at DESC, x.id` + d.dialect.bytewise + ` DESC`)
	q.limit(f.Limit)
	return collect(ctx, d, q, func(r scanner) (store.UserSummary, error) {
		var s store.UserSummary
		var totp int
		u, err := scanUser(rowWith{r, []any{&totp, &s.Keys, &s.Status}})
		if err != nil {
			return s, err
		}
		s.User, s.TOTP = *u, totp != 0
		return s, nil
	})
}

// rowWith scans a row whose first columns are what the caller's Scan names, followed by
// extra.
type rowWith struct {
	s     scanner
	extra []any
}

func (r rowWith) Scan(dest ...any) error { return r.s.Scan(append(dest, r.extra...)...) }

// CountUsers counts the users f selects by status.
func (d *DB) CountUsers(ctx context.Context, f store.UserFilter) (store.UserCounts, error) {
	var c store.UserCounts
	q := listQuery{text: `SELECT x.status, COUNT(*) FROM (SELECT ` + userStatus + ` AS status FROM users u`,
		args: []any{f.LockedAt}}
	if err := d.userWhere(&q, f); err != nil {
		return c, err
	}
	q.add(`) x
		GROUP BY x.status`)
	rows, err := d.query(ctx, q.text, q.args...)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return c, d.wrap(err)
		}
		switch status {
		case store.UserActive:
			c.Active = n
		case store.UserDisabled:
			c.Disabled = n
		case store.UserInvited:
			c.Invited = n
		case store.UserLocked:
			c.Locked = n
		}
		c.All += n
	}
	return c, d.wrap(rows.Err())
}

// ListUserCases returns the open cases about the user, newest first.
func (d *DB) ListUserCases(ctx context.Context, userID, emailNorm string) ([]store.SupportCase, error) {
	return collect(ctx, d, listQuery{text: `SELECT ` + caseColumns + ` FROM support_cases
		WHERE status NOT IN ('resolved', 'rejected') AND (email_norm = ? OR email_confirmed_user_id = ?)
		ORDER BY created_at DESC, id` + d.dialect.bytewise, args: []any{emailNorm, userID}}, scanCase)
}

// LockAdmins counts the enabled administrators, locking their rows in a transaction.
func (d *DB) LockAdmins(ctx context.Context) (int, error) {
	rows, err := d.query(ctx, `SELECT id FROM users WHERE role = 'admin' AND disabled = 0`+d.dialect.forUpdate)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, d.wrap(rows.Err())
}

// LockUser returns the user with id, locking the row in a transaction.
func (d *DB) LockUser(ctx context.Context, id string) (*store.User, error) {
	u, err := scanUser(d.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`+d.dialect.forUpdate, id))
	return u, d.wrap(err)
}
