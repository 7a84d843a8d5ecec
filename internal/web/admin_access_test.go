package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// adminServer starts a server whose policy lets everyone in with a password alone, with
// an administrator "root" who set up an authenticator and signed in with it; it returns
// root's client.
func adminServer(t *testing.T) (*testserver.Server, *testserver.Client) {
	t.Helper()
	return adminServerWith(t, testserver.Options{})
}

// adminServerWith is adminServer with o (whose MFA policy it replaces).
func adminServerWith(t *testing.T, o testserver.Options) (*testserver.Server, *testserver.Client) {
	t.Helper()
	o.MFARequiredForRole = noMFA
	srv := testserver.New(t, o)
	return srv, mfaClient(t, srv, "root", "admin")
}

// mfaClient creates username with role, sets up an authenticator and returns a client
// signed in with a code.
func mfaClient(t testing.TB, srv *testserver.Server, username, role string) *testserver.Client {
	t.Helper()
	u := srv.CreateUser(t, username, username+"@example.com", role)
	if err := srv.Auth.SetMFAOverride(context.Background(), u, "yes", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	srv.Enroll(t, c, username)
	return c
}

// TestEveryAdminRouteRefusesOthers walks the router's admin routes: each refuses a browser
// without a session, a user and a support agent signed in with a second factor, an
// administrator signed in with a password alone, a token the server never issued, and on
// the API a token without the route's scope (pages take no token at all); an
// administrator signed in with a second factor, and on the API a token with the scope,
// get past the check.
func TestEveryAdminRouteRefusesOthers(t *testing.T) {
	srv, root := adminServer(t)
	user := mfaClient(t, srv, "ada", "user")
	agent := mfaClient(t, srv, "sam", "support")
	srv.CreateUser(t, "pat", "pat@example.com", "admin")
	pwOnly := srv.Client(t)
	pwOnly.Login("pat", "authenticated")
	nobody := srv.Client(t)

	// Tokens of root's: for each scope one that holds it alone, and one that holds every
	// other scope.
	holding, lacking := map[string]string{}, map[string]string{}
	rootID := mustUser(t, srv, "root").ID
	for _, sc := range append(slices.Clone(admin.Scopes), "session") {
		var others []string
		for _, o := range admin.Scopes {
			if o != sc {
				others = append(others, string(o))
			}
		}
		made, err := srv.Tokens.Create(context.Background(), apitoken.NewToken{Name: "without " + string(sc), Scopes: others, CreatedBy: rootID}, auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		lacking[string(sc)] = made.Secret
		if sc == "session" {
			continue
		}
		made, err = srv.Tokens.Create(context.Background(), apitoken.NewToken{Name: "with " + string(sc), Scopes: []string{string(sc)}, CreatedBy: rootID}, auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		holding[string(sc)] = made.Secret
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

	routes := web.AdminRoutes(t)
	if len(routes) == 0 {
		t.Fatal("no admin routes registered")
	}
	for _, rt := range routes {
		method, path := web.Probe(rt.Pattern)
		api := strings.HasPrefix(path, "/api/")
		send := func(c *testserver.Client, header http.Header) rawResult {
			ct, body := "application/x-www-form-urlencoded", []byte("confirm=x")
			if api {
				ct, body = "application/json", []byte("{}")
			}
			if method == http.MethodGet {
				ct, body = "", nil
			}
			return rawDo(srv, c, method, path, ct, body, header)
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			if rt.Scope == "" {
				t.Fatal("no scope declared")
			}
			r := send(nobody, nil)
			switch {
			case api && r.status != http.StatusUnauthorized:
				t.Errorf("without a session: %d, want 401: %s", r.status, r.body)
			case !api && (r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?next=")):
				t.Errorf("without a session: %d to %q, want 303 to the sign-in", r.status, r.header.Get("Location"))
			}
			for name, c := range map[string]*testserver.Client{"user": user, "agent": agent, "password_only_admin": pwOnly} {
				if r := send(c, nil); r.status != http.StatusForbidden || api && !strings.Contains(string(r.body), `"forbidden"`) {
					t.Errorf("%s: %d, want 403 forbidden: %.200s", name, r.status, r.body)
				}
			}
			if api {
				h := http.Header{"Authorization": {"Bearer tf_notatoken"}}
				if r := send(root, h); r.status != http.StatusUnauthorized {
					t.Errorf("unknown token beside an admin's cookie: %d, want 401: %.200s", r.status, r.body)
				}
				// A token with every scope but the route's, even beside an administrator's
				// cookie: 403 forbidden.
				if r := send(root, bearer(lacking[rt.Scope])); r.status != http.StatusForbidden || !strings.Contains(string(r.body), `"forbidden"`) {
					t.Errorf("token without %s: %d, want 403 forbidden: %.200s", rt.Scope, r.status, r.body)
				}
				if full, ok := holding[rt.Scope]; ok {
					if r := send(nobody, bearer(full)); r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
						t.Errorf("token with %s: %d %.200s", rt.Scope, r.status, r.body)
					}
				}
			} else if r := send(nobody, bearer(holding[string(admin.ScopeUsersRead)])); r.status != http.StatusSeeOther {
				// Tokens are for the API: a page never takes one.
				t.Errorf("a page with a token and no session: %d, want 303 to the sign-in", r.status)
			}
			if r := send(root, nil); r.status == http.StatusUnauthorized || r.status == http.StatusForbidden ||
				r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/login") {
				t.Errorf("administrator with a second factor: %d %s", r.status, r.body)
			}
		})
	}
}

// TestAdminConsoleNavigation: an administrator's header links to the console, whose
// pages show its sections; nobody else's header does.
func TestAdminConsoleNavigation(t *testing.T) {
	srv, root := adminServer(t)
	wantPage(t, root.Get("/account/security"), http.StatusOK, `href="/admin"`)
	r := root.Get("/admin")
	wantPage(t, r, http.StatusOK, `href="/admin" aria-current="page"`, `<nav class="console" aria-label="Admin console">`, `href="/admin/users"`)
	if strings.Contains(string(r.Body), `href="/admin/nope"`) {
		t.Error("the console links to a section without a page")
	}
	wantPage(t, root.Get("/admin/users"), http.StatusOK, `href="/admin/users" aria-current="page">Users`)
	user := mfaClient(t, srv, "ada", "user")
	if r := user.Get("/account/security"); strings.Contains(string(r.Body), `href="/admin"`) {
		t.Error("a user's header links to the admin console")
	}
	wantPage(t, user.Get("/admin"), http.StatusForbidden, "for administrators")
}
