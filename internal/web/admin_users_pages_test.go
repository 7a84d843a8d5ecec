package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/web"
)

// TestAdminUserPages walks the console's user pages over HTTP: search, invite, a user's
// page and its actions, each a form that redirects to a page saying what happened.
func TestAdminUserPages(t *testing.T) {
	srv, root := adminServer(t)
	ada := mfaClient(t, srv, "ada", "user")
	adaID := mustUser(t, srv, "ada").ID
	page := "/admin/users/" + adaID

	t.Run("list_and_search", func(t *testing.T) {
		wantPage(t, root.Get("/admin/users"), http.StatusOK, `href="`+page+`">ada</a>`, `All <span class="count">(2)</span>`,
			`Active <span class="count">(2)</span>`, `Invited <span class="count">(0)</span>`)
		r := root.Get("/admin/users?query=ROO")
		wantPage(t, r, http.StatusOK, ">root</a>")
		if strings.Contains(string(r.Body), ">ada</a>") {
			t.Fatal("the search for roo lists ada")
		}
		wantPage(t, root.Get("/admin/users?limit=1"), http.StatusOK, "Next page")
		wantPage(t, root.Get("/admin/users?status=zzz"), http.StatusBadRequest, "status must be")
	})

	t.Run("invite", func(t *testing.T) {
		wantPage(t, root.Get("/admin/users/invite"), http.StatusOK, `name="username"`)
		wantPage(t, postForm(root, "/admin/users/invite", url.Values{"username": {"ivy"}, "email": {"nope"}, "role": {"user"}}),
			http.StatusBadRequest, `id="email-error"`, `value="ivy"`)
		r := postForm(root, "/admin/users/invite", url.Values{"username": {"ivy"}, "email": {"ivy@example.com"}, "role": {"support"}})
		wantStatus(t, r, http.StatusSeeOther)
		wantPage(t, root.Get(r.Header.Get("Location")), http.StatusOK, "Invitation sent.", "Resend invitation", "Invited")
		srv.LastMailTo(t, "ivy@example.com")
	})

	t.Run("user_page", func(t *testing.T) {
		wantPage(t, root.Get(page), http.StatusOK, "ada@example.com", "Second factors", "Authenticator app", "Recovery code",
			"End all sessions", "Recent events", "Open support cases")
		wantPage(t, root.Get("/admin/users/00000000-0000-0000-0000-000000000000"), http.StatusNotFound)
	})

	t.Run("disable_needs_the_box", func(t *testing.T) {
		wantPage(t, postForm(root, page+"/disable", nil), http.StatusBadRequest, `id="confirm-disable-error"`)
		wantRedirect(t, postForm(root, page+"/disable", url.Values{"confirm": {"yes"}}), page)
		wantPage(t, root.Get(page+"?done=disable"), http.StatusOK, "The account is disabled", `id="status">Disabled`)
		wantStatus(t, ada.Get("/api/v1/session"), http.StatusUnauthorized)
		wantRedirect(t, postForm(root, page+"/enable", nil), page)
	})

	t.Run("role_and_mfa_requirement", func(t *testing.T) {
		wantRedirect(t, postForm(root, page+"/role", url.Values{"role": {"support"}}), page)
		wantRedirect(t, postForm(root, page+"/mfa-required", url.Values{"mfa_required": {"no"}}), page)
		wantPage(t, root.Get(page), http.StatusOK, `id="role-now">Support agent</dd>`, `id="required-now">Never</dd>`)
		wantPage(t, postForm(root, page+"/role", url.Values{"role": {"god"}}), http.StatusBadRequest, `id="role-error"`)
		rootPage := "/admin/users/" + mustUser(t, srv, "root").ID
		wantPage(t, postForm(root, rootPage+"/role", url.Values{"role": {"user"}}), http.StatusConflict, "yourself")
	})

	t.Run("sessions", func(t *testing.T) {
		bobID := srv.CreateUser(t, "bob", "bob@example.com", "user").ID
		page := "/admin/users/" + bobID
		c := srv.Client(t)
		c.Login("bob", "authenticated") // the policy asks no second factor
		d := decodeAs[web.AdminUserDetails](t, root.Get("/api/v1/admin/users/"+bobID))
		if len(d.Sessions) != 1 {
			t.Fatalf("sessions %+v", d.Sessions)
		}
		wantRedirect(t, postForm(root, page+"/sessions/"+d.Sessions[0].ID+"/end", nil), page)
		wantStatus(t, c.Get("/api/v1/session"), http.StatusUnauthorized)
		wantPage(t, postForm(root, page+"/sessions/"+d.Sessions[0].ID+"/end", nil), http.StatusNotFound, "No such session")
		c.Login("bob", "authenticated")
		wantRedirect(t, postForm(root, page+"/sign-out", nil), page)
		wantStatus(t, c.Get("/api/v1/session"), http.StatusUnauthorized)
	})

	t.Run("password_reset_and_unlock", func(t *testing.T) {
		wantRedirect(t, postForm(root, page+"/password-reset", nil), page)
		srv.LastMailTo(t, "ada@example.com")
		wantRedirect(t, postForm(root, page+"/unlock", nil), page)
	})

	t.Run("reset_mfa_needs_a_reason", func(t *testing.T) {
		wantPage(t, root.Get(page+"/reset-mfa"), http.StatusOK, `name="reason"`)
		wantPage(t, postForm(root, page+"/reset-mfa", url.Values{"reason": {"  "}}), http.StatusBadRequest, `id="reason-error"`)
		r := postForm(root, page+"/reset-mfa", url.Values{"reason": {"Ada asked in person."}})
		wantRedirect(t, r, page)
		wantPage(t, root.Get(r.Header.Get("Location")), http.StatusOK, "MFA reset:", "None set up.")
	})

	t.Run("delete_needs_the_username", func(t *testing.T) {
		wantPage(t, root.Get(page+"/delete"), http.StatusOK, "Type the username")
		wantPage(t, postForm(root, page+"/delete", url.Values{"confirm": {"ADA"}}), http.StatusBadRequest, `id="confirm-error"`)
		r := postForm(root, page+"/delete", url.Values{"confirm": {"ada"}})
		wantRedirect(t, r, "/admin/users")
		wantPage(t, root.Get(r.Header.Get("Location")), http.StatusOK, "The account was deleted.")
		wantPage(t, root.Get(page), http.StatusNotFound)
	})

	t.Run("pages_and_errors_speak_the_language", func(t *testing.T) {
		u := srv.CreateUser(t, "lena", "lena@example.com", "user")
		de := http.Header{"Accept-Language": {"de"}}
		r := rawDo(srv, root, http.MethodPost, "/admin/users/"+u.ID+"/delete", "application/x-www-form-urlencoded", []byte("confirm=x"), de)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Zur Bestätigung des Löschens den Benutzernamen lena eingeben.") {
			t.Fatalf("German delete refusal: %d %s", r.status, r.body)
		}
		r = rawDo(srv, root, http.MethodGet, "/admin/users/"+u.ID, "", nil, http.Header{"Accept-Language": {"fr"}})
		if !strings.Contains(string(r.body), "Seconds facteurs") || !strings.Contains(string(r.body), "Terminer toutes les sessions") && !strings.Contains(string(r.body), "Connecté nulle part.") {
			t.Fatalf("French user page: %s", r.body)
		}
	})

	t.Run("unknown_action", func(t *testing.T) {
		wantStatus(t, postForm(root, "/admin/users/"+mustUser(t, srv, "root").ID+"/explode", nil), http.StatusNotFound)
	})
}

// TestAdminFormsRefuseCrossOrigin posts to every console form from another origin: each
// is refused before its handler runs.
func TestAdminFormsRefuseCrossOrigin(t *testing.T) {
	srv, root := adminServer(t)
	adaID := srv.CreateUser(t, "ada", "ada@example.com", "user").ID
	n := 0
	for _, p := range web.PagePosts(t) {
		if !strings.HasPrefix(p, "POST /admin") {
			continue
		}
		n++
		_, path := web.Probe(p)
		path = strings.Replace(path, "/users/x", "/users/"+adaID, 1)
		for _, h := range []http.Header{{"Sec-Fetch-Site": {"cross-site"}}, {"Origin": {"https://evil.example"}}} {
			r := rawDo(srv, root, http.MethodPost, path, "application/x-www-form-urlencoded", []byte("confirm=ada&reason=x&role=user"), h)
			if r.status != http.StatusForbidden {
				t.Errorf("%s with %v: %d, want 403", path, h, r.status)
			}
		}
	}
	if n < 3 {
		t.Fatalf("only %d console forms", n)
	}
	if _, err := srv.Auth.FindUser(t.Context(), "ada"); err != nil {
		t.Fatalf("a cross-origin post changed ada: %v", err)
	}
}
