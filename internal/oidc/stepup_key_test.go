package oidc_test

import (
	"html"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestStepUpWithAKey runs the step-up end to end with a software authenticator: a user
// signed in with a code registers a key; an application asking acr_values=phr gets the
// page asking for it; the key answers through the JSON API from the signed-in session;
// the same authorization request then completes, and go-oidc verifies an ID token with
// acr phr and amr pwd otp mfa hwk user.
func TestStepUpWithAKey(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	key := srv.NewKey()
	if r, _ := b.RegisterKey(key, "YubiKey"); r.Status != http.StatusCreated {
		t.Fatalf("register a key: %d %s", r.Status, r.Body)
	}

	a := app.newRequest(oauth2.SetAuthURLParam("acr_values", oidc.ACRPhishingResistant))
	page := app.authorize(b, a)
	m := regexp.MustCompile(`data-webauthn="login" data-next="([^"]+)"`).FindSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("acr_values=phr after a code sign-in: %d %q, want the page asking for the key", page.Status, page.Header.Get("Location"))
	}
	answer, err := key.Get(b.BeginKey("/api/v1/login/webauthn"))
	if err != nil {
		t.Fatal(err)
	}
	if r := b.FinishKey("/api/v1/login/webauthn/finish", "", answer); r.Status != http.StatusOK {
		t.Fatalf("confirm with the key: %d %s", r.Status, r.Body)
	}
	q := callbackQuery(t, follow(t, b, html.UnescapeString(string(m[1]))))
	if q.Get("state") != a.state || q.Get("code") == "" {
		t.Fatalf("after the key the request gives %v, want a code", q)
	}
	tok, err := app.exchange(q.Get("code"), a)
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, app.verify(tok, a))
	if c.ACR != oidc.ACRPhishingResistant || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa", "hwk", "user"}) {
		t.Errorf("acr %q amr %v, want phr and pwd otp mfa hwk user", c.ACR, c.AMR)
	}
}
