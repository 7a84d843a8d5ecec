package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testutil"
)

// childEnv makes the test binary, started again by a test, a second process that opens
// the database and makes one change (childChange) instead of running the tests.
const childEnv = "TWOFOLD_TEST_SQLSTORE_CHILD"

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		if err := childChange(job); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childChange runs in the second process: job is "change path userID sessionID", or one
// of childLooks.
func childChange(job string) error {
	f := strings.Fields(job)
	if look := childLooks[f[0]]; look != nil && len(f) == 2 {
		return look(f[1])
	}
	if len(f) != 4 {
		return fmt.Errorf("child job %q", job)
	}
	change, path, userID, sessionID := f[0], f[1], f[2], f[3]
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	return cacheChanges[change](ctx, db, userID, sessionID)
}

// cacheChanges are commits that change what GetSessionUser answers for a session.
var cacheChanges = map[string]func(ctx context.Context, db *sqlstore.DB, userID, sessionID string) error{
	"sign-out": func(ctx context.Context, db *sqlstore.DB, userID, _ string) error {
		_, err := db.DeleteUserSessions(ctx, userID, "")
		return err
	},
	"disable": func(ctx context.Context, db *sqlstore.DB, userID, _ string) error {
		return db.SetUserDisabled(ctx, userID, true, time.Now())
	},
	"mfa-reset": func(ctx context.Context, db *sqlstore.DB, userID, _ string) error {
		return db.DeleteTOTP(ctx, userID)
	},
	"notice": func(ctx context.Context, db *sqlstore.DB, _, sessionID string) error {
		return db.SetSessionNotice(ctx, sessionID, []byte("sealed notice"))
	},
	"touch": func(ctx context.Context, db *sqlstore.DB, _, sessionID string) error {
		return db.TouchSession(ctx, sessionID, time.UnixMilli(1_900_000_000_000))
	},
}

