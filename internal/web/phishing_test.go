package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// keyPolicyServer requires a security key or passkey of administrators
// (mfa.phishing_resistant: [admin]).
func keyPolicyServer(t *testing.T) *testserver.Server {
	t.Helper()
	return testserver.New(t, testserver.Options{Config: func(c *config.Config) {
		c.MFA.PhishingResistant = []string{store.RoleAdmin}
	}})
}

// enrolledAdmin creates username with an authenticator app (set up before the policy
// covered the user) and makes the user an administrator.
func enrolledAdmin(t *testing.T, srv *testserver.Server, username string) (*testserver.Client, []byte, string) {
	t.Helper()
	c, secret, rc := enrolled(t, srv, username)
	u, err := srv.Store.GetUserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.SetUserRole(t.Context(), u.ID, store.RoleAdmin, srv.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	return c, secret, rc
}

// TestKeyPolicyRefusesCodes: under mfa.phishing_resistant a user's second factor must be
// a security key or passkey. The app code of a user who has a key is refused with a clear
// reason; a user without a key who passes the code may only add a key; no authenticator
// app can be set up; the recovery code still signs the user in, but that session, like
// every one without a key, does not count for the support console.
func TestKeyPolicyRefusesCodes(t *testing.T) {
	t.Parallel()
	t.Run("a code of a user with a key is refused", func(t *testing.T) {
		t.Parallel()
		srv := keyPolicyServer(t)
		c, secret, _ := enrolledAdmin(t, srv, "ada")
		srv.AddKeyRecord(t, "ada", "YubiKey")
		c.Login("ada", "mfa_required")
		r := c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0)))
		wantProblem(t, r, http.StatusForbidden, "security_key_required")
		if d := problemOf(t, r)["detail"].(string); !strings.Contains(d, "security key") {
			t.Errorf("detail %q does not say a security key is required", d)
		}
		if st := sessionState(t, c); st != store.StateMFARequired {
			t.Errorf("state after the refused code: %s, want mfa_required", st)
		}
	})
	t.Run("a code of a user without a key leads to adding one", func(t *testing.T) {
		t.Parallel()
		srv := keyPolicyServer(t)
		c, secret, _ := enrolledAdmin(t, srv, "ada")
		c.Login("ada", "mfa_required")
		srv.NextStep()
		r := c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0)))
		wantStatus(t, r, http.StatusOK)
		if st := r.JSON(t)["state"]; st != store.StateEnrollmentRequired {
			t.Errorf("state after the code: %v, want enrollment_required", st)
		}
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", nil), http.StatusForbidden, "security_key_required")
		wantStatus(t, c.Get("/api/v1/support/cases"), http.StatusUnauthorized)
		setup := c.Get("/mfa/setup")
		wantStatus(t, setup, http.StatusOK)
		contains(t, setup, "Add a security key or passkey", "Your organisation requires a security key")
		if strings.Contains(string(setup.Body), "QR code") {
			t.Error("the forced enrollment of a user under the policy offers an authenticator app")
		}
	})
	t.Run("without any factor only a key can be set up", func(t *testing.T) {
		t.Parallel()
		srv := keyPolicyServer(t)
		srv.CreateUser(t, "bob", "bob@example.com", store.RoleAdmin)
		c := srv.Client(t)
		c.Login("bob", "enrollment_required")
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", nil), http.StatusForbidden, "security_key_required")
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON("123456")), http.StatusForbidden, "security_key_required")
		// The page sign-in leads to the key setup (no QR code is drawn for this user).
		p := srv.Client(t)
		r := postForm(p, "/login", url.Values{"username": {"bob"}, "password": {testserver.Password}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/mfa/setup" {
			t.Fatalf("page sign-in: %d to %q, want /mfa/setup", r.Status, r.Header.Get("Location"))
		}
	})
	t.Run("MFA is required even when the user's override says no", func(t *testing.T) {
		t.Parallel()
		srv := keyPolicyServer(t)
		u := srv.CreateUser(t, "bob", "bob@example.com", store.RoleAdmin)
		if err := srv.Auth.SetMFAOverride(t.Context(), u, store.MFAOverrideNo, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
		srv.Client(t).Login("bob", "enrollment_required")
	})
	t.Run("the recovery code signs in, but not into the console", func(t *testing.T) {
		t.Parallel()
		srv := keyPolicyServer(t)
		c, _, rc := enrolledAdmin(t, srv, "ada")
		srv.AddKeyRecord(t, "ada", "YubiKey")
		c.Login("ada", "mfa_required")
		r := c.PostJSON("/api/v1/login/recovery-code", codeJSON(rc))
		wantStatus(t, r, http.StatusOK)
		wantProblem(t, c.Get("/api/v1/support/cases"), http.StatusForbidden, "security_key_required")
		page := c.Get("/support/cases")
		if loc := page.Header.Get("Location"); page.Status != http.StatusSeeOther || loc != "/login/key?next=%2Fsupport%2Fcases" {
			t.Fatalf("console page: %d to %q, want the page asking for the key", page.Status, loc)
		}
		if r := c.Get("/admin"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login/key?next=%2Fadmin" {
			t.Errorf("admin console: %d to %q, want the page asking for the key", r.Status, r.Header.Get("Location"))
		}
		ask := c.Get("/login/key?next=%2Fsupport%2Fcases")
		wantStatus(t, ask, http.StatusOK)
		contains(t, ask, "Confirm with your security key", "Use your security key", `data-next="/support/cases"`)

		// A session that used the key counts.
		srv.SetSessionAMR(t, "ada", "pwd", "hwk", "user", "mfa")
		wantStatus(t, c.Get("/api/v1/support/cases"), http.StatusOK)
		wantStatus(t, c.Get("/admin"), http.StatusOK)
		if r := c.Get("/login/key?next=%2Fsupport%2Fcases"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/support/cases" {
			t.Errorf("the key page with a key session: %d to %q, want straight on", r.Status, r.Header.Get("Location"))
		}
	})
	t.Run("users the policy does not cover keep their codes", func(t *testing.T) {
		t.Parallel()
		srv := keyPolicyServer(t)
		c, secret, _ := enrolled(t, srv, "sam")
		u, _ := srv.Store.GetUserByUsername(t.Context(), "sam")
		if err := srv.Store.SetUserRole(t.Context(), u.ID, store.RoleSupport, srv.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		signIn(t, srv, c, "sam", secret)
		wantStatus(t, c.Get("/api/v1/support/cases"), http.StatusOK)
	})
}

// TestKeyPages: what the pages offer around keys, without a browser: the key first after
// the password (and only the key under the policy), the passkey button and conditional UI
// on the sign-in page (unless webauthn.passwordless is off), the keys on Password &
// Security with the confirmation they need after 10 minutes, and the key route's refusals
// as problem documents for webauthn.js.
func TestKeyPages(t *testing.T) {
	t.Parallel()
	t.Run("the key is offered first after the password", func(t *testing.T) {
		t.Parallel()
		srv := keyPolicyServer(t)
		enrolled(t, srv, "ada")
		srv.AddKeyRecord(t, "ada", "YubiKey")
		c := srv.Client(t)
		c.Login("ada", "mfa_required")
		page := c.Get("/login/code")
		wantStatus(t, page, http.StatusOK)
		body := string(page.Body)
		if i, j := strings.Index(body, "Use your security key"), strings.Index(body, `action="/login/code"`); i < 0 || j < 0 || i > j {
			t.Errorf("the code page does not offer the key before the app code:\n%s", body)
		}
		enrolledAdmin(t, srv, "bea")
		srv.AddKeyRecord(t, "bea", "YubiKey")
		b := srv.Client(t)
		b.Login("bea", "mfa_required")
		if body := string(b.Get("/login/code").Body); strings.Contains(body, `action="/login/code"`) || !strings.Contains(body, "Use your security key") {
			t.Errorf("under the policy the code page offers the app code to a user with a key:\n%s", body)
		}
	})
	t.Run("passkey sign-in on the sign-in page", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		contains(t, srv.Client(t).Get("/login"), `autocomplete="username webauthn"`, "Sign in with a passkey", "data-webauthn-conditional")
		off := testserver.New(t, testserver.Options{Config: func(c *config.Config) { c.WebAuthn.Passwordless = false }})
		if body := string(off.Client(t).Get("/login").Body); strings.Contains(body, "Sign in with a passkey") || strings.Contains(body, "username webauthn") {
			t.Errorf("with webauthn.passwordless off the sign-in page offers passkeys:\n%s", body)
		}
	})
	t.Run("keys on Password & Security", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		c, secret, _ := enrolled(t, srv, "ada")
		k := srv.AddKeyRecord(t, "ada", "Blue YubiKey")
		page := c.Get("/account/security")
		contains(t, page, "Security keys and passkeys", "Blue YubiKey", "Security key", `action="/account/security-keys/`+k.ID+`/remove"`,
			`data-webauthn="register"`)
		srv.Clock.Advance(11 * time.Minute)
		page = c.Get("/account/security")
		contains(t, page, "first confirm that it is you", `action="/account/confirm"`, `data-webauthn="login"`)
		if strings.Contains(string(page.Body), `/remove"`) {
			t.Error("keys can be removed without a recent confirmation")
		}
		wrong := postForm(c, "/account/confirm", url.Values{"code": {wrongCode(srv, secret)}})
		if wrong.Status != http.StatusUnauthorized || !strings.Contains(string(wrong.Body), `id="proof-code-error"`) {
			t.Fatalf("a wrong code: %d, want 401 with the error at the field:\n%s", wrong.Status, wrong.Body)
		}
		srv.NextStep()
		r := postForm(c, "/account/confirm", url.Values{"code": {srv.Code(secret, 0)}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account/security?done=confirmed#security-keys" {
			t.Fatalf("confirm: %d to %q", r.Status, r.Header.Get("Location"))
		}
		contains(t, c.Get("/account/security?done=confirmed"), "Confirmed.", `/remove"`)
		r = postForm(c, "/account/security-keys/"+k.ID+"/remove", url.Values{})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account/security?done=key-removed#security-keys" {
			t.Fatalf("remove: %d to %q: %s", r.Status, r.Header.Get("Location"), r.Body)
		}
		if body := string(c.Get("/account/security").Body); strings.Contains(body, "Blue YubiKey") {
			t.Error("the removed key is still listed")
		}
	})
	t.Run("the key route answers webauthn.js with problems", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		c, _, _ := enrolled(t, srv, "ada")
		r := c.PostJSON("/account/security-keys", map[string]any{"name": "Key", "credential": map[string]string{"id": "x"}})
		if r.Status != http.StatusBadRequest || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("a credential that is not one: %d %s %s, want a 400 problem", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		r = c.PostJSON("/account/security-keys", map[string]any{"name": "Key"})
		wantProblem(t, r, http.StatusBadRequest, "bad_request")
	})
	t.Run("after a key or passkey the browser goes on", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		c, _, _ := enrolled(t, srv, "ada")
		if r := c.Get("/login/done"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account/security" {
			t.Errorf("/login/done signed in: %d to %q", r.Status, r.Header.Get("Location"))
		}
		p := srv.Client(t)
		p.Login("ada", "mfa_required")
		if r := p.Get("/login/done"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login/code" {
			t.Errorf("/login/done with the second factor due: %d to %q", r.Status, r.Header.Get("Location"))
		}
	})
}
