package loadtest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// seedChunk is how many rows one seeding statement writes: each is a transaction of its
// own, so SQLite's write-ahead log stays small and the progress shows.
const seedChunk = 500_000

// seedSubjects is how many of the seeded users the seeded audit rows are about, in turn.
const seedSubjects = 100_000

// seedEvents are the audit events the seeded rows carry, in turn: what a busy deployment's
// log mostly holds.
var seedEvents = []string{"login.succeeded", "login.password_verified", "login.failed", "session.ended", "oidc.token_issued"}

// seed adds users accounts that cannot sign in (no password, no authenticator) and events
// audit rows about them, so that the scenarios run against a database of that size, then
// (on PostgreSQL) gathers the planner's statistics, as docs/operations.md advises after a
// bulk load. It returns one seeded user's id (for the audit listing) or "" when it seeded
// no users.
func seed(ctx context.Context, b *backend, users, events int, out io.Writer) (string, error) {
	if users == 0 && events == 0 {
		return "", nil
	}
	s := seeder{db: b.raw, postgres: b.cfg.Database.Postgres(), now: b.clock.Now(), chunk: seedChunk}
	start := time.Now()
	if err := s.users(ctx, users); err != nil {
		return "", err
	}
	if users > 0 {
		fmt.Fprintf(out, "seeded %d users in %s\n", users, time.Since(start).Round(time.Millisecond))
	}
	start = time.Now()
	if err := s.audit(ctx, events, min(users, seedSubjects)); err != nil {
		return "", err
	}
	if events > 0 {
		fmt.Fprintf(out, "seeded %d audit rows in %s\n", events, time.Since(start).Round(time.Millisecond))
	}
	if s.postgres {
		start = time.Now()
		if _, err := b.raw.ExecContext(ctx, "ANALYZE users, audit_events"); err != nil {
			return "", fmt.Errorf("analyze the seeded tables: %w", err)
		}
		fmt.Fprintf(out, "analyzed the seeded tables in %s\n", time.Since(start).Round(time.Millisecond))
	}
	if users == 0 {
		return "", nil
	}
	return seedUserID(min(users, seedSubjects) / 2), nil
}

// seeder writes the seeded rows with set-based INSERT ... SELECT statements on the
// harness's own connection, not through the store: row by row, PostgreSQL took about 40
// minutes for a million users and ten million audit rows. The rows are the ones the store
// writes (CreateUser, AppendAudit); TestSeedWritesWhatTheStoreWrites compares them.
type seeder struct {
	db       *sql.DB
	postgres bool
	now      time.Time // the accounts' creation time, and the newest audit row's
	chunk    int       // rows per statement
}

func seedUserID(k int) string { return fmt.Sprintf("seed-%08d", k) }

// series is a CTE s(k) of the integers from, from+1, ... to; pad renders k with eight
// digits, as seedUserID does.
func (s seeder) series(from, to int) string {
	if s.postgres {
		return fmt.Sprintf("WITH s(k) AS (SELECT generate_series(CAST(%d AS BIGINT), CAST(%d AS BIGINT)))", from, to)
	}
	return fmt.Sprintf("WITH RECURSIVE s(k) AS (SELECT %d UNION ALL SELECT k+1 FROM s WHERE k < %d)", from, to)
}

func (s seeder) pad(expr string) string {
	if s.postgres {
		return "lpad(CAST(" + expr + " AS TEXT), 8, '0')"
	}
	return "printf('%08d', " + expr + ")"
}

// chunks calls insert for the ranges [from, to] of n rows, s.chunk at a time.
func (s seeder) chunks(ctx context.Context, n int, what string, insert func(from, to int) string) error {
	for from := 0; from < n; from += s.chunk {
		if _, err := s.db.ExecContext(ctx, insert(from, min(from+s.chunk, n)-1)); err != nil {
			return fmt.Errorf("seed %s %d to %d: %w", what, from, min(from+s.chunk, n)-1, err)
		}
	}
	return nil
}

