package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// errAdminMFAChangedFactors is what the admin console's reset page says when the user's
// second factors changed since it was drawn: a direct reset removed them (no case records
// it), or the user set one up.
const errAdminMFAChangedFactors = "The second factors of this user changed since you opened this page: " +
	"they were reset already (by you or another administrator), or one was set up, replaced or removed. " +
	"Reload the page to see them before you reset."

// adminResetForm reads the console's reset page of the user id as admin and returns what
// its form posts: the state of the user's MFA the page drew, with the reason.
func adminResetForm(t *testing.T, admin *testserver.Client, id, reason string) url.Values {
	t.Helper()
	r := admin.Get("/admin/users/" + id + "/reset-mfa")
	supWant(t, r, http.StatusOK)
	state := hiddenValue(r, "mfa_state")
	if state == "" {
		t.Fatalf("the reset page carries no mfa_state: %s", r.Body)
	}
	return url.Values{"mfa_state": {state}, "reason": {reason}}
}

// adminMFAState is the user's mfa_state as GET /api/v1/admin/users/{id} answers it.
func adminMFAState(t *testing.T, admin *testserver.Client, id string) string {
	t.Helper()
	r := admin.Get("/api/v1/admin/users/" + id)
	supWant(t, r, http.StatusOK)
	d := decodeAs[web.AdminUserDetails](t, r)
	if d.MFAState == "" {
		t.Fatalf("the user's details answer no mfa_state: %s", r.Body)
	}
	return d.MFAState
}

// wantAdminResets fails unless ada shows n resets: n support.mfa_reset events and n
// reset notices mailed to her (msgs: every message delivered).
func wantAdminResets(t *testing.T, srv *testserver.Server, msgs []*mailtest.Parsed, n int) {
	t.Helper()
	ada := mustUser(t, srv, "ada")
	if got := auditCount(t, srv, ada.ID, "support.mfa_reset"); got != n {
		t.Errorf("support.mfa_reset events: %d, want %d", got, n)
	}
	if got := mailsTo(msgs, "ada@example.com", "was reset"); got != n {
		t.Errorf("reset notices mailed to ada: %d, want %d", got, n)
	}
}

// TestAdminResetMFAFormRaceOverTwoInstances: the admin console's reset form posted ten
// times at once by one administrator's browser (one session, one body: a double click, a
// retried post) over two instances on one database (SQLite file or PostgreSQL) resets
// once: one post goes back to the user's page (303), the other nine get the reset page
// again saying the user's factors changed (409), never a 5xx; one audit event, one notice
// mail. Under dual control one request is filed, on one case, and the others are refused
// (409) beside it; it is approved on its case as before.
func TestAdminResetMFAFormRaceOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		for _, approval := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/approval=%t", db, approval), func(t *testing.T) {
				a, b := testserver.Instances(t, db, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: approval}})
				ctx := context.Background()
				supEnrolled(t, a, "ada", "user")
				root, _ := supEnrolled(t, a, "root", "admin")
				ada := mustUser(t, a, "ada")
				page := "/admin/users/" + ada.ID
				form := []byte(adminResetForm(t, root, ada.ID, "Lost phone, checked her ID in person.").Encode())

				answers := raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
					return rawDo(srv, root.On(srv), http.MethodPost, page+"/reset-mfa", "application/x-www-form-urlencoded", form, nil)
				})
				oneWinner(t, "reset", answers, http.StatusSeeOther, http.StatusConflict, "")
				done := "reset-mfa"
				if approval {
					done = "reset-pending"
				} else {
					refusedWith(t, "reset", answers, http.StatusSeeOther, errAdminMFAChangedFactors)
				}
				for i, r := range answers {
					if r.status == http.StatusSeeOther && r.header.Get("Location") != page+"?done="+done {
						t.Errorf("reset %d went to %q, want %s?done=%s", i, r.header.Get("Location"), page, done)
					}
				}
				_, err := a.Store.GetTOTP(ctx, ada.ID)
				if !approval {
					if !errors.Is(err, store.ErrNotFound) {
						t.Errorf("authenticator after the resets: %v, want none", err)
					}
					wantAdminResets(t, a, bothOutboxes(t, a, b), 1)
					return
				}
				if err != nil {
					t.Fatalf("a pending request reset already: %v", err)
				}
				if n := auditCount(t, a, ada.ID, "support.mfa_reset_requested"); n != 1 {
					t.Errorf("support.mfa_reset_requested events: %d, want 1", n)
				}
				pending, err := a.Store.ListPendingMFAResets(ctx, ada.ID)
				if err != nil || len(pending) != 1 {
					t.Fatalf("pending requests: %v (%v), want 1", pending, err)
				}
				c, err := a.Store.GetCase(ctx, pending[0].CaseID)
				if err != nil {
					t.Fatal(err)
				}
				pat, _ := supEnrolled(t, a, "pat", "admin")
				supWant(t, pat.PostJSON("/api/v1/support/cases/"+c.Reference+"/reset-mfa/approve", nil), http.StatusOK)
				wantAdminResets(t, a, bothOutboxes(t, a, b), 1)
			})
		}
	}
}

