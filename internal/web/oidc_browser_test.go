package web_test

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/examples/tenant-app/tenantapp"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestBrowserTenantAppSignIn walks issue 6's journey in headless Chromium: the example
// tenant app sends the browser to twofold, the user signs in with the password and a code
// from the authenticator, allows the app once, and is back in the app as themselves, which
// shows the amr claim. Signing out of the app ends the twofold session too.
func TestBrowserTenantAppSignIn(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	secret, _ := srv.Enroll(t, srv.Client(t), "ada")

	appURL := startTenantApp(t, srv, false)

	b := browserStart(t, chromium, srv.URL)
	b.do("open the tenant app", chromedp.Navigate(appURL+"/"))
	b.screenshot("oidc-01-app")
	b.click(`//a[@id="login"]`, "/login")
	b.wantHeading("Sign in")
	if next := b.location(); !strings.Contains(next, url.QueryEscape(oidc.CallbackPath)) {
		t.Fatalf("the login page %s does not lead back to the authorization", next)
	}
	b.typeInto("username", "ada")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/login/code")
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Verify"]`, oidc.CallbackPath)
	b.wantHeading("Allow Tenant app?")
	b.screenshot("oidc-02-consent")
	b.do("allow", clickOn(chromedp.Search(`//button[normalize-space()="Allow"]`)),
		chromedp.WaitVisible(chromedp.ID("username")))
	b.screenshot("oidc-03-back-in-the-app")
	if loc := b.location(); !strings.HasPrefix(loc, appURL+"/") {
		t.Fatalf("after signing in the browser is at %s, want the tenant app", loc)
	}
	if got := b.text("#username"); got != "ada" {
		t.Errorf("the app shows user %q, want ada", got)
	}
	if amr := strings.Fields(b.text("#amr")); !slices.Contains(amr, "otp") || !slices.Contains(amr, "pwd") || !slices.Contains(amr, "mfa") {
		t.Errorf("the app shows amr %v, want pwd otp mfa", amr)
	}

	// Signing out of the app ends the twofold session (RP-initiated logout with id_token_hint).
	b.do("sign out", clickOn(chromedp.Search(`//button[normalize-space()="Sign out"]`)),
		chromedp.WaitVisible(chromedp.ID("login")))
	b.click(`//a[@id="login"]`, "/login")
	b.wantHeading("Sign in")
	b.wantCleanConsole()
}

// startTenantApp registers the example tenant app with srv and serves it; it returns the
// app's URL.
func startTenantApp(t *testing.T, srv *testserver.Server, firstParty bool) string {
	t.Helper()
	app := httptest.NewUnstartedServer(nil)
	appURL := "http://" + app.Listener.Addr().String()
	rc, err := srv.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: "Tenant app", FirstParty: firstParty,
		RedirectURIs: []string{appURL + "/callback"}, PostLogoutRedirectURIs: []string{appURL + "/"}},
		audit.Meta{IP: "test"})
	if err != nil {
		t.Fatal(err)
	}
	app.Config.Handler = tenantapp.New(tenantapp.Config{Issuer: srv.URL, ClientID: rc.Client.ID,
		ClientSecret: rc.Secret, BaseURL: appURL})
	app.Start()
	t.Cleanup(app.Close)
	return appURL
}

// TestBrowserTenantAppEnrollsOnTheWay: a user without an authenticator who signs in from
// an application sets it up, saves the recovery code, signs in with it (enrolling is not an
// MFA sign-in), and then lands in the application.
func TestBrowserTenantAppEnrollsOnTheWay(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "bea", "bea@example.com", "user")
	appURL := startTenantApp(t, srv, true)

	b := browserStart(t, chromium, srv.URL)
	b.do("open the tenant app", chromedp.Navigate(appURL+"/"))
	b.click(`//a[@id="login"]`, "/login")
	b.typeInto("username", "bea")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/mfa/setup")
	secret := testserver.DecodeSecret(t, strings.TrimSpace(b.text("#secret")))
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Confirm"]`, "/recovery-code")
	b.wantHeading("Successful!")
	b.tick("saved")
	b.do("continue", clickOn(chromedp.Search(`//button[normalize-space()="Continue"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Sign in again"]`)))
	b.click(`//button[normalize-space()="Sign in again"]`, "/login")
	b.typeInto("username", "bea")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/login/code")
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.do("verify", clickOn(chromedp.Search(`//button[normalize-space()="Verify"]`)),
		chromedp.WaitVisible(chromedp.ID("username")))
	if got := b.text("#username"); got != "bea" {
		t.Errorf("the app shows user %q, want bea", got)
	}
	if amr := strings.Fields(b.text("#amr")); !slices.Contains(amr, "otp") || !slices.Contains(amr, "mfa") {
		t.Errorf("the app shows amr %v, want otp and mfa in it", amr)
	}
	b.wantCleanConsole()
}

// TestBrowserLogoutConfirmationReturnsToTheApp: an application sends the browser to
// end_session without id_token_hint; the user confirms on twofold's page and lands back in
// the application with its state (the "Taking you back" page, as form-action 'self' blocks
// a redirect after the form), signed out of twofold.
func TestBrowserLogoutConfirmationReturnsToTheApp(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	secret, _ := srv.Enroll(t, srv.Client(t), "ada")
	appURL := startTenantApp(t, srv, true)
	clients, err := srv.Store.ListOIDCClients(t.Context())
	if err != nil || len(clients) != 1 {
		t.Fatalf("clients %v: %v", clients, err)
	}

	b := browserStart(t, chromium, srv.URL)
	b.signInWithPassword("ada")
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Verify"]`, "/account/security")

	q := url.Values{"client_id": {clients[0].ID}, "post_logout_redirect_uri": {appURL + "/"}, "state": {"st-1"}}
	b.do("the application's logout request", chromedp.Navigate(srv.URL+oidc.EndSessionPath+"?"+q.Encode()))
	b.wantPath(oidc.LogoutConfirmPath)
	b.wantText("Tenant app asks to sign you out")
	b.screenshot("oidc-logout-confirm")
	b.do("sign out", clickOn(chromedp.Search(`//main//button[normalize-space()="Sign out"]`)),
		chromedp.WaitVisible(chromedp.ID("login")))
	if loc := b.location(); loc != appURL+"/?state=st-1" {
		t.Errorf("after signing out the browser is at %s, want the app with the state", loc)
	}
	b.do("back to twofold", chromedp.Navigate(srv.URL+"/account/security"))
	b.wantPath("/login")
	b.wantCleanConsole()
}
