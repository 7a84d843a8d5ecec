package web_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestBrowserForgotPasswordWithCode walks the forgotten-password journey in headless
// Chromium: "Forgot your password?" on the sign-in page, the form, the link from the mail,
// the code first, then the new password, "Successful!", and a sign-in with the new
// password and a code. The session open before the reset is ended by it.
func TestBrowserForgotPasswordWithCode(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	api, secret, _ := enrolled(t, srv, "ada")
	b := browserStart(t, chromium, srv.URL)

	b.open("/login")
	b.click(`//a[normalize-space()="Forgot your password?"]`, "/password/forgot")
	b.wantHeading("Forgot your password?")
	b.typeInto("login", "ada@example.com")
	b.click(`//button[normalize-space()="Send me a link"]`, "/password/forgot/sent")
	b.wantHeading("Check your e-mail")
	b.screenshot("reset-01-sent")

	tok := ""
	for k := range waitResetMails(t, srv, "ada@example.com", 1) {
		tok = k
	}
	b.do("open the link", chromedp.Navigate(srv.URL+"/password/reset?token="+url.QueryEscape(tok)))
	b.wantPath("/password/reset")
	b.wantHeading("Confirm it is you")
	b.screenshot("reset-02-code")
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Continue"]`, "/password/reset")
	b.wantHeading("Choose a new password")
	b.screenshot("reset-03-password")
	b.typeInto("new_password", newPassword)
	b.typeInto("confirm_password", newPassword)
	b.click(`//button[normalize-space()="Set the new password"]`, "/password/reset/done")
	b.wantHeading("Successful!")
	b.wantText("Every session of your account was signed out")
	b.screenshot("reset-04-done")
	if sessionState(t, api) != "" {
		t.Error("the session open before the reset is still alive")
	}

	b.click(`//a[normalize-space()="Sign in"]`, "/login")
	b.typeInto("username", "ada")
	b.typeInto("password", newPassword)
	b.click(`//button[normalize-space()="Sign in"]`, "/login/code")
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Verify"]`, "/account/security")
	b.wantText("Active since")
	b.wantCleanConsole()
}
