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
