package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/web"
)

// TestTokenMFAResetIsAuditedWithTheToken: an MFA reset made with an API token is audited
// with the token as actor, like every other action of a token, not as if the
// administrator who created the token had made it at the console.
func TestTokenMFAResetIsAuditedWithTheToken(t *testing.T) {
	srv, root := adminServer(t)
	mfaClient(t, srv, "ada", "user")
	adaID := mustUser(t, srv, "ada").ID
	made, err := srv.Tokens.Create(context.Background(), apitoken.NewToken{Name: "helpdesk bot", Scopes: []string{"users:write"},
		CreatedBy: mustUser(t, srv, "root").ID}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	r := withBearer(t, srv, made.Secret, http.MethodPost, "/api/v1/admin/users/"+adaID+"/reset-mfa", []byte(`{"reason":"Lost phone, ID checked."}`))
	wantStatus(t, r, http.StatusOK)
	events := auditPage(t, root, "user="+url.QueryEscape(adaID))
	found := false
	for _, e := range events.Items {
		if !strings.HasPrefix(e.Event, "support.") && !strings.HasPrefix(e.Event, "mfa.") {
			continue
		}
		found = true
		if e.ActorID == nil || *e.ActorID != "token:"+made.Token.ID {
			t.Errorf("event %s: actor %v, want token:%s", e.Event, deref(e.ActorID), made.Token.ID)
		}
	}
	if !found {
		t.Fatalf("no reset event in %s", eventNames(events))
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestTokenNeverMakesAnAdministrator: users:write lets a token manage accounts, not hand
// out the administrator's role: with it, a leaked token would invite an administrator at
// an address of its holder's and so gain every scope, and the power to mint tokens.
func TestTokenNeverMakesAnAdministrator(t *testing.T) {
	srv, root := adminServer(t)
	adaID := srv.CreateUser(t, "ada", "ada@example.com", "user").ID
	made, err := srv.Tokens.Create(context.Background(), apitoken.NewToken{Name: "provisioning", Scopes: []string{"users:write"},
		CreatedBy: mustUser(t, srv, "root").ID}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	r := withBearer(t, srv, made.Secret, http.MethodPost, "/api/v1/admin/users",
		[]byte(`{"username":"mallory","email":"mallory@example.net","role":"admin"}`))
	wantProblem(t, r, http.StatusForbidden, "token_cannot_manage_admins")
	r = withBearer(t, srv, made.Secret, http.MethodPatch, "/api/v1/admin/users/"+adaID, []byte(`{"role":"admin"}`))
	wantProblem(t, r, http.StatusForbidden, "token_cannot_manage_admins")
	if u := mustUser(t, srv, "ada"); u.Role != "user" {
		t.Fatalf("ada's role: %s", u.Role)
	}
	// The token still manages plain users; an administrator's session still makes
	// administrators.
	r = withBearer(t, srv, made.Secret, http.MethodPost, "/api/v1/admin/users", []byte(`{"username":"bob","email":"bob@example.com","role":"user"}`))
	wantStatus(t, r, http.StatusCreated)
	wantStatus(t, apiDo(root, "PATCH", "/api/v1/admin/users/"+adaID, map[string]any{"role": "admin"}), http.StatusOK)
}

// TestTokenDiesWithItsCreatorsAuthority: a token whose creator is demoted or disabled is
// revoked for good; making the creator an administrator again does not bring it back.
func TestTokenDiesWithItsCreatorsAuthority(t *testing.T) {
	for _, tc := range []struct{ name, take, give string }{
		{"demoted", `{"role":"user"}`, `{"role":"admin"}`},
		{"disabled", `{"disabled":true}`, `{"disabled":false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, root := adminServer(t)
			pat := mfaClient(t, srv, "pat", "admin")
			patID := mustUser(t, srv, "pat").ID
			created := decode[web.APITokenCreated](t, pat.PostJSON("/api/v1/admin/tokens", map[string]any{"name": "pat's bot", "scopes": []string{"users:read"}}))
			wantStatus(t, withBearer(t, srv, created.Token, http.MethodGet, "/api/v1/admin/users", nil), http.StatusOK)
			wantStatus(t, root.Do("PATCH", "/api/v1/admin/users/"+patID, "application/json", []byte(tc.take)), http.StatusOK)
			wantBearerChallenge(t, withBearer(t, srv, created.Token, http.MethodGet, "/api/v1/admin/users", nil), http.StatusUnauthorized, "invalid_token")
			wantStatus(t, root.Do("PATCH", "/api/v1/admin/users/"+patID, "application/json", []byte(tc.give)), http.StatusOK)
			wantBearerChallenge(t, withBearer(t, srv, created.Token, http.MethodGet, "/api/v1/admin/users", nil), http.StatusUnauthorized, "invalid_token")
		})
	}
}
