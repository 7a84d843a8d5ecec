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

	p, err := goose.NewProvider(goose.DialectSQLite3, raw, os.DirFS("migrations/sqlite"))
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

// TestCountedEventsCountOnAPartialDedupIndex: the upsert of a counted event matches the
// unique index on the dedup key as it is (every row in it) and as a partial index of the
// rows that have a key, which a later schema may make it: counted events still make one
// row per key, in parallel too, beside plain rows, on both databases.
func TestCountedEventsCountOnAPartialDedupIndex(t *testing.T) {
	run := func(t *testing.T, db *sqlstore.DB, raw *sql.DB) {
		ctx := t.Context()
		for _, q := range []string{
			`DROP INDEX audit_dedup`,
			`CREATE UNIQUE INDEX audit_dedup ON audit_events(dedup) WHERE dedup IS NOT NULL`,
		} {
			if _, err := raw.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
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
		events, err := db.ListAudit(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		plain, counted := 0, 0
		for _, e := range events {
			switch {
			case e.Event == "login.failed" && e.Count == 1 && e.Dedup == "":
				plain++
			case e.Event == "throttle.refused" && e.Count == n:
				counted++
			default:
				t.Errorf("unexpected row %+v", e)
			}
		}
		if plain != n || counted != 1 {
			t.Errorf("%d plain rows and %d counted ones, want %d and one counting %d", plain, counted, n, n)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		db, path := openTemp(t)
		run(t, db, rawDB(t, path))
	})
	t.Run("postgres", func(t *testing.T) {
		db, raw := openPostgresRaw(t, 8)
		run(t, db, raw)
	})
}
