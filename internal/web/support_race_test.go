package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// raceRounds is how many copies of one request the two-instance races send at once.
const raceRounds = 10

// raceOver sends n requests at once, the i-th from send(i, server) with server alternating
// between a and b, and returns the answers in order. send must not touch the test.
func raceOver(a, b *testserver.Server, n int, send func(i int, srv *testserver.Server) rawResult) []rawResult {
	answers := make([]rawResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		srv := []*testserver.Server{a, b}[i%2]
		wg.Go(func() {
			<-start
			answers[i] = send(i, srv)
		})
	}
	close(start)
	wg.Wait()
	return answers
}

// oneWinner fails unless exactly one answer has status win and every other one is a
// refusal with status lose whose body holds the stable code refusal (never a 5xx).
func oneWinner(t *testing.T, what string, answers []rawResult, win, lose int, refusal string) {
	t.Helper()
	wins := 0
	for i, r := range answers {
		switch {
		case r.err != nil:
			t.Errorf("%s %d: %v", what, i, r.err)
		case r.status == win:
			wins++
		case r.status != lose || !strings.Contains(string(r.body), refusal):
			t.Errorf("%s %d: %d %s, want %d or %d with %s", what, i, r.status, r.body, win, lose, refusal)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d parallel %ss succeeded, want exactly 1", wins, len(answers), what)
	}
}

// kindCount counts the entries of kind on the case's timeline.
func kindCount(c web.Case, kind string) int {
	n := 0
	for _, k := range timelineKinds(c) {
		if k == kind {
			n++
		}
	}
	return n
}

// bothOutboxes returns the mail both instances delivered (the one outbox they share on
// SQLite, once): either instance's mail worker may send what the other queued.
func bothOutboxes(t *testing.T, a, b *testserver.Server) []*mailtest.Parsed {
	t.Helper()
	b.FlushMail(t)
	all := a.Mail(t)
	if b.Outbox != a.Outbox {
		all = append(all, b.Mail(t)...)
	}
	return all
}

// mailsTo counts the messages to the address whose subject holds subject.
func mailsTo(msgs []*mailtest.Parsed, to, subject string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(strings.ToLower(m.To), to) && strings.Contains(m.Subject, subject) {
			n++
		}
	}
	return n
}

