package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// TestDuplicateStatementClosedOutsideLock: two callers prepare the same query at once and
// the cache closes the one it does not keep. Closing waits for the connection it was
// prepared on, here busy with a write that waits for SQLite's write lock; a transaction
// holds that lock and runs one more query before it commits. Were the statement closed
// under the cache's lock, that query would wait for the close, the close for the writer,
// the writer for the transaction: the writer fails with "database is locked" once the busy
// timeout has passed (as 20 parallel password-reset requests did).
func TestDuplicateStatementClosedOutsideLock(t *testing.T) {
	ctx := context.Background()
	d, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.stmts == nil {
		t.Skip("SQLite's statement cache is off")
	}
	d.db.SetMaxOpenConns(2) // one for the transaction, one for the duplicate and the writer
	const query = `SELECT COUNT(*) FROM users`
	if d.stmt(ctx, query) == nil {
		t.Fatal("query not prepared")
	}

	inTx, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- d.WithTx(ctx, func(st store.Store) error {
			close(inTx)
			<-release
			var n int
			return st.(*DB).queryRow(ctx, query).Scan(&n)
		})
	}()
	<-inTx

	writerDone := make(chan error, 1)
	hookDone := make(chan struct{})
	d.stmts.testHookPrepared = func() {
		// The duplicate is prepared and its connection back in the pool: the writer takes
		// it and waits there for the transaction's write lock.
		go func() {
			_, err := d.db.ExecContext(ctx, `INSERT INTO counter_windows (name, window_start, used, refused)
				VALUES ('test', 0, 1, 0)`)
			writerDone <- err
		}()
		for d.db.Stats().InUse < 2 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // into the step, holding the connection
		close(hookDone)
	}
	prepared := make(chan bool, 1)
	go func() { prepared <- d.stmts.prepare(ctx, d.db, query) != nil }()
	<-hookDone
	time.Sleep(50 * time.Millisecond) // the duplicate is being closed
	close(release)

	if err := <-writerDone; err != nil {
		t.Errorf("writer: %v, want it to run once the transaction commits", err)
	}
	if err := <-txDone; err != nil {
		t.Errorf("transaction: %v", err)
	}
	if !<-prepared {
		t.Error("the second preparation returned no statement, want the kept one")
	}
}
