package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store"
)

// TestUserSetPassword: an administrator sets a password at the console. The policy
// applies; the new password works and the old one does not; every session, application
// grant and live reset link of the user ends, and nobody else's; it is audited.
func TestUserSetPassword(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	c.addUser("bob", "bob@example.com", "user")
	db := c.openStore()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	alice, _ := db.GetUserByLogin(ctx, "alice")
	bob, _ := db.GetUserByLogin(ctx, "bob")
	for _, s := range []struct {
		u  *store.User
		id string
	}{{alice, "a1"}, {alice, "a2"}, {bob, "b1"}} {
		if err := db.CreateSession(ctx, &store.SessionRecord{
			Session: store.Session{ID: s.id, TokenHash: []byte(s.id), UserID: s.u.ID, State: store.StateAuthenticated,
				AMR: []string{"pwd"}, AuthTime: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
			CreatedAt: now,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateOIDCClient(ctx, &store.OIDCClient{ID: "c1", Name: "app", RedirectURIs: []string{"https://app.example.com/cb"},
		IDTokenAlg: "ES256", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateOIDCGrant(ctx, &store.OIDCGrant{ID: "g1", ClientID: "c1", UserID: alice.ID, Scopes: []string{"openid", "offline_access"},
		AuthTime: now, AMR: []string{"pwd"}, Offline: true, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	link, err := links.Issue(ctx, db, strings.NewReader(strings.Repeat("x", 32)), now,
		links.Link{Purpose: store.LinkPasswordReset, UserID: alice.ID, Email: alice.Email, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	c.fails("short\n", []string{"user", "set-password", "alice", "--password-stdin"}, "at least 12 characters")
	c.fails("", []string{"user", "set-password", "alice", "--password-stdin"}, "no password on standard input")
	c.fails("", []string{"user", "set-password", "alice"}, "--password-stdin")
	c.fails(goodPassword+"\n", []string{"user", "set-password", "nobody", "--password-stdin"}, `No user "nobody"`)
	if list, _ := db.ListUserSessions(ctx, alice.ID, now); len(list) != 2 {
		t.Fatalf("a refused set-password ended sessions: %d left", len(list))
	}

	const next = "marble harbour violin cactus 3"
	out := c.ok(next+"\n", "user", "set-password", "alice@example.com", "--password-stdin")
	if !strings.Contains(out, "set the password of alice; ended 2 sessions and 1 application grant") {
		t.Errorf("set-password printed %q", out)
	}
	alice, _ = db.GetUserByLogin(ctx, "alice")
	h := password.NewHasher(password.DefaultParams, 1, time.Minute)
	if ok, _, err := h.Verify(ctx, next, alice.PasswordHash); err != nil || !ok {
		t.Errorf("the new password does not verify: %v %v", ok, err)
	}
	if ok, _, _ := h.Verify(ctx, goodPassword, alice.PasswordHash); ok {
		t.Error("the old password still verifies")
	}
	if list, _ := db.ListUserSessions(ctx, alice.ID, now); len(list) != 0 {
		t.Errorf("alice still has %d sessions", len(list))
	}
	if list, _ := db.ListUserSessions(ctx, bob.ID, now); len(list) != 1 {
		t.Errorf("bob has %d sessions, want his 1 untouched", len(list))
	}
	if _, err := db.GetOIDCGrant(ctx, "g1"); err == nil {
		t.Error("alice's application grant survived")
	}
	if _, err := links.Peek(ctx, db, store.LinkPasswordReset, link, now); err == nil {
		t.Error("alice's reset link still works after an administrator set the password")
	}
	audit := c.ok("", "audit", "--user", "alice")
	wantLine(t, audit, `\spassword\.set\s+-\s+alice\s+console\s+set at the console$`)
	wantLine(t, audit, `\saccess\.ended\s+-\s+alice\s+console\s+2 sessions, 1 application grant, 0 pending setups ended \(password_reset\)$`)
}
