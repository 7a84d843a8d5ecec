package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// keyBrowser starts Chromium on srv at http://localhost:<port> (WebAuthn needs a secure
// context and a name, not an IP address: the server's relying party ID defaults to
// localhost) with a DevTools virtual authenticator: CTAP 2.1 over the internal transport,
// resident keys (passkeys), user verification that succeeds, presence simulated.
func keyBrowser(t *testing.T, chromium string, srv *testserver.Server) *keyTab {
	t.Helper()
	b := &keyTab{browserTab: browserStart(t, chromium, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1))}
	b.open("/login") // the authenticator belongs to the page's target; give it one first
	b.do("add a virtual authenticator", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
				HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			}})
		b.id = res.AuthenticatorID
		return err
	}))
	return b
}

// keyTab is a browser tab with a virtual authenticator.
type keyTab struct {
	*browserTab
	id webauthn.AuthenticatorID
}

// verifies sets whether the authenticator's user verification succeeds. The sign-in page
// asks the authenticator at once for a passkey (conditional UI), and the virtual one
// answers without anyone choosing: failing verification keeps the page on screen.
func (b *keyTab) verifies(ok bool) {
	b.t.Helper()
	b.do("user verification", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: b.id, IsUserVerified: ok})
		return err
	}))
}

// addKeyOnPage names a key in the add-a-key form of the page shown and lets the browser
// create it; the browser then goes to wantPath.
func (b *keyTab) addKeyOnPage(name, wantPath string) {
	b.t.Helper()
	b.typeInto("key-name", name)
	b.click(`//button[normalize-space()="Add a security key or passkey"]`, wantPath)
}

