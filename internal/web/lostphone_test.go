package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// beginSetup posts POST /api/v1/account/mfa/totp with body, wants 201 and returns the new
// secret.
func beginSetup(t *testing.T, c *testserver.Client, body any) []byte {
	t.Helper()
	r := c.PostJSON("/api/v1/account/mfa/totp", body)
	wantStatus(t, r, http.StatusCreated)
	return testserver.DecodeSecret(t, decode[web.TOTPSetup](t, r).Secret)
}

// A user whose phone is gone signs in with the recovery code and sets up a new
// authenticator alone: the recovery-code sign-in is a second-factor proof, so no code of
// the old device is asked for within 10 minutes of it.
func TestLostPhoneRecoveryCodeThenNewAuthenticator(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	other, oldSecret, rc := enrolled(t, srv, "alice")

	c := srv.Client(t)
	c.Login("alice", "mfa_required")
	r := c.PostJSON("/api/v1/login/recovery-code", codeJSON(rc))
	wantStatus(t, r, http.StatusOK)
	if decode[web.StepAnswer](t, r).RecoveryCode == "" {
		t.Fatalf("the recovery-code sign-in gave no fresh code: %s", r.Body)
	}
	sess := decode[web.SessionAnswer](t, c.Get("/api/v1/session"))
	if sess.State != "authenticated" || !slices.Equal(sess.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("session after the recovery code: %q amr %v, want an MFA sign-in", sess.State, sess.AMR)
	}

	srv.Clock.Advance(9 * time.Minute) // the proof may be 10 minutes old when the setup is confirmed
	newSecret := beginSetup(t, c, nil)
	srv.NextStep()
	r = c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(newSecret, 0)))
	wantStatus(t, r, http.StatusOK)
	if decode[web.StepAnswer](t, r).RecoveryCode == "" {
		t.Fatalf("the new authenticator came without a recovery code: %s", r.Body)
	}
	if got := decode[web.SessionAnswer](t, c.Get("/api/v1/session")).AMR; !slices.Contains(got, "mfa") {
		t.Fatalf("amr after the replacement %v, want it to keep mfa", got)
	}
	wantProblem(t, other.Get("/api/v1/session"), http.StatusUnauthorized, "unauthenticated")
	if m := srv.LastMailTo(t, "alice@example.com"); m.Subject != "Your authenticator app was replaced" {
		t.Fatalf("last mail to alice: %q, want the replacement notice", m.Subject)
	}

	t.Run("the_old_secret_is_dead", func(t *testing.T) {
		srv.NextStep()
		d := srv.Client(t)
		d.Login("alice", "mfa_required")
		wantProblem(t, d.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(oldSecret, 0))), http.StatusUnauthorized, "invalid_code")
		wantStatus(t, d.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(newSecret, 0))), http.StatusOK)
	})
}

