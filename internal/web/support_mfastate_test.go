package web_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// errMFAChangedFactors is what a reset form says when the account's second factors
// changed since the page was drawn, without a reset in between.
const errMFAChangedFactors = "The second factors of this account changed since you opened this case " +
	"(one was set up, replaced or removed). Reload the case to see them before you reset."

// wantResets fails unless ada's case and account show n resets: n support.mfa_reset
// events, n mfa_reset entries on the timeline and n reset notices mailed to her.
func wantResets(t *testing.T, srv *testserver.Server, agent *testserver.Client, ref string, n int) {
	t.Helper()
	ada := mustUser(t, srv, "ada")
	if got := auditCount(t, srv, ada.ID, "support.mfa_reset"); got != n {
		t.Errorf("support.mfa_reset events: %d, want %d", got, n)
	}
	if got := kindCount(supGetCase(t, agent, ref), "mfa_reset"); got != n {
		t.Errorf("mfa_reset entries on the timeline: %d, want %d", got, n)
	}
	if got := mailsTo(srv.Mail(t), "ada@example.com", "was reset"); got != n {
		t.Errorf("reset notices mailed to ada: %d, want %d", got, n)
	}
}

// TestSupportResetFormSentTwice: the case page's reset form sent a second time as it was
// (the browser's back button and a resubmit, a retried post) resets nothing more: the
// second post gets the case page again with a 409 that says the MFA was reset already.
func TestSupportResetFormSentTwice(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	supEnrolled(t, srv, "ada", "user")
	sam, _ := supEnrolled(t, srv, "sam", "support")
	ref := supOpen(t, srv, "ada@example.com")
	page := "/support/cases/" + ref
	form := caseResetForm(t, sam, ref, "id_document", "badge checked at the front desk")
	if form.Get("mfa_state") == "" {
		t.Fatal("the reset form carries no mfa_state")
	}

	r := postForm(sam, page+"/reset-mfa", form)
	supWant(t, r, http.StatusSeeOther)
	r = postForm(sam, page+"/reset-mfa", form)
	supWant(t, r, http.StatusConflict)
	if msg := pageMessage(r); msg != errMFAChangedReset {
		t.Errorf("the second post says %q, want %q", msg, errMFAChangedReset)
	}
	wantResets(t, srv, sam, ref, 1)
}

// TestSupportResetAgainAfterReenrollment: after a reset the user sets up a new
// authenticator; a form drawn before that is refused (409, the factors changed), and the
// form of the reloaded case resets again: a second event, entry and notice.
func TestSupportResetAgainAfterReenrollment(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	supEnrolled(t, srv, "ada", "user")
	sam, _ := supEnrolled(t, srv, "sam", "support")
	ref := supOpen(t, srv, "ada@example.com")
	page := "/support/cases/" + ref
	supWant(t, postForm(sam, page+"/reset-mfa", caseResetForm(t, sam, ref, "id_document", "badge checked")), http.StatusSeeOther)

	// Drawn after the reset, posted after ada set up a new authenticator.
	stale := caseResetForm(t, sam, ref, "phone_callback", "she lost the new phone too")
	srv.Enroll(t, srv.Client(t), "ada")
	r := postForm(sam, page+"/reset-mfa", stale)
	supWant(t, r, http.StatusConflict)
	if msg := pageMessage(r); msg != errMFAChangedFactors {
		t.Errorf("the stale form says %q, want %q", msg, errMFAChangedFactors)
	}
	ada := mustUser(t, srv, "ada")
	if _, err := srv.Store.GetTOTP(context.Background(), ada.ID); err != nil {
		t.Fatalf("the stale form removed the new authenticator: %v", err)
	}

	// The reloaded case's form resets the new authenticator.
	r = postForm(sam, page+"/reset-mfa", caseResetForm(t, sam, ref, "phone_callback", "she lost the new phone too"))
	supWant(t, r, http.StatusSeeOther)
	if _, err := srv.Store.GetTOTP(context.Background(), ada.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("authenticator after the second reset: %v, want none", err)
	}
	wantResets(t, srv, sam, ref, 2)
}

// TestSupportResetMFAStateIsChecked: the API's mfa_state is optional, but one the server
// never gave out is refused (400) before anything changes, and one of an earlier state is
// 409 mfa_changed.
func TestSupportResetMFAStateIsChecked(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	supEnrolled(t, srv, "ada", "user")
	sam, _ := supEnrolled(t, srv, "sam", "support")
	ref := supOpen(t, srv, "ada@example.com")
	path := "/api/v1/support/cases/" + ref + "/reset-mfa"
	state := supGetCase(t, sam, ref).Accounts[0].MFAState
	for _, bad := range []string{"x", state + "0", "0123456789abcdef.0123456789abcdeg"} {
		supProblem(t, sam.PostJSON(path, map[string]string{"verification": "other", "note": "n", "mfa_state": bad}),
			http.StatusBadRequest, "bad_request")
	}
	wantResets(t, srv, sam, ref, 0)
	supWant(t, sam.PostJSON(path, map[string]string{"verification": "other", "note": "n", "mfa_state": state}), http.StatusOK)
	detail := supProblem(t, sam.PostJSON(path, map[string]string{"verification": "other", "note": "n", "mfa_state": state}),
		http.StatusConflict, "mfa_changed")
	if detail != errMFAChangedReset {
		t.Errorf("detail %q, want %q", detail, errMFAChangedReset)
	}
	wantResets(t, srv, sam, ref, 1)
}

// TestSupportResetAPIWithoutMFAState: a reset through the API without mfa_state, sent a
// second time, is refused (409 conflict naming the case) while the case records the
// reset and the account holds no second factor; once the user set one up again, the same
// request resets it.
func TestSupportResetAPIWithoutMFAState(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	supEnrolled(t, srv, "ada", "user")
	sam, _ := supEnrolled(t, srv, "sam", "support")
	ref := supOpen(t, srv, "ada@example.com")
	path := "/api/v1/support/cases/" + ref + "/reset-mfa"
	body := map[string]string{"verification": "id_document", "note": "badge checked"}

	supWant(t, sam.PostJSON(path, body), http.StatusOK)
	detail := supProblem(t, sam.PostJSON(path, body), http.StatusConflict, "conflict")
	want := "The MFA of ada was reset on case " + ref + " already, and no second factor was set up since: " +
		"there is nothing left to reset, and nothing was done. Reload the case to see its state."
	if detail != want {
		t.Errorf("detail %q, want %q", detail, want)
	}
	wantResets(t, srv, sam, ref, 1)

	srv.Enroll(t, srv.Client(t), "ada")
	supWant(t, sam.PostJSON(path, body), http.StatusOK)
	wantResets(t, srv, sam, ref, 2)
}
