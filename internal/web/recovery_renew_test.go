package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil/softkey"
	"github.com/twofold-id/twofold/internal/web"
)

// proveWithKey steps c's session up with key (a sign-in with it in the signed-in session).
func proveWithKey(t *testing.T, c *testserver.Client, key *softkey.Authenticator) {
	t.Helper()
	answer, err := key.Get(c.BeginKey("/api/v1/login/webauthn"))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.FinishKey("/api/v1/login/webauthn/finish", "", answer), http.StatusOK)
}

func TestKeyUserRenewsRecoveryCode(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, key, oldCode := keyUser(t, srv, "alice")
	srv.Clock.Advance(11 * time.Minute)

	t.Run("without_a_recent_proof_it_is_refused", func(t *testing.T) {
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/recovery-code", nil), http.StatusForbidden, "reauthentication_required")
		r := postForm(c, "/account/recovery-code", url.Values{})
		wantStatus(t, r, http.StatusForbidden)
	})

	t.Run("the_page_asks_to_confirm_with_the_key_first", func(t *testing.T) {
		page := c.Get("/account/security")
		wantStatus(t, page, http.StatusOK)
		contains(t, page, `href="#security-keys"`, `data-webauthn="login"`)
		if strings.Contains(string(page.Body), `id="rc-code"`) {
			t.Error("a key-only user is asked for an app code to renew the recovery code")
		}
	})

	t.Run("after_the_key_the_api_renews_it", func(t *testing.T) {
		proveWithKey(t, c, key)
		r := c.PostJSON("/api/v1/account/mfa/recovery-code", nil)
		wantStatus(t, r, http.StatusOK)
		fresh := decode[web.RecoveryCode](t, r).RecoveryCode
		if !recoveryCodeShape.MatchString(fresh) || fresh == oldCode {
			t.Fatalf("new recovery code %q (old %q)", fresh, oldCode)
		}
		recoveryCodeRefused(t, srv, "alice", oldCode)
		useRecoveryCode(t, srv, "alice", fresh)
	})

	t.Run("after_the_key_the_page_renews_it", func(t *testing.T) {
		proveWithKey(t, c, key)
		page := c.Get("/account/security")
		contains(t, page, `action="/account/recovery-code"`)
		r := postForm(c, "/account/recovery-code", url.Values{})
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/recovery-code") {
			t.Errorf("Location = %q, want the recovery code page", loc)
		}
	})
}

// TestKeyPolicyRecoveryCodeNeedsTheKey: under mfa.phishing_resistant an app code does not
// prove the second factor for a new recovery code of a user who has a key; the key does.
func TestKeyPolicyRecoveryCodeNeedsTheKey(t *testing.T) {
	t.Parallel()
	srv := keyPolicyServer(t)
	c, secret, _ := enrolledAdmin(t, srv, "ada")
	srv.AddKeyRecord(t, "ada", "YubiKey")
	srv.Clock.Advance(11 * time.Minute)
	srv.NextStep()

	wantProblem(t, c.PostJSON("/api/v1/account/mfa/recovery-code", codeJSON(srv.Code(secret, 0))), http.StatusForbidden, "security_key_required")
	wantStatus(t, postForm(c, "/account/recovery-code", url.Values{"code": {srv.Code(secret, 0)}}), http.StatusForbidden)
	page := c.Get("/account/security")
	wantStatus(t, page, http.StatusOK)
	if strings.Contains(string(page.Body), `id="rc-code"`) {
		t.Error("a user under the policy is asked for an app code to renew the recovery code")
	}
	contains(t, page, `href="#security-keys"`)
}

// TestAppBesideKeyKeepsRecoveryCode: the first second factor, of either kind, comes with
// the recovery code; an authenticator app added beside a key keeps the one the user has,
// on the API and on the pages.
func TestAppBesideKeyKeepsRecoveryCode(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	t.Run("api", func(t *testing.T) {
		c, key, rc := keyUser(t, srv, "alice")
		proveWithKey(t, c, key)
		r := c.PostJSON("/api/v1/account/mfa/totp", nil)
		wantStatus(t, r, http.StatusCreated)
		secret := testserver.DecodeSecret(t, r.JSON(t)["secret"].(string))
		r = c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(secret, 0)))
		wantStatus(t, r, http.StatusOK)
		if got := decode[web.StepAnswer](t, r).RecoveryCode; got != "" {
			t.Errorf("an app added beside a key came with a recovery code %q", got)
		}
		useRecoveryCode(t, srv, "alice", rc)
	})

	t.Run("pages", func(t *testing.T) {
		c, key, rc := keyUser(t, srv, "bob")
		proveWithKey(t, c, key)
		r := c.PostJSON("/api/v1/account/mfa/totp", nil)
		wantStatus(t, r, http.StatusCreated)
		secret := testserver.DecodeSecret(t, r.JSON(t)["secret"].(string))
		r = postForm(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(secret, 0)}})
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); loc != "/account/security?done=totp-added#sign-in" {
			t.Errorf("Location = %q, want the security page", loc)
		}
		contains(t, c.Get("/account/security?done=totp-added"), "your recovery code stays as it was")
		useRecoveryCode(t, srv, "bob", rc)
	})
}