// cacheFixture stores a user with an authenticator and a signed-in session, and returns
// the session.
func cacheFixture(t *testing.T, db *sqlstore.DB, name string) *store.SessionRecord {
	t.Helper()
	s, err := storeSession(t.Context(), db, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storeSession is cacheFixture for a second process, which has no test.
func storeSession(ctx context.Context, db *sqlstore.DB, name string) (*store.SessionRecord, error) {
	now := time.Now().Truncate(time.Millisecond)
	u := &store.User{
		Account:      store.Account{ID: newHex(16), Username: name, Email: name + "@example.com", Role: store.RoleUser},
		UsernameNorm: name, EmailNorm: name + "@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$" + name,
		CreatedAt:    now, UpdatedAt: now,
	}
	if err := db.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := db.PutTOTP(ctx, &store.TOTPCredential{UserID: u.ID, SecretEnc: []byte("sealed"), CreatedAt: now}); err != nil {
		return nil, err
	}
	s := &store.SessionRecord{
		Session: store.Session{ID: newHex(16), TokenHash: []byte(newHex(16)), UserID: u.ID,
			State: store.StateAuthenticated, AMR: []string{"pwd", "otp", "mfa"}, AuthTime: now, LastSeenAt: now,
			ExpiresAt: now.Add(time.Hour)},
		CreatedAt: now, IP: "192.0.2.7", UserAgent: "cache test",
	}
	return s, db.CreateSession(ctx, s)
}

func newHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// cacheHits is how many lookups db's session cache answered.
func cacheHits(t *testing.T, db *sqlstore.DB) uint64 {
	t.Helper()
	hits, _, on := db.SessionCacheStats()
	if !on {
		t.Fatalf("database without a session cache: %v", db.SessionCacheErr())
	}
	return hits
}

// warm reads the session twice and checks that the second read came from the cache.
func warm(t *testing.T, db *sqlstore.DB, tokenHash []byte) *store.SessionUser {
	t.Helper()
	if _, err := db.GetSessionUser(t.Context(), tokenHash); err != nil {
		t.Fatal(err)
	}
	before := cacheHits(t, db)
	x, err := db.GetSessionUser(t.Context(), tokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if cacheHits(t, db) != before+1 {
		t.Fatal("the second read of an unchanged session did not come from the cache")
	}
	return x
}

func TestSessionCacheAnswersACopyUntilACommit(t *testing.T) {
	db, _ := openTemp(t)
	s := cacheFixture(t, db, "alice")
	x := warm(t, db, s.TokenHash)
	// What a caller does with its answer is its own.
	x.Session.AMR[0], x.Session.LastSeenAt, x.User.Username = "changed", time.Time{}, "mallory"
	y := warm(t, db, s.TokenHash)
	if y.Session.AMR[0] != "pwd" || y.Session.LastSeenAt.IsZero() || y.User.Username != "alice" {
		t.Fatalf("a caller's change reached the cache: %+v", y)
	}
	// A commit that touches another user's rows still empties the cache.
	other := cacheFixture(t, db, "bob")
	hits := cacheHits(t, db)
	if _, err := db.GetSessionUser(t.Context(), s.TokenHash); err != nil {
		t.Fatal(err)
	}
	if cacheHits(t, db) != hits {
		t.Fatal("a lookup after a commit came from the cache")
	}
	// A commit through a transaction does as well, and a read in a transaction never uses
	// the cache: the transaction may have changed the rows.
	warm(t, db, s.TokenHash)
	err := db.WithTx(t.Context(), func(tx store.Store) error {
		if _, err := tx.DeleteUserSessions(t.Context(), s.UserID, ""); err != nil {
			return err
		}
		_, err := tx.GetSessionUser(t.Context(), s.TokenHash)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("in the transaction that ended it: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetSessionUser(t.Context(), s.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the commit: %v, want ErrNotFound", err)
	}
	warm(t, db, other.TokenHash)
}

// TestSessionCacheEndsWithAnotherProcessCommit is `twofold user sign-out` (and the other
// changes an operator makes from a shell) in a process of its own, while the server keeps
// the session in its cache: the very next lookup, with no pause, sees the change.
func TestSessionCacheEndsWithAnotherProcessCommit(t *testing.T) {
	for change := range cacheChanges {
		t.Run(change, func(t *testing.T) {
			db, path := openTemp(t)
			s := cacheFixture(t, db, "alice")
			before := warm(t, db, s.TokenHash)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{change, path, s.UserID, s.ID}, " "))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("second process: %v\n%s", err, out)
			}
			wantChangeSeen(t, db, change, before, "in another process")
		})
	}
}

// wantChangeSeen looks the session of before up again, right after change was committed
// where, and fails unless the answer shows the change.
func wantChangeSeen(t *testing.T, db *sqlstore.DB, change string, before *store.SessionUser, where string) {
	t.Helper()
	after, err := db.GetSessionUser(t.Context(), before.Session.TokenHash)
	switch change {
	case "sign-out":
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session signed out %s: %v, want ErrNotFound", where, err)
		}
	case "disable":
		if err != nil || !after.User.Disabled {
			t.Fatalf("user disabled %s: %+v, %v", where, after, err)
		}
	case "mfa-reset":
		if err != nil || after.HasTOTP {
			t.Fatalf("authenticator removed %s: %+v, %v", where, after, err)
		}
	case "notice":
		if err != nil || string(after.Session.NoticeEnc) != "sealed notice" {
			t.Fatalf("session notice set %s: %+v, %v", where, after, err)
		}
	case "touch":
		if err != nil || after.Session.LastSeenAt.Equal(before.Session.LastSeenAt) {
			t.Fatalf("session touched %s: %+v, %v", where, after, err)
		}
	}
}