// TestAdminResetMFAAPIRaceOverTwoInstances: the admin API's reset sent ten times at once
// with the mfa_state GET /api/v1/admin/users/{id} answered, over two instances, resets
// once; the others get 409 mfa_changed, never a 5xx; one audit event, one notice mail.
func TestAdminResetMFAAPIRaceOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			a, b := testserver.Instances(t, db, testserver.Options{})
			supEnrolled(t, a, "ada", "user")
			root, _ := supEnrolled(t, a, "root", "admin")
			ada := mustUser(t, a, "ada")
			body := map[string]string{"reason": "Lost phone, checked her ID in person.", "mfa_state": adminMFAState(t, root, ada.ID)}
			answers := raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
				return rawPostJSON(srv, root.On(srv), "/api/v1/admin/users/"+ada.ID+"/reset-mfa", body)
			})
			oneWinner(t, "reset", answers, http.StatusOK, http.StatusConflict, `"mfa_changed"`)
			wantAdminResets(t, a, bothOutboxes(t, a, b), 1)
		})
	}
}

// TestAdminResetMFAAPIState: the admin API's mfa_state is optional; one the server never
// gave out is refused (400) before anything changes, one of an earlier state is 409
// mfa_changed with nothing done, and a request without one resets as before.
func TestAdminResetMFAAPIState(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	supEnrolled(t, srv, "ada", "user")
	root, _ := supEnrolled(t, srv, "root", "admin")
	ada := mustUser(t, srv, "ada")
	path := "/api/v1/admin/users/" + ada.ID + "/reset-mfa"
	state := adminMFAState(t, root, ada.ID)
	for _, bad := range []string{"x", state + "0", "0123456789abcdef.0123456789abcdeg"} {
		supProblem(t, root.PostJSON(path, map[string]string{"reason": "lost phone", "mfa_state": bad}), http.StatusBadRequest, "bad_request")
	}
	wantAdminResets(t, srv, srv.Mail(t), 0)

	supWant(t, root.PostJSON(path, map[string]string{"reason": "lost phone", "mfa_state": state}), http.StatusOK)
	detail := supProblem(t, root.PostJSON(path, map[string]string{"reason": "lost phone", "mfa_state": state}),
		http.StatusConflict, "mfa_changed")
	if detail != errAdminMFAChangedFactors {
		t.Errorf("detail %q, want %q", detail, errAdminMFAChangedFactors)
	}
	wantAdminResets(t, srv, srv.Mail(t), 1)
	if now := adminMFAState(t, root, ada.ID); now == state {
		t.Errorf("mfa_state %q did not change with the reset", now)
	}

	// Without mfa_state nothing is compared: the request resets as it did before the field.
	supWant(t, root.PostJSON(path, map[string]string{"reason": "lost phone"}), http.StatusOK)
	wantAdminResets(t, srv, srv.Mail(t), 2)
}

