package sqlstore

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

const userColumns = `id, username, username_norm, email, email_norm, role, disabled, mfa_override,
	password_hash, created_at, updated_at, last_login_at, email_verified, display_name, language, mfa_resets`

type scanner interface{ Scan(dest ...any) error }

// accountColumns are the columns of a user's store.Account but its id.
const accountColumns = `username, email, email_verified, display_name, language, role, disabled, mfa_override`

// accountRow holds the columns of accountColumns that need converting after the scan.
type accountRow struct{ verified, disabled int }

// dest is the scan destinations of accountColumns for a.
func (r *accountRow) dest(a *store.Account) []any {
	return []any{&a.Username, &a.Email, &r.verified, &a.DisplayName, &a.Language, &a.Role, &r.disabled, &a.MFAOverride}
}

// finish converts the scanned columns into a.
func (r *accountRow) finish(a *store.Account) {
	a.EmailVerified, a.Disabled = r.verified != 0, r.disabled != 0
}

// userRow holds the columns of userColumns that need converting after the scan.
type userRow struct {
	disabled, verified          int
	created, updated, lastLogin int64
}

// dest is the scan destinations of userColumns for u.
func (r *userRow) dest(u *store.User) []any {
	return []any{&u.ID, &u.Username, &u.UsernameNorm, &u.Email, &u.EmailNorm, &u.Role, &r.disabled,
		&u.MFAOverride, &u.PasswordHash, &r.created, &r.updated, &r.lastLogin, &r.verified, &u.DisplayName, &u.Language, &u.MFAResets}
}

// finish converts the scanned columns into u.
func (r *userRow) finish(u *store.User) {
	u.Disabled, u.EmailVerified = r.disabled != 0, r.verified != 0
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromMS(r.created), fromMS(r.updated), fromMS(r.lastLogin)
}

func scanUser(s scanner) (*store.User, error) {
	var u store.User
	var r userRow
	if err := s.Scan(r.dest(&u)...); err != nil {
		return nil, err
	}
	r.finish(&u)
	return &u, nil
}

// CreateUser inserts a user.
func (d *DB) CreateUser(ctx context.Context, u *store.User) error {
	_, err := d.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		u.ID, u.Username, u.UsernameNorm, u.Email, u.EmailNorm, u.Role, boolInt(u.Disabled), u.MFAOverride,
		u.PasswordHash, ms(u.CreatedAt), ms(u.UpdatedAt), ms(u.LastLoginAt), boolInt(u.EmailVerified), u.DisplayName, u.Language, u.MFAResets)
	return err
}

func (d *DB) getUser(ctx context.Context, where string, arg any) (*store.User, error) {
	u, err := scanUser(d.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg))
	return u, d.wrap(err)
}

// GetUser returns the user with id.
func (d *DB) GetUser(ctx context.Context, id string) (*store.User, error) {
	return d.getUser(ctx, "id = ?", id)
}

// GetUserByUsername returns the user with the normalised username.
func (d *DB) GetUserByUsername(ctx context.Context, norm string) (*store.User, error) {
	return d.getUser(ctx, "username_norm = ?", norm)
}

// GetUserByLogin returns the user whose normalised username, or else e-mail, is norm.
func (d *DB) GetUserByLogin(ctx context.Context, norm string) (*store.User, error) {
	u, err := d.getUser(ctx, "username_norm = ?", norm)
	if err == store.ErrNotFound {
		return d.getUser(ctx, "email_norm = ?", norm)
	}
	return u, err
}

// ListUsers returns every user ordered by username.
func (d *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := d.query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username_norm`+d.dialect.bytewise)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, d.wrap(err)
		}
		out = append(out, *u)
	}
	return out, d.wrap(rows.Err())
}

// CountUsersWithRole counts enabled users with role.
func (d *DB) CountUsersWithRole(ctx context.Context, role string) (int, error) {
	var n int
	err := d.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE role = ? AND disabled = 0`, role).Scan(&n)
	return n, d.wrap(err)
}

// SetUserRole changes a user's role.
func (d *DB) SetUserRole(ctx context.Context, id, role string, now time.Time) error {
	return d.execOne(ctx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, role, ms(now), id)
}

// SetUserDisabled disables or enables a user.
func (d *DB) SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error {
	return d.execOne(ctx, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`, boolInt(disabled), ms(now), id)
}

// SetUserMFAOverride sets the per-user MFA requirement override.
func (d *DB) SetUserMFAOverride(ctx context.Context, id, override string, now time.Time) error {
	return d.execOne(ctx, `UPDATE users SET mfa_override = ?, updated_at = ? WHERE id = ?`, override, ms(now), id)
}

// SetUserPasswordHash replaces a user's password hash.
func (d *DB) SetUserPasswordHash(ctx context.Context, id, hash string, now time.Time) error {
	return d.execOne(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, ms(now), id)
}

// SetUserDisplayName sets the name the user goes by (empty clears it).
func (d *DB) SetUserDisplayName(ctx context.Context, id, name string, now time.Time) error {
	return d.execOne(ctx, `UPDATE users SET display_name = ?, updated_at = ? WHERE id = ?`, name, ms(now), id)
}

// SetUserLanguage sets the language the user chose (empty clears it).
func (d *DB) SetUserLanguage(ctx context.Context, id, lang string, now time.Time) error {
	return d.execOne(ctx, `UPDATE users SET language = ?, updated_at = ? WHERE id = ?`, lang, ms(now), id)
}

// DeleteUser removes an account; the foreign keys take its sessions, factors and grants.
func (d *DB) DeleteUser(ctx context.Context, id string) error {
	return d.execOne(ctx, `DELETE FROM users WHERE id = ?`, id)
}

// SetUserLastLogin records a completed sign-in.
func (d *DB) SetUserLastLogin(ctx context.Context, id string, at time.Time) error {
	return d.execOne(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, ms(at), id)
}

// AddUserMFAReset counts one more MFA reset of the user.
func (d *DB) AddUserMFAReset(ctx context.Context, id string) error {
	return d.execOne(ctx, `UPDATE users SET mfa_resets = mfa_resets + 1 WHERE id = ?`, id)
}

// SetUserEmailVerified marks the address verified while it is still emailNorm.
func (d *DB) SetUserEmailVerified(ctx context.Context, id, emailNorm string, now time.Time) error {
	return d.execOne(ctx, `UPDATE users SET email_verified = 1, updated_at = ? WHERE id = ? AND email_norm = ?`,
		ms(now), id, emailNorm)
}

// SetUserEmail changes a user's address and its verified flag.
func (d *DB) SetUserEmail(ctx context.Context, id, email, emailNorm string, verified bool, now time.Time) error {
	return d.execOne(ctx, `UPDATE users SET email = ?, email_norm = ?, email_verified = ?, updated_at = ? WHERE id = ?`,
		email, emailNorm, boolInt(verified), ms(now), id)
}
