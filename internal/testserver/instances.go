package testserver

import (
	"testing"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testutil"
)

// Databases are the names Instances takes: the embedded SQLite file and PostgreSQL.
var Databases = []string{"sqlite", "postgres"}

// Instances starts two servers on one database with one clock, each with its own
// connection pool (and, on SQLite, its own write lock): two instances of a scaled-out
// deployment. db "postgres" uses a schema of the test's own; "sqlite" one database file in
// a data directory both servers use, so that only SQLite's file locks arbitrate between
// them. o.Clock, o.DatabaseURL and the data directory are set here; o.Config runs first.
func Instances(t testing.TB, db string, o Options) (a, b *Server) {
	t.Helper()
	o.Clock = NewClock()
	switch db {
	case "postgres":
		o.DatabaseURL = testutil.PostgresURL(t)
	case "sqlite":
		o.DatabaseURL = ""
		dir, adjust := t.TempDir(), o.Config
		o.Config = func(c *config.Config) {
			if adjust != nil {
				adjust(c)
			}
			c.DataDir = dir
		}
	default:
		t.Fatalf("testserver.Instances: unknown database %q", db)
	}
	return New(t, o), New(t, o)
}
