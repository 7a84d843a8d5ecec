package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestReviewCodeIssuedBeforeMFAResetIsRefused: a code handed out just before the user's
// MFA was reset (or every session ended) must not be exchanged afterwards; otherwise
// whoever held the old session gets fresh tokens (with offline_access, a 30-day refresh
// token) that survive the reset.
func TestReviewCodeIssuedBeforeMFAResetIsRefused(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	a := app.newRequest()
	code := app.code(b, a)
	u, err := srv.Store.GetUserByUsername(t.Context(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Support.ResetAtConsole(t.Context(), u, "lost phone, identity checked in person", "", auditMeta); err != nil {
		t.Fatalf("reset MFA: %v", err)
	}
	if got := tokenError(t, mustFail(app.exchange(code, a))); got != "invalid_grant" {
		t.Errorf("exchange of a code issued before the reset: %s, want invalid_grant", got)
	}
}

// TestReviewPublicLoopbackRedirectMatchedExactly: for a public (native) client the op
// package lets a loopback redirect_uri with another port (or host) pass its own check, and
// its later errors are then redirected there. twofold promises an exact match and no
// redirect at all to an unregistered URI.
func TestReviewPublicLoopbackRedirectMatchedExactly(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "native-app", clientOpts{public: true})
	b, _ := signedIn(t, srv, "ada")
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	for _, tc := range []struct{ name, redirect, extra string }{
		{"other port with an invalid prompt", "http://127.0.0.1:7777/callback", "&prompt=none+login"},
		{"localhost with the plain method", "http://localhost:9/callback", "&code_challenge_method=plain"},
		{"other port with the implicit flow", "http://127.0.0.1:7777/callback", "&response_type=token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"client_id": {app.client.Client.ID}, "redirect_uri": {tc.redirect}, "scope": {"openid"},
				"state": {"s"}, "code_challenge": {challenge}}
			path := oidc.AuthorizePath + "?" + q.Encode() + "&response_type=code&code_challenge_method=S256" + tc.extra
			resp := b.Get(path)
			if loc := resp.Header.Get("Location"); loc != "" || resp.Status != http.StatusBadRequest {
				t.Fatalf("got %d to %q, want 400 without redirect", resp.Status, loc)
			}
		})
	}
}

// TestReviewPostLogoutRedirectMatchedExactly: RP-initiated logout returns only to a
// post-logout redirect URI registered exactly, also for a public client's loopback URI.
func TestReviewPostLogoutRedirectMatchedExactly(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "native-app", clientOpts{public: true})
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())
	raw, _ := tok.Extra("id_token").(string)
	q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {"http://localhost:7777/bye"}}
	resp := b.Get(oidc.EndSessionPath + "?" + q.Encode())
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "7777") || resp.Status != http.StatusBadRequest {
		t.Errorf("got %d to %q, want 400 without redirect", resp.Status, loc)
	}
}

// TestReviewScriptSchemesAreNotRedirectURIs: a public client may use a private scheme,
// but not one a browser runs or renders as a page: the way back to the application is a
// link on a twofold page ("Continue"), which would run the script in twofold's origin.
func TestReviewScriptSchemesAreNotRedirectURIs(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	for _, uri := range []string{"javascript:alert(document.cookie)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox(1)", "file:///etc/passwd", "blob:https://evil.example/x"} {
		t.Run(uri, func(t *testing.T) {
			_, err := srv.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: "x" + randomValue(t), RedirectURIs: []string{uri}, Public: true},
				auditMeta)
			if err == nil {
				t.Fatalf("client registered with redirect URI %q", uri)
			}
		})
	}
}
