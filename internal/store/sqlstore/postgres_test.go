package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"hash/fnv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3/lock"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testutil"
)

func openPostgres(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenPostgres(context.Background(), testutil.PostgresURL(t), sqlstore.PoolOptions{MaxOpenConns: 60})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresMigrateIsIdempotent(t *testing.T) {
	db := openPostgres(t)
	for i := 0; i < 2; i++ {
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate #%d: %v", i+1, err)
		}
	}
}

func TestPostgresUnreachableIsUnavailable(t *testing.T) {
	// Port 1 on loopback refuses connections at once.
	_, err := sqlstore.OpenPostgres(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", sqlstore.PoolOptions{})
	if err == nil {
		t.Fatal("open succeeded against a closed port")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("error %v does not wrap store.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "connect to postgres") {
		t.Fatalf("error %q does not say what failed", err)
	}
}

// TestPostgresKilledConnection kills the store's connections in the middle of a
// transaction: the failing call reports store.ErrUnavailable, the transaction's earlier
// write is rolled back (nothing half-written), and the pool recovers for the next call.
func TestPostgresKilledConnection(t *testing.T) {
	ctx := context.Background()
	dsn := testutil.PostgresURL(t)
	db, err := sqlstore.OpenPostgres(ctx, dsn, sqlstore.PoolOptions{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.WithTx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, plainUser("first")); err != nil {
			return err
		}
		if n := testutil.TerminatePostgresConnections(t, dsn); n == 0 {
			t.Fatal("no connection was terminated")
		}
		return tx.CreateUser(ctx, plainUser("second"))
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write on a killed connection: %v, want store.ErrUnavailable", err)
	}
	// The pool recovers: the next calls get fresh connections (database/sql may first
	// hand out another dead idle one, so allow a couple of tries).
	var getErr error
	for i := 0; i < 5; i++ {
		if _, getErr = db.GetUser(ctx, "first"); !errors.Is(getErr, store.ErrUnavailable) {
			break
		}
	}
	if !errors.Is(getErr, store.ErrNotFound) {
		t.Fatalf("after the failed transaction GetUser(first) = %v, want ErrNotFound (rolled back)", getErr)
	}
	if err := db.CreateUser(ctx, plainUser("third")); err != nil {
		t.Fatalf("pool did not recover: %v", err)
	}
}

// TestPostgresConcurrentStartup opens the same empty database from several instances at
// once: the migration lock lets exactly one migrate and all start.
func TestPostgresConcurrentStartup(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	const n = 4
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			db, err := sqlstore.OpenPostgres(context.Background(), dsn, sqlstore.PoolOptions{MaxOpenConns: 2})
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Errorf("instance start: %v", err)
		}
	}
}

// TestPostgresMigrationLockIsPerSchema: a schema's migrations take an advisory lock of
// their own, so a migration running in another schema of the database (here: its lock, the
// one every schema's migrations shared before, held by another session) never delays them.
func TestPostgresMigrationLockIsPerSchema(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), `SELECT pg_advisory_lock($1)`, lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, lock.DefaultLockID)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	db, err := sqlstore.OpenPostgres(ctx, dsn, sqlstore.PoolOptions{MaxOpenConns: 4})
	if err != nil {
		t.Fatalf("open a fresh schema while another schema's migration lock is held: %v", err)
	}
	db.Close()
}

// TestPostgresDeadlockIsUnavailable: two transactions that update two accounts in opposite
// orders deadlock; PostgreSQL ends one of them. Its error is store.ErrUnavailable (the
// request is answered 503 with Retry-After: nothing of it was written, it may be made
// again), not an internal error, and the other transaction commits.
func TestPostgresDeadlockIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db := openPostgres(t)
	now := time.Now()
	var ids [2]string
	for i, name := range []string{"ann", "bob"} {
		u := &store.User{
			Account:      store.Account{ID: "u-" + name, Username: name, Email: name + "@example.com", Role: store.RoleUser},
			UsernameNorm: name, EmailNorm: name + "@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now,
		}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	var both sync.WaitGroup
	both.Add(2)
	errs := make(chan error, 2)
	for _, order := range [][2]string{{ids[0], ids[1]}, {ids[1], ids[0]}} {
		go func() {
			errs <- db.WithTx(ctx, func(st store.Store) error {
				err := st.SetUserLastLogin(ctx, order[0], now)
				both.Done() // also on a failure, so the other does not wait for ever
				if err != nil {
					return err
				}
				both.Wait() // each holds its first row: the second update closes the cycle
				return st.SetUserLastLogin(ctx, order[1], now)
			})
		}()
	}
	var ended, committed int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			committed++
		case errors.Is(err, store.ErrUnavailable) && errors.Is(err, apperr.ErrUnavailable):
			ended++
		default:
			t.Errorf("the deadlock's loser: %v, want store.ErrUnavailable", err)
		}
	}
	if ended != 1 || committed != 1 {
		t.Errorf("%d transactions ended as unavailable and %d committed, want 1 and 1", ended, committed)
	}
}

// TestPostgresAccountLockTakesTurnsPerAccount: while one transaction holds an account's
// lock, a second transaction for the same account waits for it (PostgreSQL shows its
// advisory lock as not granted) and goes on once the first ends, while a transaction for
// another account does not wait at all.
func TestPostgresAccountLockTakesTurnsPerAccount(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	db := openPostgres(t)
	now := time.Now()
	for _, name := range []string{"ann", "bob"} {
		u := &store.User{
			Account:      store.Account{ID: "u-" + name, Username: name, Email: name + "@example.com", Role: store.RoleUser},
			UsernameNorm: name, EmailNorm: name + "@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now,
		}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	lockThen := func(id string, then func() error) error {
		return db.WithTx(ctx, func(st store.Store) error {
			if err := st.LockAccount(ctx, id); err != nil {
				return err
			}
			return then()
		})
	}
	held, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- lockThen("u-ann", func() error { close(held); <-release; return nil })
	}()
	select {
	case <-held:
	case err := <-first:
		t.Fatalf("the first transaction: %v", err)
	}

	// Another account: no wait (a wait would hang here until the context's minute ends).
	if err := lockThen("u-bob", func() error { return nil }); err != nil {
		t.Fatalf("bob's transaction beside ann's lock: %v", err)
	}

	// The same account: the second transaction waits for the lock until the first ends.
	second := make(chan error, 1)
	go func() { second <- lockThen("u-ann", func() error { return nil }) }()
	watch, err := sql.Open("pgx", testutil.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	h := fnv.New32a()
	h.Write([]byte("u-ann"))
	for waiting := false; !waiting; {
		// The lock's two keys: the class "tfac" and the user id's hash (sqlstore.LockAccount).
		err := watch.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2 AND objsubid = 2)`,
			uint32(0x74666163), h.Sum32()).Scan(&waiting)
		if err != nil {
			t.Fatalf("look for the waiting transaction (is it done already? %v)", err)
		}
		select {
		case err := <-second:
			t.Fatalf("a second transaction for ann ended (%v) while the first held her lock", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("the first transaction: %v", err)
	}
	if err := <-second; err != nil {
		t.Errorf("the second transaction, after the first ended: %v", err)
	}
}
