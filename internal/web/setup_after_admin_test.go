package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestSetupLinkNeverComesBack: once any administrator has existed, a setup link printed
// before is dead for good, even when no enabled administrator is left (the only one was
// disabled or demoted), and no new link is issued: the console creates administrators then.
func TestSetupLinkNeverComesBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		retire func(*testserver.Server, *store.User) error
	}{
		{"the only admin disabled", func(srv *testserver.Server, u *store.User) error {
			return srv.Auth.SetDisabled(context.Background(), u, true, auth.Meta{})
		}},
		{"the only admin demoted", func(srv *testserver.Server, u *store.User) error {
			return srv.Auth.SetRole(context.Background(), u, store.RoleUser, auth.Meta{})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			ctx := context.Background()
			old, err := srv.Auth.IssueSetupToken(ctx) // printed at the first start, never used
			if err != nil {
				t.Fatal(err)
			}
			admin := srv.CreateUser(t, "first-admin", "first-admin@example.com", store.RoleAdmin)
			if err := tc.retire(srv, admin); err != nil {
				t.Fatal(err)
			}

			wantPage(t, srv.Client(t).Get("/setup?token="+url.QueryEscape(old)), http.StatusBadRequest, "An administrator exists already")
			form := url.Values{"token": {old}, "username": {"mallory"}, "email": {"mallory@example.com"},
				"password": {testserver.Password}, "confirm_password": {testserver.Password}}
			wantPage(t, postForm(srv.Client(t), "/setup", form), http.StatusBadRequest, "An administrator exists already")
			if u, err := srv.Auth.FindUser(ctx, "mallory"); err == nil {
				t.Fatalf("the old setup link created %s (role %s) after an administrator had existed", u.Username, u.Role)
			}
			if need, err := srv.Auth.NeedsSetup(ctx); err != nil || need {
				t.Errorf("NeedsSetup = %v, %v after an administrator existed: want false (no new link)", need, err)
			}
			if _, err := srv.Auth.IssueSetupToken(ctx); err == nil {
				t.Error("a new setup token was issued after an administrator existed")
			}
		})
	}
}
