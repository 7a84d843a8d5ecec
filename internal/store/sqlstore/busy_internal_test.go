package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
)

// TestSQLiteBusyIsUnavailable: SQLite's "database is locked" (another process held the
// write lock past the busy timeout) is ErrUnavailable, which the server answers with 503
// and Retry-After, not an internal error: nothing was written and the request may be made
// again. The error is SQLite's own, from a second connection that finds the first writing.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(0)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return db
	}
	ctx := context.Background()
	first, second := open(), open()
	if _, err := first.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	tx, err := first.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = second.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
	if err == nil {
		t.Fatal("a second writer got in beside an open write transaction")
	}
	d := &DB{dialect: sqliteDialect, metrics: noMetrics()}
	if got := d.wrap(err); !errors.Is(got, store.ErrUnavailable) {
		t.Errorf("wrap(%v) = %v, want ErrUnavailable", err, got)
	}
	if got := d.wrap(errors.New("no such table: x")); errors.Is(got, store.ErrUnavailable) {
		t.Errorf("another error counted as unavailable: %v", got)
	}
}
