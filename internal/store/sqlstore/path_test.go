package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// TestDirectoryNamesThatMeanSomethingInAURI: a data directory whose name holds '?', '#' or
// '%' is where the database goes, and the backup and the check read it there. Before,
// the path went into SQLite's URI as it was: "a?b" opened the file "a" beside it, with
// the rest taken for parameters, and "e%41f" the directory "eAf".
func TestDirectoryNamesThatMeanSomethingInAURI(t *testing.T) {
	for _, name := range []string{"a?b", "c#d", "e%41f", "g h", "i&j=k"} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			path := filepath.Join(parent, name, "twofold.db")
			db, err := sqlstore.OpenSQLite(t.Context(), path)
			if err != nil {
				t.Fatalf("OpenSQLite: %v", err)
			}
			if err := db.CreateUser(t.Context(), plainUser("ada")); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(parent, name, "backup.db")
			if _, err := sqlstore.BackupSQLite(t.Context(), path, dest); err != nil {
				t.Fatalf("BackupSQLite: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(parent)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != name {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Fatalf("the parent directory holds %q, want only %q", names, name)
			}
			for _, p := range []string{path, dest} {
				if _, err := sqlstore.CheckSQLite(t.Context(), p); err != nil {
					t.Errorf("CheckSQLite(%s): %v", p, err)
				}
			}
			again, err := sqlstore.OpenSQLite(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if _, err := again.GetUser(t.Context(), "ada"); err != nil {
				t.Errorf("the user is not in the database at %s: %v", path, err)
			}
		})
	}
}