// TestAdminResetMFAAgainAfterReenrollment: after an administrator's reset the user sets
// up a new authenticator; the console's reset form drawn before that is refused (409, the
// factors changed) and the new authenticator stays, and the form of the reloaded page
// resets again: a second event and notice.
func TestAdminResetMFAAgainAfterReenrollment(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	supEnrolled(t, srv, "ada", "user")
	root, _ := supEnrolled(t, srv, "root", "admin")
	ada := mustUser(t, srv, "ada")
	page := "/admin/users/" + ada.ID
	supWant(t, postForm(root, page+"/reset-mfa", adminResetForm(t, root, ada.ID, "Lost phone.")), http.StatusSeeOther)

	// Drawn after the reset, posted after ada set up a new authenticator.
	stale := adminResetForm(t, root, ada.ID, "She lost the new phone too.")
	srv.Enroll(t, srv.Client(t), "ada")
	r := postForm(root, page+"/reset-mfa", stale)
	supWant(t, r, http.StatusConflict)
	if msg := pageMessage(r); msg != errAdminMFAChangedFactors {
		t.Errorf("the stale form says %q, want %q", msg, errAdminMFAChangedFactors)
	}
	if _, err := srv.Store.GetTOTP(context.Background(), ada.ID); err != nil {
		t.Fatalf("the stale form removed the new authenticator: %v", err)
	}
	wantAdminResets(t, srv, srv.Mail(t), 1)

	// The reloaded page's form resets the new authenticator.
	r = postForm(root, page+"/reset-mfa", adminResetForm(t, root, ada.ID, "She lost the new phone too."))
	supWant(t, r, http.StatusSeeOther)
	if _, err := srv.Store.GetTOTP(context.Background(), ada.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("authenticator after the second reset: %v, want none", err)
	}
	wantAdminResets(t, srv, srv.Mail(t), 2)
}

// TestAdminResetOfUserWithoutFactorsRaceOverTwoInstances: a direct reset of a user who
// holds no second factor removes nothing and no case records it, yet it ends her sessions
// and tells her; the console's form and the admin API's request, each sent ten times at
// once with the mfa_state the administrator saw, over two instances on one database
// (SQLite file or PostgreSQL), reset her once all the same: one answer succeeds, the
// others get 409 mfa_changed (the console's page saying the user's factors changed),
// never a 5xx; one audit event, which ended her one session, and one notice mail.
func TestAdminResetOfUserWithoutFactorsRaceOverTwoInstances(t *testing.T) {
	const reason = "She never set up MFA; start her enrollment afresh."
	for _, db := range testserver.Databases {
		for _, via := range []string{"console", "api"} {
			t.Run(db+"/"+via, func(t *testing.T) {
				a, b := testserver.Instances(t, db, testserver.Options{})
				ada := a.CreateUser(t, "ada", "ada@example.com", store.RoleUser)
				a.Client(t).Login("ada", "enrollment_required")
				root, _ := supEnrolled(t, a, "root", "admin")
				path := "/admin/users/" + ada.ID + "/reset-mfa"

				var answers []rawResult
				if via == "console" {
					form := []byte(adminResetForm(t, root, ada.ID, reason).Encode())
					answers = raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
						return rawDo(srv, root.On(srv), http.MethodPost, path, "application/x-www-form-urlencoded", form, nil)
					})
					oneWinner(t, "reset", answers, http.StatusSeeOther, http.StatusConflict, "")
					refusedWith(t, "reset", answers, http.StatusSeeOther, errAdminMFAChangedFactors)
				} else {
					body := map[string]string{"reason": reason, "mfa_state": adminMFAState(t, root, ada.ID)}
					answers = raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
						return rawPostJSON(srv, root.On(srv), "/api/v1"+path, body)
					})
					oneWinner(t, "reset", answers, http.StatusOK, http.StatusConflict, `"mfa_changed"`)
				}
				wantAdminResets(t, a, bothOutboxes(t, a, b), 1)
				events, err := a.Store.ListAudit(context.Background(), store.AuditFilter{UserID: ada.ID, Event: "support.mfa_reset"})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range events {
					if !strings.Contains(e.Detail, " sessions_ended=1 ") {
						t.Errorf("the reset's event says %q, want sessions_ended=1", e.Detail)
					}
				}
			})
		}
	}
}
