package oidc_test

import (
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestEmailVerifiedClaimIsTruthful: relying parties such as oauth2-proxy refuse an ID
// token whose email_verified is not true. The claim, in the ID token and at userinfo, says
// whether the user proved to own the address, as go-oidc reads it: false until the user
// confirms the "verify my address" link, true after.
func TestEmailVerifiedClaimIsTruthful(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")

	wantClaim := func(t *testing.T, want bool) {
		t.Helper()
		tok, id := app.tokens(b, app.newRequest())
		var c struct {
			Email         string `json:"email"`
			EmailVerified *bool  `json:"email_verified"`
		}
		if err := id.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if c.Email != "ada@example.com" || c.EmailVerified == nil || *c.EmailVerified != want {
			t.Errorf("ID token: email %q, email_verified %v, want %v", c.Email, deref(c.EmailVerified), want)
		}
		info, err := app.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if info.Email != "ada@example.com" || info.EmailVerified != want {
			t.Errorf("userinfo: email %q, email_verified %v, want %v", info.Email, info.EmailVerified, want)
		}
	}

	t.Run("an unproved address is not verified", func(t *testing.T) { wantClaim(t, false) })

	// The user verifies the address with the link from Password & Security.
	if r := b.PostJSON("/api/v1/account/email/verify", nil); r.Status != http.StatusAccepted {
		t.Fatalf("ask for a verification link: %d %s", r.Status, r.Body)
	}
	link, err := url.Parse(srv.LastMailTo(t, "ada@example.com").Link(address.ConfirmPath + "?token="))
	if err != nil || link.Query().Get("token") == "" {
		t.Fatalf("no verification link in the mail (%v)", err)
	}
	if r := srv.Client(t).PostJSON("/api/v1/account/email/confirm", map[string]string{"token": link.Query().Get("token")}); r.Status != http.StatusNoContent {
		t.Fatalf("confirm the link: %d %s", r.Status, r.Body)
	}
	t.Run("a verified address is verified", func(t *testing.T) { wantClaim(t, true) })
}

func deref(b *bool) any {
	if b == nil {
		return "absent"
	}
	return *b
}
