package web_test

import (
	"crypto/sha256"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// signInAdminInBrowser signs the browser in as username (an administrator with the
// authenticator secret) with the password and a code, and opens the console.
func signInAdminInBrowser(b *browserTab, srv *testserver.Server, username string, secret []byte) {
	b.t.Helper()
	b.signInWithPassword(username)
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.submit(`//button[normalize-space()="` + i18n.T(b.lang, "code.submit") + `"]`)
	b.open("/admin")
}

// TestBrowserAdminAddsClientSecretShownOnce: in Chromium, an administrator registers an
// application in the console; the page the form leads to shows its secret (the one
// stored), and a reload of that page no longer does.
func TestBrowserAdminAddsClientSecretShownOnce(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "root", "root@example.com", "admin")
	secret, _ := srv.Enroll(t, srv.Client(t), "root")
	b := browserStart(t, chromium, srv.URL)
	signInAdminInBrowser(b, srv, "root", secret)

	b.click(`//nav[@aria-label="Admin console"]//a[normalize-space()="Applications"]`, "/admin/clients")
	b.click(`//a[normalize-space()="Add an application"]`, "/admin/clients/new")
	b.typeInto("name", "Billing")
	b.typeInto("redirect_uris", "https://billing.example.com/callback")
	b.submit(`//button[normalize-space()="Add application"]`)
	loc, err := url.Parse(b.location())
	if err != nil || !strings.HasPrefix(loc.Path, "/admin/clients/") {
		t.Fatalf("after adding: %s\n%s", b.location(), b.pageText())
	}
	b.wantText("The application is registered.")
	shown := strings.TrimSpace(b.text("#client-secret"))
	clients, err := srv.Store.ListOIDCClients(t.Context())
	if err != nil || len(clients) != 1 {
		t.Fatalf("clients: %v, %v", clients, err)
	}
	if h := sha256.Sum256([]byte(shown)); string(h[:]) != string(clients[0].SecretHash) {
		t.Fatalf("the page shows %q, which is not the stored client's secret", shown)
	}
	if id := strings.TrimSpace(b.text("#client-id")); id != clients[0].ID {
		t.Errorf("the page shows client ID %q, want %q", id, clients[0].ID)
	}

	b.do("reload", chromedp.Reload())
	b.wantPath(loc.Path)
	if page := b.text("main"); strings.Contains(page, shown) {
		t.Error("a reload shows the secret again")
	}
	if browserEval[bool](b, `document.getElementById("client-secret") !== null`) {
		t.Error("a reload still has the secret's element")
	}
	b.wantCleanConsole()
}

// TestAdminClientPageStates puts the console's applications, keys, settings and a user's
// applications through the page-state check of TestPageStates (no sideways scrolling, no
// axe-core violation, light and dark), in every language as TestPageStates walks them. It
// runs on a server of its own: TestPageStates' demands security keys of administrators.
func TestAdminClientPageStates(t *testing.T) {
	inEveryLanguage(t, func(t *testing.T, chromium, axe, lang string) {
		srv := testserver.New(t, testserver.Options{})
		ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
		rc, err := srv.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: "Tenant app with a long name for a narrow phone",
			RedirectURIs: []string{"https://tenant.example.com/callback"}}, audit.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Store.PutOIDCConsent(t.Context(), &store.OIDCConsent{UserID: ada.ID, ClientID: rc.Client.ID,
			Scopes: []string{"openid", "profile", "email"}, GrantedAt: srv.Clock.Now()}); err != nil {
			t.Fatal(err)
		}
		b := browserStart(t, chromium, srv.URL)
		c := &pageChecker{b: b, axe: axe, shots: shotsDir(t, "admin-clients", lang)}
		c.chooseLanguage(lang)
		checkAdminClientPageStates(t, srv, b, c, ada.ID)
		t.Logf("checked %d page states (%d axe-core rule applications): %s", len(c.checked), c.rules, strings.Join(c.checked, ", "))
	})
}

// checkAdminClientPageStates walks the console's applications, keys, settings and a
// user's applications for the page-state check, signed in as an administrator; user is
// the id of an account whose applications to show.
func checkAdminClientPageStates(t *testing.T, srv *testserver.Server, b *browserTab, c *pageChecker, user string) {
	t.Helper()
	tr := func(key string, args ...any) string { return i18n.T(b.lang, key, args...) }
	srv.CreateUser(t, "root", "root@example.com", "admin")
	secret, _ := srv.Enroll(t, srv.Client(t), "root")
	signInAdminInBrowser(b, srv, "root", secret)
	b.open("/admin/clients")
	c.check("admin-clients")
	b.click(`//a[normalize-space()="`+tr("admin.clients.add")+`"]`, "/admin/clients/new")
	c.check("admin-client-new")
	b.typeInto("name", "Payroll")
	b.typeInto("redirect_uris", "javascript:alert(1)")
	b.submit(`//button[normalize-space()="` + tr("admin.client.add_submit") + `"]`)
	c.check("admin-client-new-error")
	b.do("clear the redirect URIs", chromedp.Evaluate[chromedp.Void](`document.getElementById("redirect_uris").value = ""`))
	b.typeInto("redirect_uris", "https://payroll.example.com/oauth2/callback/with/a/rather/long/path")
	b.submit(`//button[normalize-space()="` + tr("admin.client.add_submit") + `"]`)
	c.check("admin-client-secret")
	client := mustPath(t, b.location())
	b.open(client)
	c.check("admin-client")
	b.click(`//a[normalize-space()="`+tr("admin.client.remove_link")+`"]`, client+"/remove")
	c.check("admin-client-remove")
	b.open("/admin/keys")
	c.check("admin-keys")
	b.open("/admin/settings")
	c.check("admin-settings")
	b.open("/admin/users/" + user + "/applications")
	c.check("admin-user-applications")
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}
