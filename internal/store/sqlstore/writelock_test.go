package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// plainUser is an account named name with nothing but its row: no password that verifies,
// no second factor.
func plainUser(name string) *store.User {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &store.User{
		Account:      store.Account{ID: name, Username: name, Email: name + "@example.com", Role: store.RoleUser},
		UsernameNorm: name,
		EmailNorm:    name + "@example.com",
		PasswordHash: "x",
		CreatedAt:    now,
		UpdatedAt:    now,
	}
}

// holdWrites starts a transaction that holds the write lock until the returned release
// is called.
func holdWrites(t *testing.T, db *sqlstore.DB) (release func()) {
	t.Helper()
	held, done := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := db.WithTx(context.Background(), func(store.Store) error {
			close(held)
			<-done
			return nil
		}); err != nil {
			t.Errorf("holding transaction: %v", err)
		}
	}()
	<-held
	var once sync.Once
	release = func() { once.Do(func() { close(done); wg.Wait() }) }
	t.Cleanup(release)
	return release
}

// TestWaitingWritersLeaveConnectionsToReaders: writers waiting for another's transaction
// wait in this process, not in SQLite's busy handler on one of the pool's eight
// connections, so reads go on however many writers queue. Before the write lock, ten
// waiting writers took every connection and a read waited for the busy timeout (10 s).
func TestWaitingWritersLeaveConnectionsToReaders(t *testing.T) {
	db, _ := openTemp(t)
	release := holdWrites(t, db)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.WithTx(context.Background(), func(tx store.Store) error {
				return tx.CreateUser(context.Background(), plainUser(fmt.Sprintf("writer%d", i)))
			})
		}()
	}
	// The read below must find them waiting.
	for sqlstore.WaitingWriters(db) < 10 {
		time.Sleep(5 * time.Millisecond)
	}
	if n := db.PoolStats().InUse; n != 1 {
		t.Errorf("%d connections in use while ten writers wait, want 1 (the holding transaction's)", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := db.GetUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("read while ten writers wait: %v, want ErrNotFound", err)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("queued writer: %v", err)
		}
	}
	users, err := db.ListUsers(context.Background())
	if err != nil || len(users) != 10 {
		t.Fatalf("after the queue: %d users, %v; want 10", len(users), err)
	}
}

// TestWriterGivesUpAsUnavailable: a writer that waits longer than the bound (SQLite's busy
// timeout; shortened here) gets ErrUnavailable (503 with Retry-After), in a transaction and
// outside one, for a plain write and for ones that return a row or rows; then writes again
// once the lock is free.
func TestWriterGivesUpAsUnavailable(t *testing.T) {
	db, _ := openTemp(t)
	sqlstore.SetWriteWait(db, 50*time.Millisecond)
	ctx := context.Background()
	release := holdWrites(t, db)
	err := db.WithTx(ctx, func(tx store.Store) error { return tx.CreateUser(ctx, plainUser("intx")) })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("transaction behind a held lock: %v, want ErrUnavailable", err)
	}
	if err := db.CreateUser(ctx, plainUser("plain")); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("write behind a held lock: %v, want ErrUnavailable", err)
	}
	if _, _, err := db.TakeFromWindow(ctx, "w", time.Unix(0, 0), 5); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("write returning a row behind a held lock: %v, want ErrUnavailable", err)
	}
	if _, err := db.ClaimMail(ctx, "claim", time.Now(), time.Now().Add(time.Minute), 10); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("write returning rows behind a held lock: %v, want ErrUnavailable", err)
	}
	release()
	if _, err := db.ClaimMail(ctx, "claim", time.Now(), time.Now().Add(time.Minute), 10); err != nil {
		t.Errorf("ClaimMail after the lock is free: %v", err)
	}
	if err := db.CreateUser(ctx, plainUser("plain")); err != nil {
		t.Errorf("write after the lock is free: %v", err)
	}
	if ok, _, err := db.TakeFromWindow(ctx, "w", time.Unix(0, 0), 5); !ok || err != nil {
		t.Errorf("TakeFromWindow after the lock is free: %v, %v", ok, err)
	}
}

