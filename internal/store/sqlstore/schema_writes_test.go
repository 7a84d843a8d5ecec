package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/throttle"
)

// TestThrottleBudgetsAreStoredByKey: on SQLite the budgets are a table ordered by their
// key, with no rowid and no second copy of the key in an index.
func TestThrottleBudgetsAreStoredByKey(t *testing.T) {
	_, path := openTemp(t)
	raw := rawDB(t, path)
	if table := tableSQL(t, raw, "throttle_budgets"); !strings.Contains(table, "WITHOUT ROWID") {
		t.Errorf("throttle_budgets is %q, want a WITHOUT ROWID table", table)
	}
	indexes := queryStrings(t, raw, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'throttle_budgets' ORDER BY name`)
	if strings.Join(indexes, " ") != "throttle_budgets_last" {
		t.Errorf("indexes of throttle_budgets: %v, want only throttle_budgets_last", indexes)
	}
}

func tableSQL(t *testing.T, raw *sql.DB, name string) string {
	t.Helper()
	var def string
	if err := raw.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&def); err != nil {
		t.Fatalf("definition of %s: %v", name, err)
	}
	return def
}

// TestThrottleBudgetsMigration: migration 22 rebuilds SQLite's budget table by its key and
// back; down and up again keep every budget, and reservations count on both shapes.
func TestThrottleBudgetsMigration(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	raw := rawDB(t, path)
	now := time.Now()
	reserve := func(what string, db *sqlstore.DB, key string, want int) {
		t.Helper()
		b, granted, err := db.ReserveAttempt(ctx, store.BudgetPassword, key, throttle.Policy{}, now)
		if err != nil || !granted || b.Failures != want {
			t.Fatalf("%s: ReserveAttempt(%s) = %+v, %v, %v; want granted at %d failures", what, key, b, granted, err, want)
		}
	}
	wantBudgets := func(what string, want map[string]int) {
		t.Helper()
		for key, n := range want {
			var got int
			if err := raw.QueryRow(`SELECT failures FROM throttle_budgets WHERE kind = ? AND bkey = ?`, store.BudgetPassword, key).Scan(&got); err != nil || got != n {
				t.Errorf("%s: budget %s has %d failures (%v), want %d", what, key, got, err, n)
			}
		}
	}
	reserve("migrated", db, "u1", 1)
	reserve("migrated", db, "u2", 1)
	db.Close()

	p, err := testDialects["sqlite"].provider(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 21); err != nil {
		t.Fatalf("migrate down to 21: %v", err)
	}
	if table := tableSQL(t, raw, "throttle_budgets"); strings.Contains(table, "WITHOUT ROWID") {
		t.Errorf("after down, throttle_budgets is %q, want a rowid table", table)
	}
	wantBudgets("after down", map[string]int{"u1": 1, "u2": 1})
	// The upsert that reservations run, on the table as it was.
	if _, err := raw.Exec(`INSERT INTO throttle_budgets (kind, bkey, failures, delay_ms, last_at) VALUES (?, 'u1', 1, 0, 0)
		ON CONFLICT (kind, bkey) DO UPDATE SET failures = throttle_budgets.failures + 1`, store.BudgetPassword); err != nil {
		t.Fatalf("reserve on the table before: %v", err)
	}
	wantBudgets("reserved after down", map[string]int{"u1": 2, "u2": 1})

	db, err = sqlstore.OpenSQLite(ctx, path) // migrates up again
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wantBudgets("up again", map[string]int{"u1": 2, "u2": 1})
	reserve("up again", db, "u2", 2)
	if err := db.ResetBudget(ctx, store.BudgetPassword, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetBudget(ctx, store.BudgetPassword, "u1"); err == nil {
		t.Error("GetBudget after ResetBudget found the budget, want it gone")
	}
}

// TestCountedEventsCountOnAPartialDedupIndex: since migration 25 the unique index on the
// dedup key is partial, of the rows that have a key, and the only index on it. The upsert of
// a counted event matches it: counted events still make one row per key, in parallel too,
// beside plain rows, on both databases.
func TestCountedEventsCountOnAPartialDedupIndex(t *testing.T) {
	run := func(t *testing.T, db *sqlstore.DB, indexes []string) {
		ctx := t.Context()
		if len(indexes) != 1 || !strings.Contains(indexes[0], "WHERE") || !strings.Contains(indexes[0], "UNIQUE") {
			t.Fatalf("indexes on audit_events(dedup): %q, want one unique partial index", indexes)
		}
		const n = 10
		errs := make(chan error, 2*n)
		for i := range n {
			go func() {
				errs <- db.AppendAudit(ctx, &store.AuditEvent{At: time.Now(), Event: "login.failed", SubjectID: "u1", Detail: fmt.Sprint(i)})
			}()
			go func() {
				errs <- db.AppendAudit(ctx, &store.AuditEvent{At: time.Now(), Event: "throttle.refused", SubjectID: "u1", Dedup: "password/u1/1"})
			}()
		}
		for range 2 * n {
			if err := <-errs; err != nil {
				t.Fatalf("AppendAudit on a partial dedup index: %v", err)
			}
		}
		wantAuditRows(t, db, n, n)
	}
	t.Run("sqlite", func(t *testing.T) {
		db, path := openTemp(t)
		run(t, db, dedupIndexes(t, "sqlite", rawDB(t, path)))
	})
	t.Run("postgres", func(t *testing.T) {
		db, raw := openPostgresRaw(t, 8)
		run(t, db, dedupIndexes(t, "postgres", raw))
	})
}

// TestCountedEventsCountBesideAnIndexBeingBuilt: while PostgreSQL builds a unique index on
// the dedup key concurrently, and while it drops one, the upsert's conflict target does not
// settle a conflict on that index, yet a new key is checked there: two first events of one
// key at once then meet a unique violation, or a deadlock. Counted events with a fresh key
// every few milliseconds, from six connections, while migration 25's build and drop run
// twice over: every event is counted (before the retry, about one a run was lost to a
// violation; a deadlock once in a CI run under load).
func TestCountedEventsCountBesideAnIndexBeingBuilt(t *testing.T) {
	db, raw := openPostgresRaw(t, 16)
	// A concurrent build waits for the transactions of every test running in the database.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// A log large enough that each build takes a while.
	if _, err := raw.ExecContext(ctx, `INSERT INTO audit_events (at, event, actor_id, subject_id, ip, user_agent, detail, count)
		SELECT g, 'login.ok', '', 'u', '', '', '', 1 FROM generate_series(1, 300000) g`); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	t.Cleanup(func() { stop.Store(true) })
	var counted atomic.Int64
	errs := make(chan error, 6)
	for range 6 {
		go func() {
			for !stop.Load() {
				key := fmt.Sprint("password/u1/", time.Now().UnixMilli()/3)
				if err := db.AppendAudit(ctx, &store.AuditEvent{At: time.Now(), Event: "throttle.refused", SubjectID: "u1", Dedup: key}); err != nil {
					errs <- err
					return
				}
				counted.Add(1)
			}
			errs <- nil
		}()
	}
	for _, q := range []string{
		`CREATE UNIQUE INDEX CONCURRENTLY audit_building ON audit_events(dedup) WHERE dedup IS NOT NULL`,
		`DROP INDEX CONCURRENTLY audit_counted`,
		`CREATE UNIQUE INDEX CONCURRENTLY audit_counted ON audit_events(dedup) WHERE dedup IS NOT NULL`,
		`DROP INDEX CONCURRENTLY audit_building`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	stop.Store(true)
	for range 6 {
		if err := <-errs; err != nil {
			t.Errorf("AppendAudit beside an index being built: %v", err)
		}
	}
	var sum int64
	if err := raw.QueryRowContext(ctx, `SELECT COALESCE(SUM(count), 0) FROM audit_events WHERE dedup IS NOT NULL`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != counted.Load() || sum == 0 {
		t.Errorf("the counted rows count %d events, %d were appended", sum, counted.Load())
	}
}

// TestAuditCountedIndexMigration: migration 25 down and up again keeps every audit row and
// count, and the upsert counts on the index of either shape. On PostgreSQL, where the
// migration runs outside a transaction, it also runs again after each kind of
// interruption: an invalid index left by a build that failed is dropped and built again,
// and a valid one is kept (the upserts use it while the old index is dropped).
func TestAuditCountedIndexMigration(t *testing.T) {
	run := func(t *testing.T, dialect string, db *sqlstore.DB, raw *sql.DB, reopen func() *sqlstore.DB) {
		ctx := t.Context()
		counted := func(db *sqlstore.DB) {
			t.Helper()
			if err := db.AppendAudit(ctx, &store.AuditEvent{At: time.Now(), Event: "throttle.refused", SubjectID: "u1", Dedup: "password/u1/1"}); err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
		}
		plain := func(db *sqlstore.DB) {
			t.Helper()
			if err := db.AppendAudit(ctx, &store.AuditEvent{At: time.Now(), Event: "login.failed", SubjectID: "u1"}); err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
		}
		counted(db)
		plain(db)
		plain(db)
		db.Close()

		p, err := testDialects[dialect].provider(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 24); err != nil {
			t.Fatalf("migrate down to 24: %v", err)
		}
		if got := dedupIndexes(t, dialect, raw); len(got) != 1 || strings.Contains(got[0], "WHERE") {
			t.Errorf("after down, indexes on dedup: %q, want the full unique index", got)
		}
		// What an instance of schema 24 runs, on the index as it was.
		if _, err := raw.ExecContext(ctx, `INSERT INTO audit_events (at, event, actor_id, subject_id, ip, user_agent, detail, count, dedup)
			VALUES (`+testDialects[dialect].arg1+`, 'throttle.refused', '', 'u1', '', '', '', 1, 'password/u1/1')
			ON CONFLICT (dedup) WHERE dedup IS NOT NULL DO UPDATE SET count = audit_events.count + 1`, time.Now().UnixMilli()); err != nil {
			t.Fatalf("count on the full index: %v", err)
		}
		if dialect == "postgres" {
			// A build that failed half-way leaves an invalid index of the new name (here a
			// unique one over the events, which repeat).
			if _, err := raw.ExecContext(ctx, `CREATE UNIQUE INDEX CONCURRENTLY audit_counted ON audit_events(event)`); err == nil {
				t.Fatal("a unique index over repeated events was built")
			}
			if valid, ok := indexValid(t, raw, "audit_counted"); !ok || valid {
				t.Fatalf("the failed build left audit_counted present %v, valid %v; want an invalid index", ok, valid)
			}
		}
		db = reopen() // migrates up again
		if got := dedupIndexes(t, dialect, raw); len(got) != 1 || !strings.Contains(got[0], "WHERE") {
			t.Errorf("up again, indexes on dedup: %q, want one partial unique index", got)
		}
		if dialect == "postgres" {
			if valid, ok := indexValid(t, raw, "audit_counted"); !ok || !valid {
				t.Errorf("audit_counted after a failed build: present %v, valid %v", ok, valid)
			}
			// The last step interrupted: the new index built, the old one still there, the
			// version not recorded. Running it again keeps the new index as it is.
			db.Close()
			if _, err := p.DownTo(ctx, 24); err != nil {
				t.Fatalf("migrate down to 24: %v", err)
			}
			if _, err := raw.ExecContext(ctx, `CREATE UNIQUE INDEX CONCURRENTLY audit_counted ON audit_events(dedup) WHERE dedup IS NOT NULL`); err != nil {
				t.Fatal(err)
			}
			oid := func() (oid int64) {
				t.Helper()
				if err := raw.QueryRowContext(ctx, `SELECT 'audit_counted'::regclass::oid`).Scan(&oid); err != nil {
					t.Fatal(err)
				}
				return oid
			}
			built := oid()
			db = reopen()
			if got := dedupIndexes(t, dialect, raw); len(got) != 1 || !strings.Contains(got[0], "WHERE") || oid() != built {
				t.Errorf("after the interrupted last step: indexes on dedup %q, audit_counted rebuilt %v; want the built one kept alone", got, oid() != built)
			}
		}
		defer db.Close()
		counted(db)
		plain(db)
		wantAuditRows(t, db, 3, 3)
	}
	t.Run("sqlite", func(t *testing.T) {
		db, path := openTemp(t)
		run(t, "sqlite", db, rawDB(t, path), func() *sqlstore.DB {
			db, err := sqlstore.OpenSQLite(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testutil.PostgresURL(t)
		open := func() *sqlstore.DB {
			db, err := sqlstore.OpenPostgres(t.Context(), dsn, sqlstore.PoolOptions{MaxOpenConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		run(t, "postgres", open(), raw, open)
	})
}

// testDialect is what a test that migrates or queries past the store needs of a database.
type testDialect struct {
	goose goose.Dialect
	dir   string // the migrations
	arg1  string // the first placeholder of a query
}

func (g testDialect) provider(raw *sql.DB) (*goose.Provider, error) {
	return goose.NewProvider(g.goose, raw, os.DirFS(g.dir))
}

var testDialects = map[string]testDialect{
	"sqlite":   {goose.DialectSQLite3, "migrations/sqlite", "?"},
	"postgres": {goose.DialectPostgres, "migrations/postgres", "$1"},
}

// indexValid says whether PostgreSQL's index name exists in the test's schema and is valid.
func indexValid(t *testing.T, raw *sql.DB, name string) (valid, ok bool) {
	t.Helper()
	err := raw.QueryRowContext(t.Context(), `SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)`, name).Scan(&valid)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return valid, true
}

// dedupIndexes returns the definitions of the indexes on audit_events whose key is dedup.
func dedupIndexes(t *testing.T, dialect string, raw *sql.DB) []string {
	t.Helper()
	if dialect == "postgres" {
		// Only this schema's table's indexes reach pg_get_indexdef: through pg_indexes, the
		// planner may ask for the definition of another test's index in a schema being dropped
		// ("could not open relation with OID …").
		all := queryStrings(t, raw, `SELECT pg_get_indexdef(indexrelid) FROM pg_index
			WHERE indrelid = 'audit_events'::regclass ORDER BY indexrelid::regclass::text`)
		return slices.DeleteFunc(all, func(def string) bool { return !strings.Contains(def, "(dedup)") })
	}
	return queryStrings(t, raw, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND sql LIKE '%(dedup)%' ORDER BY name`)
}

// wantAuditRows checks the log holds plain login.failed rows and one throttle.refused row
// counting counted.
func wantAuditRows(t *testing.T, db *sqlstore.DB, plain, counted int) {
	t.Helper()
	events, err := db.ListAudit(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	gotPlain, gotCounted := 0, 0
	for _, e := range events {
		switch {
		case e.Event == "login.failed" && e.Count == 1 && e.Dedup == "":
			gotPlain++
		case e.Event == "throttle.refused" && e.Dedup != "":
			if gotCounted++; e.Count != counted {
				t.Errorf("the counted row counts %d, want %d", e.Count, counted)
			}
		default:
			t.Errorf("unexpected row %+v", e)
		}
	}
	if gotPlain != plain || gotCounted != 1 {
		t.Errorf("%d plain rows and %d counted ones, want %d and one", gotPlain, gotCounted, plain)
	}
}