// TestSupportOneTimeStepsRaceOverTwoInstances: under dual control, the same reset
// request, the same approval and the user's confirmation of the verification link of
// the case, each sent ten times at once over two instances on one database (SQLite file
// or PostgreSQL), happen exactly once: one answer succeeds, the others get the
// documented refusal (409 conflict; 400 for a used link), never a 5xx; one timeline
// entry, one audit event, one mail each, and the user's factors are removed once.
func TestSupportOneTimeStepsRaceOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			a, b := testserver.Instances(t, db, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
			ctx := context.Background()
			supEnrolled(t, a, "ada", "user")
			sam, _ := supEnrolled(t, a, "sam", "support")
			tia, _ := supEnrolled(t, a, "tia", "support")
			ada := mustUser(t, a, "ada")
			ref := supOpen(t, a, "ada@example.com")
			base := "/api/v1/support/cases/" + ref

			// The verification link: one confirmation of ten.
			supWant(t, sam.PostJSON(base+"/verify-email", map[string]string{}), http.StatusAccepted)
			var link string
			for _, m := range bothOutboxes(t, a, b) {
				if l := m.Link("/support/verify?token="); l != "" && strings.Contains(strings.ToLower(m.To), "ada@example.com") {
					link = l
				}
			}
			u, err := url.Parse(link)
			if err != nil || link == "" {
				t.Fatalf("no verification link mailed to ada (%v)", err)
			}
			form := []byte(url.Values{"token": {u.Query().Get("token")}}.Encode())
			answers := raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
				return rawDo(srv, srv.Client(t), http.MethodPost, "/support/verify", "application/x-www-form-urlencoded", form, nil)
			})
			oneWinner(t, "link confirmation", answers, http.StatusSeeOther, http.StatusBadRequest, "")
			c := supGetCase(t, sam, ref)
			if n := kindCount(c, "email_confirmed"); n != 1 || c.EmailConfirmation == nil {
				t.Errorf("after the confirmations: %d email_confirmed entries, confirmation %+v; want 1", n, c.EmailConfirmation)
			}
			if n := auditCount(t, a, ada.ID, "support.email_confirmed"); n != 1 {
				t.Errorf("support.email_confirmed events: %d, want 1", n)
			}

			// The reset request: one pending request of ten.
			body := map[string]string{"verification": "email_link", "note": "link confirmed, voice matched"}
			answers = raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
				return rawPostJSON(srv, sam.On(srv), base+"/reset-mfa", body)
			})
			oneWinner(t, "reset request", answers, http.StatusAccepted, http.StatusConflict, `"conflict"`)
			if _, err := a.Store.GetTOTP(ctx, ada.ID); err != nil {
				t.Fatalf("a pending request reset already: %v", err)
			}
			c = supGetCase(t, tia, ref)
			if n := kindCount(c, "reset_requested"); n != 1 || c.PendingReset == nil {
				t.Errorf("after the requests: %d reset_requested entries, pending %+v; want 1", n, c.PendingReset)
			}
			if n := auditCount(t, a, ada.ID, "support.mfa_reset_requested"); n != 1 {
				t.Errorf("support.mfa_reset_requested events: %d, want 1", n)
			}

			// The approval: one reset of ten.
			answers = raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
				return rawPostJSON(srv, tia.On(srv), base+"/reset-mfa/approve", nil)
			})
			oneWinner(t, "approval", answers, http.StatusOK, http.StatusConflict, `"conflict"`)
			if _, err := a.Store.GetTOTP(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("authenticator after the approvals: %v, want none", err)
			}
			if _, err := a.Store.GetRecoveryCode(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("recovery code after the approvals: %v, want none", err)
			}
			c = supGetCase(t, sam, ref)
			if n := kindCount(c, "mfa_reset"); n != 1 || c.PendingReset != nil {
				t.Errorf("after the approvals: %d mfa_reset entries, pending %+v; want 1 and none", n, c.PendingReset)
			}
			if n := kindCount(c, "user_notified"); n != 1 {
				t.Errorf("user_notified entries: %d, want 1", n)
			}
			if n := auditCount(t, a, ada.ID, "support.mfa_reset"); n != 1 {
				t.Errorf("support.mfa_reset events: %d, want 1", n)
			}
			if n := mailsTo(bothOutboxes(t, a, b), "ada@example.com", "was reset"); n != 1 {
				t.Errorf("reset notices mailed to ada: %d, want 1", n)
			}
			a.Client(t).Login("ada", "enrollment_required")
		})
	}
}

// refusedWith fails unless every answer but the winning ones (status win) shows one of
// messages above the page's form.
func refusedWith(t *testing.T, what string, answers []rawResult, win int, messages ...string) {
	t.Helper()
	for i, r := range answers {
		if r.err != nil || r.status == win {
			continue
		}
		msg := pageMessage(&testserver.Response{Status: r.status, Body: r.body})
		if !slices.Contains(messages, msg) {
			t.Errorf("%s %d: page says %q, want one of %q", what, i, msg, messages)
		}
	}
}

