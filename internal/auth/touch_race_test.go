package auth_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testserver"
)

// blockingTx stalls the next WithTx until release is closed (a slow batch commit).
type blockingTx struct {
	*sqlstore.DB
	entered, release chan struct{}
	armed            bool
}

func (b *blockingTx) WithTx(ctx context.Context, fn func(store.Store) error) error {
	if b.armed {
		b.armed = false
		close(b.entered)
		<-b.release
	}
	return b.DB.WithTx(ctx, fn)
}

// batchedOptions: an idle timeout of 5 minutes, last-seen times batched, and an hour
// between batches, so that only housekeeping and the end write them.
var batchedOptions = auth.Options{IdleTimeout: 5 * time.Minute, Lifetime: time.Hour, BatchTouches: true,
	TouchFlushInterval: time.Hour}

// blockingService is a service with batchedOptions on a SQLite store whose transactions
// b can stall.
func blockingService(t *testing.T) (*blockingTx, *auth.Service, *testserver.Clock) {
	t.Helper()
	db := openSQLite(t)
	b := &blockingTx{DB: db, entered: make(chan struct{}), release: make(chan struct{})}
	o := batchedOptions
	o.Store = b
	svc, clock := newService(t, o)
	return b, svc, clock
}

// openSQLite opens a fresh SQLite store, closed when the test ends.
func openSQLite(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestActiveSessionIsServedWhileABatchIsWritten: while a batch of last-seen times is being
// committed, the stored time is not updated yet, and the noted one must still count.
func TestActiveSessionIsServedWhileABatchIsWritten(t *testing.T) {
	b, svc, clock := blockingService(t)
	cur := signedIn(t, svc)
	ctx, stop := context.WithCancel(context.Background())
	done := svc.BatchTouches(ctx)
	defer func() { stop(); <-done }()

	clock.Advance(5*time.Minute - time.Second) // back just before the idle timeout: noted
	if !alive(t, svc, cur.Token) {
		t.Fatal("session ended before its idle timeout")
	}
	b.armed = true
	hk := make(chan struct{})
	go func() { defer close(hk); svc.DeleteExpired(context.Background()) }()
	<-b.entered // the batch is taken, its commit has not happened yet
	clock.Advance(2 * time.Second)
	ok := alive(t, svc, cur.Token) // 2 s after the last request
	close(b.release)
	<-hk
	if !ok {
		t.Error("an active session (last request 2 s ago, idle timeout 5 min) was refused while the batch was written")
	}
}

// TestNotedTouchesSurviveAStopDuringHousekeeping: the server stops while housekeeping
// writes a batch; the final write waits for it and writes what it could not.
func TestNotedTouchesSurviveAStopDuringHousekeeping(t *testing.T) {
	b, svc, clock := blockingService(t)
	cur := signedIn(t, svc)
	ctx, stop := context.WithCancel(context.Background())
	done := svc.BatchTouches(ctx)

	clock.Advance(4 * time.Minute)
	seen := clock.Now()
	if !alive(t, svc, cur.Token) {
		t.Fatal("session ended")
	}
	b.armed = true
	hk := make(chan struct{})
	go func() { defer close(hk); svc.DeleteExpired(ctx) }() // housekeeping's round, same ctx as in App.Housekeep
	<-b.entered
	stop()           // the server stops during the round
	close(b.release) // the final write waits for the round's
	<-hk
	<-done
	list, err := b.ListUserSessions(context.Background(), cur.User.ID, clock.Now())
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	if !list[0].LastSeenAt.Equal(seen) {
		t.Errorf("stored last-seen %v after the server stopped, want the noted %v: the touch was lost", list[0].LastSeenAt, seen)
	}
}

// TestTouchNotedDuringHousekeepingKeepsTheSession: a touch noted after housekeeping took
// its batch is not written before the delete; the delete's cutoff, taken before, must not
// reach the session.
func TestTouchNotedDuringHousekeepingKeepsTheSession(t *testing.T) {
	b, svc, clock := blockingService(t)
	a := signedIn(t, svc)
	other := signedIn(t, svc)
	ctx, stop := context.WithCancel(context.Background())
	done := svc.BatchTouches(ctx)
	defer func() { stop(); <-done }()
	clock.Advance(time.Minute)
	alive(t, svc, other.Token) // something to write in the next batch
	clock.Advance(4*time.Minute - time.Second)
	b.armed = true
	hk := make(chan struct{})
	go func() { defer close(hk); svc.DeleteExpired(context.Background()) }()
	<-b.entered
	if !alive(t, svc, a.Token) { // a request 1 s before the idle timeout: noted
		t.Fatal("session ended before its idle timeout")
	}
	clock.Advance(2 * time.Second)
	close(b.release)
	<-hk
	if !alive(t, svc, a.Token) {
		t.Error("session deleted by housekeeping 2 s after its last request (idle timeout 5 min)")
	}
}

// TestSecondServerOnTheFileKeepsANotedSession: two SQLite servers on one file (serve takes
// the data directory's lock shared, so a second one starts, e.g. while the first drains in
// a restart); the second's housekeeping must not delete a session the first noted a touch
// of and has not written yet.
func TestSecondServerOnTheFileKeepsANotedSession(t *testing.T) {
	opts := batchedOptions
	opts.Store = openSQLite(t)
	a, clockA := newService(t, opts)
	b, clockB := newService(t, opts)
	cur := signedIn(t, a)
	clockB.Advance(clockA.Now().Sub(clockB.Now()))
	for _, svc := range []*auth.Service{a, b} {
		ctx, stop := context.WithCancel(context.Background())
		done := svc.BatchTouches(ctx)
		defer func() { stop(); <-done }()
	}
	adv := func(d time.Duration) { clockA.Advance(d); clockB.Advance(d) }
	adv(5*time.Minute - time.Second)
	if !alive(t, a, cur.Token) { // served by A: noted in A's memory
		t.Fatal("session ended before its idle timeout")
	}
	adv(2 * time.Second)
	if _, err := b.DeleteExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !alive(t, a, cur.Token) {
		t.Error("session deleted by the second server's housekeeping 2 s after its last request (idle timeout 5 min)")
	}
}