// The proof that lets a session replace the authenticator without a code is at most 10
// minutes old; after that a current code proves it again, and that proof counts anew.
func TestReplacingTheAuthenticatorNeedsARecentProof(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, secret, rc := enrolled(t, srv, "alice")

	t.Run("recovery_code_sign-in_older_than_10_minutes", func(t *testing.T) {
		c := srv.Client(t)
		c.Login("alice", "mfa_required")
		r := c.PostJSON("/api/v1/login/recovery-code", codeJSON(rc))
		wantStatus(t, r, http.StatusOK)
		rc = decode[web.StepAnswer](t, r).RecoveryCode
		srv.Clock.Advance(10*time.Minute + time.Second)
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", nil), http.StatusForbidden, "reauthentication_required")
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", codeJSON("")), http.StatusForbidden, "reauthentication_required")
	})

	t.Run("code_sign-in_older_than_10_minutes_then_a_code_again", func(t *testing.T) {
		c := srv.Client(t)
		signIn(t, srv, c, "alice", secret)
		srv.Clock.Advance(10*time.Minute + time.Second)
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", nil), http.StatusForbidden, "reauthentication_required")
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", codeJSON(wrongCode(srv, secret))), http.StatusForbidden, "reauthentication_required")
		srv.NextStep()
		beginSetup(t, c, codeJSON(srv.Code(secret, 0)))
		// The code proved the second factor again: for 10 minutes no other is needed.
		srv.Clock.Advance(9 * time.Minute)
		beginSetup(t, c, nil)
		srv.Clock.Advance(time.Minute + time.Second)
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", nil), http.StatusForbidden, "reauthentication_required")
	})

	t.Run("the_proof_must_be_recent_at_confirmation_too", func(t *testing.T) {
		// A setup begun 9 minutes after the proof cannot be confirmed 2 minutes later: the
		// recent-proof rule would stretch to 20 minutes otherwise.
		c := srv.Client(t)
		signIn(t, srv, c, "alice", secret)
		srv.Clock.Advance(9 * time.Minute)
		fresh := beginSetup(t, c, nil)
		srv.Clock.Advance(2 * time.Minute)
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(fresh, 0))), http.StatusConflict, "no_pending_enrollment")
	})

	t.Run("a_recent_proof_does_not_excuse_a_wrong_code", func(t *testing.T) {
		c := srv.Client(t)
		signIn(t, srv, c, "alice", secret)
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", codeJSON(wrongCode(srv, secret))), http.StatusForbidden, "reauthentication_required")
	})

	t.Run("enrolling_is_no_proof", func(t *testing.T) {
		// A session that set up the first authenticator after the password alone has
		// proved no second factor: replacing that authenticator still needs its code.
		srv.CreateUser(t, "bob", "bob@example.com", "user")
		c := srv.Client(t)
		c.Login("bob", "enrollment_required")
		first := beginSetup(t, c, nil)
		wantStatus(t, c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(first, 0))), http.StatusOK)
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", nil), http.StatusForbidden, "reauthentication_required")
	})
}

// pageLoginWithRecoveryCode signs c in through the pages with the password and the
// recovery code and returns the response of the recovery-code form.
func pageLoginWithRecoveryCode(t *testing.T, c *testserver.Client, username, rc string) *testserver.Response {
	t.Helper()
	wantRedirect(t, formLogin(c, username, testserver.Password), "/login/code")
	return postForm(c, "/login/recovery", url.Values{"code": {rc}})
}

