package web_test

import (
	"net/http"
	"testing"
	"time"

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

// TestAddingAKeyIsNoSignIn: registering a key in a signed-in session (allowed for 10
// minutes after a proof) authenticates nobody, so the session's auth_time stays that of
// its sign-in. Moving it would make the session "fresh" for an application's prompt=login
// or max_age asked before, and put a wrong auth_time into its ID token.
func TestAddingAKeyIsNoSignIn(t *testing.T) {
	srv := newServer(t)
	_, key, _ := keyUser(t, srv, "alice")
	d := srv.Client(t)
	wantStatus(t, d.PasskeySignIn(key), http.StatusOK)
	signedInAt := srv.Clock.Now()
	srv.Clock.Advance(5 * time.Minute)
	r, _ := d.RegisterKey(srv.NewKey(), "Spare")
	wantStatus(t, r, http.StatusCreated)
	u, err := srv.Store.GetUserByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := srv.Store.ListUserSessions(t.Context(), u.ID, srv.Clock.Now())
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions: %v %+v", err, sessions)
	}
	if got := sessions[0].AuthTime; !got.Equal(signedInAt) {
		t.Errorf("auth time after adding a key: %v, want the sign-in's %v", got, signedInAt)
	}
}
