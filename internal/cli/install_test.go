package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/cli"
)

// startingCommands may start a new installation: where the data directory holds no
// database they create it, the master key and the database. serve and restore are tested
// in serve_test.go and backup_serve_test.go.
var startingCommands = []string{"serve", "migrate", "restore", "user add", "user invite", "client add", "token create"}

// TestCommandsNeedAnExistingInstallation: every other command, run where there is no
// database (a mistyped --data-dir), exits 1 saying so and what to do, and creates nothing:
// no data directory, no master key, no empty database answering "no users".
func TestCommandsNeedAnExistingInstallation(t *testing.T) {
	pw := goodPassword + "\n"
	covered := map[string]bool{}
	for _, name := range startingCommands {
		covered[name] = true
	}
	for _, tc := range []struct {
		cmd   string // the command's path
		stdin string
		args  []string
	}{
		{"user list", "", nil},
		{"user show", "", []string{"alice"}},
		{"user disable", "", []string{"alice"}},
		{"user enable", "", []string{"alice"}},
		{"user set-role", "", []string{"alice", "admin"}},
		{"user set-mfa-required", "", []string{"alice", "yes"}},
		{"user set-password", pw, []string{"alice", "--password-stdin"}},
		{"user sign-out", "", []string{"alice"}},
		{"user unlock", "", []string{"alice"}},
		{"user reset-mfa", "", []string{"alice", "--reason", "lost phone"}},
		{"user delete", "alice\n", []string{"alice"}},
		{"user invite", "", []string{"--resend", "alice"}},
		{"audit", "", nil},
		{"audit prune", "", []string{"--before", "2020-01-31"}},
		{"case list", "", nil},
		{"case show", "", []string{"K7Q2-9XG4"}},
		{"client list", "", nil},
		{"client show", "", []string{"wiki"}},
		{"client edit", "", []string{"wiki", "--name", "Wiki"}},
		{"client rotate-secret", "", []string{"wiki"}},
		{"client remove", "", []string{"wiki"}},
		{"keys list", "", nil},
		{"keys rotate", "", nil},
		{"token list", "", nil},
		{"token revoke", "", []string{"1"}},
		{"mail list", "", nil},
		{"mail retry", "", []string{"1"}},
		{"backup", "", []string{filepath.Join(t.TempDir(), "backup.db")}},
	} {
		covered[tc.cmd] = true
		t.Run(tc.cmd, func(t *testing.T) {
			c := newConsole(t)
			r := c.run(tc.stdin, append(strings.Fields(tc.cmd), tc.args...)...)
			wantQuoted(t, r, "no twofold database in "+apperr.QuotePath(c.dataDir)+", and nothing was created")
			for _, w := range []string{`run "twofold serve"`, "--data-dir", "TWOFOLD_DATA_DIR"} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("the message does not say %q: %s", w, r.stderr)
				}
			}
			if _, err := os.Stat(c.dataDir); !os.IsNotExist(err) {
				t.Errorf("the refused command created the data directory (stat: %v)", err)
			}
		})
	}
	for _, name := range cli.LeafCommands() {
		if !covered[name] {
			t.Errorf("twofold %s: no case says whether it may start an installation", name)
		}
	}
}

// TestCommandsNeedADatabaseNotJustADirectory: a data directory that exists but holds no
// database (only a master key, say) is refused the same way, and left as it was.
func TestCommandsNeedADatabaseNotJustADirectory(t *testing.T) {
	c := newConsole(t)
	c.env["TWOFOLD_DATA_DIR"] = c.dataDir
	if err := os.Mkdir(c.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	c.fails("", []string{"user", "list"}, "no twofold database in "+apperr.QuotePath(c.dataDir))
	if entries, err := os.ReadDir(c.dataDir); err != nil || len(entries) != 0 {
		t.Errorf("the data directory holds %v (%v), want nothing", entries, err)
	}
}

// TestStartingCommandsCreateAnInstallation: the commands that add the first things work
// on a data directory that does not exist yet, and leave an installation the other
// commands work on.
func TestStartingCommandsCreateAnInstallation(t *testing.T) {
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{goodPassword + "\n", []string{"user", "add", "alice", "--email", "alice@example.com", "--password-stdin"}, "created user alice"},
		{"", []string{"user", "invite", "alice", "--email", "alice@example.com"}, "created user alice"},
		{"", []string{"client", "add", "wiki", "--redirect-uri", "https://wiki.example.com/cb"}, "client_id:"},
		{"", []string{"token", "create", "ci", "--scope", "users:read"}, "Created API token"},
		{"", []string{"migrate"}, "database is up to date"},
	} {
		t.Run(strings.Join(tc.args[:min(2, len(tc.args))], " "), func(t *testing.T) {
			c := newConsole(t)
			if out := c.ok(tc.stdin, tc.args...); !strings.Contains(out, tc.want) {
				t.Errorf("printed %q, want %q", out, tc.want)
			}
			wantMode(t, c.dataDir, 0o700)
			wantMode(t, filepath.Join(c.dataDir, "twofold.db"), 0o600)
			wantMode(t, filepath.Join(c.dataDir, "master.key"), 0o600)
			c.ok("", "user", "list")
		})
	}
}
