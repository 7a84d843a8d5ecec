package oidc_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// TestSignInPageNamesTheApplication: a browser sent to sign in by an application is told
// which one asked.
func TestSignInPageNamesTheApplication(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "Tenant App", clientOpts{})
	b := srv.Client(t)
	resp := app.authorize(b, app.newRequest())
	loc := resp.Header.Get("Location")
	if resp.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("got %d to %q, want the sign-in page", resp.Status, loc)
	}
	page := b.Get(loc)
	if page.Status != http.StatusOK || !strings.Contains(html.UnescapeString(string(page.Body)), "Sign in to continue to <strong>Tenant App</strong>") {
		t.Fatalf("the sign-in page at %s does not name the application:\n%s", loc, page.Body)
	}
	// A wrong password keeps the name on the page.
	wrong := b.Do(http.MethodPost, "/login", "application/x-www-form-urlencoded",
		[]byte(url.Values{"username": {"nobody"}, "password": {"not the password at all"}}.Encode()))
	if !strings.Contains(html.UnescapeString(string(wrong.Body)), "Sign in to continue to <strong>Tenant App</strong>") {
		t.Fatalf("after a wrong password the page does not name the application:\n%s", wrong.Body)
	}
	// Without an application, the plain page.
	if plain := srv.Client(t).Get("/login"); strings.Contains(string(plain.Body), "continue to") {
		t.Fatalf("the plain sign-in page names an application:\n%s", plain.Body)
	}
}

// TestConsentOffersAnotherAccount: "Not you?" on the consent page signs out and returns to
// the same authorization request.
func TestConsentOffersAnotherAccount(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "partner", clientOpts{thirdParty: true})
	b, _ := signedIn(t, srv, "ada")
	a := app.newRequest()
	resp := app.authorize(b, a)
	body := html.UnescapeString(string(resp.Body))
	if resp.Status != http.StatusOK || !strings.Contains(body, `action="/authorize/consent"`) {
		t.Fatalf("got %d, want the consent page", resp.Status)
	}
	if !strings.Contains(body, "Not you?") || !strings.Contains(body, `<form method="post" action="/authorize/reauth"`) ||
		!strings.Contains(body, "Use another account") {
		t.Fatalf("the consent page offers no other account:\n%s", resp.Body)
	}
	callback, _ := url.Parse(lastCallback(t, b, app, a))
	id := callback.Query().Get("id")
	out := b.Do(http.MethodPost, "/authorize/reauth", "application/x-www-form-urlencoded", []byte(url.Values{"id": {id}}.Encode()))
	want := "/login?next=" + url.QueryEscape(callback.RequestURI())
	if out.Status != http.StatusSeeOther || out.Header.Get("Location") != want {
		t.Fatalf("Not you? answered %d to %q, want %s", out.Status, out.Header.Get("Location"), want)
	}
	if r := b.Get("/api/v1/session"); r.Status == http.StatusOK {
		t.Fatalf("the browser is still signed in after Not you?: %s", r.Body)
	}
}