// TestSupportResetFormsRaceOverTwoInstances: under dual control, the case page's reset
// form and its approval button, each posted ten times at once by one agent's browser (one
// session) over two instances on one database (SQLite file or PostgreSQL), happen once:
// one post goes back to the case page (303), the others get the page again with the
// refusal (409), never a 5xx; one request, one approval, one reset of the user's factors,
// one audit event and one notice each.
func TestSupportResetFormsRaceOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			a, b := testserver.Instances(t, db, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
			ctx := context.Background()
			supEnrolled(t, a, "ada", "user")
			sam, _ := supEnrolled(t, a, "sam", "support")
			tia, _ := supEnrolled(t, a, "tia", "support")
			ada := mustUser(t, a, "ada")
			ref := supOpen(t, a, "ada@example.com")
			page := "/support/cases/" + ref
			post := func(agent *testserver.Client, path string, v url.Values) func(int, *testserver.Server) rawResult {
				form := []byte(v.Encode())
				return func(_ int, srv *testserver.Server) rawResult {
					return rawDo(srv, agent.On(srv), http.MethodPost, path, "application/x-www-form-urlencoded", form, nil)
				}
			}
			wentTo := func(what string, answers []rawResult, done string) {
				t.Helper()
				for i, r := range answers {
					if r.status == http.StatusSeeOther && r.header.Get("Location") != page+"?done="+done {
						t.Errorf("%s %d went to %q, want %s?done=%s", what, i, r.header.Get("Location"), page, done)
					}
				}
			}

			// The reset form, as the page draws it: one pending request of ten.
			form := caseResetForm(t, sam, ref, "phone_callback", "called back on the number on record")
			if form.Get("user_id") != ada.ID || form.Get("mfa_state") == "" {
				t.Fatalf("the reset form is for %q with mfa_state %q, want ada (%s) and her MFA's state",
					form.Get("user_id"), form.Get("mfa_state"), ada.ID)
			}
			answers := raceOver(a, b, raceRounds, post(sam, page+"/reset-mfa", form))
			oneWinner(t, "reset request", answers, http.StatusSeeOther, http.StatusConflict, "")
			refusedWith(t, "reset request", answers, http.StatusSeeOther,
				"A reset for this case is already waiting for approval.",
				"A reset of ada is already waiting for approval on case "+ref+": a second agent approves it there, "+
					"or closing that case cancels it (it expires 24 hours after the request).")
			wentTo("reset request", answers, "requested")
			if _, err := a.Store.GetTOTP(ctx, ada.ID); err != nil {
				t.Fatalf("a pending request reset already: %v", err)
			}
			c := supGetCase(t, tia, ref)
			if n := kindCount(c, "reset_requested"); n != 1 || c.PendingReset == nil {
				t.Errorf("after the requests: %d reset_requested entries, pending %+v; want 1", n, c.PendingReset)
			}
			if n := auditCount(t, a, ada.ID, "support.mfa_reset_requested"); n != 1 {
				t.Errorf("support.mfa_reset_requested events: %d, want 1", n)
			}

			// The approval button: one reset of ten.
			answers = raceOver(a, b, raceRounds, post(tia, page+"/reset-mfa/approve", url.Values{}))
			oneWinner(t, "approval", answers, http.StatusSeeOther, http.StatusConflict, "")
			refusedWith(t, "approval", answers, http.StatusSeeOther,
				"No reset is waiting for approval on this case.", "This reset was approved or cancelled already.")
			wentTo("approval", answers, "approved")
			if _, err := a.Store.GetTOTP(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("authenticator after the approvals: %v, want none", err)
			}
			if _, err := a.Store.GetRecoveryCode(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("recovery code after the approvals: %v, want none", err)
			}
			c = supGetCase(t, sam, ref)
			if n := kindCount(c, "mfa_reset"); n != 1 || c.PendingReset != nil {
				t.Errorf("after the approvals: %d mfa_reset entries, pending %+v; want 1 and none", n, c.PendingReset)
			}
			if n := auditCount(t, a, ada.ID, "support.mfa_reset"); n != 1 {
				t.Errorf("support.mfa_reset events: %d, want 1", n)
			}
			if n := mailsTo(bothOutboxes(t, a, b), "ada@example.com", "was reset"); n != 1 {
				t.Errorf("reset notices mailed to ada: %d, want 1", n)
			}
			for _, srv := range []*testserver.Server{a, b} {
				supWant(t, tia.On(srv).Get(page), http.StatusOK)
			}
			a.Client(t).Login("ada", "enrollment_required")
		})
	}
}

// caseResetForm reads the case page as agent and returns what its reset form posts: the
// hidden fields as the page drew them (the account and the state of its MFA the agent
// saw), with how the person was verified and the agent's note.
func caseResetForm(t *testing.T, agent *testserver.Client, ref, verification, note string) url.Values {
	t.Helper()
	r := agent.Get("/support/cases/" + ref)
	supWant(t, r, http.StatusOK)
	return url.Values{"user_id": {hiddenValue(r, "user_id")}, "mfa_state": {hiddenValue(r, "mfa_state")},
		"verification": {verification}, "note": {note}}
}

// errMFAChangedReset is what a reset form says when the account's MFA was reset since
// the page was drawn.
const errMFAChangedReset = "The MFA of this account changed since you opened this case (it was reset already, " +
	"by you or another agent). Reload the case to see its state."

