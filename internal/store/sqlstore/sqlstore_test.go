package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/store/storetest"
	"github.com/twofold-id/twofold/internal/testutil"
)

// openTemp opens a fresh SQLite database file in a temporary directory.
func openTemp(t testing.TB) (*sqlstore.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "twofold.db")
	db, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestSQLite(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		db, _ := openTemp(t)
		return db
	})
}

// TestPostgres runs the same suite on PostgreSQL, each subtest in its own schema; it
// skips without TWOFOLD_TEST_POSTGRES_DSN (fails under TWOFOLD_TEST_REQUIRE_ALL=1).
func TestPostgres(t *testing.T) {
	testutil.PostgresURL(t) // skip the whole suite at once when there is no server
	storetest.RunTests(t, func(t *testing.T) store.Store {
		db, err := sqlstore.OpenPostgres(t.Context(), testutil.PostgresURL(t), sqlstore.PoolOptions{MaxOpenConns: 20})
		if err != nil {
			t.Fatalf("OpenPostgres: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// rawDB opens the database file directly, bypassing the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// openPostgresRaw opens a store on a PostgreSQL database of the test's own (a pool of
// conns) and a plain connection to the same database, past the store; both close with t.
func openPostgresRaw(t *testing.T, conns int) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	dsn := testutil.PostgresURL(t)
	db, err := sqlstore.OpenPostgres(t.Context(), dsn, sqlstore.PoolOptions{MaxOpenConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw
}

func schemaVersion(t *testing.T, raw *sql.DB) int64 {
	t.Helper()
	var v int64
	if err := raw.QueryRow(`SELECT MAX(version_id) FROM goose_db_version WHERE is_applied = 1`).Scan(&v); err != nil {
		t.Fatalf("read goose version: %v", err)
	}
	return v
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	if err := db.CreateUser(ctx, &store.User{
		Account:      store.Account{ID: "u1", Username: "alice", Email: "alice@example.com", Role: store.RoleUser},
		UsernameNorm: "alice",
		EmailNorm:    "alice@example.com",
		PasswordHash: "h",
	}); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	want := schemaVersion(t, raw)
	wantRows := gooseRows(t, raw)
	if want < 1 {
		t.Fatalf("schema version after open = %d, want at least 1", want)
	}
	for i := range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d on an up-to-date database: %v", i+1, err)
		}
	}
	db.Close()
	db2, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	if got := schemaVersion(t, raw); got != want {
		t.Errorf("schema version after re-migrating = %d, want %d", got, want)
	}
	if got := gooseRows(t, raw); got != wantRows {
		t.Errorf("goose_db_version has %d rows after re-migrating, want %d (nothing re-applied)", got, wantRows)
	}
	if _, err := db2.GetUser(ctx, "u1"); err != nil {
		t.Errorf("data lost across re-migration: %v", err)
	}
}

func gooseRows(t *testing.T, raw *sql.DB) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM goose_db_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	db.Close()
	raw := rawDB(t, path)
	if _, err := raw.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatalf("insert future version: %v", err)
	}
	db2, err := sqlstore.OpenSQLite(ctx, path)
	if err == nil {
		db2.Close()
		t.Fatal("OpenSQLite accepted a database whose schema is newer than the binary")
	}
	msg := err.Error()
	for _, want := range []string{"9999", "newer than this binary", "upgrade twofold"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

func TestDatabaseFilesArePrivate(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	// A write makes sure the WAL file exists.
	if err := db.AppendAudit(ctx, &store.AuditEvent{At: time.Now(), Event: "test"}); err != nil {
		t.Fatal(err)
	}
	wantPrivate(t, path)

	t.Run("a loosened file is restricted again on open", func(t *testing.T) {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		db2, err := sqlstore.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		wantPrivate(t, path)
	})
}

// wantPrivate checks that the database file and its WAL companions have mode 0600.
func wantPrivate(t *testing.T, path string) {
	t.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", filepath.Base(p), mode)
		}
	}
}

// TestAuditRowsAreAppendOnly tampers with the audit table directly, past the store: the
// database refuses every change but counting a counted event once more, and every deletion
// outside PruneAudit's transaction, on both databases.
func TestAuditRowsAreAppendOnly(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, path := openTemp(t)
		testAuditAppendOnly(t, db, rawDB(t, path), "?")
	})
	t.Run("postgres", func(t *testing.T) {
		db, raw := openPostgresRaw(t, 4)
		testAuditAppendOnly(t, db, raw, "$1")
	})
}

