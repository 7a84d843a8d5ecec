package web_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestBrowserChangeOfAddress walks a change of address in headless Chromium at 320 px, as
// a person would: on Password & Security, type the new address and the password, open the
// link mailed to the new address, press Confirm, and see the new address verified.
func TestBrowserChangeOfAddress(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	b := browserStart(t, chromium, srv.URL)
	b.do("narrow the window", emulateViewport(320, 640))

	b.open("/login")
	b.typeInto("username", "ada")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/account/security")
	b.wantText("not verified")
	b.wantFits()
	b.typeInto("new_email", "ada.lovelace@example.org")
	b.typeInto("email_password", testserver.Password)
	b.click(`//button[normalize-space()="Change address"]`, "/account/security")
	b.wantText("We sent a link to the new address")
	b.wantText("ada@example.com") // nothing changed yet
	b.screenshot("address-01-requested")

	link, err := url.Parse(srv.LastMailTo(t, "ada.lovelace@example.org").Link(address.ConfirmPath + "?token="))
	if err != nil || link.Query().Get("token") == "" {
		t.Fatalf("no link in the mail to the new address (%v)", err)
	}
	b.do("open the link", chromedp.Navigate(srv.URL+link.RequestURI()))
	b.wantPath(address.ConfirmPath)
	b.wantHeading("Confirm your e-mail address")
	b.wantText("ada.lovelace@example.org")
	b.wantFits()
	b.screenshot("address-02-confirm")
	b.click(`//button[normalize-space()="Confirm"]`, "/account/email/confirmed")
	b.wantHeading("E-mail address confirmed")
	b.wantText("is now ada.lovelace@example.org, and it is verified")
	b.click(`//a[normalize-space()="Go to Password & Security"]`, "/account/security")
	b.wantText("ada.lovelace@example.org: verified")
	b.wantCleanConsole()

	if m := srv.LastMailTo(t, "ada@example.com"); m.Subject != "Your e-mail address was changed" {
		t.Errorf("the old address got %q, want the notice", m.Subject)
	}
}

// wantFits fails when the page is wider than the window (a horizontal scroll bar), naming
// the elements that stick out.
func (b *browserTab) wantFits() {
	b.t.Helper()
	if w := browserEval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		b.t.Errorf("page %s is %d px wider than the window: %s", b.location(), w, browserEval[string](b, overflowing))
	}
}

const overflowing = `Array.from(document.querySelectorAll('main *'))
	.filter(e => e.getBoundingClientRect().right > window.innerWidth)
	.map(e => e.tagName + ':' + Math.round(e.getBoundingClientRect().right)).slice(0, 12).join(' ')`
