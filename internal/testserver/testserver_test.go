package testserver_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestServerIsTheProductionWiring: the test server runs what `twofold serve` runs,
// housekeeping included. A database with an audit event older than the configured
// retention loses it to the housekeeping round the server starts with, which says so.
func TestServerIsTheProductionWiring(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(dir, "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	old := store.AuditEvent{At: testserver.Start.Add(-400 * 24 * time.Hour), Event: "login.failed"}
	if err := db.AppendAudit(t.Context(), &old); err != nil {
		t.Fatal(err)
	}
	db.Close()

	srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) {
		c.DataDir = dir
		c.Audit.Retention = 365 * 24 * time.Hour
	}})
	// The round runs beside the test: wait for it, as long as a loaded machine may need.
	var events []store.AuditEvent
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if events, err = srv.Store.ListAudit(t.Context(), store.AuditFilter{}); err != nil {
			t.Fatal(err)
		}
		if len(events) == 1 && events[0].Event == "audit.pruned" {
			return
		}
	}
	t.Fatalf("the test server's housekeeping never pruned the old event: audit log %+v", events)
}
