package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

var offline = clientOpts{scopes: []string{gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess}}

// refresh uses a refresh token as an application would.
func (r *rp) refresh(refreshToken string) (*oauth2.Token, error) {
	return r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
}

// TestRefreshTokenRotation: each refresh gives a new refresh token; presenting an old one
// again is refused and revokes the whole family, so the thief and the client both lose.
func TestRefreshTokenRotation(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	first, id := app.tokens(b, app.newRequest())
	if first.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}

	second, err := app.refresh(first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh gave refresh token %q, want a new one", second.RefreshToken)
	}
	if c := claimsOf(t, app.verify(second, nil)); c.Sub != id.Subject || !contains(c.AMR, "otp") || c.ACR != oidc.ACRMFA || c.SID == "" {
		t.Errorf("refreshed ID token claims %+v, want the sign-in's", c)
	}

	_, err = app.refresh(first.RefreshToken)
	if got := tokenError(t, err); got != "invalid_grant" {
		t.Fatalf("old refresh token: %s, want invalid_grant", got)
	}
	_, err = app.refresh(second.RefreshToken)
	if got := tokenError(t, err); got != "invalid_grant" {
		t.Fatalf("new refresh token after the old one came back: %s, want invalid_grant", got)
	}
	if m := introspect(t, srv, app.client, second.AccessToken); m["active"] != false {
		t.Errorf("access token of the revoked family: %v, want inactive", m)
	}
}

// A password change, signing out the other sessions and a new authenticator end the
// application tokens obtained through the user's other sessions, access and refresh
// tokens alike; those obtained through the session that acted stay.
func TestTokensEndWithTheUsersOtherSessions(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(srv *testserver.Server, b *testserver.Client, secret []byte) *testserver.Response
		want int
	}{
		{"password change", func(_ *testserver.Server, b *testserver.Client, _ []byte) *testserver.Response {
			return b.PostJSON("/api/v1/account/password", map[string]string{"current_password": testserver.Password,
				"new_password": "an entirely different passphrase 42"})
		}, http.StatusNoContent},
		{"sign out other sessions", func(_ *testserver.Server, b *testserver.Client, _ []byte) *testserver.Response {
			return b.PostJSON("/api/v1/account/sessions/sign-out-others", nil)
		}, http.StatusOK},
		{"authenticator replaced", func(srv *testserver.Server, b *testserver.Client, secret []byte) *testserver.Response {
			srv.NextStep()
			r := b.PostJSON("/api/v1/account/mfa/totp", map[string]string{"code": srv.Code(secret, 0)})
			if r.Status != http.StatusCreated {
				return r
			}
			next := testserver.DecodeSecret(t, r.JSON(t)["secret"].(string))
			return b.PostJSON("/api/v1/account/mfa/totp/confirm", map[string]string{"code": srv.Code(next, 0)})
		}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.New(t, testserver.Options{})
			app := newRP(t, srv, "tenant-app", offline)
			elsewhere, secret := signedIn(t, srv, "ada")
			old, _ := app.tokens(elsewhere, app.newRequest())
			b := srv.Client(t)
			signInWithCode(t, srv, b, "ada", secret)
			here, _ := app.tokens(b, app.newRequest())
			if r := tc.do(srv, b, secret); r.Status != tc.want {
				t.Fatalf("%s: %d %s", tc.name, r.Status, r.Body)
			}
			if got := tokenError(t, mustFail(app.refresh(old.RefreshToken))); got != "invalid_grant" {
				t.Errorf("refresh of another session's token after %s: %s, want invalid_grant", tc.name, got)
			}
			if status, _ := userinfo(t, srv, old.AccessToken); status == http.StatusOK {
				t.Errorf("userinfo with another session's access token after %s: %d, want refused", tc.name, status)
			}
			if status, _ := userinfo(t, srv, here.AccessToken); status != http.StatusOK {
				t.Errorf("userinfo with this session's access token after %s: %d, want 200", tc.name, status)
			}
			if _, err := app.refresh(here.RefreshToken); err != nil {
				t.Errorf("refresh of this session's token after %s: %v", tc.name, err)
			}
		})
	}
}

