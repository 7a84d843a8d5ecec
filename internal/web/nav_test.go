package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
)

// TestHeaderNavigation: every page a signed-in user sees has the header's navigation
// (the account, the support cases for agents, sign out); a visitor and a browser half way
// through the sign-in get none; an agent's sign-in lands on the cases.
func TestHeaderNavigation(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	adaSecret, _ := srv.Enroll(t, srv.Client(t), "ada")
	srv.CreateUser(t, "sam", "sam@example.com", "support")
	samSecret, _ := srv.Enroll(t, srv.Client(t), "sam")
	const nav, cases = `<nav aria-label="Account">`, `href="/support/cases"`

	t.Run("user", func(t *testing.T) {
		c := srv.Client(t)
		if r := c.Get("/login"); bytes.Contains(r.Body, []byte(nav)) {
			t.Fatal("the sign-in page of a visitor has the navigation")
		}
		srv.NextStep()
		c.Login("ada", "mfa_required")
		if r := c.Get("/login/code"); bytes.Contains(r.Body, []byte(nav)) {
			t.Fatal("the code page has the navigation before the code")
		}
		wantRedirect(t, postForm(c, "/login/code", url.Values{"code": {srv.Code(adaSecret, 0)}}), "/account/security")
		for _, path := range []string{"/account/security", "/support", "/nope"} {
			r := c.Get(path)
			wantPage(t, r, r.Status, nav, `href="/account/security"`, `action="/logout"`)
			if bytes.Contains(r.Body, []byte(cases)) {
				t.Errorf("%s offers a user the support cases", path)
			}
		}
	})

	t.Run("agent_lands_on_the_cases", func(t *testing.T) {
		c := srv.Client(t)
		srv.NextStep()
		c.Login("sam", "mfa_required")
		wantRedirect(t, postForm(c, "/login/code", url.Values{"code": {srv.Code(samSecret, 0)}}), "/support/cases")
		r := c.Get("/support/cases")
		wantPage(t, r, http.StatusOK, nav, cases, `aria-current="page">Support cases`)
	})
}
