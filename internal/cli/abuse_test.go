package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/throttle"
)

// openStore opens the console's database directly, as a running server would.
func (c *console) openStore() *sqlstore.DB {
	c.t.Helper()
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(c.dataDir, "twofold.db"))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

func TestUserSignOut(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	c.addUser("bob", "bob@example.com", "user")
	db := c.openStore()
	ctx := context.Background()
	now := time.Now().UTC()
	session := func(u *store.User, id string) {
		t.Helper()
		err := db.CreateSession(ctx, &store.SessionRecord{
			Session: store.Session{ID: id, TokenHash: []byte(id), UserID: u.ID, State: store.StateAuthenticated,
				AMR: []string{"pwd"}, AuthTime: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
			CreatedAt: now,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	alice, _ := db.GetUserByLogin(ctx, "alice")
	bob, _ := db.GetUserByLogin(ctx, "bob")
	session(alice, "a1")
	session(alice, "a2")
	session(bob, "b1")

	if out := c.ok("", "user", "sign-out", "alice@example.com"); !strings.Contains(out, "ended 2 sessions of alice") {
		t.Errorf("sign-out printed %q", out)
	}
	if list, _ := db.ListUserSessions(ctx, alice.ID, now); len(list) != 0 {
		t.Errorf("alice still has %d sessions", len(list))
	}
	if list, _ := db.ListUserSessions(ctx, bob.ID, now); len(list) != 1 {
		t.Errorf("bob has %d sessions, want his 1 untouched", len(list))
	}
	if out := c.ok("", "user", "sign-out", "alice"); !strings.Contains(out, "ended 0 sessions of alice") {
		t.Errorf("second sign-out printed %q", out)
	}
	wantLine(t, c.ok("", "audit", "--user", "alice"), `\ssession\.all_ended\s+-\s+alice\s+console\s+2 sessions, 0 application grants, 0 pending setups ended \(sign_out_everywhere\)$`)
	c.fails("", []string{"user", "sign-out", "nobody"}, `No user "nobody"`)
	c.fails("", []string{"user", "sign-out"}, "accepts 1 arg")
}

func TestUserUnlock(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	db := c.openStore()
	ctx := context.Background()
	alice, _ := db.GetUserByLogin(ctx, "alice")
	rule := throttle.Default
	for range 7 {
		if _, _, err := db.ReserveAttempt(ctx, store.BudgetPassword, alice.ID, rule, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.ReserveAttempt(ctx, store.BudgetSecondFactor, alice.ID, rule, time.Now()); err != nil {
		t.Fatal(err)
	}
	out := c.ok("", "user", "unlock", "alice")
	if want := "alice unlocked (failed attempts forgotten: password 5, second factor 1)"; !strings.Contains(out, want) {
		t.Errorf("unlock printed %q, want %q", out, want)
	}
	for _, kind := range []string{store.BudgetPassword, store.BudgetSecondFactor} {
		if b, err := db.GetBudget(ctx, kind, alice.ID); err == nil {
			t.Errorf("%s budget still has %d failures", kind, b.Failures)
		}
	}
	wantLine(t, c.ok("", "audit", "--user", "alice"), `\sthrottle\.cleared\s+-\s+alice\s+console\s`)
	c.fails("", []string{"user", "unlock", "nobody"}, `No user "nobody"`)
}

func TestUserDelete(t *testing.T) {
	c := newConsole(t)
	c.addUser("root", "root@example.com", "admin")
	c.addUser("alice", "alice@example.com", "user")
	db := c.openStore()
	ctx := context.Background()
	alice, _ := db.GetUserByLogin(ctx, "alice")
	now := time.Now().UTC()
	err := db.CreateSession(ctx, &store.SessionRecord{
		Session: store.Session{ID: "a1", TokenHash: []byte("a1"), UserID: alice.ID, State: store.StateAuthenticated,
			AMR: []string{"pwd"}, AuthTime: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
		CreatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}

	c.fails("", []string{"user", "delete", "alice"}, "not deleted", "is not the username alice")
	c.fails("Alice\n", []string{"user", "delete", "alice@example.com"}, "not deleted")
	if _, err := db.GetUser(ctx, alice.ID); err != nil {
		t.Fatalf("alice after refused deletions: %v", err)
	}
	if out := c.ok("alice\n", "user", "delete", "alice@example.com"); !strings.Contains(out, "deleted alice") {
		t.Errorf("delete printed %q", out)
	}
	if _, err := db.GetUser(ctx, alice.ID); err == nil {
		t.Error("alice still exists")
	}
	if _, err := db.GetSessionByToken(ctx, []byte("a1")); err == nil {
		t.Error("alice's session survived her deletion")
	}
	audit := c.ok("", "audit", "--limit", "3")
	wantLine(t, audit, `\suser\.deleted\s+-\s+\S+\s+console\s+username=alice role=user$`)
	wantLine(t, audit, `\saccess\.ended\s+-\s+\S+\s+console\s+1 session, 0 application grants, 0 pending setups ended \(deleted\)$`)

	c.fails("root\n", []string{"user", "delete", "root"}, "last enabled administrator")
	c.fails("nobody\n", []string{"user", "delete", "nobody"}, `No user "nobody"`)
}
