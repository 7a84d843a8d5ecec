package sqlstore

import (
	"database/sql"
	"testing"
	"time"
)

// SetWriteWait changes how long d's writers wait for each other (writeWait) for a test.
func SetWriteWait(d *DB, wait time.Duration) { d.writeWait = wait }

// WaitingWriters is how many of d's writers wait for their turn.
func WaitingWriters(d *DB) int { return int(d.writes.waiting.Load()) }

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
