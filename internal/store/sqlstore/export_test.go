package sqlstore

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// SetWriteWait changes how long d's writers wait for each other (writeWait) for a test.
func SetWriteWait(d *DB, wait time.Duration) { d.writeWait = wait }

// WaitingWriters is how many of d's writers wait for their turn.
func WaitingWriters(d *DB) int { return int(d.writes.waiting.Load()) }

// Rows are the rows Query returns.
type Rows = rows

// Query runs query through d's own query, as the store's methods that return rows do.
func Query(ctx context.Context, d *DB, query string, args ...any) (*Rows, error) {
	return d.query(ctx, query, args...)
}

// TakeConns takes n of d's pooled connections until the test ends.
func TakeConns(t testing.TB, d *DB, n int) {
	t.Helper()
	conns := make([]*sql.Conn, 0, n)
	for range n {
		c, err := d.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
}

// SessionSyncs is how many barriers d's session cache sent to PostgreSQL.
func SessionSyncs(d *DB) uint64 {
	n, _ := d.SessionBarriers()
	return n
}

// SetBarrierWait makes d's session cache wait up to wait for a barrier (on PostgreSQL),
// so that a barrier slowed by other tests' commits does not turn a lookup into a read.
func SetBarrierWait(d *DB, wait time.Duration) {
	if w, ok := d.sessions.watch.(*notifyWatch); ok {
		w.wait.Store(int64(wait))
	}
}

// SessionSyncChannel is the channel of d's session cache barriers ("" on SQLite).
func SessionSyncChannel(d *DB) string {
	if w, ok := d.sessions.watch.(*notifyWatch); ok {
		return w.sync
	}
	return ""
}
