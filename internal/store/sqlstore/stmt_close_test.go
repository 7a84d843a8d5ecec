package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// TestCloseLeavesNoConnectionOpen: a query run in a transaction prepares its statement
// aside, in a goroutine of its own; Close must not return while that goroutine still holds
// a connection, or a test's temporary directory is removed while SQLite still writes its
// -wal and -shm files there ("directory not empty").
func TestCloseLeavesNoConnectionOpen(t *testing.T) {
	ctx := context.Background()
	for i := range 40 {
		db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "twofold.db"))
		if err != nil {
			t.Fatal(err)
		}
		_ = db.WithTx(ctx, func(st store.Store) error {
			_, err := st.GetUserByUsername(ctx, "nobody")
			return err
		})
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := db.PoolStats().OpenConnections; n != 0 {
			t.Fatalf("round %d: %d connections still open after Close", i, n)
		}
	}
}
