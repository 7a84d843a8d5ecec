package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// openCase stores a support case for email straight in the console's database (the
// public support page is the server's) and returns its reference.
func openCase(t *testing.T, c *console, ref, email string) string {
	t.Helper()
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(c.dataDir, "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	err = db.CreateCase(context.Background(), &store.SupportCase{ID: ref + "-id", Reference: ref, FullName: "Ada Lovelace",
		Email: email, EmailNorm: strings.ToLower(email), Organisation: "Engines", Category: "lost_device",
		Description: "Lost my phone.", Status: store.CaseOpen, IP: "192.0.2.1", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// giveRecoveryCode stores a recovery code for username straight in the console's
// database, as if they had set up MFA again.
func giveRecoveryCode(t *testing.T, c *console, username string) {
	t.Helper()
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(c.dataDir, "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.GetUserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	rc := &store.RecoveryCode{UserID: u.ID, CodeHash: []byte("not a real hash"), CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := db.PutRecoveryCode(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
}

func TestCaseListAndShow(t *testing.T) {
	c := newConsole(t)
	c.addUser("ada", "ada@example.com", "user")
	out := c.ok("", "case", "list")
	wantLine(t, out, `^REFERENCE\s+OPENED\s+STATUS`)
	ref := openCase(t, c, "TF-ACD234", "Ada@Example.com")
	openCase(t, c, "TF-XYZ679", "ghost@example.com")
	out = c.ok("", "case", "list", "--status", "open", "--search", "ada@")
	wantLine(t, out, `^TF-ACD234\s+\S+ \S+\s+open\s+Ada Lovelace\s+Ada@Example.com\s+-$`)
	if strings.Contains(out, "TF-XYZ679") {
		t.Errorf("search found the other case:\n%s", out)
	}
	out = c.ok("", "case", "show", strings.ToLower(ref))
	wantLine(t, out, `^reference\s+TF-ACD234$`)
	wantLine(t, out, `^account\s+ada \(role user, created .*MFA not set up, 0 failed attempts in 30 days\)$`)
	wantLine(t, out, `^e-mail ownership\s+not confirmed$`)
	out = c.ok("", "case", "show", "TF-XYZ679")
	wantLine(t, out, `^account\s+none uses this e-mail address$`)
	c.fails("", []string{"case", "show", "TF-ZZZZZZ"}, `No support case "TF-ZZZZZZ"`)
	c.fails("", []string{"case", "list", "--status", "lost"}, "Unknown status")
}

func TestUserResetMFA(t *testing.T) {
	c := newConsole(t)
	c.addUser("ada", "ada@example.com", "user")
	c.addUser("bob", "bob@example.com", "user")
	ref := openCase(t, c, "TF-ACD234", "ada@example.com")

	c.fails("", []string{"user", "reset-mfa", "bob", "--reason", "x", "--case", ref}, "does not match the e-mail address of case "+ref)
	c.fails("", []string{"user", "reset-mfa", "nobody", "--reason", "x"}, `No user "nobody"`)
	c.fails("", []string{"user", "reset-mfa", "ada"}, "--reason is required")

	out := c.ok("", "user", "reset-mfa", "ada", "--reason", "verified in person with a badge", "--case", ref)
	wantLine(t, out, `^reset the MFA of ada: removed nothing; 0 sessions ended$`)
	wantLine(t, out, `^the next sign-in sets up a new authenticator$`)
	out = c.ok("", "case", "show", ref)
	wantLine(t, out, `MFA of ada reset by the console \(verified by other means: verified in person with a badge\)`)
	wantLine(t, out, `Reset notice to ada@example.com queued for sending`)
	audit := c.ok("", "audit", "--user", "ada")
	wantLine(t, audit, `support\.mfa_reset.*case=`+ref+`.*agent=the console`)

	// The same command again (run twice by mistake) does nothing: the case records the
	// reset, and ada has set up no second factor since. Once she has one, it resets her.
	c.fails("", []string{"user", "reset-mfa", "ada", "--reason", "verified in person with a badge", "--case", ref},
		"The MFA of ada was reset on case "+ref+" already, and no second factor was set up since")
	giveRecoveryCode(t, c, "ada")
	out = c.ok("", "user", "reset-mfa", "ada", "--reason", "she lost the new phone too", "--case", ref)
	wantLine(t, out, `^reset the MFA of ada: removed recovery code; 0 sessions ended$`)

	// Without --reason it asks, and takes the answer from standard input.
	out = c.ok("called back on the number in HR\n", "user", "reset-mfa", "bob")
	wantLine(t, out, `^reset the MFA of bob`)

	// Without SMTP the notices are .eml files in the outbox.
	msgs := mailtest.Outbox(t, filepath.Join(c.dataDir, "outbox"))
	if len(msgs) != 3 || mailtest.LastTo(t, msgs, "bob@example.com").Subject != "Your two-step sign-in was reset" {
		t.Errorf("outbox: %d messages", len(msgs))
	}
	wantMode(t, filepath.Join(c.dataDir, "outbox"), 0o700)
}
