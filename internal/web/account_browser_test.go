package web_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestBrowserDevicesAndApplications walks the security page on a 320 px screen as a person
// would: it does not scroll sideways, a password is shown and hidden again with the toggle,
// the phone is signed out from the desktop, and an application's access is removed.
func TestBrowserDevicesAndApplications(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	u := srv.CreateUser(t, "alice", "alice@example.com", "user")
	phone := withAgent(srv.Client(t), uaIPhone)
	secret, _ := srv.Enroll(t, phone, "alice")
	_, grants := connect(t, srv, u.ID)

	b := browserStart(t, chromium, srv.URL)
	b.do("narrow the screen", emulateViewport(320, 640))
	b.signInWithPassword("alice")
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Verify"]`, "/account/security")
	b.wantHeading("Password & Security")
	b.wantText("Safari on iPhone")
	b.wantText("This device")
	b.wantText("Connected applications")
	if w := browserEval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the security page scrolls %d px sideways on a 320 px screen", w)
	}
	b.screenshot("account-01-security-320")

	t.Run("show_password", func(t *testing.T) {
		const toggle = `document.querySelector('button.reveal[aria-controls="current_password"]')`
		if name := browserEval[string](b, toggle+`.getAttribute("aria-label")`); name != "Show password: Current password" {
			t.Errorf("toggle named %q", name)
		}
		state := func() string {
			return browserEval[string](b, `document.getElementById("current_password").type + " " + `+toggle+`.getAttribute("aria-pressed")`)
		}
		if s := state(); s != "password false" {
			t.Fatalf("before: %s", s)
		}
		b.clickStay(`//button[@aria-controls="current_password"]`)
		if s := state(); s != "text true" {
			t.Errorf("shown: %s", s)
		}
		b.clickStay(`//button[@aria-controls="current_password"]`)
		if s := state(); s != "password false" {
			t.Errorf("hidden again: %s", s)
		}
	})

	b.click(`//button[@aria-label="Sign out Safari on iPhone"]`, "/account/security")
	b.wantText("That device was signed out.")
	wantStatus(t, phone.Get("/api/v1/account/sessions"), http.StatusUnauthorized)
	if browserEval[bool](b, `document.body.innerText.includes("Safari on iPhone")`) {
		t.Error("the signed-out phone is still listed")
	}

	b.click(`//button[@aria-label="Remove access for billing"]`, "/account/security")
	b.wantText("access is removed")
	if _, err := srv.Store.GetOIDCGrant(t.Context(), grants[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("billing's grant after Remove access: %v", err)
	}
	if w := browserEval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the security page scrolls %d px sideways on a 320 px screen after the changes", w)
	}
	b.screenshot("account-02-after-320")
	b.wantCleanConsole()
}
