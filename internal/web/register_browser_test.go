package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestBrowserRegistration walks self-registration in headless Chromium as a person would:
// "Create an account" on the sign-in page, the form, the mailed link's page and its button,
// then the authenticator setup the policy asks for, the recovery code, and the security
// page, signed in. Each registration page fits a 320 px wide screen.
func TestBrowserRegistration(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := regServer(t, testserver.Options{}, nil)
	b := browserStart(t, chromium, srv.URL)

	b.open("/login")
	b.click(`//a[normalize-space()="Create an account"]`, "/register")
	b.wantHeading("Create an account")
	browserFits320(t, b)
	b.typeInto("username", "ada")
	b.typeInto("email", "ada@example.com")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Register"]`, "/register/sent")
	b.wantHeading("Check your e-mail")
	b.wantText("If this address can register, we sent a link to it.")
	browserFits320(t, b)

	link := srv.LastMailTo(t, "ada@example.com").Link("/register/confirm?token=")
	if !strings.HasPrefix(link, regPublicURL+"/register/confirm?token=") {
		t.Fatalf("link %q", link)
	}
	b.do("open the mailed link", chromedp.Navigate(b.base+strings.TrimPrefix(link, regPublicURL)))
	b.wantPath("/register/confirm")
	b.wantHeading("Create your account")
	b.wantText("Create the account ada for ada@example.com?")
	browserFits320(t, b)
	if _, err := userByLogin(t, srv, "ada"); err == nil {
		t.Fatal("opening the link created the account")
	}
	b.click(`//button[normalize-space()="Create my account"]`, "/mfa/setup")
	b.wantHeading("Set up your authenticator app")

	secret := testserver.DecodeSecret(t, strings.TrimSpace(b.text("#secret")))
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Confirm"]`, "/recovery-code")
	b.wantHeading("Successful!")
	b.tick("saved")
	b.click(`//button[normalize-space()="Continue"]`, "/account/security")
	b.wantHeading("Password & Security")
	b.wantText("Active since")
	b.wantCleanConsole()

	// The link is used: opening it again says so, and offers to register again.
	b.do("open the used link", chromedp.Navigate(b.base+strings.TrimPrefix(link, regPublicURL)))
	b.wantText("This registration link is invalid, used or expired.")
	u, err := userByLogin(t, srv, "ada@example.com")
	if err != nil || !u.EmailVerified {
		t.Fatalf("account %+v, %v: want it with the address verified", u, err)
	}
}

// browserFits320 fails unless the page, shown 320 px wide, needs no sideways scrolling.
// It puts the window back as it was.
func browserFits320(t *testing.T, b *browserTab) {
	t.Helper()
	b.do("narrow the window", emulateViewport(320, 640))
	defer b.do("widen the window", emulateViewport(1280, 800))
	if w := browserEval[int](b, `document.documentElement.scrollWidth`); w > 320 {
		t.Errorf("%s is %d px wide at a 320 px screen", b.location(), w)
	}
}
