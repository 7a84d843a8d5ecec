package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// What a user does to their own account is audited with the user as the actor, by the API
// and by the pages alike: docs/api.md has actor null only when nobody acted (or the
// account is gone), and a password change or a code sign-in already name the user.
func TestTheUsersOwnActionsNameThemAsActor(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	u := srv.CreateUser(t, "alice", "alice@example.com", "user")
	c := srv.Client(t)
	secret, rc := srv.Enroll(t, c, "alice")

	wantActor := func(event string) {
		t.Helper()
		events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{UserID: u.ID, Event: event, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			t.Fatalf("no %s event", event)
		}
		if e := events[0]; e.ActorID != u.ID || e.SubjectID != u.ID {
			t.Errorf("%s (%s): actor %q, subject %q; want alice (%s) for both", event, e.Detail, e.ActorID, e.SubjectID, u.ID)
		}
	}
	otherDevice := func() string {
		t.Helper()
		other := srv.Client(t)
		signIn(t, srv, other, "alice", secret)
		for _, s := range sessionsOf(t, other) {
			if s["current"] == true {
				return s["id"].(string)
			}
		}
		t.Fatal("the other device's session is not listed")
		return ""
	}

	wantStatus(t, c.PostJSON("/api/v1/account/profile", map[string]string{"display_name": "Alice"}), http.StatusOK)
	wantActor(audit.ProfileChanged)

	wantStatus(t, c.PostJSON("/api/v1/account/sessions/"+otherDevice()+"/sign-out", nil), http.StatusNoContent)
	wantActor(audit.SessionRevoked)

	otherDevice()
	wantStatus(t, c.PostJSON("/api/v1/account/sessions/sign-out-others", nil), http.StatusOK)
	wantActor(audit.SessionsRevoked)

	billing, _ := connect(t, srv, u.ID)
	wantStatus(t, c.PostJSON("/api/v1/account/applications/"+billing+"/revoke", nil), http.StatusOK)
	wantActor(audit.ApplicationRemoved)

	wantStatus(t, c.PostJSON("/api/v1/logout", nil), http.StatusNoContent)
	wantActor(audit.Logout)

	c.Login("alice", "mfa_required")
	wantStatus(t, c.PostJSON("/api/v1/login/recovery-code", codeJSON(rc)), http.StatusOK)
	wantActor(audit.LoginSucceeded)

	// The pages' forms.
	pages := srv.Client(t)
	signIn(t, srv, pages, "alice", secret)
	otherDevice()
	wantStatus(t, postForm(pages, "/account/sessions/sign-out-others", url.Values{}), http.StatusSeeOther)
	wantActor(audit.SessionsRevoked)

	if err := srv.Store.PutOIDCConsent(t.Context(), &store.OIDCConsent{UserID: u.ID, ClientID: billing,
		Scopes: []string{"openid"}, GrantedAt: srv.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, postForm(pages, "/account/applications/"+billing+"/revoke", url.Values{}), http.StatusSeeOther)
	wantActor(audit.ApplicationRemoved)

	wantStatus(t, postForm(pages, "/logout", url.Values{}), http.StatusSeeOther)
	wantActor(audit.Logout)
}
