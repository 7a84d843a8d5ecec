package web_test

import (
	"net/http"
	"testing"

	"github.com/twofold-id/twofold/internal/web"
)

// TestKeyPolicyKeepsTheLastKey: under mfa.phishing_resistant a code is no second factor
// for the user, so a key is the user's last second factor even beside an authenticator
// app. Removing it would put the account back on the code, which a phishing page relays
// (and which leads to adding a new key, the attacker's): it is refused with last_factor.
func TestKeyPolicyKeepsTheLastKey(t *testing.T) {
	srv := keyPolicyServer(t)
	c, secret, _ := enrolledAdmin(t, srv, "ada")
	c.Login("ada", "mfa_required")
	srv.NextStep()
	wantStatus(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), http.StatusOK)
	key := srv.NewKey()
	r, _ := c.RegisterKey(key, "YubiKey")
	wantStatus(t, r, http.StatusCreated)

	d := srv.Client(t)
	wantStatus(t, d.KeySignIn("ada", key), http.StatusOK)
	keys := decode[web.MFAFactors](t, d.Get("/api/v1/account/mfa")).WebAuthn
	if len(keys) != 1 {
		t.Fatalf("keys: %+v", keys)
	}
	wantProblem(t, d.Do(http.MethodDelete, "/api/v1/account/mfa/webauthn/"+keys[0].ID, "", nil), http.StatusConflict, "last_factor")
}
