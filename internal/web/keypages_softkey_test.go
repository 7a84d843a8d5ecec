package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
)

// TestKeyAddedOnThePages: the route webauthn.js posts a new key to keeps it as the API
// does, and leads on as a page must: the first second factor to "Successful!" with the
// recovery code, a forced setup under the policy on to where the sign-in was going, a key
// added on Password & Security back to the keys.
func TestKeyAddedOnThePages(t *testing.T) {
	t.Parallel()
	t.Run("first factor: Successful! with the recovery code", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		srv.CreateUser(t, "bob", "bob@example.com", store.RoleUser)
		c := srv.Client(t)
		c.Login("bob", "enrollment_required")
		key := srv.NewKey()
		answer, _, err := key.Create(c.BeginKey("/api/v1/account/mfa/webauthn/register"))
		if err != nil {
			t.Fatal(err)
		}
		r := c.FinishKey("/account/security-keys", "Blue key", answer)
		wantStatus(t, r, http.StatusOK)
		if next := r.JSON(t)["next"]; next != "/recovery-code?why=key" {
			t.Fatalf("next %v, want the Successful! page", next)
		}
		page := c.Get("/recovery-code?why=key")
		contains(t, page, "Successful!", "Your security key is set up.", `id="recovery-code"`)
	})
	t.Run("another key on Password & Security", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		c, _, _ := enrolled(t, srv, "ada")
		key := srv.NewKey()
		answer, _, err := key.Create(c.BeginKey("/api/v1/account/mfa/webauthn/register"))
		if err != nil {
			t.Fatal(err)
		}
		r := c.FinishKey("/account/security-keys", "Laptop", answer)
		wantStatus(t, r, http.StatusOK)
		if next := r.JSON(t)["next"]; next != "/account/security?done=key-added#security-keys" {
			t.Fatalf("next %v", next)
		}
		page := c.Get("/account/security?done=key-added")
		contains(t, page, "Your security key is added.", "Laptop", "Passkey")
		// An answer that is not one is refused, as a problem webauthn.js shows.
		r = c.FinishKey("/account/security-keys", "Again", []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"AA","attestationObject":"AA"}}`))
		if r.Status < 400 || r.Status >= 500 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("a malformed answer: %d %s %s, want a 4xx problem", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
	})
}
