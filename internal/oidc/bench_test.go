package oidc_test

import (
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// BenchmarkCodeFlow measures one sign-in of an application for a user with a twofold
// session: authorize, issue the code, exchange it (client secret, PKCE), verify the ID token.
func BenchmarkCodeFlow(b *testing.B) {
	srv := testserver.New(b, testserver.Options{})
	app := newRP(b, srv, "bench", clientOpts{})
	browser, _ := signedIn(b, srv, "ada")
	for b.Loop() {
		app.tokens(browser, app.newRequest())
	}
}

// BenchmarkRefresh measures one refresh token rotation.
func BenchmarkRefresh(b *testing.B) {
	srv := testserver.New(b, testserver.Options{})
	app := newRP(b, srv, "bench", offline)
	browser, _ := signedIn(b, srv, "ada")
	tok, _ := app.tokens(browser, app.newRequest())
	rt := tok.RefreshToken
	for b.Loop() {
		next, err := app.refresh(rt)
		if err != nil {
			b.Fatal(err)
		}
		rt = next.RefreshToken
	}
}
