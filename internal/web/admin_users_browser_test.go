package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestAdminUsersInChromium walks the console's user pages in Chromium as an administrator
// does: search for a user, open their page, disable the account, reset their MFA with a
// written reason, and the refusals on the way. Every page state is checked as
// TestPageStates checks every page: no sideways scrolling, and no axe-core violation, in
// the light and the dark scheme, in every language as TestPageStates walks them.
func TestAdminUsersInChromium(t *testing.T) {
	inEveryLanguage(t, walkAdminUsers)
}

// walkAdminUsers is TestAdminUsersInChromium in lang.
func walkAdminUsers(t *testing.T, chromium, axe, lang string) {
	tr := func(key string, args ...any) string { return i18n.T(lang, key, args...) }
	button := func(key string, args ...any) string { return `//button[normalize-space()="` + tr(key, args...) + `"]` }
	link := func(key string) string { return `//a[normalize-space()="` + tr(key) + `"]` }
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

	b := browserStart(t, chromium, srv.URL)
	c := &pageChecker{b: b, axe: axe, shots: shotsDir(t, "admin-users", lang)}
	c.chooseLanguage(lang)

	b.signInWithPassword("useradmin")
	srv.NextStep()
	b.typeInto("code", srv.Code(adminSecret, 0))
	b.submit(button("code.submit"))
	b.open("/admin")
	c.check("admin-home")
	b.click(`//nav[@class="console"]`+link("admin.section.users"), "/admin/users")
	c.check("admin-users")

	// Search.
	b.typeInto("query", "lovelace")
	b.click(button("admin_users.search"), "/admin/users")
	b.wantText("ada.lovelace@analytical-engines.example.com")
	if strings.Contains(b.text("main table"), "bob") {
		t.Fatal("the search for lovelace lists bob")
	}
	c.check("admin-users-search")
	b.do("a page of two", chromedp.Navigate(srv.URL+"/admin/users?limit=2&role=support"))
	c.check("admin-users-paged")
	b.click(link("admin_users.next_page"), "/admin/users")
	b.do("a search without a match", chromedp.Navigate(srv.URL+"/admin/users?query=nobody-at-all"))
	b.wantText(tr("admin_users.no_match_query", "Query", "nobody-at-all"))

	// A user's page.
	b.do("search again", chromedp.Navigate(srv.URL+"/admin/users?query=lovelace"))
	b.click(`//a[normalize-space()="ada"]`, page)
	b.wantHeading("ada")
	b.wantText(tr("admin_user.factor_app"))
	c.check("admin-user")

	// Disable.
	b.tick("confirm-disable")
	b.click(button("admin_user.disable"), page)
	b.wantText(tr("admin_user.done_disable"))
	if got := strings.TrimSpace(b.text("#status")); got != tr("admin_users.status_disabled") {
		t.Fatalf("status %q after disabling", got)
	}
	c.check("admin-user-disabled")
	b.click(button("admin_user.enable"), page)

	// Reset MFA with a reason.
	b.click(link("admin_user.reset_mfa"), page+"/reset-mfa")
	c.check("admin-user-reset-mfa")
	b.typeInto("reason", "   ")
	b.submitRefused(button("admin_reset_mfa.submit"), http.StatusBadRequest)
	b.wantFocus("reason")
	c.check("admin-user-reset-mfa-error")
	b.typeInto("reason", "Ada called from her desk phone; her manager confirmed.")
	b.click(button("admin_reset_mfa.submit"), page)
	b.wantText(tr("admin_user.done_reset_mfa"))
	b.wantText(tr("admin_user.no_factors"))
	c.check("admin-user-after-reset")

	// Invite and delete.
	b.open("/admin/users/invite")
	c.check("admin-invite")
	b.typeInto("username", "ivy smith")
	b.typeInto("email", "ivy@example.com")
	b.submitRefused(button("admin_invite.submit"), http.StatusBadRequest)
	c.check("admin-invite-error")
	b.open(page + "/delete")
	c.check("admin-user-delete")
	b.typeInto("confirm", "ADA")
	b.submitRefused(button("admin_delete.submit", "Username", "ada"), http.StatusBadRequest)
	c.check("admin-user-delete-error")
	t.Logf("checked %d page states (%d axe-core rule applications): %s", len(c.checked), c.rules, strings.Join(c.checked, ", "))
}