// TestWriterWaitEndsWithRequest: a writer whose request ends while it waits gives up at
// once with the context's error.
func TestWriterWaitEndsWithRequest(t *testing.T) {
	db, _ := openTemp(t)
	holdWrites(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- db.WithTx(ctx, func(tx store.Store) error { return tx.CreateUser(ctx, plainUser("late")) })
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("writer whose request ended: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("writer whose request ended still waits")
	}
}

// TestAfterCommitMayWrite: what AfterCommit defers runs once the lock is let go, so it may
// write through the store outside the transaction (it would otherwise wait for itself).
func TestAfterCommitMayWrite(t *testing.T) {
	db, _ := openTemp(t)
	sqlstore.SetWriteWait(db, time.Second)
	ctx := context.Background()
	var afterErr error
	err := db.WithTx(ctx, func(tx store.Store) error {
		tx.AfterCommit(func() { afterErr = db.CreateUser(ctx, plainUser("after")) })
		return tx.CreateUser(ctx, plainUser("inside"))
	})
	if err != nil || afterErr != nil {
		t.Fatalf("WithTx: %v; write after commit: %v", err, afterErr)
	}
	if _, err := db.GetUser(ctx, "after"); err != nil {
		t.Errorf("user written after commit: %v", err)
	}
}

// TestPanicInTransactionLetsGo: a transaction whose function panics rolls back and lets go
// of the lock, so the next writer does not wait out the bound.
func TestPanicInTransactionLetsGo(t *testing.T) {
	db, _ := openTemp(t)
	sqlstore.SetWriteWait(db, time.Second)
	ctx := context.Background()
	func() {
		defer func() { _ = recover() }()
		_ = db.WithTx(ctx, func(tx store.Store) error {
			_ = tx.CreateUser(ctx, plainUser("rolledback"))
			panic("boom")
		})
	}()
	if err := db.CreateUser(ctx, plainUser("next")); err != nil {
		t.Fatalf("write after a panicking transaction: %v", err)
	}
	if _, err := db.GetUser(ctx, "rolledback"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("panicking transaction's user: %v, want ErrNotFound", err)
	}
}

// waitForWriters fails unless n of db's writers wait for their turn within a few seconds.
func waitForWriters(t *testing.T, db *sqlstore.DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); sqlstore.WaitingWriters(db) != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writers wait for their turn, want %d", sqlstore.WaitingWriters(db), n)
		}
	}
}

// TestWritingQueryTakesTurns: a statement that writes and returns rows outside a
// transaction (UPDATE … RETURNING through the store's query, not only through collect)
// waits for its turn like any writer, and holds the turn until its rows are closed, so
// the next writer waits in this process, not in SQLite's busy handler. A query that only
// reads waits for no writer.
func TestWritingQueryTakesTurns(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	if err := db.CreateUser(ctx, plainUser("ada")); err != nil {
		t.Fatal(err)
	}
	const update = `UPDATE users SET display_name = ? WHERE id = ? RETURNING display_name`

	release := holdWrites(t, db)
	read, err := sqlstore.Query(ctx, db, `SELECT id FROM users`)
	if err != nil {
		t.Fatalf("a read while another holds the turn: %v", err)
	}
	read.Close()
	opened := make(chan *sqlstore.Rows, 1)
	go func() {
		rows, err := sqlstore.Query(ctx, db, update, "Ada", "ada")
		if err != nil {
			t.Errorf("the writing query: %v", err)
		}
		opened <- rows
	}()
	waitForWriters(t, db, 1)
	release()
	rows := <-opened
	if rows == nil {
		t.FailNow()
	}

	wrote := make(chan error, 1)
	go func() { wrote <- db.CreateUser(ctx, plainUser("bob")) }()
	waitForWriters(t, db, 1)
	var name string
	if !rows.Next() || rows.Scan(&name) != nil || name != "Ada" {
		t.Errorf("the writing query returned %q (%v)", name, rows.Err())
	}
	select {
	case err := <-wrote:
		t.Fatalf("a writer went ahead while the writing query's rows were open: %v", err)
	default:
	}
	rows.Close()
	if err := <-wrote; err != nil {
		t.Errorf("the writer after the rows closed: %v", err)
	}
	rows.Close() // once more: lets go of nothing
	if err := db.CreateUser(ctx, plainUser("cy")); err != nil {
		t.Errorf("a write after the rows closed twice: %v", err)
	}
}
