package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// wantSeeOther fails unless r redirects (post/redirect/get) to a path starting with to,
// and returns the Location.
func wantSeeOther(t *testing.T, r *testserver.Response, to string) string {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, to) {
		t.Fatalf("got %d to %q, want 303 to %s: %.300s", r.Status, loc, to, r.Body)
	}
	return loc
}

var clientSecretOnPage = regexp.MustCompile(`id="client-secret">([^<]+)<`)

// TestAdminClientPages walks the console's applications: add (the secret shown on the
// page the form leads to, and not on a reload), edit, rotate (confirmed), remove
// (confirmed on a page of its own); every form answers with a redirect.
func TestAdminClientPages(t *testing.T) {
	srv, root := adminServer(t)
	wantPage(t, root.Get("/admin/clients"), http.StatusOK, "No application is registered yet.", `href="/admin/clients/new"`)
	wantPage(t, root.Get("/admin/clients/new"), http.StatusOK, "Redirect URIs")

	loc := wantSeeOther(t, postForm(root, "/admin/clients/new", url.Values{"name": {"billing"},
		"redirect_uris": {"https://billing.example.com/cb\r\n\r\nhttp://localhost:8080/cb\r\n"}, "id_token_alg": {"ES256"}}), "/admin/clients/")
	page := root.Get(loc)
	wantPage(t, page, http.StatusOK, "The application is registered.", "shown only this once")
	m := clientSecretOnPage.FindStringSubmatch(string(page.Body))
	if m == nil {
		t.Fatalf("the page after adding shows no secret:\n%s", page.Body)
	}
	secret := m[1]
	list, err := srv.Store.ListOIDCClients(t.Context())
	if err != nil || len(list) != 1 || len(list[0].RedirectURIs) != 2 {
		t.Fatalf("stored clients %+v, %v", list, err)
	}
	id := list[0].ID
	if again := root.Get(loc); strings.Contains(string(again.Body), secret) || strings.Contains(string(again.Body), `id="client-secret"`) {
		t.Error("a reload shows the secret again")
	}
	if l := root.Get("/admin/clients"); !strings.Contains(string(l.Body), id) || strings.Contains(string(l.Body), secret) {
		t.Error("the list lacks the client or shows its secret")
	}

	t.Run("a bad redirect URI is shown at its field, with what was typed", func(t *testing.T) {
		r := postForm(root, "/admin/clients/new", url.Values{"name": {"evil"}, "redirect_uris": {"javascript:alert(1)"}})
		wantPage(t, r, http.StatusBadRequest, "must not use a scheme", `id="redirect_uris-error"`, "javascript:alert(1)</textarea>")
		r = postForm(root, "/admin/clients/new", url.Values{"name": {"evil"}, "redirect_uris": {"https://a.example:99999/cb"}})
		wantPage(t, r, http.StatusBadRequest, "the port must be a number from 1 to 65535", `id="redirect_uris-error"`, "https://a.example:99999/cb</textarea>")
		r = postForm(root, "/admin/clients/new", url.Values{"name": {"billing"}, "redirect_uris": {"https://x.example.com/cb"}})
		wantPage(t, r, http.StatusConflict, `id="name-error"`, "exists already")
	})
	t.Run("edit", func(t *testing.T) {
		wantSeeOther(t, postForm(root, "/admin/clients/"+id, url.Values{"name": {"billing"}, "redirect_uris": {"https://billing.example.com/new"},
			"first_party": {"yes"}, "id_token_alg": {"RS256"}}), "/admin/clients/"+id+"?done=client-saved")
		c, _ := srv.Store.GetOIDCClient(t.Context(), id)
		if !c.FirstParty || c.IDTokenAlg != "RS256" || len(c.RedirectURIs) != 1 {
			t.Errorf("after the edit: %+v", c)
		}
		r := postForm(root, "/admin/clients/"+id, url.Values{"name": {"billing"}, "redirect_uris": {"https://billing.example.com/c#frag"}})
		wantPage(t, r, http.StatusBadRequest, "must not have a fragment", "https://billing.example.com/c#frag</textarea>")
	})
	t.Run("rotate needs the confirmation, then shows the new secret once", func(t *testing.T) {
		r := postForm(root, "/admin/clients/"+id+"/rotate-secret", url.Values{})
		wantPage(t, r, http.StatusBadRequest, `id="rotate-confirm-error"`)
		loc := wantSeeOther(t, postForm(root, "/admin/clients/"+id+"/rotate-secret", url.Values{"confirm": {"yes"}}), "/admin/clients/"+id)
		page := root.Get(loc)
		m := clientSecretOnPage.FindStringSubmatch(string(page.Body))
		if m == nil || m[1] == secret {
			t.Fatalf("the page after the rotation shows no new secret")
		}
		if strings.Contains(string(root.Get(loc).Body), m[1]) {
			t.Error("a reload shows the new secret again")
		}
	})
	t.Run("remove after confirmation", func(t *testing.T) {
		wantPage(t, root.Get("/admin/clients/"+id+"/remove"), http.StatusOK, "Remove billing?", "cannot be undone")
		wantSeeOther(t, postForm(root, "/admin/clients/"+id+"/remove", url.Values{}), "/admin/clients?done=client-removed")
		wantPage(t, root.Get("/admin/clients/"+id), http.StatusNotFound)
	})
}

