package web_test

import (
	"net/http"
	"slices"
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

	srv.Clock.Advance(10 * time.Minute) // the proof may be 10 minutes old
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
