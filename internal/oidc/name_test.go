package oidc_test

import (
	"net/http"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// TestNameClaimIsTheDisplayName: the name claim carries the name the user set on the
// security page, and the username while none is set; preferred_username stays the username.
func TestNameClaimIsTheDisplayName(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")

	r := b.PostJSON("/api/v1/account/profile", map[string]string{"display_name": "  Ada Lovelace "})
	if r.Status != http.StatusOK {
		t.Fatalf("set the display name: %d %s", r.Status, r.Body)
	}
	tok, id := app.tokens(b, app.newRequest())
	if c := claimsOf(t, id); c.Name != "Ada Lovelace" || c.PreferredUsername != "ada" {
		t.Errorf("ID token name %q, preferred_username %q; want Ada Lovelace and ada", c.Name, c.PreferredUsername)
	}
	if status, info := userinfo(t, srv, tok.AccessToken); status != http.StatusOK || info["name"] != "Ada Lovelace" {
		t.Errorf("userinfo: %d %v", status, info)
	}

	if r := b.PostJSON("/api/v1/account/profile", map[string]string{"display_name": ""}); r.Status != http.StatusOK {
		t.Fatalf("clear the display name: %d %s", r.Status, r.Body)
	}
	_, id = app.tokens(b, app.newRequest())
	if c := claimsOf(t, id); c.Name != "ada" {
		t.Errorf("ID token name %q after clearing, want the username", c.Name)
	}
}
