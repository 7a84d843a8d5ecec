package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// writeLock lets one of this process's writers at a time ask SQLite for its write lock;
// the others wait here, in arrival order, instead of in SQLite's busy handler.
//
// SQLite lets one connection write at a time. Without this lock, a writer that finds the
// database locked sleeps in the busy handler (1, 2, 5, 10 … 100 ms, retrying the file lock
// each time) while the writer before it is long done, on one of the pool's connections.
// With it, 16 parallel refresh-token grants cost about a tenth less server CPU each
// (docs/performance.md, "Writers take turns in the process"), and a burst of writes cannot
// keep readers from the pool.
//
// SQLite still decides: another process (the command line, a second server on the same
// file) takes turns with this one through SQLite's file locks and busy timeout, as before,
// so a writer may wait up to writeWait here and then up to the busy timeout in SQLite.
// A nil *writeLock (PostgreSQL, whose writers lock rows, not the database) never waits.
type writeLock struct {
	turn    chan struct{} // holds a value while a writer has the turn
	waiting atomic.Int32  // writers waiting for the turn (for tests)
}

// writeWait is how long a writer waits for its turn before giving up with ErrUnavailable:
// as long as SQLite's busy timeout.
const writeWait = 10 * time.Second

func newWriteLock() *writeLock { return &writeLock{turn: make(chan struct{}, 1)} }

// acquire waits for the lock until ctx ends or wait has passed.
func (l *writeLock) acquire(ctx context.Context, wait time.Duration) error {
	if l == nil {
		return nil
	}
	select {
	case l.turn <- struct{}{}:
		return nil
	default:
	}
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case l.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("%w: the database is busy: no turn to write within %v", store.ErrUnavailable, wait)
	}
}

func (l *writeLock) release() {
	if l != nil {
		<-l.turn
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
