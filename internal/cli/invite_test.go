package cli_test

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
)

// invitationLinks returns the invitation links mailed to addr, oldest first.
func (c *console) invitationLinks(addr string) []string {
	c.t.Helper()
	var out []string
	for _, m := range mailtest.Outbox(c.t, filepath.Join(c.dataDir, "outbox")) {
		if m.Header.Get("To") != addr && !strings.Contains(m.Header.Get("To"), "<"+addr+">") {
			continue
		}
		if l := m.Link("/invite?token="); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// withApp opens the program on the console's data directory, wired as `twofold serve` is.
func (c *console) withApp(fn func(a *app.App)) {
	c.t.Helper()
	cfg, err := config.Load(c.env["TWOFOLD_CONFIG"], func(string) string { return "" })
	if err != nil {
		c.t.Fatal(err)
	}
	cfg.DataDir = c.dataDir
	a, err := app.Open(context.Background(), cfg, app.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	defer a.Close()
	fn(a)
}

// accept accepts the invitation link as the invitee's browser would.
func (c *console) accept(link string) (err error) {
	c.t.Helper()
	u, perr := url.Parse(link)
	if perr != nil {
		c.t.Fatal(perr)
	}
	c.withApp(func(a *app.App) {
		_, err = a.Invite.Accept(context.Background(), u.Query().Get("token"), goodPassword, auth.Meta{})
	})
	return err
}

// expire moves the deadline of name's invitation a minute into the past, as if the
// invitation had waited longer than invitations.ttl.
func (c *console) expire(name string) {
	c.t.Helper()
	c.withApp(func(a *app.App) {
		u, err := a.Auth.FindUser(context.Background(), name)
		if err != nil {
			c.t.Fatal(err)
		}
		if err := a.Store.RenewInvitation(context.Background(), u.ID, time.Now().Add(-time.Minute)); err != nil {
			c.t.Fatal(err)
		}
	})
}

func TestUserInvite(t *testing.T) {
	c := newConsole(t)
	out := c.ok("", "user", "invite", "ivy", "--email", "ivy@example.com", "--role", "support")
	wantLine(t, out, `^created user ivy <ivy@example\.com> with role support, without a password$`)
	wantLine(t, out, `^sent the invitation link to ivy@example\.com; it works once, until \d{4}-\d\d-\d\dT`)

	links := c.invitationLinks("ivy@example.com")
	if len(links) != 1 || !strings.HasPrefix(links[0], "http://127.0.0.1:8080/invite?token=") {
		t.Fatalf("invitation mail links: %q, want one <public_url>/invite?token=T", links)
	}
	wantLine(t, c.ok("", "user", "list"), `^ivy\s+ivy@example\.com\s+support\s+invited\s+none\s+yes$`)
	show := c.ok("", "user", "show", "ivy")
	wantLine(t, show, `^email verified:\s+no$`)
	wantLine(t, show, `^invitation:\s+invited until \d{4}-\d\d-\d\dT`)

	out = c.ok("", "user", "invite", "--resend", "ivy")
	wantLine(t, out, `^sent a new invitation link to ivy@example\.com; it works once, until `)
	links = c.invitationLinks("ivy@example.com")
	if len(links) != 2 || links[0] == links[1] {
		t.Fatalf("after --resend the links are %q, want two different ones", links)
	}
	if err := c.accept(links[0]); err == nil {
		t.Error("the link replaced by --resend was accepted")
	}
	if err := c.accept(links[1]); err != nil {
		t.Fatalf("accept the resent link: %v", err)
	}
	if err := c.accept(links[1]); err == nil {
		t.Error("the invitation link was accepted twice")
	}

	wantLine(t, c.ok("", "user", "list"), `^ivy\s+ivy@example\.com\s+support\s+enabled\s+none\s+yes$`)
	show = c.ok("", "user", "show", "ivy")
	wantLine(t, show, `^email verified:\s+yes$`)
	wantLine(t, show, `^invitation:\s+accepted \d{4}-\d\d-\d\dT`)
	c.fails("", []string{"user", "invite", "--resend", "ivy"}, "ivy accepted the invitation already: it cannot be resent.")
}

func TestUserInviteRefusesBadInput(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no address", []string{"user", "invite", "ivy"}, "--email is required"},
		{"unknown role", []string{"user", "invite", "ivy", "--email", "ivy@example.com", "--role", "boss"}, `unknown role "boss"`},
		{"taken username", []string{"user", "invite", "alice", "--email", "other@example.com"}, "That username is already taken."},
		{"taken address", []string{"user", "invite", "ivy", "--email", "alice@example.com"}, "That email is already taken."},
		{"bad address", []string{"user", "invite", "ivy", "--email", "not-an-address"}, "e-mail"},
		{"resend with an address", []string{"user", "invite", "--resend", "alice", "--email", "a@example.com"}, "--resend takes only the user"},
		{"resend to an account never invited", []string{"user", "invite", "--resend", "alice"}, "alice was not invited"},
		{"resend to nobody", []string{"user", "invite", "--resend", "nobody"}, `No user "nobody".`},
	} {
		t.Run(tc.name, func(t *testing.T) { c.fails("", tc.args, tc.want) })
	}
	if links := c.invitationLinks("ivy@example.com"); len(links) != 0 {
		t.Errorf("refused invitations mailed links: %q", links)
	}
	wantLine(t, c.ok("", "user", "list"), `^alice\s+alice@example\.com\s+user\s+enabled\s+none\s+yes$`)
	wantLine(t, c.ok("", "user", "show", "alice"), `^invitation:\s+none$`)
}

// TestUserInviteExpiredCanBeResent: once the link expired, `user list` says so and
// --resend gives a link that works.
func TestUserInviteExpiredCanBeResent(t *testing.T) {
	c := newConsole(t)
	c.ok("", "user", "invite", "ivy", "--email", "ivy@example.com")
	c.expire("ivy")
	wantLine(t, c.ok("", "user", "list"), `^ivy\s+ivy@example\.com\s+user\s+invited, expired\s+none\s+yes$`)
	wantLine(t, c.ok("", "user", "show", "ivy"), `^invitation:\s+expired .*--resend`)
	if err := c.accept(c.invitationLinks("ivy@example.com")[0]); err == nil {
		t.Fatal("an expired invitation link was accepted")
	}
	c.ok("", "user", "invite", "--resend", "ivy")
	links := c.invitationLinks("ivy@example.com")
	if err := c.accept(links[len(links)-1]); err != nil {
		t.Fatalf("accept the link resent after expiry: %v", err)
	}
}

// TestUserInviteMootOnceAPasswordIsSet: an invited account that got a password another way
// (an operator's set-password, say) is no longer shown as invited, and its invitation
// cannot be resent.
func TestUserInviteMootOnceAPasswordIsSet(t *testing.T) {
	c := newConsole(t)
	c.ok("", "user", "invite", "ivy", "--email", "ivy@example.com")
	c.withApp(func(a *app.App) {
		u, err := a.Auth.FindUser(context.Background(), "ivy")
		if err != nil {
			t.Fatal(err)
		}
		hash, err := a.Auth.HashNewPassword(context.Background(), u, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Store.SetUserPasswordHash(context.Background(), u.ID, hash, time.Now()); err != nil {
			t.Fatal(err)
		}
	})
	wantLine(t, c.ok("", "user", "list"), `^ivy\s+ivy@example\.com\s+user\s+enabled\s+none\s+yes$`)
	wantLine(t, c.ok("", "user", "show", "ivy"), `^invitation:\s+not accepted: the password was set another way$`)
	c.fails("", []string{"user", "invite", "--resend", "ivy"}, "ivy has a password already: the invitation cannot be resent.")
	if err := c.accept(c.invitationLinks("ivy@example.com")[0]); err == nil {
		t.Error("the invitation was accepted after a password was set")
	}
}
