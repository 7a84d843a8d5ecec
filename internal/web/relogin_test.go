package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

func TestFailedLoginKeepsTheSession(t *testing.T) {
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	before := sessionState(t, c)
	r := c.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": "not the password at all"})
	wantProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
	if after := sessionState(t, c); after != before {
		t.Fatalf("session state after a failed sign-in: %q, was %q", after, before)
	}
}

func TestSuccessfulLoginEndsTheOldSession(t *testing.T) {
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	old := sessionToken(t, srv, c)
	c.Login("alice", "mfa_required")
	if r := clientWithToken(t, srv, old).Get("/api/v1/session"); r.Status != http.StatusUnauthorized {
		t.Fatalf("old session still answers %d after a new sign-in", r.Status)
	}
}

// A browser that holds another user's session and signs in (by the API or the form)
// ends that session with the sign-in: one audit row for its user, from nobody, as End
// writes it.
func TestSignInReplacesAnotherUsersSession(t *testing.T) {
	for _, form := range []bool{false, true} {
		t.Run(map[bool]string{false: "api", true: "form"}[form], func(t *testing.T) {
			srv := newServer(t)
			c, _, _ := enrolled(t, srv, "bob")
			bob, err := srv.Store.GetUserByUsername(t.Context(), "bob")
			if err != nil {
				t.Fatal(err)
			}
			srv.CreateUser(t, "alice", "alice@example.com", "user")
			held := sessionToken(t, srv, c)
			replaced := func() []store.AuditEvent {
				t.Helper()
				events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{UserID: bob.ID, Event: audit.SessionReplaced})
				if err != nil {
					t.Fatal(err)
				}
				return events
			}
			before := len(replaced()) // bob's enrollment replaced sessions too
			if form {
				wantStatus(t, postForm(c, "/login", url.Values{"username": {"alice"}, "password": {testserver.Password}}), http.StatusSeeOther)
			} else {
				c.Login("alice", "enrollment_required")
			}
			if r := clientWithToken(t, srv, held).Get("/api/v1/session"); r.Status != http.StatusUnauthorized {
				t.Fatalf("bob's session still answers %d after alice signed in in its browser", r.Status)
			}
			events := replaced() // newest first
			if len(events) != before+1 || events[0].SubjectID != bob.ID || events[0].ActorID != "" {
				t.Fatalf("audit of the replaced session: %+v, want one row more (%d before), for bob from nobody", events, before)
			}
		})
	}
}

// A pending authenticator secret belongs to the session that drew it: another sign-in
// with the same password (an attacker, or another tab) can neither see nor confirm it.
func TestPendingSetupBelongsToItsSession(t *testing.T) {
	srv := newServer(t)
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	form := url.Values{"username": {"bob"}, "password": {testserver.Password}}
	victim := srv.Client(t)
	wantStatus(t, postForm(victim, "/login", form), http.StatusSeeOther)
	key := setupKey(t, victim.Get("/mfa/setup"))

	other := srv.Client(t)
	other.Login("bob", "enrollment_required") // API sign-in: does not draw a key itself
	if r := other.Get("/mfa/setup"); strings.Contains(string(r.Body), key) {
		t.Fatal("another session of the user was shown the pending key")
	}
	code := srv.Code(testserver.DecodeSecret(t, key), 0)
	wantProblem(t, other.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(code)), http.StatusConflict, "no_pending_enrollment")

	// The session that drew the key confirms it.
	r := victim.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(code))
	wantStatus(t, r, http.StatusOK)
}

func setupKey(t *testing.T, r *testserver.Response) string {
	t.Helper()
	body := string(r.Body)
	i := strings.Index(body, `id="secret">`)
	if r.Status != http.StatusOK || i < 0 {
		t.Fatalf("setup page %d without a key: %.300s", r.Status, body)
	}
	rest := body[i+len(`id="secret">`):]
	return rest[:strings.Index(rest, "<")]
}

func TestEnrollmentFinishesASignIn(t *testing.T) {
	srv := newServer(t)
	u := srv.CreateUser(t, "dora", "dora@example.com", "user")
	srv.Enroll(t, srv.Client(t), "dora")
	got, err := srv.Store.GetUser(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastLoginAt.IsZero() {
		t.Fatal("last sign-in is still 'never' after a sign-in finished by enrollment")
	}
	events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Event == "login.succeeded" {
			return
		}
	}
	t.Fatal("no login.succeeded audit event after the enrollment sign-in")
}

func TestWrongRecoveryCodeMessage(t *testing.T) {
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "erin")
	c.Login("erin", "mfa_required")
	r := c.PostJSON("/api/v1/login/recovery-code", codeJSON("AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"))
	wantProblem(t, r, http.StatusUnauthorized, "invalid_code")
	if !strings.Contains(string(r.Body), "recovery code") {
		t.Fatalf("a wrong recovery code is answered with %s", r.Body)
	}
}

func TestUnknownPageIsAStyledNotFound(t *testing.T) {
	srv := newServer(t)
	r := srv.Client(t).Get("/no-such-page")
	if r.Status != http.StatusNotFound || !strings.Contains(r.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(r.Body), "/static/style.css") {
		t.Fatalf("unknown page: %d %s %.200s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
}

// Setting up or replacing the authenticator ends every other session of the user: they
// were opened without it (a password alone, or the device being replaced).
func TestNewAuthenticatorEndsOtherSessions(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	srv.CreateUser(t, "fay", "fay@example.com", "user")
	a, b := srv.Client(t), srv.Client(t)
	a.Login("fay", "authenticated")
	b.Login("fay", "authenticated")

	r := a.PostJSON("/api/v1/account/mfa/totp", nil)
	wantStatus(t, r, http.StatusCreated)
	secret := testserver.DecodeSecret(t, decode[web.TOTPSetup](t, r).Secret)
	wantStatus(t, a.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(secret, 0))), http.StatusOK)
	wantStatus(t, a.Get("/api/v1/session"), http.StatusOK)
	wantProblem(t, b.Get("/api/v1/session"), http.StatusUnauthorized, "unauthenticated")

	// Replacing: a second MFA session ends when the first replaces the authenticator.
	srv.NextStep()
	c := srv.Client(t)
	c.Login("fay", "mfa_required")
	wantStatus(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), http.StatusOK)
	srv.NextStep()
	r = a.PostJSON("/api/v1/account/mfa/totp", codeJSON(srv.Code(secret, 0)))
	wantStatus(t, r, http.StatusCreated)
	next := testserver.DecodeSecret(t, decode[web.TOTPSetup](t, r).Secret)
	wantStatus(t, a.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(next, 0))), http.StatusOK)
	wantProblem(t, c.Get("/api/v1/session"), http.StatusUnauthorized, "unauthenticated")
}
