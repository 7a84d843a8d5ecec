package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// sessionColumns are the columns of a store.Session but its token hash, which a lookup by
// token knows already.
const sessionColumns = `id, user_id, state, amr, auth_time, last_seen_at, expires_at, notice_enc, second_factor_at`

// recordColumns are the columns of a store.SessionRecord.
const recordColumns = sessionColumns + `, token_hash, created_at, ip, user_agent`

// sessionRow holds the columns of sessionColumns that need converting after the scan.
type sessionRow struct {
	amr                             string
	authTime, seen, expires, proved int64
}

// dest is the scan destinations of sessionColumns for x.
func (r *sessionRow) dest(x *store.Session) []any {
	return []any{&x.ID, &x.UserID, &x.State, &r.amr, &r.authTime, &r.seen, &r.expires, &x.NoticeEnc, &r.proved}
}

// finish converts the scanned columns into x.
func (r *sessionRow) finish(x *store.Session) {
	if r.amr != "" {
		x.AMR = strings.Split(r.amr, " ")
	}
	x.AuthTime, x.LastSeenAt, x.ExpiresAt = fromMS(r.authTime), fromMS(r.seen), fromMS(r.expires)
	x.SecondFactorAt = fromMS(r.proved)
}

func scanRecord(s scanner) (*store.SessionRecord, error) {
	var x store.SessionRecord
	var r sessionRow
	var created int64
	if err := s.Scan(append(r.dest(&x.Session), &x.TokenHash, &created, &x.IP, &x.UserAgent)...); err != nil {
		return nil, err
	}
	r.finish(&x.Session)
	x.CreatedAt = fromMS(created)
	return &x, nil
}

// CreateSession inserts a session.
func (d *DB) CreateSession(ctx context.Context, s *store.SessionRecord) error {
	_, err := d.exec(ctx, `INSERT INTO sessions (`+recordColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		s.ID, s.UserID, s.State, strings.Join(s.AMR, " "), ms(s.AuthTime), ms(s.LastSeenAt), ms(s.ExpiresAt),
		s.NoticeEnc, ms(s.SecondFactorAt), s.TokenHash, ms(s.CreatedAt), s.IP, s.UserAgent)
	return err
}

// GetSessionByToken returns the session with the token hash.
func (d *DB) GetSessionByToken(ctx context.Context, tokenHash []byte) (*store.SessionRecord, error) {
	s, err := scanRecord(d.queryRow(ctx, `SELECT `+recordColumns+` FROM sessions WHERE token_hash = ?`, tokenHash))
	return s, d.wrap(err)
}

// sessionUserQuery reads a session, its user's account, whether the user has an
// authenticator and how many security keys. Each column costs the driver work on every
// call, and every authenticated request makes this one: it reads no column it need not
// (the token hash is the argument, the account's id the session's user_id).
var sessionUserQuery = `SELECT ` + prefixed("s.", sessionColumns) + `, ` + prefixed("u.", accountColumns) + `,
	EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = s.user_id),
	(SELECT COUNT(*) FROM webauthn_credentials w WHERE w.user_id = s.user_id)
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`

// GetSessionUser returns the session with the token hash and its user's account, in one
// query. It ends with ctx, as every query does: watching ctx costs database/sql and the
// SQLite driver a goroutine each per call (about 3 µs), but without it a request whose
// client went away would wait for a pooled connection for as long as the pool is taken
// (TestSessionLookupEndsWithItsRequest).
//
// What it read is kept until anyone commits (sessionCache: on SQLite anything, on
// PostgreSQL to a session, user, authenticator or security key); in a transaction it
// always reads, as the transaction may have changed the rows.
func (d *DB) GetSessionUser(ctx context.Context, tokenHash []byte) (*store.SessionUser, error) {
	var mark commitMark
	var marked bool
	if d.sessions != nil {
		var x *store.SessionUser
		if x, mark, marked = d.sessions.get(ctx, tokenHash); x != nil {
			return x, nil
		}
	}
	x, err := d.readSessionUser(ctx, tokenHash)
	if err == nil && marked {
		d.sessions.put(tokenHash, mark, x)
	}
	return x, err
}