// TestBrowserPasskey: in Chromium with a virtual authenticator, a user registers a
// passkey on Password & Security, signs out, and signs in with "Sign in with a passkey"
// without typing anything; then signs in with the password and the key as the second
// factor ("Use your security key", offered before the app code).
func TestBrowserPasskey(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "ada", "ada@example.com", store.RoleUser)
	secret, _ := srv.Enroll(t, srv.Client(t), "ada")
	b := keyBrowser(t, chromium, srv)

	// Signed in with a code a moment ago: keys can be added without confirming again.
	b.signInWithPassword("ada")
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Verify"]`, "/account/security")
	b.wantText("Security keys and passkeys")
	b.addKeyOnPage("Laptop passkey", "/account/security")
	b.wantText("Your security key is added.")
	b.wantText("Laptop passkey")
	b.wantText("Passkey")

	// Signed out, a passkey alone signs in: no username, no password. (The authenticator
	// fails user verification while the sign-in page loads, so that its passkey offer in
	// the username field's autofill does not answer first.)
	b.verifies(false)
	b.click(`//header//button[normalize-space()="Sign out"]`, "/login")
	b.wantText("You are signed out.")
	if got := b.attr("#username", "autocomplete"); got != "username webauthn" {
		t.Errorf("the username field's autocomplete is %q, want \"username webauthn\" (conditional UI)", got)
	}
	b.verifies(true)
	b.click(`//button[normalize-space()="Sign in with a passkey"]`, "/account/security")
	b.wantHeading("Password & Security")
	wantSessionAMR(t, srv, "ada", "hwk", "user", "mfa")

	// The password, then the key as the second factor, offered first.
	b.verifies(false)
	b.click(`//header//button[normalize-space()="Sign out"]`, "/login")
	b.signInWithPassword("ada")
	b.verifies(true)
	b.wantText("Or enter the 6-digit code from your authenticator app")
	b.click(`//button[normalize-space()="Use your security key"]`, "/account/security")
	wantSessionAMR(t, srv, "ada", "pwd", "hwk", "user", "mfa")

	// Conditional UI: the sign-in page's passkey offer signs in as soon as the passkey is
	// chosen (the virtual authenticator chooses its only one at once).
	b.click(`//header//button[normalize-space()="Sign out"]`, "/login")
	b.do("wait for the passkey offer to sign in", chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Password & Security"]`)))
	wantSessionAMR(t, srv, "ada", "hwk", "user", "mfa")
	b.wantCleanConsole()

	// In German, a passkey prompt that fails (user verification refused: the browser says
	// NotAllowedError) shows the catalog's German text, not English words of the script.
	b.verifies(false)
	b.click(`//header//button[normalize-space()="Sign out"]`, "/login")
	b.do("choose de", chromedp.SetValue(chromedp.ID("lang-choice"), "de"))
	b.click(`//form[@action="/language"]//button`, "/login")
	b.clickStay(`//button[normalize-space()="` + i18n.T("de", "login.passkey") + `"]`)
	b.wantKeyStatus("passkey", i18n.T("de", "js.key_cancelled"))

	// A passkey twofold refuses (its key was removed meanwhile: key_not_registered) is
	// told by the problem's code in German, with what to do, not by the problem's English
	// detail nor the general text.
	u, err := srv.Store.GetUserByUsername(t.Context(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := srv.Store.ListWebAuthnCredentials(t.Context(), u.ID)
	if err != nil || len(keys) == 0 {
		t.Fatalf("ada's keys: %v %v", keys, err)
	}
	for _, k := range keys {
		if err := srv.Store.DeleteWebAuthnCredential(t.Context(), u.ID, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	b.verifies(true)
	b.clickStay(`//button[normalize-space()="` + i18n.T("de", "login.passkey") + `"]`)
	b.wantKeyStatus("passkey", i18n.T("de", "js.key_not_registered"))
}

// wantKeyStatus waits until the key status line inside the element with id box shows want.
func (b *keyTab) wantKeyStatus(box, want string) {
	b.t.Helper()
	b.do("wait for the key status "+want, chromedp.WaitVisible(chromedp.Search(
		`//*[@id="`+box+`"]//p[@data-webauthn-status and normalize-space()="`+want+`"]`)))
}

// TestBrowserKeyPolicy: mfa.phishing_resistant: [admin]. An administrator without any
// factor is offered only a key at the forced setup, gets "Successful!" with the recovery
// code, and is in. One who still has the app passes its code, is led straight to adding a
// key, and then confirms with it before the support console opens.
func TestBrowserKeyPolicy(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) {
		c.MFA.PhishingResistant = []string{store.RoleAdmin}
	}})

	t.Run("first factor", func(t *testing.T) {
		srv.CreateUser(t, "ann", "ann@example.com", store.RoleAdmin)
		b := keyBrowser(t, chromium, srv)
		b.open("/login")
		b.typeInto("username", "ann")
		b.typeInto("password", testserver.Password)
		b.click(`//button[normalize-space()="Sign in"]`, "/mfa/setup")
		b.wantHeading("Add a security key or passkey")
		if strings.Contains(b.pageText(), "QR") {
			t.Error("the key-only setup mentions the authenticator app's QR code")
		}
		b.addKeyOnPage("YubiKey", "/recovery-code")
		b.wantHeading("Successful!")
		b.wantText("Your security key is set up.")
		if code := strings.TrimSpace(b.text("#recovery-code")); code == "" {
			t.Fatal("no recovery code on the Successful! page")
		}
		b.tick("saved")
		b.submit(`//button[normalize-space()="Continue"]`)
		b.wantCleanConsole()
	})

	t.Run("app code, then a key before the console", func(t *testing.T) {
		srv.CreateUser(t, "max", "max@example.com", store.RoleUser)
		secret, _ := srv.Enroll(t, srv.Client(t), "max")
		u, err := srv.Store.GetUserByUsername(t.Context(), "max")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Store.SetUserRole(t.Context(), u.ID, store.RoleAdmin, srv.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		b := keyBrowser(t, chromium, srv)
		b.signInWithPassword("max")
		srv.NextStep()
		b.typeInto("code", srv.Code(secret, 0))
		b.click(`//button[normalize-space()="Verify"]`, "/mfa/setup")
		b.wantHeading("Add a security key or passkey")
		b.addKeyOnPage("Work key", "/login/key")
		b.wantHeading("Confirm with your security key")
		b.click(`//button[normalize-space()="Use your security key"]`, "/support/cases")
		wantSessionAMR(t, srv, "max", "pwd", "otp", "mfa", "hwk", "user")
		b.wantCleanConsole()
	})
}

// wantSessionAMR fails unless the newest session of username has exactly amr.
func wantSessionAMR(t *testing.T, srv *testserver.Server, username string, amr ...string) {
	t.Helper()
	u, err := srv.Store.GetUserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	list, err := srv.Store.ListUserSessions(t.Context(), u.ID, srv.Clock.Now())
	if err != nil || len(list) == 0 {
		t.Fatalf("sessions of %s: %v %v", username, list, err)
	}
	if got := strings.Join(list[0].AMR, " "); got != strings.Join(amr, " ") {
		t.Errorf("amr of %s's session: %q, want %q", username, got, strings.Join(amr, " "))
	}
}
