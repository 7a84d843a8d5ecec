package cli_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/testutil"
)

// installedWithKey is a new SQLite installation with one administrator, alice, its master
// key file and the key file's content.
func installedWithKey(t *testing.T) (c *console, keyFile string, key []byte) {
	t.Helper()
	c = newConsole(t)
	c.addUser("alice", "alice@example.com", "admin")
	keyFile = filepath.Join(c.dataDir, "master.key")
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return c, keyFile, key
}

// TestMissingMasterKeyIsNeverReplaced: a database whose master key file is gone (restored
// without it) makes every command refuse, serve and the starting commands included, and
// no new key is written; with the key back in place (file or TWOFOLD_MASTER_KEY) all works.
func TestMissingMasterKeyIsNeverReplaced(t *testing.T) {
	c, keyFile, key := installedWithKey(t)
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
// and the servers of one database share a key. Only serve makes a new key there: a
// migration job or a console with no key of its own (a key made for it would be recorded
// as the database's at the key check, and every server started with the real key then
// refused) is told to give the servers' key, and writes no key file; `migrate` needs none.
// Once the database holds what a key sealed, a missing key is refused as on SQLite.
func TestMissingMasterKeyOnPostgres(t *testing.T) {
	url := testutil.PostgresURL(t)
	c := newConsole(t)
	c.env["TWOFOLD_DATABASE_URL"] = url
	keyFile := filepath.Join(c.dataDir, "master.key")
	noKeyFile := func() {
		t.Helper()
		if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
			t.Fatalf("a master key file was written (stat: %v)", err)
		}
	}

	if out := c.ok("", "migrate"); !strings.Contains(out, "database is up to date") {
		t.Errorf("migrate printed %q", out)
	}
	noKeyFile()
	for _, args := range [][]string{{"user", "add", "alice", "--email", "alice@example.com", "--password-stdin"}, {"user", "list"}} {
		c.fails(goodPassword+"\n", args, "no master key: with PostgreSQL this command needs the key the servers use",
			"TWOFOLD_MASTER_KEY", apperr.QuotePath(keyFile))
		noKeyFile()
	}

	// The servers' key, given: the console works and the database records that key.
	c.env["TWOFOLD_MASTER_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	c.addUser("alice", "alice@example.com", "admin")
	delete(c.env, "TWOFOLD_MASTER_KEY")
	for _, args := range [][]string{{"user", "list"}, {"serve", "--addr", "127.0.0.1:0"}} {
		c.fails("", args, "the master key file "+apperr.QuotePath(keyFile)+" is missing",
			"the PostgreSQL database holds data sealed with a master key")
		noKeyFile()
	}
}

// TestWrongMasterKeyIsRefused: a database opened with a key it was not made with (another
// installation's key file, another TWOFOLD_MASTER_KEY) makes every command refuse, serve
// and the starting commands included, and names where the key came from; with its own key
// back all works.
func TestWrongMasterKeyIsRefused(t *testing.T) {
	c, keyFile, key := installedWithKey(t)
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if err := os.WriteFile(keyFile, []byte(other+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env   string
		stdin string
		args  []string
	}{
		{"", "", []string{"user", "list"}},
		{"", "", []string{"migrate"}},
		{"", goodPassword + "\n", []string{"user", "add", "bob", "--email", "bob@example.com", "--password-stdin"}},
		{"", "", []string{"serve", "--addr", "127.0.0.1:0"}},
		{mistyped(strings.TrimSpace(string(key))), "", []string{"user", "list"}},
	} {
		name := strings.Join(tc.args, " ")
		if tc.env != "" {
			name += " with TWOFOLD_MASTER_KEY"
		}
		t.Run(name, func(t *testing.T) {
			c.t = t
			source := apperr.QuotePath(keyFile)
			if tc.env != "" {
				c.env["TWOFOLD_MASTER_KEY"] = tc.env
				defer delete(c.env, "TWOFOLD_MASTER_KEY")
				source = "TWOFOLD_MASTER_KEY"
			}
			// Should serve start after all, it stops here and the exit status says so.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := c.runCtx(ctx, tc.stdin, tc.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1\nstderr: %s", r.code, r.stderr)
			}
			for _, w := range []string{
				"the master key from " + source + " does not open the database " + apperr.QuotePath(filepath.Join(c.dataDir, "twofold.db")),
				"made with another key", "docs/operations.md",
			} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}

	t.Run("its own key back", func(t *testing.T) {
		c.t = t
		if err := os.WriteFile(keyFile, key, 0o600); err != nil {
			t.Fatal(err)
		}
		out := c.ok("", "user", "list")
		wantLine(t, out, `^alice\s`)
		if strings.Contains(out, "bob") {
			t.Errorf("a refused command added bob:\n%s", out)
		}
	})
}

// mistyped is key with its first character changed: another valid key.
func mistyped(key string) string {
	if key[0] == 'A' {
		return "B" + key[1:]
	}
	return "A" + key[1:]
}