// TestSupportDirectResetFormRaceOverTwoInstances: without dual control, the case page's
// reset form posted ten times at once by one agent's browser (a double click, a retried
// post, two tabs) over two instances on one database (SQLite file or PostgreSQL) resets
// once: one post goes back to the case page (303), the other nine get the page again
// saying the account's MFA changed since the agent opened the case (409), never a 5xx; one
// audit event, one mfa_reset and one user_notified entry on the timeline, one notice mail.
func TestSupportDirectResetFormRaceOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			a, b := testserver.Instances(t, db, testserver.Options{})
			ctx := context.Background()
			supEnrolled(t, a, "ada", "user")
			sam, _ := supEnrolled(t, a, "sam", "support")
			ada := mustUser(t, a, "ada")
			ref := supOpen(t, a, "ada@example.com")
			page := "/support/cases/" + ref
			form := []byte(caseResetForm(t, sam, ref, "phone_callback", "called back on the number on record").Encode())

			answers := raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
				return rawDo(srv, sam.On(srv), http.MethodPost, page+"/reset-mfa", "application/x-www-form-urlencoded", form, nil)
			})
			oneWinner(t, "reset", answers, http.StatusSeeOther, http.StatusConflict, "")
			refusedWith(t, "reset", answers, http.StatusSeeOther, errMFAChangedReset)
			for i, r := range answers {
				if r.status == http.StatusSeeOther && r.header.Get("Location") != page+"?done=reset" {
					t.Errorf("reset %d went to %q, want %s?done=reset", i, r.header.Get("Location"), page)
				}
			}
			if _, err := a.Store.GetTOTP(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("authenticator after the resets: %v, want none", err)
			}
			c := supGetCase(t, sam, ref)
			if n := kindCount(c, "mfa_reset"); n != 1 {
				t.Errorf("mfa_reset entries: %d, want 1", n)
			}
			if n := kindCount(c, "user_notified"); n != 1 {
				t.Errorf("user_notified entries: %d, want 1", n)
			}
			if n := auditCount(t, a, ada.ID, "support.mfa_reset"); n != 1 {
				t.Errorf("support.mfa_reset events: %d, want 1", n)
			}
			if n := mailsTo(bothOutboxes(t, a, b), "ada@example.com", "was reset"); n != 1 {
				t.Errorf("reset notices mailed to ada: %d, want 1", n)
			}
		})
	}
}

// TestSupportDirectResetAPIRaceOverTwoInstances: without dual control, the support API's
// reset sent ten times at once over two instances resets once, with the mfa_state the case
// answered (the others: 409 mfa_changed) and without (409 conflict: the case records the
// reset, and the account holds no factor since); never a 5xx; one audit event, one
// timeline entry, one notice mail.
func TestSupportDirectResetAPIRaceOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		for _, sendState := range []bool{true, false} {
			refusal := `"conflict"`
			if sendState {
				refusal = `"mfa_changed"`
			}
			t.Run(fmt.Sprintf("%s/mfa_state=%t", db, sendState), func(t *testing.T) {
				a, b := testserver.Instances(t, db, testserver.Options{})
				supEnrolled(t, a, "ada", "user")
				sam, _ := supEnrolled(t, a, "sam", "support")
				ada := mustUser(t, a, "ada")
				ref := supOpen(t, a, "ada@example.com")
				body := map[string]string{"verification": "id_document", "note": "badge checked"}
				if sendState {
					c := supGetCase(t, sam, ref)
					if len(c.Accounts) != 1 || c.Accounts[0].MFAState == "" {
						t.Fatalf("the case answers no mfa_state: %+v", c.Accounts)
					}
					body["mfa_state"] = c.Accounts[0].MFAState
				}
				answers := raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
					return rawPostJSON(srv, sam.On(srv), "/api/v1/support/cases/"+ref+"/reset-mfa", body)
				})
				oneWinner(t, "reset", answers, http.StatusOK, http.StatusConflict, refusal)
				c := supGetCase(t, sam, ref)
				if n := kindCount(c, "mfa_reset"); n != 1 {
					t.Errorf("mfa_reset entries: %d, want 1", n)
				}
				if n := auditCount(t, a, ada.ID, "support.mfa_reset"); n != 1 {
					t.Errorf("support.mfa_reset events: %d, want 1", n)
				}
				if n := mailsTo(bothOutboxes(t, a, b), "ada@example.com", "was reset"); n != 1 {
					t.Errorf("reset notices mailed to ada: %d, want 1", n)
				}
			})
		}
	}
}
