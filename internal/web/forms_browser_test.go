package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// submitRefused clicks the submit button an XPath finds and fails unless the form comes
// back refused with status.
func (b *browserTab) submitRefused(xpath string, status int64) {
	b.t.Helper()
	resp, err := b.clickResponse(xpath)
	if err != nil {
		b.t.Fatalf("click %s on %s: %v", xpath, b.location(), err)
	}
	if resp == nil || resp.Status != status {
		b.t.Fatalf("click %s: %v at %s, want status %d\n%s", xpath, resp, b.location(), status, b.pageText())
	}
}

// wantFocus fails unless the focused element is the field with id, described by its error.
func (b *browserTab) wantFocus(id string) {
	b.t.Helper()
	// Chromium focuses the autofocus field once the page has rendered, a moment after load.
	b.do("wait for the error", chromedp.WaitVisible(chromedp.ID(id+"-error")))
	b.do("wait for a focused field", chromedp.Poll[chromedp.Void](`document.activeElement !== null && document.activeElement !== document.body`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if got := browserEval[string](b, `document.activeElement ? document.activeElement.id : ""`); got != id {
		b.t.Fatalf("focus is on %q, want the field in error %q\n%s", got, id, b.pageText())
	}
	desc := browserEval[string](b, `(document.activeElement.getAttribute("aria-describedby") || "").split(" ").map(i => (document.getElementById(i) || {}).textContent || "").join(" ")`)
	if want := b.text("#" + id + "-error"); want == "" || !strings.Contains(desc, want) {
		b.t.Fatalf("the focused field is described by %q, not by its error %q", desc, want)
	}
}

// TestBrowserFocusLandsOnTheFieldInError: in Chromium, a refused form comes back with the
// focus on the field in error (not the first field of the form), which assistive
// technology reads with its error, without JavaScript doing it.
func TestBrowserFocusLandsOnTheFieldInError(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	_, secret, _ := enrolled(t, srv, "bob")
	b := browserStart(t, chromium, srv.URL)

	b.open("/login")
	b.typeInto("username", "ada")
	b.typeInto("password", "not-"+testserver.Password)
	b.submitRefused(`//button[normalize-space()="Sign in"]`, 401)
	b.wantFocus("password")
	if v := browserEval[string](b, `document.getElementById("username").value`); v != "ada" {
		t.Errorf("the username typed is gone: %q", v)
	}
	b.screenshot("forms-01-sign-in-error")

	// On the security page the field in error is the last of its form.
	b.signInWithPassword("bob")
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Verify"]`, "/account/security")
	b.typeInto("current_password", testserver.Password)
	b.typeInto("new_password", "orbit lantern cactus violin")
	b.typeInto("confirm_password", "orbit lantern cactus viola")
	b.submitRefused(`//button[normalize-space()="Change password"]`, 400)
	b.wantFocus("confirm_password")
	b.screenshot("forms-02-password-change-error")
}
