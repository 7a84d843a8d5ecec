package sqlstore_test

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
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

	p, err := gooseDialects["sqlite"].provider(raw)
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

// TestAuditCountedIndexMigration: migration 25 down and up again keeps every audit row and
// count, the upsert counts on the index of either shape, and on PostgreSQL an index left
// over by a build that failed half-way is dropped and built again.
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
		db.Close()

		p, err := gooseDialects[dialect].provider(raw)
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
			VALUES (`+map[string]string{"sqlite": "?", "postgres": "$1"}[dialect]+`, 'throttle.refused', '', 'u1', '', '', '', 1, 'password/u1/1')
			ON CONFLICT (dedup) WHERE dedup IS NOT NULL DO UPDATE SET count = audit_events.count + 1`, time.Now().UnixMilli()); err != nil {
			t.Fatalf("count on the full index: %v", err)
		}
		if dialect == "postgres" {
			// A build that failed half-way: an index of the new name, not the one wanted.
			if _, err := raw.ExecContext(ctx, `CREATE INDEX audit_counted ON audit_events(event)`); err != nil {
				t.Fatal(err)
			}
		}
		db = reopen() // migrates up again
		defer db.Close()
		if got := dedupIndexes(t, dialect, raw); len(got) != 1 || !strings.Contains(got[0], "WHERE") {
			t.Errorf("up again, indexes on dedup: %q, want one partial unique index", got)
		}
		if dialect == "postgres" {
			var valid bool
			if err := raw.QueryRowContext(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'audit_counted'::regclass`).Scan(&valid); err != nil || !valid {
				t.Errorf("audit_counted valid: %v, %v", valid, err)
			}
			if got := queryStrings(t, raw, `SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_events' AND indexname = 'audit_counted' AND schemaname = current_schema()`); len(got) != 1 || !strings.Contains(got[0], "(dedup)") {
				t.Errorf("audit_counted after a failed build: %q, want it built again on dedup", got)
			}
		}
		counted(db)
		plain(db)
		wantAuditRows(t, db, 2, 3)
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

type gooseDialect struct {
	dialect goose.Dialect
	dir     string
}

func (g gooseDialect) provider(raw *sql.DB) (*goose.Provider, error) {
	return goose.NewProvider(g.dialect, raw, os.DirFS(g.dir))
}

var gooseDialects = map[string]gooseDialect{
	"sqlite":   {goose.DialectSQLite3, "migrations/sqlite"},
	"postgres": {goose.DialectPostgres, "migrations/postgres"},
}

// dedupIndexes returns the definitions of the indexes on audit_events whose key is dedup.
func dedupIndexes(t *testing.T, dialect string, raw *sql.DB) []string {
	t.Helper()
	if dialect == "postgres" {
		return queryStrings(t, raw, `SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_events' AND schemaname = current_schema() AND indexdef LIKE '%(dedup)%' ORDER BY indexname`)
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