// readSessionUser reads a session and its user from the database.
func (d *DB) readSessionUser(ctx context.Context, tokenHash []byte) (*store.SessionUser, error) {
	var x store.SessionUser
	var sr sessionRow
	var ar accountRow
	dest := append(append(sr.dest(&x.Session), ar.dest(&x.User)...), &x.HasTOTP, &x.WebAuthnKeys)
	if err := d.queryRow(ctx, sessionUserQuery, tokenHash).Scan(dest...); err != nil {
		return nil, d.wrap(err)
	}
	sr.finish(&x.Session)
	ar.finish(&x.User)
	x.Session.TokenHash, x.User.ID = tokenHash, x.Session.UserID
	return &x, nil
}

// prefixed qualifies each column of a column list with the table alias prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// StepUpSession moves the session to s's token, state, amr and times while its token is oldHash.
func (d *DB) StepUpSession(ctx context.Context, id string, oldHash []byte, s *store.Session) error {
	return d.execOne(ctx, `UPDATE sessions SET token_hash = ?, state = ?, amr = ?, auth_time = ?,
		last_seen_at = ?, expires_at = ?, second_factor_at = ? WHERE id = ? AND token_hash = ?`,
		s.TokenHash, s.State, strings.Join(s.AMR, " "), ms(s.AuthTime), ms(s.LastSeenAt), ms(s.ExpiresAt),
		ms(s.SecondFactorAt), id, oldHash)
}

// TouchSession records activity. On PostgreSQL it notifies no session cache (migration
// 29): the cache of this instance learns the time here, the others' through
// SessionLastSeen.
func (d *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	err := d.execOne(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, ms(at), id)
	if err == nil && d.sessions != nil {
		d.sessions.saw(id, at)
	}
	return err
}

// SessionLastSeen reads the stored last-seen time of the session, and lets the session
// cache answer it from now on.
func (d *DB) SessionLastSeen(ctx context.Context, id string) (time.Time, error) {
	var at int64
	if err := d.queryRow(ctx, `SELECT last_seen_at FROM sessions WHERE id = ?`, id).Scan(&at); err != nil {
		return time.Time{}, d.wrap(err)
	}
	if d.sessions != nil {
		d.sessions.saw(id, fromMS(at))
	}
	return fromMS(at), nil
}

// SetSessionNotice stores (or clears, with nil) the sealed notice of a session.
func (d *DB) SetSessionNotice(ctx context.Context, id string, noticeEnc []byte) error {
	return d.execOne(ctx, `UPDATE sessions SET notice_enc = ? WHERE id = ?`, noticeEnc, id)
}

// SetSessionSecondFactor records the time of the session's latest second-factor proof.
func (d *DB) SetSessionSecondFactor(ctx context.Context, id string, at time.Time) error {
	return d.execOne(ctx, `UPDATE sessions SET second_factor_at = ? WHERE id = ?`, ms(at), id)
}

// DeleteSession ends one session.
func (d *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := d.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

// DeleteUserSessions ends all sessions of a user but exceptID.
func (d *DB) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	res, err := d.exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, exceptID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), d.wrap(err)
}

// ListUserSessions lists a user's unexpired sessions, newest first.
func (d *DB) ListUserSessions(ctx context.Context, userID string, now time.Time) ([]store.SessionRecord, error) {
	rows, err := d.query(ctx, `SELECT `+recordColumns+` FROM sessions WHERE user_id = ? AND expires_at > ?
		ORDER BY created_at DESC, id`, userID, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.SessionRecord
	for rows.Next() {
		s, err := scanRecord(rows)
		if err != nil {
			return nil, d.wrap(err)
		}
		out = append(out, *s)
	}
	return out, d.wrap(rows.Err())
}

// MarkSessionsEnded notes the action on every session of the user but exceptID.
func (d *DB) MarkSessionsEnded(ctx context.Context, userID, exceptID, action string) (int, error) {
	res, err := d.exec(ctx, `INSERT INTO ended_sessions (token_hash, action, expires_at)
		SELECT token_hash, ?, expires_at FROM sessions WHERE user_id = ? AND id <> ?`, action, userID, exceptID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), d.wrap(err)
}

// MarkSessionEnded notes the action on the session id.
func (d *DB) MarkSessionEnded(ctx context.Context, id, action string) error {
	res, err := d.exec(ctx, `INSERT INTO ended_sessions (token_hash, action, expires_at)
		SELECT token_hash, ?, expires_at FROM sessions WHERE id = ?`, action, id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return d.wrap(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// EndedSession returns the action noted for the ended session with the token hash.
func (d *DB) EndedSession(ctx context.Context, tokenHash []byte, now time.Time) (string, error) {
	var action string
	err := d.queryRow(ctx, `SELECT action FROM ended_sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, ms(now)).Scan(&action)
	return action, d.wrap(err)
}