// TestSessionCacheNeverOutlivesAParallelCommit ends sessions through a second connection
// pool (as a second server on the same file would) while four readers look them up in a
// loop: a lookup that starts after an end returned never finds that session.
func TestSessionCacheNeverOutlivesAParallelCommit(t *testing.T) {
	db, path := openTemp(t)
	other, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lookups, found := endWhileReading(t, db, other, 4, 2*time.Millisecond, nil)
	if hits := cacheHits(t, db); hits == 0 || found == 0 {
		t.Fatalf("the readers never used the cache (%d hits, %d of %d lookups found)", hits, found, lookups)
	}
}

// endWhileReading stores 40 signed-in users through db, then ends their sessions one by one
// through other, pause apart, while readers goroutines look them up through db in a loop
// (after warmed, when not nil, has seen the first from the cache). A lookup that began after
// an end returned must not find that session. It returns the lookups and how many found
// their session.
func endWhileReading(t *testing.T, db, other *sqlstore.DB, readers int, pause time.Duration,
	warmed func(tokenHash []byte)) (lookups, found int64) {
	t.Helper()
	const n = 40
	sessions := make([]*store.SessionRecord, n)
	for i := range sessions {
		sessions[i] = cacheFixture(t, db, fmt.Sprintf("user%d", i))
	}
	if warmed != nil {
		warmed(sessions[0].TokenHash)
	}
	var ended [n]atomic.Bool
	var nLookups, nFound atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			for k := r; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				i := k % n
				wasEnded := ended[i].Load()
				_, err := db.GetSessionUser(context.Background(), sessions[i].TokenHash)
				nLookups.Add(1)
				switch {
				case err == nil && wasEnded:
					t.Errorf("session %d found after its end returned", i)
				case err == nil:
					nFound.Add(1)
				case !errors.Is(err, store.ErrNotFound):
					t.Errorf("session %d: %v", i, err)
				}
			}
		})
	}
	for i := range sessions {
		time.Sleep(pause)
		if err := other.DeleteSession(t.Context(), sessions[i].ID); err != nil {
			t.Fatal(err)
		}
		ended[i].Store(true)
	}
	close(done)
	wg.Wait()
	return nLookups.Load(), nFound.Load()
}