// users writes accounts seed00000000 ... as CreateUser does for a user with the unusable
// password hash "!".
func (s seeder) users(ctx context.Context, n int) error {
	now := s.now.UnixMilli()
	name := "'seed' || " + s.pad("k")
	return s.chunks(ctx, n, "users", func(from, to int) string {
		return `INSERT INTO users (id, username, username_norm, email, email_norm, role, disabled, mfa_override,
	password_hash, created_at, updated_at, last_login_at, email_verified, display_name, language) ` +
			s.series(from, to) + fmt.Sprintf(`
SELECT 'seed-' || %s, %s, %s, %s || '@example.com', %s || '@example.com', 'user', 0, '',
	'!', %d, %d, 0, 0, '', '' FROM s ORDER BY k`, s.pad("k"), name, name, name, name, now, now)
	})
}

// audit writes n rows as AppendAudit does for events without a dedup key: row k is event
// seedEvents[k mod 5] about seeded user k mod subjects (none when subjects is 0), n-k
// seconds before s.now, from address 10.x.y.z for the low 24 bits of k. The ids grow with
// k, so the newest rows are the last.
func (s seeder) audit(ctx context.Context, n, subjects int) error {
	event := "CASE k % 5"
	for i, e := range seedEvents {
		event += fmt.Sprintf(" WHEN %d THEN '%s'", i, e)
	}
	event += " END"
	subject := "''"
	if subjects > 0 {
		subject = fmt.Sprintf("'seed-' || %s", s.pad(fmt.Sprintf("k %% %d", subjects)))
	}
	newest := s.now.UnixMilli()
	return s.chunks(ctx, n, "audit rows", func(from, to int) string {
		return `INSERT INTO audit_events (at, event, actor_id, subject_id, ip, user_agent, detail, count, dedup) ` +
			s.series(from, to) + fmt.Sprintf(`
SELECT %d + (k - %d) * 1000, %s, %s, %s,
	'10.' || ((k >> 16) & 255) || '.' || ((k >> 8) & 255) || '.' || (k & 255),
	'twofold-load seed', 'seeded', 1, NULL FROM s ORDER BY k`, newest, n, event, subject, subject)
	})
}

// auditQueries are the audit listings the audit scenario times: a page of the newest
// events, a page of one user's, a page of one event kind's and of an event prefix's.
func auditQueries(userID string) []struct {
	name string
	f    store.AuditFilter
} {
	return []struct {
		name string
		f    store.AuditFilter
	}{
		{"newest 50", store.AuditFilter{Limit: 50}},
		{"one user's newest 50", store.AuditFilter{UserID: userID, Limit: 50}},
		{"one event's newest 50", store.AuditFilter{Event: "session.ended", Limit: 50}},
		{"event prefix login.*, newest 50", store.AuditFilter{Event: "login.*", Limit: 50}},
	}
}

// auditListing times the audit listings through the store of the harness process (not over
// HTTP: the admin API needs an administrator's token, and the query is what grows): each
// listing as often as it fits in a share of the scenario's time. Completed is calls; the
// latencies are per listing.
func auditListing(ctx context.Context, b *backend, userID string, c Config) (*Result, error) {
	qs := auditQueries(userID)
	r := &Result{Name: ScenarioAudit, Concurrency: 1}
	start := time.Now()
	per := c.Duration / time.Duration(len(qs))
	for _, q := range qs {
		rec := &recorder{}
		end := time.Now().Add(per)
		for n := 0; n < c.MaxRequests && time.Now().Before(end); n++ {
			t0 := time.Now()
			_, err := b.setup.Store.ListAudit(ctx, q.f)
			status := 200
			if err != nil {
				status = transportError
			}
			rec.add(status, time.Since(t0))
		}
		e := merge(endpoint{name: "ListAudit: " + q.name, expected: 200}, []*recorder{rec})
		r.Endpoints = append(r.Endpoints, e)
		r.Completed += e.Requests
	}
	r.Elapsed = time.Since(start)
	r.Notes = []string{"store calls in the harness process, one at a time (not over HTTP); server CPU and RSS do not apply"}
	return r, nil
}
