package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestMissingMasterKeyIsNeverReplaced: a database whose master key file is gone (restored
// without it) makes every command refuse, serve and the starting commands included, and
// no new key is written; with the key back in place (file or TWOFOLD_MASTER_KEY) all works.
func TestMissingMasterKeyIsNeverReplaced(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "admin")
	keyFile := filepath.Join(c.dataDir, "master.key")
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"user", "list"}},
		{"", []string{"user", "show", "alice"}},
		{"", []string{"migrate"}},
		{goodPassword + "\n", []string{"user", "add", "bob", "--email", "bob@example.com", "--password-stdin"}},
		{"", []string{"serve", "--addr", "127.0.0.1:0"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// Should serve start after all, it stops here and the exit status says so.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := c.runCtx(ctx, tc.stdin, tc.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1\nstderr: %s", r.code, r.stderr)
			}
			for _, w := range []string{
				"the master key file " + apperr.QuotePath(keyFile) + " is missing",
				"the database " + apperr.QuotePath(filepath.Join(c.dataDir, "twofold.db")) + " exists",
				"TWOFOLD_MASTER_KEY", "docs/operations.md",
			} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
				t.Fatalf("a new master key was written (stat: %v)", err)
			}
		})
	}

	t.Run("the key in TWOFOLD_MASTER_KEY", func(t *testing.T) {
		c.t = t
		c.env["TWOFOLD_MASTER_KEY"] = strings.TrimSpace(string(key))
		defer delete(c.env, "TWOFOLD_MASTER_KEY")
		wantLine(t, c.ok("", "user", "list"), `^alice\s`)
		if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
			t.Errorf("a key file was written although TWOFOLD_MASTER_KEY is set (stat: %v)", err)
		}
	})
	t.Run("the key file put back", func(t *testing.T) {
		c.t = t
		if err := os.WriteFile(keyFile, key, 0o600); err != nil {
			t.Fatal(err)
		}
		wantLine(t, c.ok("", "user", "list"), `^alice\s`)
	})
}

// TestMissingMasterKeyOnPostgres: PostgreSQL has no file that says the installation exists,
// so a missing key file is refused once the database holds what a key sealed (here a
// signing key); before that a new key loses nothing and is made as for a new installation.
func TestMissingMasterKeyOnPostgres(t *testing.T) {
	url := testutil.PostgresURL(t)
	c := newConsole(t)
	c.env["TWOFOLD_DATABASE_URL"] = url
	keyFile := filepath.Join(c.dataDir, "master.key")
	c.addUser("alice", "alice@example.com", "admin")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	c.ok("", "user", "list") // nothing sealed yet
	wantMode(t, keyFile, 0o600)

	c.ok("", "keys", "rotate")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"user", "list"}, {"migrate"}} {
		c.fails("", args, "the master key file "+apperr.QuotePath(keyFile)+" is missing",
			"the PostgreSQL database holds data sealed with a master key")
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Errorf("a new master key was written (stat: %v)", err)
	}
}
