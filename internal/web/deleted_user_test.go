package web_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// tags matches an HTML tag, to read a page's text.
var tags = regexp.MustCompile(`<[^>]*>`)

// TestConsolesNameAGoneAccountInTheirLanguage: where a case or a pending reset names an
// account deleted since, the support and admin pages say so in their language; the support
// API answers the fixed name store.DeletedUsername.
func TestConsolesNameAGoneAccountInTheirLanguage(t *testing.T) {
	srv, root := adminServerWith(t, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
	pat := mfaClient(t, srv, "pat", "admin")
	mfaClient(t, srv, "bob", "user")
	bob, patUser := mustUser(t, srv, "bob"), mustUser(t, srv, "pat")
	r := apiDo(pat, "POST", "/api/v1/admin/users/"+bob.ID+"/reset-mfa", map[string]any{"reason": "lost phone, called back"})
	wantStatus(t, r, http.StatusOK)
	ref := decodeAs[web.MFAResetAnswer](t, r).Case
	wantStatus(t, apiDo(pat, "POST", "/api/v1/support/cases/"+ref+"/assign", map[string]any{}), http.StatusOK)
	wantStatus(t, apiDo(root, "DELETE", "/api/v1/admin/users/"+patUser.ID, nil), http.StatusNoContent)

	for _, tc := range []struct{ lang, name, assignee, requester, pending string }{
		{"en", "(deleted user)", "Assignee: (deleted user)", "(deleted user) asked on", "An MFA reset asked by (deleted user) on"},
		{"de", "(gelöschter Benutzer)", "Zuständig: (gelöschter Benutzer)", "(gelöschter Benutzer) hat am", "beantragt von (gelöschter Benutzer) am"},
		{"fr", "(utilisateur supprimé)", "Assignée à : (utilisateur supprimé)", "(utilisateur supprimé) a demandé le", "demandée par (utilisateur supprimé) le"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			get := func(path string) string {
				t.Helper()
				r := rawDo(srv, root, http.MethodGet, path, "", nil, http.Header{"Accept-Language": {tc.lang}})
				if r.status != http.StatusOK {
					t.Fatalf("%s (%s): %d %s", path, tc.lang, r.status, r.body)
				}
				return strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(string(r.body), " "))), " ")
			}
			page := get("/support/cases/" + ref)
			for _, want := range []string{tc.assignee, tc.requester} {
				if !strings.Contains(page, want) {
					t.Errorf("the case page (%s) does not say %q:\n%s", tc.lang, want, page)
				}
			}
			if tc.lang != "en" && strings.Contains(page, store.DeletedUsername) {
				t.Errorf("the case page (%s) says the English %q:\n%s", tc.lang, store.DeletedUsername, page)
			}
			if list := get("/support/cases"); !strings.Contains(list, tc.name) {
				t.Errorf("the case list (%s) does not say %q:\n%s", tc.lang, tc.name, list)
			}
			user := get("/admin/users/" + bob.ID)
			if !strings.Contains(user, tc.pending) || (tc.lang != "en" && strings.Contains(user, store.DeletedUsername)) {
				t.Errorf("bob's page (%s) does not say %q, in its language:\n%s", tc.lang, tc.pending, user)
			}
		})
	}

	c := apiDo(root, "GET", "/api/v1/support/cases/"+ref, nil)
	wantStatus(t, c, http.StatusOK)
	if p := decodeAs[web.Case](t, c).PendingReset; p == nil || p.RequestedBy != store.DeletedUsername {
		t.Errorf("the case in the API: %s, want requested_by %q", c.Body, store.DeletedUsername)
	}

	// The reset's timeline entry, written after the requester went, names them in the
	// reader's language too.
	wantStatus(t, apiDo(root, "POST", "/api/v1/support/cases/"+ref+"/reset-mfa/approve", map[string]any{}), http.StatusOK)
	for lang, name := range map[string]string{"en": "(deleted user)", "de": "(gelöschter Benutzer)", "fr": "(utilisateur supprimé)"} {
		r := rawDo(srv, root, http.MethodGet, "/support/cases/"+ref, "", nil, http.Header{"Accept-Language": {lang}})
		body := html.UnescapeString(string(r.body))
		timeline, _, _ := strings.Cut(body[strings.Index(body, `id="tl-h"`)+1:], "</ol>")
		entry, _, _ := strings.Cut(timeline[strings.Index(timeline, `<li class="mfa_reset">`)+1:], "</li>")
		if !strings.Contains(entry, name) || (lang != "en" && strings.Contains(entry, store.DeletedUsername)) {
			t.Errorf("the reset's entry (%s) does not name the requester %q:\n%s", lang, name, entry)
		}
	}
}
