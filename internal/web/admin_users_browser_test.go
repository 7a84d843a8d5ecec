package web_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestAdminUsersInChromium walks the console's user pages in Chromium as an administrator
// does: search for a user, open their page, disable the account, reset their MFA with a
// written reason, and the refusals on the way. Every page state is checked as
// TestPageStates checks every page: no sideways scrolling at 320, 390 and 1280 px, and no
// axe-core violation, in the light and the dark scheme.
func TestAdminUsersInChromium(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	axe, err := os.ReadFile(axePath)
	if err != nil {
		testutil.Unavailable(t, "axe-core not installed (run npm ci --prefix internal/web/testdata/axe): %v", err)
	}
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "useradmin", "useradmin@example.com", "admin")
	adminSecret, _ := srv.Enroll(t, srv.Client(t), "useradmin")
	srv.CreateUser(t, "ada", "ada.lovelace@analytical-engines.example.com", "user")
	srv.Enroll(t, srv.Client(t), "ada") // a factor, a recovery code and a session to show
	for _, n := range []string{"bob", "cy", "dee"} {
		srv.CreateUser(t, n, n+"@example.com", "support")
	}
	adaID := mustUser(t, srv, "ada").ID
	page := "/admin/users/" + adaID

	shots, err := os.MkdirTemp("", "twofold-admin-users-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	b := browserStartFor(t, chromium, srv.URL, 6*time.Minute)
	c := &pageChecker{b: b, axe: string(axe), shots: shots}

	b.signInWithPassword("useradmin")
	srv.NextStep()
	b.typeInto("code", srv.Code(adminSecret, 0))
	b.submit(`//button[normalize-space()="Verify"]`)
	b.open("/admin")
	c.check("admin-home")
	b.click(`//nav[@class="console"]//a[normalize-space()="Users"]`, "/admin/users")
	c.check("admin-users")

	// Search.
	b.typeInto("query", "lovelace")
	b.click(`//button[normalize-space()="Search"]`, "/admin/users")
	b.wantText("ada.lovelace@analytical-engines.example.com")
	if strings.Contains(b.text("main table"), "bob") {
		t.Fatal("the search for lovelace lists bob")
	}
	c.check("admin-users-search")
	b.do("a page of two", chromedp.Navigate(srv.URL+"/admin/users?limit=2&role=support"))
	c.check("admin-users-paged")
	b.click(`//a[normalize-space()="Next page"]`, "/admin/users")
	b.do("a search without a match", chromedp.Navigate(srv.URL+"/admin/users?query=nobody-at-all"))
	b.wantText("No users match")

	// A user's page.
	b.do("search again", chromedp.Navigate(srv.URL+"/admin/users?query=lovelace"))
	b.click(`//a[normalize-space()="ada"]`, page)
	b.wantHeading("ada")
	b.wantText("Authenticator app")
	c.check("admin-user")

	// Disable.
	b.tick("confirm-disable")
	b.click(`//button[normalize-space()="Disable account"]`, page)
	b.wantText("The account is disabled")
	if got := strings.TrimSpace(b.text("#status")); got != "Disabled" {
		t.Fatalf("status %q after disabling", got)
	}
	c.check("admin-user-disabled")
	b.click(`//button[normalize-space()="Enable account"]`, page)

	// Reset MFA with a reason.
	b.click(`//a[normalize-space()="Reset MFA…"]`, page+"/reset-mfa")
	c.check("admin-user-reset-mfa")
	b.typeInto("reason", "   ")
	b.submitRefused(`//button[normalize-space()="Reset MFA"]`, http.StatusBadRequest)
	b.wantFocus("reason")
	c.check("admin-user-reset-mfa-error")
	b.typeInto("reason", "Ada called from her desk phone; her manager confirmed.")
	b.click(`//button[normalize-space()="Reset MFA"]`, page)
	b.wantText("MFA reset:")
	b.wantText("None set up.")
	c.check("admin-user-after-reset")

	// Invite and delete.
	b.open("/admin/users/invite")
	c.check("admin-invite")
	b.typeInto("username", "ivy smith")
	b.typeInto("email", "ivy@example.com")
	b.submitRefused(`//button[normalize-space()="Send invitation"]`, http.StatusBadRequest)
	c.check("admin-invite-error")
	b.open(page + "/delete")
	c.check("admin-user-delete")
	b.typeInto("confirm", "ADA")
	b.submitRefused(`//button[normalize-space()="Delete ada"]`, http.StatusBadRequest)
	c.check("admin-user-delete-error")
	t.Logf("checked %d page states (%d axe-core rule applications): %s", len(c.checked), c.rules, strings.Join(c.checked, ", "))
}
