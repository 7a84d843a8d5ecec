package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// userWrite is one change the admin API makes to the user {id}, with the status of its
// success.
type userWrite struct {
	name, method, suffix string
	body                 any
	ok                   int
}

// userWrites are the users:write calls that act on an existing account, in an order in
// which each still succeeds after the ones before it (the reset link before disabling,
// deleting last).
var userWrites = []userWrite{
	{"mfa_requirement", "PATCH", "", map[string]any{"mfa_required": "no"}, http.StatusOK},
	{"unlock", "POST", "/unlock", nil, http.StatusNoContent},
	{"reset_link", "POST", "/password-reset", map[string]any{}, http.StatusAccepted},
	{"sign_out", "POST", "/sign-out", nil, http.StatusNoContent},
	// No such application access: past the guard, the call itself answers 404.
	{"application_revoke", "POST", "/applications/no-such-client/revoke", nil, http.StatusNotFound},
	{"mfa_reset", "POST", "/reset-mfa", map[string]any{"reason": "lost phone, checked in person"}, http.StatusOK},
	{"role_change", "PATCH", "", map[string]any{"role": "user"}, http.StatusOK},
	{"disable", "PATCH", "", map[string]any{"disabled": true}, http.StatusOK},
	{"delete", "DELETE", "", nil, http.StatusNoContent},
}

// TestTokenCannotManageAdmins: an API token, even one with users:write made by an
// administrator, never changes an administrator's or a support agent's account (disable,
// role, MFA requirement, delete, MFA reset, sign-out, unlock, reset link, applications)
// nor makes an administrator or an agent, by role change or invitation (403
// token_cannot_manage_admins, the account untouched); an administrator's session does all
// of it; the token still manages plain users. On SQLite and PostgreSQL.
func TestTokenCannotManageAdmins(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			o := testserver.Options{MFARequiredForRole: noMFA}
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			root := mfaClient(t, srv, "root", "admin")
			pat := mfaClient(t, srv, "pat", "admin")
			mfaClient(t, srv, "ada", "user")
			mfaClient(t, srv, "sam", "support")
			mfaClient(t, srv, "bob", "user")
			rootID, patID := mustUser(t, srv, "root").ID, mustUser(t, srv, "pat").ID
			adaID, bobID := mustUser(t, srv, "ada").ID, mustUser(t, srv, "bob").ID
			made, err := srv.Tokens.Create(context.Background(),
				apitoken.NewToken{Name: "automation", Scopes: []string{"users:read", "users:write"}, CreatedBy: rootID}, auth.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			byToken := func(method, path string, body any) *testserver.Response {
				var b []byte
				if body != nil {
					b, _ = json.Marshal(body)
				}
				return withBearer(t, srv, made.Secret, method, path, b)
			}

			t.Run("token_on_an_administrator_is_refused", func(t *testing.T) {
				for _, w := range userWrites {
					r := byToken(w.method, "/api/v1/admin/users/"+patID+w.suffix, w.body)
					if r.Status != http.StatusForbidden || problemOf(t, r)["code"] != "token_cannot_manage_admins" {
						t.Errorf("%s of an administrator with a token: %d %s, want 403 token_cannot_manage_admins", w.name, r.Status, r.Body)
					}
				}
				samID := mustUser(t, srv, "sam").ID
				for _, w := range userWrites {
					wantProblem(t, byToken(w.method, "/api/v1/admin/users/"+samID+w.suffix, w.body),
						http.StatusForbidden, "token_cannot_manage_admins")
				}
				if u := mustUser(t, srv, "sam"); u.Role != store.RoleSupport || u.Disabled {
					t.Errorf("sam changed by refused calls: role %s, disabled %v", u.Role, u.Disabled)
				}
				// The token acts for root, who made it: root's own account is an administrator's too.
				wantProblem(t, byToken("PATCH", "/api/v1/admin/users/"+rootID, map[string]any{"mfa_required": "no"}),
					http.StatusForbidden, "token_cannot_manage_admins")
				u := mustUser(t, srv, "pat")
				if u.Role != store.RoleAdmin || u.Disabled || u.MFAOverride != "yes" {
					t.Errorf("pat changed by refused calls: role %s, disabled %v, mfa override %q", u.Role, u.Disabled, u.MFAOverride)
				}
				if r := pat.Get("/api/v1/session"); r.Status != http.StatusOK {
					t.Errorf("pat's session ended by refused calls: %d %s", r.Status, r.Body)
				}
				if _, err := srv.Store.GetTOTP(context.Background(), patID); err != nil {
					t.Errorf("pat's authenticator after refused calls: %v", err)
				}
			})

			t.Run("token_never_makes_an_administrator", func(t *testing.T) {
				wantProblem(t, byToken("PATCH", "/api/v1/admin/users/"+bobID, map[string]any{"role": "admin"}),
					http.StatusForbidden, "token_cannot_manage_admins")
				wantProblem(t, byToken("POST", "/api/v1/admin/users", map[string]any{"username": "mallory", "email": "m@example.com", "role": "admin"}),
					http.StatusForbidden, "token_cannot_manage_admins")
				wantProblem(t, byToken("PATCH", "/api/v1/admin/users/"+bobID, map[string]any{"role": "support"}),
					http.StatusForbidden, "token_cannot_manage_admins")
				wantProblem(t, byToken("POST", "/api/v1/admin/users", map[string]any{"username": "carl", "email": "carl@example.com", "role": "support"}),
					http.StatusForbidden, "token_cannot_manage_admins")
				if u := mustUser(t, srv, "bob"); u.Role != "user" {
					t.Errorf("bob's role %s after a refused promotion", u.Role)
				}
				for _, name := range []string{"mallory", "carl"} {
					if _, err := srv.Auth.FindUser(context.Background(), name); err == nil {
						t.Errorf("a token invited %s into a privileged role", name)
					}
				}
			})

			t.Run("token_on_a_user_is_allowed", func(t *testing.T) {
				for _, w := range userWrites {
					if r := byToken(w.method, "/api/v1/admin/users/"+adaID+w.suffix, w.body); r.Status != w.ok {
						t.Errorf("%s of a user with a token: %d %s, want %d", w.name, r.Status, r.Body, w.ok)
					}
				}
				if r := byToken("POST", "/api/v1/admin/users", map[string]any{"username": "dora", "email": "dora@example.com", "role": "user"}); r.Status != http.StatusCreated {
					t.Errorf("invite a user with a token: %d %s", r.Status, r.Body)
				}
			})

			t.Run("administrator_session_on_an_administrator_is_allowed", func(t *testing.T) {
				for _, w := range userWrites {
					if r := apiDo(root, w.method, "/api/v1/admin/users/"+patID+w.suffix, w.body); r.Status != w.ok {
						t.Errorf("%s of an administrator by an administrator's session: %d %s, want %d", w.name, r.Status, r.Body, w.ok)
					}
				}
				wantStatus(t, apiDo(root, "PATCH", "/api/v1/admin/users/"+bobID, map[string]any{"role": "admin"}), http.StatusOK)
			})

			events, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: patID})
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(events, func(e store.AuditEvent) bool { return e.ActorID == "token:"+made.Token.ID }) {
				t.Errorf("the token changed pat: %+v", events)
			}
		})
	}
}
