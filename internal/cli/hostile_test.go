package cli_test

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// long is a value no message should repeat in full.
var long = strings.Repeat("a", 100<<10)

// TestHostileValuesAreQuoted gives commands values that are long, not UTF-8, or hold
// controls and direction overrides: each fails with exit 1 and one short line that repeats
// the value only quoted (cut and escaped), never raw.
func TestHostileValuesAreQuoted(t *testing.T) {
	c := newConsole(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"user add role", []string{"user", "add", "x", "--email", "x@example.com", "--role", long}, "unknown role"},
		{"user add role override", []string{"user", "add", "x", "--email", "x@example.com", "--role", "\u202eadmin"}, `"\u202eadmin"`},
		{"user invite role", []string{"user", "invite", "x", "--email", "x@example.com", "--role", long}, "unknown role"},
		{"user set-mfa-required", []string{"user", "set-mfa-required", "x", long}, "use yes, no or default"},
		{"mail retry id", []string{"mail", "retry", long}, "is not a number"},
		{"mail retry escape", []string{"mail", "retry", "\x1b[31m"}, `"\x1b[31m"`},
		{"audit prune date", []string{"audit", "prune", "--before", long}, "want a date"},
		{"client add extra", []string{"client", "add", "x", long}, "redirect URIs follow --redirect-uri"},
		{"backup empty file", []string{"backup", ""}, "give the backup file's path"},
		{"restore empty file", []string{"restore", ""}, "give the backup file's path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.run("", tc.args...)
			wantQuoted(t, r, tc.want)
		})
	}
}

// wantQuoted checks that a command failed with exit 1 and one short, clean line that
// says want.
func wantQuoted(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit %d, want 1\nstderr: %.300s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q:\n%.300s", want, r.stderr)
	}
	if len(r.stderr) > 400 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr is %d bytes on %d lines, want one short line:\n%.300s", len(r.stderr), strings.Count(r.stderr, "\n"), r.stderr)
	}
	if !utf8.ValidString(r.stderr) || strings.ContainsAny(r.stderr, "\u202e\x1b\r") {
		t.Errorf("stderr repeats raw bytes: %q", r.stderr)
	}
}

// TestBadCommandLines gives unknown commands, unknown flags and flag values of the wrong
// kind: each fails with exit 1 and one short line that quotes what was wrong.
func TestBadCommandLines(t *testing.T) {
	c := newConsole(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{long}, "unknown command"},
		{"unknown subcommand", []string{"user", "frobnicate"}, `unknown command "frobnicate" for twofold user`},
		{"misspelt subcommand", []string{"user", "lst"}, "did you mean list?"},
		{"unknown long subcommand", []string{"mail", long}, "see twofold mail --help"},
		{"argument to a command without", []string{"migrate", "\u202ex"}, `unexpected argument "\u202ex"`},
		{"unknown flag", []string{"user", "list", "--" + long}, "unknown flag"},
		{"unknown shorthand", []string{"mail", "retry", "-5"}, `unknown flag "-5"`},
		{"bad flag syntax", []string{"audit", "---\x1b"}, "bad flag syntax"},
		{"integer", []string{"audit", "--limit", long}, "want a whole number"},
		{"huge integer", []string{"mail", "list", "--limit", "99999999999999999999"}, `--limit "99999999999999999999": want a whole number`},
		{"duration", []string{"keys", "rotate", "--keep", long}, "want a duration"},
		{"bool", []string{"client", "edit", "x", "--first-party=\u202e"}, `--first-party "\u202e": want true or false`},
		{"unknown help topic", []string{"help", "bogus"}, `unknown help topic "bogus"`},
		{"missing argument", []string{"backup"}, "usage: twofold backup FILE (accepts 1 arg(s), received 0; see twofold backup --help)"},
		{"extra argument", []string{"mail", "retry", "1", "2"}, "usage: twofold mail retry ID (accepts 1 arg(s), received 2"},
		{"unknown help subtopic", []string{"help", "user", "\x1b[31m"}, `unknown help topic "user \x1b[31m"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantQuoted(t, c.run("", tc.args...), tc.want)
		})
	}
}

// TestGroupCommandWithoutSubcommandShowsHelp: `twofold user` alone is a request for help.
func TestGroupCommandWithoutSubcommandShowsHelp(t *testing.T) {
	c := newConsole(t)
	if out := c.ok("", "user"); !strings.Contains(out, "Available Commands") {
		t.Errorf("twofold user printed %q, want its help", out)
	}
	if out := c.ok("", "help", "user"); !strings.Contains(out, "Available Commands") || !strings.Contains(out, "twofold user") {
		t.Errorf("twofold help user printed %q, want the help of twofold user", out)
	}
}

// TestValuesNotUTF8 gives ids that are not UTF-8: the store refuses them before the
// database, and the console says so in words, not with the store's internal error.
func TestValuesNotUTF8(t *testing.T) {
	c := newInstalled(t)
	for _, args := range [][]string{
		{"token", "revoke", "\xff"},
		{"client", "show", "\xff"},
		{"client", "remove", "\xff"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			r := c.run("", args...)
			wantQuoted(t, r, "not valid UTF-8")
			if strings.Contains(r.stderr, "store:") {
				t.Errorf("stderr shows the store's error: %q", r.stderr)
			}
		})
	}
}

// TestCaseListSearchNamesTheFlag: a refused --search names the flag, not the web form's field.
func TestCaseListSearchNamesTheFlag(t *testing.T) {
	c := newInstalled(t)
	r := c.run("", "case", "list", "--search", long)
	wantQuoted(t, r, "--search must have at most 200 characters")
	if strings.Contains(r.stderr, `"q"`) {
		t.Errorf("stderr names the web field: %q", r.stderr)
	}
}