// openPostgresPair opens two stores on one PostgreSQL schema of the test's own, as two
// instances of a deployment, and a plain connection to it, past both stores (psql, an
// older release, a command in another process).
func openPostgresPair(t *testing.T) (db, other *sqlstore.DB, raw *sql.DB) {
	t.Helper()
	dsn := testutil.PostgresURL(t)
	open := func() *sqlstore.DB {
		d, err := sqlstore.OpenPostgres(t.Context(), dsn, sqlstore.PoolOptions{MaxOpenConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	db, other = open(), open()
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, other, raw
}

// warmPostgres is warm for PostgreSQL, whose cache answers once its listener listens
// (started by the first lookup): it reads until a read comes from the cache, for at most
// 10 seconds.
func warmPostgres(t *testing.T, db *sqlstore.DB, tokenHash []byte) *store.SessionUser {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		before := cacheHits(t, db)
		x, err := db.GetSessionUser(t.Context(), tokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if cacheHits(t, db) > before {
			return x
		}
	}
	t.Fatal("no read came from the cache within 10 seconds")
	return nil
}

// TestPostgresSessionCacheEndsWithAnotherInstanceCommit: each change that ends or alters
// a session, made by another instance or past every store (as psql or a release without the
// cache would), is seen at the very next lookup, with no pause.
func TestPostgresSessionCacheEndsWithAnotherInstanceCommit(t *testing.T) {
	rawChanges := map[string]string{
		"sign-out":  `DELETE FROM sessions WHERE user_id = $1`,
		"disable":   `UPDATE users SET disabled = 1 WHERE id = $1`,
		"mfa-reset": `DELETE FROM totp_credentials WHERE user_id = $1`,
		"notice":    `UPDATE sessions SET notice_enc = 'sealed notice' WHERE user_id = $1`,
	}
	for change := range cacheChanges {
		if change == "touch" { // notifies nobody: TestPostgresSessionCacheKeepsItsEntriesAtATouch
			continue
		}
		for _, via := range []string{"instance", "raw"} {
			t.Run(change+"/"+via, func(t *testing.T) {
				db, other, raw := openPostgresPair(t)
				s := cacheFixture(t, db, "alice")
				before := warmPostgres(t, db, s.TokenHash)
				var err error
				if via == "instance" {
					err = cacheChanges[change](t.Context(), other, s.UserID, s.ID)
				} else {
					_, err = raw.ExecContext(t.Context(), rawChanges[change], s.UserID)
				}
				if err != nil {
					t.Fatal(err)
				}
				wantChangeSeen(t, db, change, before, "by "+via)
			})
		}
	}
}

// TestPostgresSessionCacheKeepsItsEntriesAtATouch: a last-seen time written by another
// instance, or past the stores, empties no cache (migration 29): the entry answers its older
// time until SessionLastSeen reads the stored one; from then on, and after a touch of its
// own instance, the entry answers the later time.
func TestPostgresSessionCacheKeepsItsEntriesAtATouch(t *testing.T) {
	db, other, raw := openPostgresPair(t)
	s := cacheFixture(t, db, "alice")
	before := warmPostgres(t, db, s.TokenHash)
	// A barrier slowed past 100 ms (other tests' notifying commits) would read the
	// database, which this test tells from an emptied cache only by the hit.
	sqlstore.SetBarrierWait(db, 10*time.Second)
	want := func(step string, seen time.Time) {
		t.Helper()
		hits := cacheHits(t, db)
		x, err := db.GetSessionUser(t.Context(), s.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if cacheHits(t, db) != hits+1 {
			t.Errorf("%s: the lookup did not come from the cache", step)
		}
		if !x.Session.LastSeenAt.Equal(seen) {
			t.Errorf("%s: last seen %v, want %v", step, x.Session.LastSeenAt, seen)
		}
	}
	later := before.Session.LastSeenAt.Add(2 * time.Minute)
	if err := other.TouchSession(t.Context(), s.ID, later); err != nil {
		t.Fatal(err)
	}
	want("touched by another instance", before.Session.LastSeenAt)
	if got, err := db.SessionLastSeen(t.Context(), s.ID); err != nil || !got.Equal(later) {
		t.Fatalf("SessionLastSeen = %v, %v; want %v", got, err, later)
	}
	want("read since", later)

	// A touch past the stores is read the same way; an earlier time stored than read
	// before (another instance's clock behind) leaves the later one.
	if _, err := raw.ExecContext(t.Context(), `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`,
		later.Add(-time.Minute).UnixMilli(), s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionLastSeen(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	want("an earlier time stored", later)

	own := later.Add(2 * time.Minute)
	if err := db.TouchSession(t.Context(), s.ID, own); err != nil {
		t.Fatal(err)
	}
	want("touched by this instance", own)
	// Any other change to the session still empties the cache.
	if _, err := raw.ExecContext(t.Context(), `UPDATE sessions SET expires_at = expires_at - 1 WHERE id = $1`, s.ID); err != nil {
		t.Fatal(err)
	}
	hits := cacheHits(t, db)
	x, err := db.GetSessionUser(t.Context(), s.TokenHash)
	if err != nil || cacheHits(t, db) != hits || !x.Session.ExpiresAt.Equal(before.Session.ExpiresAt.Add(-time.Millisecond)) {
		t.Fatalf("after a change of its expiry: %+v, %v, from the cache: %t", x, err, cacheHits(t, db) != hits)
	}
}

// TestSessionTriggerNamesEveryColumnButLastSeen: migration 29's trigger notifies an update
// of any column of sessions but last_seen_at. A column added later must be added to it, or
// a change of it would be answered from stale caches.
func TestSessionTriggerNamesEveryColumnButLastSeen(t *testing.T) {
	_, _, raw := openPostgresPair(t)
	// A trigger without a column list (tgattr empty) fires at every update: none is silent.
	rows, err := raw.QueryContext(t.Context(), `WITH tg AS (SELECT tgattr::int2[] AS cols FROM pg_trigger
			WHERE tgrelid = 'sessions'::regclass AND tgname = 'sessions_changed')
		SELECT a.attname FROM pg_attribute a, tg
		WHERE a.attrelid = 'sessions'::regclass AND a.attnum > 0 AND NOT a.attisdropped
			AND cardinality(tg.cols) > 0 AND a.attnum <> ALL (tg.cols)
		ORDER BY a.attname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var silent []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		silent = append(silent, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(silent, ",") != "last_seen_at" {
		t.Fatalf("columns of sessions whose update notifies no session cache: %v, want only last_seen_at", silent)
	}
}

// TestPostgresSessionCacheSeesWritesPastOrdinaryTriggers: sessions ended where ordinary
// triggers do not fire (session_replication_role = replica, as
// some migration and restore tools set it) or by TRUNCATE are seen at the next lookup.
func TestPostgresSessionCacheSeesWritesPastOrdinaryTriggers(t *testing.T) {
	for name, end := range map[string]func(ctx context.Context, tx *sql.Tx, userID string) error{
		"replica role": func(ctx context.Context, tx *sql.Tx, userID string) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
			return err
		},
		"truncate": func(ctx context.Context, tx *sql.Tx, _ string) error {
			_, err := tx.ExecContext(ctx, `TRUNCATE sessions CASCADE`)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			db, _, raw := openPostgresPair(t)
			s := cacheFixture(t, db, "alice")
			before := warmPostgres(t, db, s.TokenHash)
			tx, err := raw.BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := end(t.Context(), tx, s.UserID); err != nil {
				tx.Rollback()
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			wantChangeSeen(t, db, "sign-out", before, "by "+name)
		})
	}
}

// TestPostgresSessionCacheSeesAChangeMadeWhileATriggerWasOff: a trigger disabled while the
// instances run (ALTER TABLE … DISABLE TRIGGER, as a restore with --disable-triggers does),
// or its function replaced by one that does not notify, a change that so notifies nobody,
// and the trigger as it was again: the next lookup still sees the change, and so does one
// once the cache answers again (each barrier compares the triggers' and their function's
// rows with those the listener checked).
func TestPostgresSessionCacheSeesAChangeMadeWhileATriggerWasOff(t *testing.T) {
	const notifying = `CREATE OR REPLACE FUNCTION twofold_sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('twofold_sessions', TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$`
	for name, c := range map[string]struct {
		change  string // of cacheChanges
		off, on string
		q       string // the change, with the user's id
	}{
		"sessions": {"sign-out", `ALTER TABLE sessions DISABLE TRIGGER sessions_changed`,
			`ALTER TABLE sessions ENABLE ALWAYS TRIGGER sessions_changed`, `DELETE FROM sessions WHERE user_id = $1`},
		"users": {"disable", `ALTER TABLE users DISABLE TRIGGER users_changed`,
			`ALTER TABLE users ENABLE ALWAYS TRIGGER users_changed`, `UPDATE users SET disabled = 1 WHERE id = $1`},
		"function": {"sign-out", strings.Replace(notifying, "PERFORM pg_notify('twofold_sessions', TG_TABLE_SCHEMA);", "", 1),
			notifying, `DELETE FROM sessions WHERE user_id = $1`},
	} {
		t.Run(name, func(t *testing.T) {
			db, _, raw := openPostgresPair(t)
			alice, bob := cacheFixture(t, db, "alice"), cacheFixture(t, db, "bob")
			before := warmPostgres(t, db, alice.TokenHash)
			warmPostgres(t, db, bob.TokenHash)
			for _, q := range []string{c.off, c.q, c.on} {
				var args []any
				if q == c.q {
					args = append(args, alice.UserID)
				}
				if _, err := raw.ExecContext(t.Context(), q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			wantChangeSeen(t, db, c.change, before, "while the "+name+" trigger did not notify")
			warmPostgres(t, db, bob.TokenHash) // the cache answers again
			wantChangeSeen(t, db, c.change, before, "while the "+name+" trigger did not notify, looked up once the cache answers again")
		})
	}
}

// TestPostgresSessionCacheNeverOutlivesAParallelCommit ends sessions through a second
// instance while sixteen readers look them up in a loop on the first: a lookup that
// starts after an end returned never finds that session. The readers share barriers: the
// first instance sends fewer than one per lookup.
func TestPostgresSessionCacheNeverOutlivesAParallelCommit(t *testing.T) {
	db, other, _ := openPostgresPair(t)
	var syncs uint64
	lookups, found := endWhileReading(t, db, other, 16, 5*time.Millisecond, func(tokenHash []byte) {
		warmPostgres(t, db, tokenHash)
		syncs = sqlstore.SessionSyncs(db)
	})
	syncs = sqlstore.SessionSyncs(db) - syncs
	if hits := cacheHits(t, db); hits == 0 || found == 0 {
		t.Fatalf("the readers never used the cache (%d hits, %d of %d lookups found)", hits, found, lookups)
	}
	if syncs >= uint64(lookups) {
		t.Errorf("%d barriers for %d lookups: the readers did not share them", syncs, lookups)
	}
	t.Logf("%d lookups, %d barriers, %d found", lookups, syncs, found)
}

// TestPostgresSessionCacheListenerLost: the listening connection is ended by the server
// (a restart, an administrator, a network fault). A sign-out made while it is gone, past
// the store, is seen at the next lookup; the cache answers again once it listens anew.
func TestPostgresSessionCacheListenerLost(t *testing.T) {
	db, _, raw := openPostgresPair(t)
	alice, bob := cacheFixture(t, db, "alice"), cacheFixture(t, db, "bob")
	warmPostgres(t, db, alice.TokenHash)
	warmPostgres(t, db, bob.TokenHash)
	var killed int
	err := raw.QueryRowContext(t.Context(), `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query LIKE '%LISTEN ' || $1`, sqlstore.SessionSyncChannel(db)).Scan(&killed)
	if err != nil || killed == 0 {
		t.Fatalf("ended %d listening connections: %v", killed, err)
	}
	if _, err := raw.ExecContext(t.Context(), `DELETE FROM sessions WHERE user_id = $1`, alice.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetSessionUser(t.Context(), alice.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("signed out while the listener was gone: %v, want ErrNotFound", err)
	}
	warmPostgres(t, db, bob.TokenHash)
	// The cache answers again, and not what it held before the listener was lost.
	if _, err := db.GetSessionUser(t.Context(), alice.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("signed out while the listener was gone, looked up once it listens again: %v, want ErrNotFound", err)
	}
}

// dmsByte is the byte of the -shm file on which every process that uses the WAL index holds
// a shared lock (os_unix.c's UNIX_SHM_DMS): the first process to open the database, finding
// it unlocked, truncates and rebuilds the index.
const dmsByte = (22+8)*4 + 8

// childLooks are jobs of the second process that look at a database path.
var childLooks = map[string]func(path string) error{
	// dms prints who holds the DMS byte of the -shm file.
	"dms": func(path string) error {
		f, err := os.OpenFile(path+"-shm", os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Start: dmsByte, Len: 1}
		if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
			return err
		}
		switch lk.Type {
		case syscall.F_UNLCK:
			fmt.Print("unlocked")
		case syscall.F_RDLCK:
			fmt.Printf("read lock of pid %d", lk.Pid)
		default:
			fmt.Printf("write lock of pid %d", lk.Pid)
		}
		return nil
	},
	// header prints the WAL index header's iChange and mxFrame and the file's size.
	"header": func(path string) error {
		b, err := os.ReadFile(path + "-shm")
		if err != nil {
			return err
		}
		if len(b) < walHeader {
			fmt.Printf("size %d", len(b))
			return nil
		}
		fmt.Printf("iChange %d, mxFrame %d, size %d", binary.NativeEndian.Uint32(b[8:]), binary.NativeEndian.Uint32(b[16:]), len(b))
		return nil
	},
	// read opens the database as a command would, reads and closes it.
	"read": func(path string) error {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			return err
		}
		defer db.Close()
		var n int
		return db.QueryRow(`SELECT count(*) FROM users`).Scan(&n)
	},
	// truncated caches a session, truncates the -shm file under the store and looks the
	// session up again: the process must live on.
	"truncated": func(dir string) error {
		ctx := context.Background()
		db, err := sqlstore.OpenSQLite(ctx, dir+"/twofold.db")
		if err != nil {
			return err
		}
		defer db.Close()
		s, err := storeSession(ctx, db, "alice")
		if err != nil {
			return err
		}
		for range 2 {
			if _, err := db.GetSessionUser(ctx, s.TokenHash); err != nil {
				return err
			}
		}
		if err := os.Truncate(dir+"/twofold.db-shm", 0); err != nil {
			return err
		}
		for range 3 {
			_, err := db.GetSessionUser(ctx, s.TokenHash)
			fmt.Printf("after the truncation: %v; ", err)
		}
		return nil
	},
}

// walHeader is the size of one copy of the WAL index header.
const walHeader = 48

// child runs the test binary again as a second process with job and returns its output.
func child(t *testing.T, job ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(job, " "))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("second process %q: %v\n%s", job, err, out)
	}
	return string(out)
}

// wantLocksKept checks that this process holds SQLite's shared lock on the DMS byte of
// path's -shm file, so that a process that opens the database to read leaves the WAL index
// alone.
func wantLocksKept(t *testing.T, path, when string) {
	t.Helper()
	want := fmt.Sprintf("read lock of pid %d", os.Getpid())
	if got := child(t, "dms", path); got != want {
		t.Fatalf("DMS byte %s: %s, want %s", when, got, want)
	}
	before := child(t, "header", path)
	child(t, "read", path)
	if after := child(t, "header", path); after != before {
		t.Fatalf("%s, a read in another process rebuilt the WAL index: %s, then %s", when, before, after)
	}
}

// TestOpenStoreKeepsSQLiteLocks: while a store is open, another process sees its shared
// lock on the DMS byte, and a process that merely reads leaves the WAL index alone. The
// mapping of the index once opened and closed a descriptor of the -shm file, which on
// POSIX drops every lock the process holds on the file, SQLite's included: every other
// process opening the database then truncated and rebuilt the index under the server
// (queries failed with disk I/O errors, and a signed-out session's older page could be
// read again). Opening a second store in the same process must not drop them either.
func TestOpenStoreKeepsSQLiteLocks(t *testing.T) {
	db, path := openTemp(t)
	for i := range 3 {
		cacheFixture(t, db, fmt.Sprintf("user%d", i))
	}
	wantLocksKept(t, path, "while the store is open")
	second, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	wantLocksKept(t, path, "after a second store opened and closed")
}

// TestSessionCacheWatchesTheFileSQLiteResolved: the configured path is a symlink, and a
// -shm file with a valid header lies beside the link (left from a crash, or a copy).
// SQLite uses the target's -shm file; so must the cache, or no commit would ever reach it.
func TestSessionCacheWatchesTheFileSQLiteResolved(t *testing.T) {
	dir := t.TempDir()
	target, link := dir+"/real.db", dir+"/twofold.db"
	db, err := sqlstore.OpenSQLite(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	s := cacheFixture(t, db, "alice")
	shm, err := os.ReadFile(target + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(link+"-shm", shm, 0o600); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.Symlink("real.db", link); err != nil {
		t.Fatal(err)
	}
	db, err = sqlstore.OpenSQLite(t.Context(), link)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	warm(t, db, s.TokenHash)
	child(t, "sign-out", target, s.UserID, s.ID)
	if _, err := db.GetSessionUser(t.Context(), s.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session signed out by another process: %v, want ErrNotFound", err)
	}
}

// TestSessionCacheSurvivesATruncatedIndex: someone empties the -shm file under a running
// store (`: > twofold.db-shm`). Reading the mapped header then faults; that must be a miss
// (SQLite answers its own queries with an I/O error), not a crash of the process. The
// store runs in a second process, which the fault would end.
func TestSessionCacheSurvivesATruncatedIndex(t *testing.T) {
	out := child(t, "truncated", t.TempDir())
	if !strings.Contains(out, "after the truncation") {
		t.Fatalf("second process: %q", out)
	}
}

// TestSessionCacheFirstStoreClosesFirst: two stores on one file in one process, the first closes
// first; the second must keep SQLite's DMS lock and see other processes' commits.
func TestSessionCacheFirstStoreClosesFirst(t *testing.T) {
	first, path := openTemp(t)
	s := cacheFixture(t, first, "alice")
	second, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	wantLocksKept(t, path, "after the first store closed")
	warm(t, second, s.TokenHash)
	child(t, "sign-out", path, s.UserID, s.ID)
	if _, err := second.GetSessionUser(t.Context(), s.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session signed out by another process: %v, want ErrNotFound", err)
	}
}

// TestCloseDuringATransactionKeepsSQLiteLocks: DB.Close returns while a transaction still holds a
// connection (database/sql closes it when it is returned), and lets go of the -shm
// descriptor at once: the still-open connection's locks go with it.
func TestCloseDuringATransactionKeepsSQLiteLocks(t *testing.T) {
	db, path := openTemp(t)
	cacheFixture(t, db, "alice")
	want := fmt.Sprintf("read lock of pid %d", os.Getpid())
	var got string
	err := db.WithTx(t.Context(), func(tx store.Store) error {
		if _, err := tx.GetUserByLogin(t.Context(), "nobody"); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := db.Close(); err != nil {
			return err
		}
		got = child(t, "dms", path) // the transaction's connection is still open
		return nil
	})
	t.Logf("transaction: %v", err)
	if got != want {
		t.Fatalf("DMS byte while a transaction of the closed store is open: %s, want %s", got, want)
	}
}

// TestTouchQuietMigrationGivesUpTheLock: migration 29 drops the trigger on sessions, which
// locks the table against reads, so every session check would queue behind it while it
// waits. Behind a transaction that holds the table (a pg_dump, a long report) it fails with
// lock_not_available after its lock_timeout instead of waiting, and leaves the trigger as it
// was; run again once the table is free, it applies.
func TestTouchQuietMigrationGivesUpTheLock(t *testing.T) {
	_, _, raw := openPostgresPair(t)
	src, err := os.ReadFile("migrations/postgres/00029_touch_quiet.sql")
	if err != nil {
		t.Fatal(err)
	}
	up, _, ok := strings.Cut(string(src), "-- +goose Down")
	if !ok {
		t.Fatal("migration 29 has no Down section")
	}
	reader, err := raw.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	apply := func() error {
		// Without a lock timeout it would wait for the reader: a bound, so the test fails
		// rather than hangs.
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, up); err != nil {
			return err
		}
		return tx.Commit()
	}
	err = apply()
	if err == nil || !strings.Contains(err.Error(), "55P03") {
		t.Fatalf("migration 29 behind a reader of sessions: %v, want lock_not_available (55P03)", err)
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := apply(); err != nil {
		t.Fatalf("migration 29 once the table is free: %v", err)
	}
}
