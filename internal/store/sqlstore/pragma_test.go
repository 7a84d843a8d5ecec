package sqlstore

import (
	"path/filepath"
	"strconv"
	"testing"
)

// TestSQLiteConnectionSettings: every connection of the pool runs in WAL mode with the
// checkpoint interval, foreign keys and the synchronous level OpenSQLite asks for.
func TestSQLiteConnectionSettings(t *testing.T) {
	ctx := t.Context()
	d, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Hold several connections at once, so the check is not of one connection only.
	var conns []func() error
	for range sqliteConns {
		c, err := d.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c.Close)
		for _, p := range []struct {
			pragma, want string
		}{
			{"journal_mode", "wal"},
			{"wal_autocheckpoint", strconv.Itoa(walCheckpointPages)},
			{"foreign_keys", "1"},
			{"synchronous", "1"}, // NORMAL
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != p.want {
				t.Errorf("PRAGMA %s = %s, want %s", p.pragma, got, p.want)
			}
		}
	}
	for _, c := range conns {
		c()
	}
}
