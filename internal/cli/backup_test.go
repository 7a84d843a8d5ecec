package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
)

// TestBackupAndRestoreQuotePaths: the file names backup and restore print, on success as
// on refusal, are quoted, so that a newline or a terminal escape in a name never reaches
// the terminal raw.
func TestBackupAndRestoreQuotePaths(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "backup\x1b[31m\n.db")
	c := newInstalled(t)
	out := c.ok("", "backup", odd)
	if want := "to " + apperr.QuotePath(odd) + " (schema version"; !strings.Contains(out, want) {
		t.Errorf("backup printed %q, want it to say %q", out, want)
	}
	if strings.ContainsAny(out, "\x1b") {
		t.Errorf("backup printed a raw escape: %q", out)
	}

	fresh := newConsole(t)
	out = fresh.ok("", "restore", odd)
	for _, want := range []string{
		"restored " + apperr.QuotePath(odd) + " into " + apperr.QuotePath(filepath.Join(fresh.dataDir, "twofold.db")),
		"There is no master key at " + apperr.QuotePath(filepath.Join(fresh.dataDir, "master.key")),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("restore printed %q, want it to say %q", out, want)
		}
	}
	if strings.ContainsAny(out, "\x1b") {
		t.Errorf("restore printed a raw escape: %q", out)
	}

	notDB := filepath.Join(dir, "notes\x1b[31m\n.txt")
	if err := os.WriteFile(notDB, []byte("not a database, just some text that is long enough to look like a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *console
		args []string
		want string
	}{
		{"backup over a file", c, []string{"backup", odd}, apperr.QuotePath(odd) + " already exists"},
		{"restore of a file that is not a database", newConsole(t), []string{"restore", notDB}, "will not restore " + apperr.QuotePath(notDB)},
		{"restore of a missing file", newConsole(t), []string{"restore", odd + "x"}, "stat " + apperr.QuotePath(odd+"x") + ": no such file"},
		{"restore over a database", fresh, []string{"restore", odd}, apperr.QuotePath(fresh.dataDir) + " already holds a database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantQuoted(t, tc.c.run("", tc.args...), tc.want)
		})
	}
}

// TestRestoreRefusesABackupOfAnotherKey: a backup with no authenticator in it still tells
// its master key (its key check value): beside another key, restore refuses and leaves
// the data directory without a database; beside its own key it restores.
func TestRestoreRefusesABackupOfAnotherKey(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "admin") // no authenticator
	backup := filepath.Join(t.TempDir(), "twofold-backup.db")
	c.ok("", "backup", backup)
	key, err := os.ReadFile(filepath.Join(c.dataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}

	other := newConsole(t)
	other.env["TWOFOLD_MASTER_KEY"] = mistyped(strings.TrimSpace(string(key)))
	other.fails("", []string{"restore", backup}, "will not restore "+apperr.QuotePath(backup),
		"the master key in place (TWOFOLD_MASTER_KEY) does not open it: it was made with another key")
	if _, err := os.Stat(filepath.Join(other.dataDir, "twofold.db")); err == nil {
		t.Error("the refused restore left a database behind")
	}

	other.env["TWOFOLD_MASTER_KEY"] = strings.TrimSpace(string(key))
	other.ok("", "restore", backup)
	wantLine(t, other.ok("", "user", "list"), `^alice\s`)
}
