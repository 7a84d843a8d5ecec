package web_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/totp"
)

// TestBrowserSupportReset plays both sides of issue 4's story in headless Chromium: a user
// who lost her phone opens a case from the sign-in page; an agent signs in, opens the
// case, sends the verification link, which the user confirms from her mail; the agent
// resets her MFA; her next sign-in shows a fresh QR code to enroll. The server runs on
// the fake clock; codes are computed at the fake time.
func TestBrowserSupportReset(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	oldSecret, _ := srv.Enroll(t, srv.Client(t), "ada")
	srv.CreateUser(t, "sam", "sam@example.com", "support")
	samSecret, _ := srv.Enroll(t, srv.Client(t), "sam")
	b := browserStart(t, chromium, srv.URL)

	// The user: from the sign-in page to the support page, and a case.
	b.open("/login")
	b.click(`//a[normalize-space()="Contact support"]`, "/support")
	b.wantHeading("Contact support")
	b.typeInto("full_name", "Ada Lovelace")
	b.typeInto("email", "ada@example.com")
	b.typeInto("organisation", "Analytical Engines")
	b.typeInto("phone", "+44 20 7946 0000")
	b.do("choose the category", chromedp.SetValue(chromedp.ID("category"), "lost_device"))
	b.typeInto("description", "I lost my phone on the train.")
	b.screenshot("support-01-form")
	b.click(`//button[normalize-space()="Send request"]`, "/support/sent")
	b.wantHeading("Request received")
	ref := strings.TrimSpace(b.text("#reference"))
	if !referenceRE.MatchString(ref) {
		t.Fatalf("the page shows reference %q", ref)
	}
	b.screenshot("support-02-reference")

	// The agent: the console asks for a sign-in, then comes back.
	b.do("open the console", chromedp.Navigate(srv.URL+"/support/cases"))
	b.wantPath("/login")
	b.typeInto("username", "sam")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/login/code")
	srv.NextStep()
	b.typeInto("code", srv.Code(samSecret, 0))
	b.click(`//button[normalize-space()="Verify"]`, "/support/cases")
	b.wantHeading("Support cases")
	b.screenshot("support-03-cases")
	b.click(`//a[normalize-space()="`+ref+`"]`, "/support/cases/"+ref)
	b.wantHeading("Case " + ref)
	b.wantText("ada (ada@example.com), role user")
	b.wantText("Not confirmed.")
	b.click(`//button[normalize-space()="Assign to me"]`, "/support/cases/"+ref)
	b.wantText("The case is assigned to you.")
	b.click(`//button[normalize-space()="Send verification link"]`, "/support/cases/"+ref)
	b.wantText("Verification link sent.")
	b.wantText("Waiting for user")

	// The user opens the link from her mail and confirms.
	link, err := url.Parse(srv.LastMailTo(t, "ada@example.com").Link("/support/verify?token="))
	if err != nil {
		t.Fatal(err)
	}
	b.do("open the link", chromedp.Navigate(srv.URL+link.RequestURI()))
	b.wantPath("/support/verify")
	b.wantHeading("Confirm your e-mail address")
	b.wantText(ref)
	b.screenshot("support-04-confirm")
	b.click(`//button[normalize-space()="Confirm"]`, "/support/verified")
	b.wantHeading("E-mail address confirmed")

	// The agent sees the proof and resets.
	b.open("/support/cases/" + ref)
	b.wantText("E-mail ownership confirmed for ada")
	b.do("choose the verification", chromedp.SetValue(chromedp.ID("verification"), "email_link"))
	b.typeInto("note", "Link confirmed; she described the train trip.")
	b.screenshot("support-05-case")
	b.click(`//button[normalize-space()="Reset MFA"]`, "/support/cases/"+ref)
	b.wantText("MFA reset.")
	b.wantText("MFA of ada reset by sam")
	b.wantText("Reset notice to ada@example.com queued for sending")
	b.screenshot("support-06-reset")
	b.open("/logout")
	b.click(`//button[normalize-space()="Sign out"]`, "/login")

	// The user signs in with her password and gets a new QR code.
	b.typeInto("username", "ada")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/mfa/setup")
	b.wantHeading("Set up your authenticator app")
	keyText := strings.TrimSpace(b.text("#secret"))
	secret := testserver.DecodeSecret(t, keyText)
	if bytes.Equal(secret, oldSecret) {
		t.Fatal("the setup shows the old secret")
	}
	browserCheckQR(t, b.attr(".qr img", "src"), totp.KeyURI("twofold", "ada", secret), keyText)
	b.screenshot("support-07-new-qr")
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Confirm"]`, "/recovery-code")
	b.wantHeading("Successful!")
	b.wantCleanConsole()
}