// testAuditAppendOnly tampers through raw, whose placeholder is param.
func testAuditAppendOnly(t *testing.T, db *sqlstore.DB, raw *sql.DB, param string) {
	ctx := t.Context()
	old := time.Now().Add(-48 * time.Hour)
	for _, e := range []store.AuditEvent{
		{At: old, Event: "user.created", SubjectID: "u1"},
		{At: old, Event: "throttle.refused", SubjectID: "u1", Dedup: "password/u1/1"},
	} {
		if err := db.AppendAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`UPDATE audit_events SET event = 'tampered'`,
		`UPDATE audit_events SET count = count + 5 WHERE dedup IS NOT NULL`,
		`UPDATE audit_events SET count = count + 1, detail = 'tampered' WHERE dedup IS NOT NULL`,
		`UPDATE audit_events SET count = count + 1 WHERE dedup IS NULL`,
		`UPDATE audit_events SET dedup = 'x', count = count + 1 WHERE dedup IS NULL`,
		`DELETE FROM audit_events`,
		`DELETE FROM audit_events WHERE dedup IS NOT NULL`,
	} {
		_, err := raw.ExecContext(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want the append-only trigger to refuse it", q, err)
		}
	}
	// A permit covers only rows older than its cutoff.
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_prune_permits (before) VALUES (`+param+`)`, old.Add(-time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_events`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("delete of rows newer than the permit: got %v, want the trigger to refuse it", err)
	}
	_ = tx.Rollback()

	events, err := db.ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[1].Event != "user.created" || events[0].Count != 1 {
		t.Errorf("audit rows after tampering attempts: %+v", events)
	}
}

// benchStores runs bench as sub-benchmarks on a fresh SQLite file and, when
// TWOFOLD_TEST_POSTGRES_DSN is set, on a fresh PostgreSQL schema.
func benchStores(b *testing.B, bench func(b *testing.B, db *sqlstore.DB, userID string)) {
	b.Run("sqlite", func(b *testing.B) {
		db, _ := openTemp(b)
		bench(b, db, benchUser(b, db))
	})
	b.Run("postgres", func(b *testing.B) {
		db, err := sqlstore.OpenPostgres(b.Context(), testutil.PostgresURL(b), sqlstore.PoolOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		bench(b, db, benchUser(b, db))
	})
}

// benchUser creates one user for the benchmarks.
func benchUser(b *testing.B, db *sqlstore.DB) string {
	b.Helper()
	u := &store.User{
		Account:      store.Account{ID: "bench", Username: "bench", Email: "bench@example.com", Role: store.RoleUser},
		UsernameNorm: "bench",
		EmailNorm:    "bench@example.com",
		PasswordHash: "h",
		CreatedAt:    time.Now(),
		UpdatedAt:    time.Now(),
	}
	if err := db.CreateUser(b.Context(), u); err != nil {
		b.Fatal(err)
	}
	return u.ID
}

// BenchmarkGetSessionByToken looks sessions up among 1000, as every request does.
func BenchmarkGetSessionByToken(b *testing.B) {
	benchStores(b, func(b *testing.B, db *sqlstore.DB, uid string) {
		ctx := b.Context()
		now := time.Now()
		var hashes [][]byte
		for i := range 1000 {
			h := fmt.Appendf(nil, "token-hash-%032d", i)
			hashes = append(hashes, h)
			if err := db.CreateSession(ctx, &store.SessionRecord{
				Session: store.Session{ID: fmt.Sprint("s", i), TokenHash: h, UserID: uid, State: store.StateAuthenticated,
					AMR: []string{"pwd", "otp", "mfa"}, AuthTime: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
				CreatedAt: now,
			}); err != nil {
				b.Fatal(err)
			}
		}
		i := 0
		for b.Loop() {
			if _, err := db.GetSessionByToken(ctx, hashes[i%len(hashes)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkAcceptTOTPStep accepts ever newer steps: one conditional update each.
func BenchmarkAcceptTOTPStep(b *testing.B) {
	benchStores(b, func(b *testing.B, db *sqlstore.DB, uid string) {
		ctx := b.Context()
		if err := db.PutTOTP(ctx, &store.TOTPCredential{UserID: uid, SecretEnc: []byte("sealed"), CreatedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
		step := int64(0)
		now := time.Now()
		for b.Loop() {
			step++
			if err := db.AcceptTOTPStep(ctx, uid, step, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConsumeRecoveryCode swaps the active code for a new one each time.
func BenchmarkConsumeRecoveryCode(b *testing.B) {
	benchStores(b, func(b *testing.B, db *sqlstore.DB, uid string) {
		ctx := b.Context()
		cur := []byte("code-hash-0")
		if err := db.PutRecoveryCode(ctx, &store.RecoveryCode{UserID: uid, CodeHash: cur, CreatedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		i := 0
		for b.Loop() {
			i++
			next := fmt.Appendf(nil, "code-hash-%d", i)
			if err := db.ConsumeRecoveryCode(ctx, uid, cur, next, now); err != nil {
				b.Fatal(err)
			}
			cur = next
		}
	})
}

// BenchmarkAccountLock is what the account's lock adds to a transaction that changes the
// account: one that sets the last sign-in time, with and without LockAccount first.
func BenchmarkAccountLock(b *testing.B) {
	for _, lock := range []bool{false, true} {
		b.Run(map[bool]string{false: "without", true: "with"}[lock], func(b *testing.B) {
			benchStores(b, func(b *testing.B, db *sqlstore.DB, uid string) {
				ctx := b.Context()
				now := time.Now()
				cpu0 := testutil.ProcessCPU()
				for b.Loop() {
					err := db.WithTx(ctx, func(st store.Store) error {
						if lock {
							if err := st.LockAccount(ctx, uid); err != nil {
								return err
							}
						}
						return st.SetUserLastLogin(ctx, uid, now)
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(testutil.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		})
	}
}
