package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/totp"
	"github.com/twofold-id/twofold/internal/web"
)

// TestBrowserInvitation walks an invitation in headless Chromium as the invitee would, on
// a 320 px wide screen: the link from the mail, the password form (a mismatch and a weak
// password are refused on the page), the QR code of the forced authenticator setup, a
// code, "Successful!" with the recovery code, and signed in with a verified address.
func TestBrowserInvitation(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	if _, err := srv.Invite.Invite(context.Background(), auth.NewUser{Username: "ivy", Email: "ivy@example.com"}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	link := srv.LastMailTo(t, "ivy@example.com").Link("/invite?token=")
	b := browserStart(t, chromium, srv.URL)
	b.do("narrow the screen", emulateViewport(320, 640))

	b.do("open the mailed link", chromedp.Navigate(link))
	b.wantPath("/invite")
	b.wantHeading("Welcome, ivy")
	b.wantText("At least 12 characters. It must not contain your username")
	if w := browserEval[int](b, `document.documentElement.scrollWidth`); w > 320 {
		t.Errorf("the invitation page is %d px wide on a 320 px screen", w)
	}
	b.screenshot("invite-01-page")

	b.typeInto("password", testserver.Password)
	b.typeInto("confirm_password", testserver.Password+"x")
	browserClickRefused(b, `//button[normalize-space()="Set my password"]`, "The passwords do not match.")
	b.typeInto("password", "password12345")
	b.typeInto("confirm_password", "password12345")
	browserClickRefused(b, `//button[normalize-space()="Set my password"]`, "too common")

	b.typeInto("password", testserver.Password)
	b.typeInto("confirm_password", testserver.Password)
	b.click(`//button[normalize-space()="Set my password"]`, "/mfa/setup")
	b.wantHeading("Set up your authenticator app")
	b.screenshot("invite-02-setup")
	keyText := strings.TrimSpace(b.text("#secret"))
	secret := testserver.DecodeSecret(t, keyText)
	browserCheckQR(t, b.attr(".qr img", "src"), totp.KeyURI("twofold", "ivy", secret), keyText)

	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Confirm"]`, "/recovery-code")
	b.wantHeading("Successful!")
	if code := strings.TrimSpace(b.text("#recovery-code")); code == "" {
		t.Fatal("the Successful! page shows no recovery code")
	}
	b.screenshot("invite-03-successful")
	b.tick("saved")
	b.click(`//button[normalize-space()="Continue"]`, "/account/security")
	b.wantHeading("Password & Security")
	b.wantText("Active since")
	b.forgetRefusals("/invite")
	b.wantCleanConsole()

	// The browser's session is the signed-in user's, with the address verified.
	raw := browserEval[string](b, `(() => { const x = new XMLHttpRequest(); x.open("GET", "/api/v1/session", false); x.send(); return x.responseText; })()`)
	var sess web.SessionAnswer
	if err := json.Unmarshal([]byte(raw), &sess); err != nil {
		t.Fatalf("session: %v: %s", err, raw)
	}
	if sess.State != "authenticated" || sess.User.Username != "ivy" || !sess.User.EmailVerified {
		t.Errorf("session after the invitation: %+v, want ivy authenticated with a verified address", sess)
	}
}

// browserClickRefused submits a form the server must refuse: the page comes back with 400
// and says why.
func browserClickRefused(b *browserTab, xpath, want string) {
	b.t.Helper()
	resp, err := b.clickResponse(xpath)
	if err != nil {
		b.t.Fatalf("click %s: %v", xpath, err)
	}
	if resp == nil || resp.Status != http.StatusBadRequest {
		b.t.Fatalf("click %s: %v at %s, want a 400 page\n%s", xpath, resp, b.location(), b.pageText())
	}
	b.wantText(want)
}

// forgetRefusals drops the console's reports of the 400 answers to POST path that the
// test asked for (browserClickRefused): the browser logs every 4xx as an error.
func (b *browserTab) forgetRefusals(path string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.console[:0]
	for _, m := range b.console {
		if !strings.Contains(m, "status of 400") || !strings.HasSuffix(m, path+")") {
			kept = append(kept, m)
		}
	}
	b.console = kept
}
