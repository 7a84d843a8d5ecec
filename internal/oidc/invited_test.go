package oidc_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestInvitedUserPassesOAuth2ProxysEmailRule: oauth2-proxy refuses an ID token whose
// email_verified is not true (its default). A user who came in by invitation proved the
// address by opening the mailed link, so a relying party built with go-oidc reads
// email_verified true, in the ID token and from userinfo.
func TestInvitedUserPassesOAuth2ProxysEmailRule(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "behind-oauth2-proxy", clientOpts{})
	_, err := srv.Invite.Invite(t.Context(), auth.NewUser{Username: "ivy", Email: "ivy@example.com"}, auth.Meta{})
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	link, err := url.Parse(srv.LastMailTo(t, "ivy@example.com").Link("/invite?token="))
	if err != nil {
		t.Fatal(err)
	}

	b := srv.Client(t)
	r := b.PostJSON("/api/v1/invitations/accept", map[string]string{"token": link.Query().Get("token"), "password": testserver.Password})
	if r.Status != http.StatusOK {
		t.Fatalf("accept the invitation: %d %s", r.Status, r.Body)
	}
	r = b.PostJSON("/api/v1/account/mfa/totp", nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin setup: %d %s", r.Status, r.Body)
	}
	secret := testserver.DecodeSecret(t, r.JSON(t)["secret"].(string))
	if r := b.PostJSON("/api/v1/account/mfa/totp/confirm", map[string]string{"code": srv.Code(secret, 0)}); r.Status != http.StatusOK {
		t.Fatalf("confirm setup: %d %s", r.Status, r.Body)
	}
	signInWithCode(t, srv, b, "ivy", secret)

	tok, id := app.tokens(b, app.newRequest())
	c := claimsOf(t, id)
	if c.Email != "ivy@example.com" || c.EmailVerified == nil || !*c.EmailVerified {
		got := "absent"
		if c.EmailVerified != nil {
			got = fmt.Sprint(*c.EmailVerified)
		}
		t.Fatalf("ID token email %q, email_verified %s; oauth2-proxy needs true", c.Email, got)
	}
	status, info := userinfo(t, srv, tok.AccessToken)
	if status != http.StatusOK || info["email_verified"] != true {
		t.Errorf("userinfo: %d %v, want email_verified true", status, info)
	}
}