func TestRefreshTokensEndWithMFAReset(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())
	u, err := srv.Store.GetUserByUsername(t.Context(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Support.ResetAtConsole(t.Context(), u, "lost phone, identity checked in person", "", auditMeta); err != nil {
		t.Fatalf("reset MFA: %v", err)
	}
	if got := tokenError(t, mustFail(app.refresh(tok.RefreshToken))); got != "invalid_grant" {
		t.Errorf("refresh after an MFA reset: %s, want invalid_grant", got)
	}
	if m := introspect(t, srv, app.client, tok.AccessToken); m["active"] != false {
		t.Errorf("access token after an MFA reset: %v, want inactive", m)
	}
}

func TestRevocationEndpoint(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	other := newRP(t, srv, "other-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())

	t.Run("another client cannot revoke or introspect it", func(t *testing.T) {
		status, _ := postForm(t, srv, oidc.RevocationPath, url.Values{"token": {tok.RefreshToken}}, other.client.Client.ID, other.client.Secret)
		if status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if _, err := app.refresh(tok.RefreshToken); err != nil {
			t.Fatalf("refresh after another client's revocation: %v", err)
		}
		if m := introspect(t, srv, other.client, tok.AccessToken); m["active"] != false {
			t.Errorf("another client's introspection: %v, want inactive", m)
		}
	})
	t.Run("access token", func(t *testing.T) {
		tok, _ := app.tokens(b, app.newRequest())
		status, _ := postForm(t, srv, oidc.RevocationPath, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}},
			app.client.Client.ID, app.client.Secret)
		if status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if m := introspect(t, srv, app.client, tok.AccessToken); m["active"] != false {
			t.Errorf("revoked access token: %v, want inactive", m)
		}
	})
	t.Run("refresh token revokes its family", func(t *testing.T) {
		tok, _ := app.tokens(b, app.newRequest())
		status, _ := postForm(t, srv, oidc.RevocationPath, url.Values{"token": {tok.RefreshToken}}, app.client.Client.ID, app.client.Secret)
		if status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if got := tokenError(t, mustFail(app.refresh(tok.RefreshToken))); got != "invalid_grant" {
			t.Errorf("revoked refresh token: %s, want invalid_grant", got)
		}
		if m := introspect(t, srv, app.client, tok.AccessToken); m["active"] != false {
			t.Errorf("access token of a revoked refresh token: %v, want inactive", m)
		}
	})
}

func TestSigningKeys(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	es := newRP(t, srv, "es-app", clientOpts{})
	rs := newRP(t, srv, "rs-app", clientOpts{alg: oidc.AlgRS256})
	b, _ := signedIn(t, srv, "ada")

	rsTok, _ := rs.tokens(b, rs.newRequest())
	if alg := idTokenAlg(t, rsTok); alg != "RS256" {
		t.Errorf("RS256 client got %s", alg)
	}
	before, _ := es.tokens(b, es.newRequest())
	if alg := idTokenAlg(t, before); alg != "ES256" {
		t.Errorf("default client got %s", alg)
	}

	keep := time.Hour + oidc.KeyCacheTime // the shortest the ID token lifetime allows
	rotated, err := srv.OIDCAdmin.RotateKeys(t.Context(), keep, auditMeta)
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != 2 {
		t.Fatalf("rotated %d keys, want ES256 and RS256", len(rotated))
	}
	keys := srv.Client(t).Get(oidc.KeysPath).JSON(t)["keys"].([]any)
	if len(keys) != 4 {
		t.Errorf("JWKS after rotation has %d keys, want 4 (two new, two previous)", len(keys))
	}
	after, _ := es.tokens(b, es.newRequest())
	if kidOf(t, after) == kidOf(t, before) {
		t.Error("a new ID token is signed with the replaced key")
	}
	es.verify(before, nil) // the previous key still verifies what it signed

	srv.Clock.Advance(keep + time.Second)
	keys = srv.Client(t).Get(oidc.KeysPath).JSON(t)["keys"].([]any)
	if len(keys) != 2 {
		t.Errorf("JWKS after the previous keys expired has %d keys, want 2", len(keys))
	}
}

func TestEndSession(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())
	raw, _ := tok.Extra("id_token").(string)

	t.Run("without id_token_hint the user confirms", func(t *testing.T) {
		wantSentTo(t, b.Get(oidc.EndSessionPath), oidc.LogoutConfirmPath)
	})
	t.Run("with id_token_hint the session ends", func(t *testing.T) {
		q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"xyz"}}
		resp := b.Get(oidc.EndSessionPath + "?" + q.Encode())
		if loc := resp.Header.Get("Location"); resp.Status != http.StatusFound || loc != "http://127.0.0.1:9/bye?state=xyz" {
			t.Fatalf("got %d to %q", resp.Status, loc)
		}
		if s := b.Get("/api/v1/session"); s.Status != http.StatusUnauthorized {
			t.Errorf("session after logout: %d, want 401", s.Status)
		}
		if status, _ := userinfo(t, srv, tok.AccessToken); status == http.StatusOK {
			t.Error("access token of the ended session still works")
		}
	})
	t.Run("unregistered post_logout_redirect_uri is refused", func(t *testing.T) {
		q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {"https://evil.example/"}}
		resp := b.Get(oidc.EndSessionPath + "?" + q.Encode())
		if resp.Status != http.StatusBadRequest || strings.Contains(resp.Header.Get("Location"), "evil") {
			t.Errorf("got %d to %q, want 400", resp.Status, resp.Header.Get("Location"))
		}
	})
}

