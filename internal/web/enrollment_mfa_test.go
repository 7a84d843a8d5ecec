package web_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// TestEnrollmentIsNotAnMFASignIn: the code that confirms a new authenticator proves the
// device answers, not who holds it: whoever knew the password could have bound it. So the
// session that enrolls (at a forced enrollment, or on the security page of a password-only
// session) stays a password sign-in: no "mfa" in its amr, no support console. A sign-in
// with a code of the authenticator is an MFA sign-in.
func TestEnrollmentIsNotAnMFASignIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy func(string) bool
		state  string // after the password
	}{
		{"forced enrollment", nil, "enrollment_required"},
		{"setup in a password-only session", noMFA, "authenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.New(t, testserver.Options{MFARequiredForRole: tc.policy})
			srv.CreateUser(t, "sam", "sam@example.com", "support")
			c := srv.Client(t)
			c.Login("sam", tc.state)
			r := c.PostJSON("/api/v1/account/mfa/totp", nil)
			if r.Status != http.StatusCreated {
				t.Fatalf("begin setup: %d %s", r.Status, r.Body)
			}
			secret := testserver.DecodeSecret(t, r.JSON(t)["secret"].(string))
			if r := c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(secret, 0))); r.Status != http.StatusOK {
				t.Fatalf("confirm setup: %d %s", r.Status, r.Body)
			}

			me := c.Get("/api/v1/session")
			if me.Status != http.StatusOK {
				t.Fatalf("GET /api/v1/session after enrolling: %d %s", me.Status, me.Body)
			}
			if amr := amrOf(t, me); slices.Contains(amr, "mfa") {
				t.Errorf("amr after enrolling = %v: the enrolling session claims MFA", amr)
			}
			if r := c.Get("/api/v1/support/cases"); r.Status != http.StatusForbidden {
				t.Errorf("support console after enrolling (no code sign-in): %d, want 403", r.Status)
			}

			srv.NextStep()
			c.Login("sam", "mfa_required")
			if r := c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))); r.Status != http.StatusOK {
				t.Fatalf("sign in with a code: %d %s", r.Status, r.Body)
			}
			if amr := amrOf(t, c.Get("/api/v1/session")); !slices.Contains(amr, "mfa") {
				t.Errorf("amr after a sign-in with a code = %v, want mfa", amr)
			}
			if r := c.Get("/api/v1/support/cases"); r.Status != http.StatusOK {
				t.Errorf("support console after a code sign-in: %d %s, want 200", r.Status, r.Body)
			}
		})
	}
}

func amrOf(t *testing.T, r *testserver.Response) []string {
	t.Helper()
	var amr []string
	list, _ := r.JSON(t)["amr"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		amr = append(amr, s)
	}
	return amr
}
