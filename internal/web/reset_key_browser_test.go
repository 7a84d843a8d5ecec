package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestBrowserForgotPasswordWithKey: in Chromium with a virtual authenticator, a user whose
// only second factor is a passkey opens the reset link, confirms with "Use your security
// key" (no recovery code asked for), sets a new password, and signs in with it and the key.
func TestBrowserForgotPasswordWithKey(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "ada", "ada@example.com", store.RoleUser)
	b := keyBrowser(t, chromium, srv)
	b.typeInto("username", "ada")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/mfa/setup")
	b.addKeyOnPage("Laptop passkey", "/recovery-code")
	b.wantHeading("Successful!")
	rc := strings.TrimSpace(b.text("#recovery-code"))

	tok := forgot(t, srv, "ada", "ada@example.com", true)
	b.do("open the link", chromedp.Navigate(b.base+"/password/reset?token="+url.QueryEscape(tok)))
	b.wantPath("/password/reset")
	b.wantHeading("Confirm it is you")
	b.wantText("Touch or unlock your security key or passkey.")
	b.wantText("Lost your security key?")
	b.screenshot("reset-key-01-confirm")
	b.click(`//button[normalize-space()="Use your security key"]`, "/password/reset")
	b.wantHeading("Choose a new password")
	b.typeInto("new_password", newPassword)
	b.typeInto("confirm_password", newPassword)
	b.click(`//button[normalize-space()="Set the new password"]`, "/password/reset/done")
	b.wantHeading("Successful!")
	if strings.Contains(b.pageText(), rc) {
		t.Error("the reset with the key showed the recovery code")
	}

	// The sign-in page offers passkeys at once (conditional UI): failing user verification
	// while it loads keeps it on screen for the password.
	b.verifies(false)
	b.open("/login")
	b.typeInto("username", "ada")
	b.typeInto("password", newPassword)
	b.click(`//button[normalize-space()="Sign in"]`, "/login/code")
	b.verifies(true)
	b.click(`//button[normalize-space()="Use your security key"]`, "/account/security")
	wantSessionAMR(t, srv, "ada", "pwd", "hwk", "user", "mfa")
	b.wantCleanConsole()
}