// The pages of a lost phone: the "Successful!" page after a recovery-code sign-in offers a
// new authenticator, and the security page takes the recovery code as a fresh proof.
func TestLostPhonePages(t *testing.T) {
	t.Parallel()

	t.Run("successful_page_offers_a_new_authenticator", func(t *testing.T) {
		srv := newServer(t)
		_, oldSecret, rc := enrolled(t, srv, "alice")
		c := srv.Client(t)
		r := pageLoginWithRecoveryCode(t, c, "alice", rc)
		wantRedirect(t, r, "/recovery-code")
		r = c.Get(r.Header.Get("Location"))
		wantPage(t, r, http.StatusOK, "Successful!", "My authenticator is lost: set up a new one")
		fresh := find(t, r, recoveryCodeOnPage)
		// The box must be ticked for this button as for Continue.
		wantPage(t, postForm(c, "/recovery-code/ack", url.Values{"next": {"new-authenticator"}}), http.StatusBadRequest, "Tick the box")
		wantRedirect(t, postForm(c, "/recovery-code/ack", url.Values{"saved": {"yes"}, "next": {"new-authenticator"}}), "/mfa/setup")
		newSecret := testserver.DecodeSecret(t, find(t, c.Get("/mfa/setup"), secretOnPage))
		srv.NextStep()
		wantRedirect(t, postForm(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(newSecret, 0)}}), "/recovery-code")
		if find(t, c.Get("/recovery-code"), recoveryCodeOnPage) == fresh {
			t.Fatal("the new authenticator came with the recovery code of the sign-in")
		}
		d := srv.Client(t)
		d.Login("alice", "mfa_required")
		wantProblem(t, d.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(oldSecret, 0))), http.StatusUnauthorized, "invalid_code")
	})

	t.Run("successful_page_after_a_code_offers_no_new_authenticator", func(t *testing.T) {
		srv := newServer(t)
		c, secret, _ := enrolled(t, srv, "alice")
		wantRedirect(t, postForm(c, "/account/recovery-code", url.Values{"code": {srv.Code(secret, 0)}}), "/recovery-code")
		r := c.Get("/recovery-code")
		wantPage(t, r, http.StatusOK, "Successful!")
		if strings.Contains(string(r.Body), "My authenticator is lost") {
			t.Fatal("the page offers a new authenticator after a code from the authenticator")
		}
	})

	t.Run("security_page_with_a_recent_proof_asks_no_code", func(t *testing.T) {
		srv := newServer(t)
		c, _, _ := enrolled(t, srv, "alice")
		r := c.Get("/account/security")
		wantPage(t, r, http.StatusOK, "no code is needed to replace your authenticator", "Contact support")
		if strings.Contains(string(r.Body), `id="replace-code"`) {
			t.Fatal("the security page asks for a code within 10 minutes of a proof")
		}
		wantRedirect(t, postForm(c, "/mfa/setup/start", url.Values{"from": {"security"}}), "/mfa/setup")
		find(t, c.Get("/mfa/setup"), secretOnPage)
	})

	t.Run("security_page_takes_the_recovery_code_as_a_new_proof", func(t *testing.T) {
		srv := newServer(t)
		c, secret, rc := enrolled(t, srv, "alice")
		srv.Clock.Advance(10*time.Minute + time.Second)
		r := c.Get("/account/security")
		wantPage(t, r, http.StatusOK, "Current code or recovery code", "Contact support")
		wantPage(t, postForm(c, "/mfa/setup/start", url.Values{"from": {"security"}}), http.StatusForbidden, "Confirm that it is you")
		wantPage(t, postForm(c, "/mfa/setup/start", url.Values{"from": {"security"}, "code": {"AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"}}),
			http.StatusUnauthorized, "That recovery code is not valid")
		r = postForm(c, "/mfa/setup/start", url.Values{"from": {"security"}, "code": {strings.ToLower(rc)}})
		wantRedirect(t, r, "/recovery-code")
		r = c.Get(r.Header.Get("Location"))
		wantPage(t, r, http.StatusOK, "Successful!", "My authenticator is lost: set up a new one")
		fresh := find(t, r, recoveryCodeOnPage)
		recoveryCodeRefused(t, srv, "alice", rc)
		wantRedirect(t, postForm(c, "/recovery-code/ack", url.Values{"saved": {"yes"}, "next": {"new-authenticator"}}), "/mfa/setup")
		newSecret := testserver.DecodeSecret(t, find(t, c.Get("/mfa/setup"), secretOnPage))
		srv.NextStep()
		wantRedirect(t, postForm(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(newSecret, 0)}}), "/recovery-code")
		d := srv.Client(t)
		d.Login("alice", "mfa_required")
		wantProblem(t, d.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), http.StatusUnauthorized, "invalid_code")
		// The new authenticator brings a new recovery code: the one shown after the proof is spent too.
		recoveryCodeRefused(t, srv, "alice", fresh)
	})

	t.Run("setup_page_after_an_old_proof_asks_for_a_code_or_the_recovery_code", func(t *testing.T) {
		srv := newServer(t)
		c, _, _ := enrolled(t, srv, "alice")
		srv.Clock.Advance(10*time.Minute + time.Second)
		wantPage(t, c.Get("/mfa/setup"), http.StatusOK, "Current code or recovery code", "Contact support")
	})
}
