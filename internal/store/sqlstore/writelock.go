package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// writeLock lets one of this process's writers at a time ask SQLite for its write lock;
// the others wait here, in arrival order, instead of in SQLite's busy handler.
//
// SQLite lets one connection write at a time. Without this lock, a writer that finds the
// database locked sleeps in the busy handler (1, 2, 5, 10 … 100 ms, retrying the file lock
// each time) while the writer before it is long done: under 16 parallel refresh-token
// grants that left a third of the two cores idle and cost the retries' system calls
// (1,461 grants a second at 888 µs of server CPU each against 1,842 at 678 µs with the
// lock; docs/performance.md). A waiting writer also no longer holds one of the pool's
// connections, so a burst of writes cannot keep readers from the pool.
//
// SQLite still decides: another process (the command line, a second server on the same
// file) takes turns with this one through SQLite's file locks and busy timeout, as before.
// A nil writeLock (PostgreSQL, whose writers lock rows, not the database) never waits.
type writeLock chan struct{}

// writeWait is how long a writer waits for this process's other writers before giving up
// with ErrUnavailable: SQLite's busy timeout, so a wait here is bounded as one in SQLite.
const writeWait = 10 * time.Second

func newWriteLock() writeLock { return make(writeLock, 1) }

// acquire waits for the lock until ctx ends or wait has passed.
func (l writeLock) acquire(ctx context.Context, wait time.Duration) error {
	if l == nil {
		return nil
	}
	select {
	case l <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("%w: the database is busy: another write of this server has not finished in %v", store.ErrUnavailable, wait)
	}
}

func (l writeLock) release() {
	if l != nil {
		<-l
	}
}

// lockWrite takes the write lock for a statement that writes outside a transaction (in a
// transaction, WithTx holds it already); it returns the release, a no-op where nothing was
// taken.
func (d *DB) lockWrite(ctx context.Context, query string) (func(), error) {
	if d.writes == nil || d.tx != nil || !writes(query) {
		return func() {}, nil
	}
	if err := d.writes.acquire(ctx, d.writeWait); err != nil {
		return nil, d.lockErr(err)
	}
	return d.writes.release, nil
}

// lockErr counts a write lock's timeout as the database being unavailable, as wrap does
// for the database's own; a request that ended is passed on as it is.
func (d *DB) lockErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		(*d.metrics).DatabaseError(true)
	}
	return err
}