// TestCodeWorksOnceAcrossInstances: two instances on one PostgreSQL database; a code
// issued by one is exchanged at the other, and nowhere a second time.
func TestCodeWorksOnceAcrossInstances(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	clock := testserver.NewClock()
	issuer := "http://twofold.test"
	a := testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock, PublicURL: issuer})
	bsrv := testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock, PublicURL: issuer})
	rc, err := a.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: "app", RedirectURIs: []string{redirectURI}, FirstParty: true},
		auditMeta)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := signedIn(t, a, "ada")
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {rc.Client.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	code := callbackQuery(t, follow(t, b, oidc.AuthorizePath+"?"+q.Encode())).Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	if status, m := postForm(t, bsrv, oidc.TokenPath, form, rc.Client.ID, rc.Secret); status != http.StatusOK || m["id_token"] == nil {
		t.Fatalf("exchange at the other instance: %d %v", status, m)
	}
	for _, s := range []*testserver.Server{a, bsrv} {
		if status, m := postForm(t, s, oidc.TokenPath, form, rc.Client.ID, rc.Secret); status != http.StatusBadRequest || m["error"] != "invalid_grant" {
			t.Errorf("second exchange: %d %v, want 400 invalid_grant", status, m)
		}
	}
}

// An administrator's "end every session" (user sign-out) and disabling the account are kill
// switches: the user's application tokens end with the sessions.
func TestRefreshTokensEndWithAdminSignOutAndDisable(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(srv *testserver.Server, u *store.User) error
	}{
		{"sign-out", func(srv *testserver.Server, u *store.User) error {
			_, err := srv.Auth.End(context.Background(), auth.SignOutEverywhere, u.ID, "", auditMeta)
			return err
		}},
		{"disable", func(srv *testserver.Server, u *store.User) error {
			return srv.Auth.SetDisabled(context.Background(), u, true, auditMeta)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.New(t, testserver.Options{})
			app := newRP(t, srv, "tenant-app", offline)
			b, _ := signedIn(t, srv, "ada")
			tok, _ := app.tokens(b, app.newRequest())
			u, err := srv.Store.GetUserByUsername(t.Context(), "ada")
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.do(srv, u); err != nil {
				t.Fatal(err)
			}
			if got := tokenError(t, mustFail(app.refresh(tok.RefreshToken))); got != "invalid_grant" {
				t.Errorf("refresh after %s: %s, want invalid_grant", tc.name, got)
			}
		})
	}
}

// TestRefreshFamilyHasAnAbsoluteLifetime: refreshing keeps a family going only until
// oidc.refresh_family_max_age (90 days by default) after the sign-in that started it;
// each refresh no longer extends it.
func TestRefreshFamilyHasAnAbsoluteLifetime(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	tok, id := app.tokens(b, app.newRequest())
	end := time.Unix(claimsOf(t, id).AuthTime, 0).Add(oidc.DefaultRefreshFamilyMaxAge)

	for range 3 { // day 29, 58 and 87: each refresh token lives 30 days
		srv.Clock.Advance(29 * 24 * time.Hour)
		next, err := app.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh at %s: %v", srv.Clock.Now(), err)
		}
		tok = next
	}
	m := introspect(t, srv, app.client, tok.RefreshToken)
	if exp, _ := m["exp"].(float64); m["active"] != true || int64(exp) > end.Unix() {
		t.Errorf("refresh token near the family's end: %v, want active and exp at most %d", m, end.Unix())
	}
	srv.Clock.Advance(end.Sub(srv.Clock.Now()) + time.Second)
	if got := tokenError(t, mustFail(app.refresh(tok.RefreshToken))); got != "invalid_grant" {
		t.Errorf("refresh after the family's maximum age: %s, want invalid_grant", got)
	}
}

// TestUsedRefreshTokenOfAnotherClientRevokesNothing: reuse detection ends a family only
// when the client it belongs to presents a used token; another client that got hold of
// one cannot end the application's sign-in with it.
func TestUsedRefreshTokenOfAnotherClientRevokesNothing(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	other := newRP(t, srv, "other-app", offline)
	b, _ := signedIn(t, srv, "ada")
	first, _ := app.tokens(b, app.newRequest())
	second, err := app.refresh(first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := tokenError(t, mustFail(other.refresh(first.RefreshToken))); got != "invalid_grant" {
		t.Errorf("another client's used refresh token: %s, want invalid_grant", got)
	}
	if _, err := app.refresh(second.RefreshToken); err != nil {
		t.Errorf("the family's current refresh token after another client presented a used one: %v", err)
	}
}
