package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// eachDatabase runs f on a test server over SQLite and one over PostgreSQL.
func eachDatabase(t *testing.T, f func(t *testing.T, srv *testserver.Server)) {
	t.Helper()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			var o testserver.Options
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			f(t, testserver.New(t, o))
		})
	}
}

// resetLinksTo returns the password reset link mails sent to the address so far.
func resetLinksTo(t *testing.T, srv *testserver.Server, addr string) []*mailtest.Parsed {
	t.Helper()
	var got []*mailtest.Parsed
	for _, m := range srv.Mail(t) {
		if strings.Contains(strings.ToLower(m.To), addr) && strings.Contains(m.Text, "/password/reset?token=") {
			got = append(got, m)
		}
	}
	return got
}

// wantCode fails unless err is an application error with the code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Code != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

// allowanceLeft checks that the account still has its whole hour's allowance: the
// administrator's console mails ResetLinksPerHour links to addr, and the next is refused.
func allowanceLeft(t *testing.T, srv *testserver.Server, id, addr string) {
	t.Helper()
	ctx := context.Background()
	before := len(resetLinksTo(t, srv, addr))
	for i := range auth.ResetLinksPerHour {
		u, err := srv.Store.GetUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Auth.MailResetLink(ctx, u, auth.Meta{ActorID: "admin"}); err != nil {
			t.Fatalf("link %d of the hour's %d: %v (a refused request spent the allowance)", i+1, auth.ResetLinksPerHour, err)
		}
	}
	u, _ := srv.Store.GetUser(ctx, id)
	wantCode(t, "one link more than the hour's", srv.Auth.MailResetLink(ctx, u, auth.Meta{ActorID: "admin"}), apperr.CodeRateLimited)
	if got := len(resetLinksTo(t, srv, addr)) - before; got != auth.ResetLinksPerHour {
		t.Errorf("%d links mailed to %s, want %d", got, addr, auth.ResetLinksPerHour)
	}
}

// TestMailResetLinkDecidesOnTheFreshRow: an administrator's reset link is decided on the
// account as the link's transaction sees it, not as the caller read it. The link goes to
// an address changed since the read, and never to the old one; an account disabled or
// promoted (for an API token) since the read gets no link; and a refused request leaves
// the hour's allowance whole.
func TestMailResetLinkDecidesOnTheFreshRow(t *testing.T) {
	ctx := context.Background()
	t.Run("address_changed_meanwhile", func(t *testing.T) {
		eachDatabase(t, func(t *testing.T, srv *testserver.Server) {
			bob := srv.CreateUser(t, "bob", "bob@example.com", store.RoleUser)
			if err := srv.Store.SetUserEmail(ctx, bob.ID, "bob@new.example", "bob@new.example", true, srv.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			if err := srv.Auth.MailResetLink(ctx, bob, auth.Meta{ActorID: "admin"}); err != nil {
				t.Fatal(err)
			}
			if old := resetLinksTo(t, srv, "bob@example.com"); len(old) > 0 {
				t.Errorf("the link went to the address bob had before: %s", old[0].To)
			}
			if got := resetLinksTo(t, srv, "bob@new.example"); len(got) != 1 {
				t.Errorf("%d links at bob's address now, want 1", len(got))
			}
		})
	})
	t.Run("disabled_meanwhile", func(t *testing.T) {
		eachDatabase(t, func(t *testing.T, srv *testserver.Server) {
			bob := srv.CreateUser(t, "bob", "bob@example.com", store.RoleUser)
			if err := srv.Store.SetUserDisabled(ctx, bob.ID, true, srv.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			wantCode(t, "a link for an account disabled since the read", srv.Auth.MailResetLink(ctx, bob, auth.Meta{ActorID: "admin"}), apperr.CodeConflict)
			if got := resetLinksTo(t, srv, "bob@example.com"); len(got) > 0 {
				t.Errorf("a disabled account was mailed a reset link: %s", got[0].Subject)
			}
			if err := srv.Store.SetUserDisabled(ctx, bob.ID, false, srv.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			allowanceLeft(t, srv, bob.ID, "bob@example.com")
		})
	})
	t.Run("promoted_meanwhile_token", func(t *testing.T) {
		eachDatabase(t, func(t *testing.T, srv *testserver.Server) {
			srv.CreateUser(t, "root", "root@example.com", store.RoleAdmin)
			bob := srv.CreateUser(t, "bob", "bob@example.com", store.RoleUser)
			if err := srv.Store.SetUserRole(ctx, bob.ID, store.RoleAdmin, srv.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			token := auth.Meta{ActorID: audit.TokenActorPrefix + "tok-automation"}
			err := srv.Auth.MailResetLink(ctx, bob, token)
			if !errors.Is(err, auth.ErrTokenOnPrivileged) {
				t.Errorf("a token's link for a user promoted since the read: %v, want ErrTokenOnPrivileged", err)
			}
			if err := srv.Store.SetUserRole(ctx, bob.ID, store.RoleUser, srv.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			allowanceLeft(t, srv, bob.ID, "bob@example.com")
		})
	})
}

// TestMailResetLinkAllowanceHoldsInParallel: however many administrators ask at once, no
// more than ResetLinksPerHour links go out for one account in an hour; the others are
// told rate_limited.
func TestMailResetLinkAllowanceHoldsInParallel(t *testing.T) {
	eachDatabase(t, func(t *testing.T, srv *testserver.Server) {
		bob := srv.CreateUser(t, "bob", "bob@example.com", store.RoleUser)
		const n = 4 * auth.ResetLinksPerHour
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = srv.Auth.MailResetLink(context.Background(), bob, auth.Meta{ActorID: "admin"}) })
		}
		wg.Wait()
		sent := 0
		for _, err := range errs {
			if err == nil {
				sent++
				continue
			}
			wantCode(t, "a parallel request over the allowance", err, apperr.CodeRateLimited)
		}
		if sent != auth.ResetLinksPerHour {
			t.Errorf("%d of %d parallel requests granted, want %d", sent, n, auth.ResetLinksPerHour)
		}
		if got := len(resetLinksTo(t, srv, "bob@example.com")); got != auth.ResetLinksPerHour {
			t.Errorf("%d links mailed, want %d", got, auth.ResetLinksPerHour)
		}
	})
}