// TestAdminClientFormsRefuseCrossOrigin: every form of these console pages is refused
// when posted from another site (the server's cross-origin protection), and changes
// nothing.
func TestAdminClientFormsRefuseCrossOrigin(t *testing.T) {
	srv, root := adminServer(t)
	c := addClientAPI(t, root, "billing")
	ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
	if err := srv.Store.PutOIDCConsent(t.Context(), &store.OIDCConsent{UserID: ada.ID, ClientID: c.ClientID, Scopes: []string{"openid"},
		GrantedAt: srv.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	forms := map[string]string{
		"/admin/clients/new":                                                 "name=evil&redirect_uris=https%3A%2F%2Fevil.example%2Fcb",
		"/admin/clients/" + c.ClientID:                                       "name=evil&redirect_uris=https%3A%2F%2Fevil.example%2Fcb",
		"/admin/clients/" + c.ClientID + "/rotate-secret":                    "confirm=yes",
		"/admin/clients/" + c.ClientID + "/remove":                           "",
		"/admin/keys/rotate":                                                 "",
		"/admin/users/" + ada.ID + "/applications/" + c.ClientID + "/revoke": "",
	}
	keys, _ := srv.Store.ListOIDCSigningKeys(t.Context(), srv.Clock.Now())
	for path, body := range forms {
		r := rawDo(srv, root, http.MethodPost, path, "application/x-www-form-urlencoded", []byte(body),
			http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
		if r.status != http.StatusForbidden {
			t.Errorf("POST %s from another site: %d, want 403", path, r.status)
		}
	}
	after, err := srv.Store.GetOIDCClient(t.Context(), c.ClientID)
	if err != nil || after.Name != "billing" {
		t.Errorf("the client after cross-site posts: %+v, %v", after, err)
	}
	if _, err := srv.Store.GetOIDCConsent(t.Context(), ada.ID, c.ClientID); err != nil {
		t.Errorf("the consent after a cross-site revoke: %v", err)
	}
	if now, _ := srv.Store.ListOIDCSigningKeys(t.Context(), srv.Clock.Now()); len(now) != len(keys) {
		t.Errorf("signing keys %d after a cross-site rotation, were %d", len(now), len(keys))
	}
}

func TestAdminKeysSettingsAndUserAppsPages(t *testing.T) {
	srv, root := adminServer(t)
	wantPage(t, root.Get("/admin/keys"), http.StatusOK, "Signing", "ES256")
	wantSeeOther(t, postForm(root, "/admin/keys/rotate", url.Values{}), "/admin/keys?done=keys-rotated")
	wantPage(t, root.Get("/admin/keys?done=keys-rotated"), http.StatusOK, "New signing keys are in use.", "Retiring", "Published until")
	wantPage(t, root.Get("/admin/settings"), http.StatusOK, "server.addr", "mfa.required", "oidc.id_token_lifetime")

	ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
	c := addClientAPI(t, root, "billing")
	if err := srv.Store.PutOIDCConsent(t.Context(), &store.OIDCConsent{UserID: ada.ID, ClientID: c.ClientID, Scopes: []string{"openid", "email"},
		GrantedAt: srv.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	path := "/admin/users/" + ada.ID + "/applications"
	wantPage(t, root.Get("/admin/users/"+ada.ID), http.StatusOK, `href="`+path+`"`)
	wantPage(t, root.Get(path), http.StatusOK, "Applications of ada", "billing", "Remove access")
	wantSeeOther(t, postForm(root, path+"/"+c.ClientID+"/revoke", url.Values{}), path+"?done=app-revoked")
	wantPage(t, root.Get(path+"?done=app-revoked"), http.StatusOK, "The application's access is removed.", "No application has access")
	wantPage(t, root.Get("/admin/users/nobody/applications"), http.StatusNotFound)
}

// adminClientFormCases are TestEveryFormPostRedirects' cases for the console's forms of
// applications, keys and a user's applications: each posts what succeeds. They run on a
// server of their own, whose administrator does not keep the other cases' first-
// administrator setup from working.
func adminClientFormCases(t *testing.T) map[string]func(t *testing.T) *testserver.Response {
	t.Helper()
	srv := testserver.New(t, testserver.Options{})
	adm := mfaClient(t, srv, "adm", "admin")
	client := func(t *testing.T, name string) string {
		t.Helper()
		return addClientAPI(t, adm, name).ClientID
	}
	return map[string]func(t *testing.T) *testserver.Response{
		"POST /admin/clients/new": func(t *testing.T) *testserver.Response {
			return postForm(adm, "/admin/clients/new", url.Values{"name": {"prg-new"}, "redirect_uris": {"https://prg.example.com/cb"}})
		},
		"POST /admin/clients/{id}": func(t *testing.T) *testserver.Response {
			id := client(t, "prg-edit")
			return postForm(adm, "/admin/clients/"+id, url.Values{"name": {"prg-edited"}, "redirect_uris": {"https://prg.example.com/cb"}})
		},
		"POST /admin/clients/{id}/rotate-secret": func(t *testing.T) *testserver.Response {
			return postForm(adm, "/admin/clients/"+client(t, "prg-rotate")+"/rotate-secret", url.Values{"confirm": {"yes"}})
		},
		"POST /admin/clients/{id}/remove": func(t *testing.T) *testserver.Response {
			return postForm(adm, "/admin/clients/"+client(t, "prg-remove")+"/remove", url.Values{})
		},
		"POST /admin/keys/rotate": func(t *testing.T) *testserver.Response {
			return postForm(adm, "/admin/keys/rotate", url.Values{})
		},
		"POST /admin/users/{id}/applications/{client_id}/revoke": func(t *testing.T) *testserver.Response {
			u := srv.CreateUser(t, "prg-user", "prg-user@example.com", "user")
			id := client(t, "prg-revoke")
			if err := srv.Store.PutOIDCConsent(t.Context(), &store.OIDCConsent{UserID: u.ID, ClientID: id, Scopes: []string{"openid"},
				GrantedAt: srv.Clock.Now()}); err != nil {
				t.Fatal(err)
			}
			return postForm(adm, "/admin/users/"+u.ID+"/applications/"+id+"/revoke", url.Values{})
		},
	}
}
