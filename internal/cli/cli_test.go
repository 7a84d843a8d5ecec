package cli_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/cli"
	"github.com/twofold-id/twofold/internal/testutil"
)

// goodPassword passes the default policy (length and strength).
const goodPassword = "violet tangerine quarry ledger 7"

// fastConfig keeps password hashing cheap so the tests run quickly.
const fastConfig = `
password:
  argon2:
    memory_kib: 8192
    iterations: 1
log:
  level: warn
`

// console is a data directory with a config file, on which tests run twofold commands.
type console struct {
	t       *testing.T
	dataDir string
	env     map[string]string
}

func newConsole(t *testing.T) *console {
	t.Helper()
	root := t.TempDir()
	cfg := filepath.Join(root, "twofold.yaml")
	if err := os.WriteFile(cfg, []byte(fastConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	// The data directory does not exist yet: the first command that may start an
	// installation (user add, migrate, ...) creates it; every other one refuses.
	return &console{t: t, dataDir: filepath.Join(root, "data"), env: map[string]string{"TWOFOLD_CONFIG": cfg}}
}

// newInstalled is newConsole with a new installation in the data directory (twofold
// migrate), for tests that begin with a command that needs one.
func newInstalled(t *testing.T) *console {
	t.Helper()
	c := newConsole(t)
	c.ok("", "migrate")
	return c
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs twofold with args (plus --data-dir) and stdin, in-process.
func (c *console) run(stdin string, args ...string) result {
	c.t.Helper()
	return c.runCtx(context.Background(), stdin, args...)
}

// runCtx is run until ctx ends (serve stops then).
func (c *console) runCtx(ctx context.Context, stdin string, args ...string) result {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--data-dir", c.dataDir)
	code := cli.Main(ctx, args, strings.NewReader(stdin), &stdout, &stderr,
		func(k string) string { return c.env[k] })
	return result{code, stdout.String(), stderr.String()}
}

// ok runs a command that must succeed and returns its standard output.
func (c *console) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("twofold %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must exit 1 and checks that stderr says each of wants.
func (c *console) fails(stdin string, args []string, wants ...string) {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 1 {
		c.t.Errorf("twofold %s: exit %d, want 1\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		return
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			c.t.Errorf("twofold %s: stderr does not say %q:\n%s", strings.Join(args, " "), w, r.stderr)
		}
	}
}

// addUser creates a user through the CLI with the password on stdin.
func (c *console) addUser(name, email, role string) {
	c.t.Helper()
	out := c.ok(goodPassword+"\n", "user", "add", name, "--email", email, "--role", role, "--password-stdin")
	if want := "created user " + name + " <" + email + "> with role " + role; !strings.Contains(out, want) {
		c.t.Errorf("user add printed %q, want %q", out, want)
	}
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %#o, want %#o", filepath.Base(path), got, want)
	}
}

// wantLine fails unless out has a line matching the regular expression.
func wantLine(t *testing.T, out, pattern string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)` + pattern).MatchString(out) {
		t.Errorf("output has no line matching %q:\n%s", pattern, out)
	}
}

func TestUserAddCreatesDataDir(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "admin")
	wantMode(t, c.dataDir, 0o700)
	wantMode(t, filepath.Join(c.dataDir, "twofold.db"), 0o600)
	wantMode(t, filepath.Join(c.dataDir, "master.key"), 0o600)

	// The password was read from stdin and works: a second user shares the database.
	c.addUser("bob", "bob@example.com", "user")
	out := c.ok("", "user", "list")
	wantLine(t, out, `^alice\s+alice@example\.com\s+admin\s+enabled\s+none\s+yes$`)
	wantLine(t, out, `^bob\s+bob@example\.com\s+user\s+enabled\s+none\s+yes$`)
}

func TestUserAddRefusesBadInput(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	pw := goodPassword + "\n"
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"duplicate username", pw, []string{"user", "add", "alice", "--email", "other@example.com", "--password-stdin"}, "That username is already taken."},
		{"duplicate username in other case", pw, []string{"user", "add", "ALICE", "--email", "other@example.com", "--password-stdin"}, "That username is already taken."},
		{"duplicate e-mail", pw, []string{"user", "add", "alicia", "--email", "Alice@Example.com", "--password-stdin"}, "already taken"},
		{"bad e-mail", pw, []string{"user", "add", "bob", "--email", "bob-at-example", "--password-stdin"}, "Enter a valid e-mail address"},
		{"domain literal", pw, []string{"user", "add", "bob", "--email", "bob@[127.0.0.1]", "--password-stdin"}, "IP address in brackets"},
		{"percent in e-mail", pw, []string{"user", "add", "bob", "--email", "bob%evil.example@example.com", "--password-stdin"}, "percent sign"},
		{"bad username", pw, []string{"user", "add", "bob smith", "--email", "bob@example.com", "--password-stdin"}, "A username may contain only"},
		{"look-alike username", pw, []string{"user", "add", "\u0430lice", "--email", "bob@example.com", "--password-stdin"}, "mixes letters or digits of different scripts"},
		{"username without a letter", pw, []string{"user", "add", "..", "--email", "bob@example.com", "--password-stdin"}, "at least one letter or digit"},
		{"unknown role", pw, []string{"user", "add", "bob", "--email", "bob@example.com", "--role", "boss", "--password-stdin"}, `unknown role "boss"`},
		{"weak password", "password123456\n", []string{"user", "add", "bob", "--email", "bob@example.com", "--password-stdin"}, "too common or easy to guess"},
		{"short password", "kx9#q\n", []string{"user", "add", "bob", "--email", "bob@example.com", "--password-stdin"}, "at least 12 characters"},
		{"missing --email", pw, []string{"user", "add", "bob", "--password-stdin"}, "--email is required"},
		{"no password on stdin", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--password-stdin"}, "no password on standard input"},
		{"empty first line", "\n" + goodPassword + "\n", []string{"user", "add", "bob", "--email", "bob@example.com", "--password-stdin"}, "no password on standard input"},
		{"stdin not a terminal", pw, []string{"user", "add", "bob", "--email", "bob@example.com"}, "pass the password with --password-stdin"},
		{"no name", pw, []string{"user", "add", "--email", "bob@example.com", "--password-stdin"}, "accepts 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.fails(tc.stdin, tc.args, tc.want)
		})
	}
	c.t = t
	out := c.ok("", "user", "list")
	if strings.Contains(out, "bob") || strings.Contains(out, "alicia") {
		t.Errorf("a refused user was created:\n%s", out)
	}
}

// The message for a non-terminal stdin names the flag to use.
func TestUserAddWithoutTerminalNamesTheFlag(t *testing.T) {
	c := newConsole(t)
	c.fails("", []string{"user", "add", "bob", "--email", "bob@example.com"},
		"standard input is not a terminal: pass the password with --password-stdin")
}

func TestUserShow(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "support")
	for _, who := range []string{"alice", "ALICE", "alice@example.com", " Alice@Example.COM "} {
		t.Run(who, func(t *testing.T) {
			c.t = t
			out := c.ok("", "user", "show", who)
			wantLine(t, out, `^username:\s+alice$`)
			wantLine(t, out, `^email:\s+alice@example\.com$`)
			wantLine(t, out, `^role:\s+support$`)
			wantLine(t, out, `^status:\s+enabled$`)
			wantLine(t, out, `^last sign-in:\s+never$`)
			wantLine(t, out, `^mfa required:\s+yes \(override: default \(policy: all\)\)$`)
			wantLine(t, out, `^authenticator:\s+none$`)
			wantLine(t, out, `^recovery code:\s+none$`)
			wantLine(t, out, `^active sessions:\s+0$`)
		})
	}
}

func TestUnknownUser(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	for _, args := range [][]string{
		{"user", "show", "nobody"},
		{"user", "disable", "nobody"},
		{"user", "enable", "nobody"},
		{"user", "set-role", "nobody", "admin"},
		{"user", "set-mfa-required", "nobody", "yes"},
		{"audit", "--user", "nobody"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			c.t = t
			c.fails("", args, `No user "nobody"`)
		})
	}
}

func TestUserDisableEnable(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	if out := c.ok("", "user", "disable", "alice"); !strings.Contains(out, "alice is now disabled") {
		t.Errorf("disable printed %q", out)
	}
	wantLine(t, c.ok("", "user", "show", "alice"), `^status:\s+disabled$`)
	wantLine(t, c.ok("", "user", "list"), `^alice\s+\S+\s+user\s+disabled\s`)
	if out := c.ok("", "user", "enable", "alice"); !strings.Contains(out, "alice is now enabled") {
		t.Errorf("enable printed %q", out)
	}
	wantLine(t, c.ok("", "user", "show", "alice"), `^status:\s+enabled$`)
}

func TestUserSetRole(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	if out := c.ok("", "user", "set-role", "alice", "support"); !strings.Contains(out, "alice now has role support") {
		t.Errorf("set-role printed %q", out)
	}
	wantLine(t, c.ok("", "user", "show", "alice"), `^role:\s+support$`)
	c.fails("", []string{"user", "set-role", "alice", "root"}, `Unknown role "root"`)
	c.fails("", []string{"user", "set-role", "alice"}, "accepts 2 arg")
	wantLine(t, c.ok("", "user", "show", "alice"), `^role:\s+support$`)
}

func TestUserSetMFARequired(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	for _, tc := range []struct{ value, line string }{
		{"no", `^mfa required:\s+no \(override: no\)$`},
		{"yes", `^mfa required:\s+yes \(override: yes\)$`},
		{"default", `^mfa required:\s+yes \(override: default \(policy: all\)\)$`},
	} {
		out := c.ok("", "user", "set-mfa-required", "alice", tc.value)
		if want := "MFA required for alice: " + tc.value; !strings.Contains(out, want) {
			t.Errorf("set-mfa-required %s printed %q, want %q", tc.value, out, want)
		}
		wantLine(t, c.ok("", "user", "show", "alice"), tc.line)
	}
	c.fails("", []string{"user", "set-mfa-required", "alice", "maybe"}, `"maybe": use yes, no or default`)
	c.fails("", []string{"user", "set-mfa-required", "alice", ""}, `"": use yes, no or default`)

	t.Run("policy from the environment", func(t *testing.T) {
		c.t = t
		c.env["TWOFOLD_MFA_REQUIRED"] = "admin"
		defer delete(c.env, "TWOFOLD_MFA_REQUIRED")
		wantLine(t, c.ok("", "user", "show", "alice"), `^mfa required:\s+no \(override: default \(policy: admin\)\)$`)
		c.ok("", "user", "set-mfa-required", "alice", "yes")
		wantLine(t, c.ok("", "user", "show", "alice"), `^mfa required:\s+yes \(override: yes\)$`)
	})
}

func TestAudit(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	c.addUser("bob", "bob@example.com", "user")
	c.ok("", "user", "set-role", "alice", "admin")
	c.ok("", "user", "disable", "bob")

	out := c.ok("", "audit")
	wantLine(t, out, `^TIME\s+EVENT\s+ACTOR\s+SUBJECT\s+IP\s+DETAIL$`)
	wantLine(t, out, `\suser\.created\s+-\s+alice\s+console\s+role=user$`)
	wantLine(t, out, `\suser\.created\s+-\s+bob\s+console\s+role=user$`)
	wantLine(t, out, `\suser\.role_changed\s+-\s+alice\s+console\s+user -> admin$`)
	wantLine(t, out, `\suser\.disabled\s+-\s+bob\s+console\s+-$`)
	if i, j := strings.Index(out, "user.disabled"), strings.Index(out, "user.created"); i > j {
		t.Errorf("audit is not newest first:\n%s", out)
	}

	mine := c.ok("", "audit", "--user", "alice")
	wantLine(t, mine, `\suser\.created\s+-\s+alice\s`)
	wantLine(t, mine, `\suser\.role_changed\s+-\s+alice\s`)
	if strings.Contains(mine, "bob") {
		t.Errorf("audit --user alice shows bob's events:\n%s", mine)
	}
	if lines := strings.Count(strings.TrimSpace(c.ok("", "audit", "--limit", "1")), "\n"); lines != 1 {
		t.Errorf("audit --limit 1 printed %d events", lines)
	}
	c.fails("", []string{"audit", "--limit", "0"}, "--limit must be at least 1")
}

func TestMigrate(t *testing.T) {
	c := newConsole(t)
	for range 2 {
		out := c.ok("", "migrate")
		if !strings.Contains(out, "database is up to date") || !strings.Contains(out, filepath.Join(c.dataDir, "twofold.db")) {
			t.Errorf("migrate printed %q", out)
		}
	}
	wantMode(t, filepath.Join(c.dataDir, "twofold.db"), 0o600)
}

func TestInvalidConfigListsEveryProblem(t *testing.T) {
	c := newConsole(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("password:\n  min_length: 3\nlog:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--config", bad, "migrate"},
		{"user", "list", "--config", bad},
		{"--config", bad, "serve"},
	} {
		c.fails("", args, "invalid configuration",
			"password.min_length: 3 is outside 8..128",
			`log.level: "loud" is not debug, info, warn or error`)
	}
	if _, err := os.Stat(c.dataDir); err == nil {
		t.Error("a command with an invalid configuration created the data directory")
	}

	t.Run("unknown key", func(t *testing.T) {
		c.t = t
		typo := filepath.Join(t.TempDir(), "typo.yaml")
		if err := os.WriteFile(typo, []byte("log:\n  levle: info\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.fails("", []string{"--config", typo, "migrate"}, "levle")
	})
	t.Run("problems the file's decoding finds, with the rest", func(t *testing.T) {
		c.t = t
		mixed := filepath.Join(t.TempDir(), "mixed.yaml")
		yaml := "bogus: 1\npassword:\n  min_length: 3\nmfa:\n  required: maybe\nsession:\n  lifetime: 30\n"
		if err := os.WriteFile(mixed, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c.env["TWOFOLD_LOG_LEVEL"] = "loud"
		defer delete(c.env, "TWOFOLD_LOG_LEVEL")
		c.fails("", []string{"--config", mixed, "migrate"}, "invalid configuration",
			"line 1: unknown setting bogus", `line 5: mfa.required must be all, none or a list of roles, not "maybe"`,
			"line 7: session.lifetime must be a duration such as 30m or 12h", "password.min_length: 3 is outside 8..128", `log.level: "loud"`)
		if r := c.run("", "--config", mixed, "migrate"); strings.Contains(r.stderr, "not found in type") {
			t.Errorf("the message names a Go type: %s", r.stderr)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		c.t = t
		c.fails("", []string{"--config", filepath.Join(t.TempDir(), "nope.yaml"), "migrate"}, "nope.yaml")
	})
	t.Run("bad environment", func(t *testing.T) {
		c.t = t
		c.env["TWOFOLD_SESSION_LIFETIME"] = "forever"
		defer delete(c.env, "TWOFOLD_SESSION_LIFETIME")
		c.fails("", []string{"migrate"}, `TWOFOLD_SESSION_LIFETIME: "forever" is not a duration`)
	})
}

func TestMasterKeyFromEnv(t *testing.T) {
	t.Run("bad base64", func(t *testing.T) {
		c := newConsole(t)
		c.env["TWOFOLD_MASTER_KEY"] = "not*base64!"
		c.fails("", []string{"migrate"}, "TWOFOLD_MASTER_KEY", "not base64 of 32 bytes")
	})
	t.Run("wrong length", func(t *testing.T) {
		c := newConsole(t)
		c.env["TWOFOLD_MASTER_KEY"] = base64.StdEncoding.EncodeToString(make([]byte, 16))
		c.fails("", []string{"migrate"}, "TWOFOLD_MASTER_KEY", "not base64 of 32 bytes")
	})
	t.Run("good key is used instead of the file", func(t *testing.T) {
		c := newConsole(t)
		c.env["TWOFOLD_MASTER_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
		c.addUser("alice", "alice@example.com", "user")
		if _, err := os.Stat(filepath.Join(c.dataDir, "master.key")); !os.IsNotExist(err) {
			t.Errorf("master.key was created although TWOFOLD_MASTER_KEY is set (stat: %v)", err)
		}
	})
}

func TestUnknownCommand(t *testing.T) {
	c := newConsole(t)
	c.fails("", []string{"frobnicate"}, `unknown command "frobnicate"`)
	c.fails("", []string{"user", "add", "x", "--emial", "x@example.com"}, `unknown flag "--emial"`)
}

// TestPostgres runs the user commands against PostgreSQL with --database.
func TestPostgres(t *testing.T) {
	url := testutil.PostgresURL(t)
	c := newConsole(t)
	out := c.ok("", "migrate", "--database", url)
	if !strings.Contains(out, "database is up to date") || strings.Contains(out, "twofold.db") {
		t.Errorf("migrate printed %q", out)
	}
	// On PostgreSQL a console gives the servers' key (TestMissingMasterKeyOnPostgres).
	c.env["TWOFOLD_MASTER_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))
	c.ok(goodPassword+"\n", "user", "add", "alice", "--email", "alice@example.com", "--password-stdin", "--database", url)
	c.fails(goodPassword+"\n", []string{"user", "add", "alice", "--email", "x@example.com", "--password-stdin", "--database", url}, "That username is already taken.")
	c.env["TWOFOLD_DATABASE_URL"] = url
	wantLine(t, c.ok("", "user", "list"), `^alice\s+alice@example\.com\s+user\s+enabled`)
	if _, err := os.Stat(filepath.Join(c.dataDir, "twofold.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite file was created although PostgreSQL was selected (stat: %v)", err)
	}
}

// An unreachable database at start-up is a clear error and exit status 1, never a panic,
// for serve as for every other command; the password in the URL is not printed.
func TestUnreachableDatabase(t *testing.T) {
	c := newConsole(t)
	url := "postgres://twofold:s3cret-pw@127.0.0.1:1/twofold?sslmode=disable&connect_timeout=2"
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--database", url},
		{"migrate", "--database", url},
		{"user", "list", "--database", url},
	} {
		r := c.run("", args...)
		if r.code != 1 || !strings.Contains(r.stderr, "connect to postgres") {
			t.Errorf("twofold %s: exit %d, stderr %q; want 1 and a connection error", args[0], r.code, r.stderr)
		}
		if strings.Contains(r.stderr+r.stdout, "s3cret-pw") {
			t.Errorf("twofold %s printed the database password: %s", args[0], r.stderr)
		}
	}
}

// TestUserAddEmailVerified: the operator vouches for an address with --email-verified;
// without it the address starts unverified.
func TestUserAddEmailVerified(t *testing.T) {
	c := newConsole(t)
	out := c.ok(goodPassword+"\n", "user", "add", "alice", "--email", "alice@example.com", "--email-verified", "--password-stdin")
	if !strings.Contains(out, "address verified") {
		t.Errorf("user add --email-verified printed %q, want it to say the address is verified", out)
	}
	c.addUser("bob", "bob@example.com", "user")
	db := c.openStore()
	for name, want := range map[string]bool{"alice": true, "bob": false} {
		u, err := db.GetUserByUsername(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if u.EmailVerified != want {
			t.Errorf("%s: EmailVerified = %v, want %v", name, u.EmailVerified, want)
		}
	}
}
