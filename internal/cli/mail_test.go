package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// TestMailListAndRetry: a notice the outbox cannot take stays queued and is listed with
// its error; once the queue gave up on it, `mail list --failed` shows it and `mail retry`
// queues it again (audited), after which it is delivered.
func TestMailListAndRetry(t *testing.T) {
	c := newConsole(t)
	c.addUser("ada", "ada@example.com", "user")
	outbox := filepath.Join(c.dataDir, "outbox")
	if err := os.WriteFile(outbox, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "user", "reset-mfa", "ada", "--reason", "verified in person")
	out := c.ok("", "mail", "list")
	wantLine(t, out, `^ID\s+STATUS\s+KIND\s+TO\s+ATTEMPTS`)
	wantLine(t, out, `^1\s+pending\s+mfa_reset\s+ada@example.com\s+1\s.*outbox`)
	if out := c.ok("", "mail", "list", "--failed"); regexpCount(out, `mfa_reset`) != 0 {
		t.Errorf("a pending mail is listed as failed:\n%s", out)
	}

	// The queue gives up on it (as it does after mail.MaxAge).
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(c.dataDir, "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	late := time.Now().Add(48 * time.Hour)
	claimed, err := db.ClaimMail(context.Background(), "test", late, late.Add(time.Minute), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	if err := db.FailMail(context.Background(), claimed[0].ID, "test", "gave up", late); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantLine(t, c.ok("", "mail", "list", "--failed"), `^1\s+failed\s+mfa_reset\s+ada@example.com\s.*gave up`)

	c.fails("", []string{"mail", "retry", "x"}, `mail id "x" is not a number`)
	c.fails("", []string{"mail", "retry", "2"}, "there is no mail 2")
	if err := os.Remove(outbox); err != nil {
		t.Fatal(err)
	}
	wantLine(t, c.ok("", "mail", "retry", "1"), `^mail 1 is queued again$`)
	msgs := mailtest.Outbox(t, outbox)
	if len(msgs) != 1 || mailtest.LastTo(t, msgs, "ada@example.com").Subject != "Your two-step sign-in was reset" {
		t.Errorf("outbox: %d messages, want the reset notice", len(msgs))
	}
	wantLine(t, c.ok("", "mail", "list"), `^1\s+sent\s+mfa_reset\s+ada@example.com\s+1\s`)
	wantLine(t, c.ok("", "audit"), `mail\.retried\s+-\s+-\s+console\s+mail=1 kind=mfa_reset after 2 attempts`)
	c.fails("", []string{"mail", "retry", strconv.Itoa(1)}, "mail 1 has not failed")
}

func regexpCount(s, pattern string) int {
	return len(regexp.MustCompile(pattern).FindAllStringIndex(s, -1))
}
