package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/totp"
)

// TestBrowserLostPhone walks the way back of a user whose phone is gone, in headless
// Chromium: password, recovery code, "Successful!" with the fresh code, "My authenticator
// is lost: set up a new one", the new QR code, confirm with a code of the new key, and the
// recovery code that comes with it. No code of the old authenticator is ever asked for.
func TestBrowserLostPhone(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	const username = "ada"
	srv.CreateUser(t, username, username+"@example.com", "user")
	oldSecret, rc := srv.Enroll(t, srv.Client(t), username)
	b := browserStart(t, chromium, srv.URL)

	b.signInWithPassword(username)
	b.click(`//a[normalize-space()="Use your recovery code"]`, "/login/recovery")
	b.wantText("No recovery code either?")
	b.typeInto("code", rc)
	b.click(`//button[normalize-space()="Sign in"]`, "/recovery-code")
	b.wantHeading("Successful!")
	b.screenshot("lost-01-successful")
	afterSignIn := strings.TrimSpace(b.text("#recovery-code"))
	if afterSignIn == "" || afterSignIn == rc {
		t.Fatalf("after the recovery code the page shows %q, want a fresh code (the used one was %q)", afterSignIn, rc)
	}
	b.wantText("My authenticator is lost: set up a new one")

	// The new authenticator, too, waits for the tick box.
	b.clickStay(`//button[normalize-space()="My authenticator is lost: set up a new one"]`)
	b.wantPath("/recovery-code")
	b.tick("saved")
	b.click(`//button[normalize-space()="My authenticator is lost: set up a new one"]`, "/mfa/setup")
	b.wantHeading("Set up your authenticator app")
	b.screenshot("lost-02-setup")

	keyText := strings.TrimSpace(b.text("#secret"))
	newSecret := testserver.DecodeSecret(t, keyText)
	if string(newSecret) == string(oldSecret) {
		t.Fatal("the setup shows the old key")
	}
	t.Run("qr_code_holds_the_new_key", func(t *testing.T) {
		browserCheckQR(t, b.attr(".qr img", "src"), totp.KeyURI("twofold", username, newSecret), keyText)
	})

	srv.NextStep()
	b.typeInto("code", srv.Code(newSecret, 0))
	b.click(`//button[normalize-space()="Confirm"]`, "/recovery-code")
	b.wantHeading("Successful!")
	latest := strings.TrimSpace(b.text("#recovery-code"))
	if latest == "" || latest == afterSignIn {
		t.Fatalf("the new authenticator's recovery code is %q, want a new one (the sign-in's was %q)", latest, afterSignIn)
	}
	if strings.Contains(b.text("main"), "My authenticator is lost") {
		t.Fatal("the page after the new authenticator still offers one")
	}
	b.tick("saved")
	b.click(`//button[normalize-space()="Continue"]`, "/account/security")
	b.wantText("Active since")
	b.wantCleanConsole()

	// The old key and the earlier recovery codes are dead; the new key and the last code work.
	srv.NextStep()
	api := srv.Client(t)
	api.Login(username, "mfa_required")
	wantProblem(t, api.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(oldSecret, 0))), http.StatusUnauthorized, "invalid_code")
	wantStatus(t, api.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(newSecret, 0))), http.StatusOK)
	for _, dead := range []string{rc, afterSignIn} {
		recoveryCodeRefused(t, srv, username, dead)
	}
	useRecoveryCode(t, srv, username, latest)
}
