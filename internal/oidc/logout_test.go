package oidc_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

const postLogoutURI = "http://127.0.0.1:9/bye"

// TestBackChannelLogoutEndsTheSessionOfTheHint: an application's server calls end_session
// with the ID token and no browser cookie (oauth2-proxy's --backend-logout-url). The
// session the token names (sid) ends, with the grants obtained through it; an
// offline_access grant survives, as it does a plain sign-out.
func TestBackChannelLogoutEndsTheSessionOfTheHint(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	offlineApp := newRP(t, srv, "mail-app", offline)
	b, secret := signedIn(t, srv, "ada")
	ada2 := srv.Client(t)
	signInWithCode(t, srv, ada2, "ada", secret)
	bob, _ := signedIn(t, srv, "bob")
	tok, _ := app.tokens(b, app.newRequest())
	offlineTok, _ := offlineApp.tokens(b, offlineApp.newRequest())
	raw, _ := tok.Extra("id_token").(string)

	backend := srv.Client(t) // no cookie: the application's server
	q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"xyz"}}
	resp := backend.Get(oidc.EndSessionPath + "?" + q.Encode())
	if loc := resp.Header.Get("Location"); resp.Status != http.StatusFound || loc != postLogoutURI+"?state=xyz" {
		t.Fatalf("got %d to %q, want the post-logout URI with the state", resp.Status, loc)
	}
	if s := b.Get("/api/v1/session"); s.Status != http.StatusUnauthorized {
		t.Errorf("the browser's session after the back-channel logout: %d, want 401", s.Status)
	}
	if status, _ := userinfo(t, srv, tok.AccessToken); status == http.StatusOK {
		t.Error("the access token of the ended session still works")
	}
	if _, err := offlineApp.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: offlineTok.RefreshToken}).Token(); err != nil {
		t.Errorf("the offline_access grant ended with the session: %v", err)
	}

	t.Run("again: the session is gone, the answer the same", func(t *testing.T) {
		resp := backend.Get(oidc.EndSessionPath + "?" + q.Encode())
		if resp.Status != http.StatusFound {
			t.Errorf("got %d, want 302", resp.Status)
		}
	})
	if s := bob.Get("/api/v1/session"); s.Status != http.StatusOK {
		t.Errorf("another user's session after the logout: %d, want it alive", s.Status)
	}
	if s := ada2.Get("/api/v1/session"); s.Status != http.StatusOK {
		t.Errorf("the user's other session after the logout: %d, want it alive", s.Status)
	}
}

// TestLogoutWithoutHintReturnsToTheApplication: without id_token_hint the user confirms
// on twofold's page; then the browser goes to the client's registered
// post_logout_redirect_uri with state, never to an unregistered one.
func TestLogoutWithoutHintReturnsToTheApplication(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	q := url.Values{"client_id": {app.client.Client.ID}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"xyz"}}
	post := func(form url.Values) *testserver.Response {
		return b.Do(http.MethodPost, oidc.LogoutConfirmPath, "application/x-www-form-urlencoded", []byte(form.Encode()))
	}

	resp := b.Get(oidc.EndSessionPath + "?" + q.Encode())
	wantSentTo(t, resp, oidc.LogoutConfirmPath)
	page := b.Get(resp.Header.Get("Location"))
	body := string(page.Body)
	if page.Status != http.StatusOK || !strings.Contains(body, "tenant-app") || !strings.Contains(body, `action="`+oidc.LogoutConfirmPath+`"`) ||
		!strings.Contains(body, `value="xyz"`) {
		t.Fatalf("got %d, want the confirmation page naming the application: %s", page.Status, truncate(body))
	}

	t.Run("a tampered return is refused", func(t *testing.T) {
		bad := url.Values{"client_id": {app.client.Client.ID}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {"xyz"}}
		if resp := post(bad); resp.Status != http.StatusBadRequest || strings.Contains(resp.Header.Get("Location"), "evil") {
			t.Errorf("got %d to %q, want 400", resp.Status, resp.Header.Get("Location"))
		}
		if s := b.Get("/api/v1/session"); s.Status != http.StatusOK {
			t.Errorf("session after a refused logout: %d, want it alive", s.Status)
		}
	})

	resp = post(q)
	if loc := resp.Header.Get("Location"); resp.Status/100 != 3 || loc != postLogoutURI+"?state=xyz" {
		t.Fatalf("after confirming: %d to %q, want the post-logout URI with the state", resp.Status, loc)
	}
	if s := b.Get("/api/v1/session"); s.Status != http.StatusUnauthorized {
		t.Errorf("session after the confirmed logout: %d, want 401", s.Status)
	}

	t.Run("without a session the browser goes back at once", func(t *testing.T) {
		resp := b.Get(oidc.EndSessionPath + "?" + q.Encode())
		wantSentTo(t, resp, oidc.LogoutConfirmPath)
		if loc := b.Get(resp.Header.Get("Location")).Header.Get("Location"); loc != postLogoutURI+"?state=xyz" {
			t.Errorf("got to %q, want the post-logout URI with the state", loc)
		}
	})
	t.Run("without a client, twofold's own page", func(t *testing.T) {
		fresh := srv.Client(t)
		resp := fresh.Get(oidc.EndSessionPath)
		wantSentTo(t, resp, oidc.LogoutConfirmPath)
		if loc := fresh.Get(resp.Header.Get("Location")).Header.Get("Location"); loc != oidc.LoggedOutPath {
			t.Errorf("got to %q, want %s", loc, oidc.LoggedOutPath)
		}
	})
}

// TestRefusedLogoutIsAPageForBrowsers: a browser sent to end_session with a request
// twofold refuses sees twofold's error page with the reason, not a JSON document; a server
// calling it gets the OAuth error as before.
func TestRefusedLogoutIsAPageForBrowsers(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	for _, q := range []url.Values{
		{"id_token_hint": {"forged"}},
		{"client_id": {app.client.Client.ID}, "post_logout_redirect_uri": {"https://evil.example/"}},
		{"client_id": {"nope"}},
	} {
		get := func(accept string) *http.Response {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+oidc.EndSessionPath+"?"+q.Encode(), nil)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		resp := get("text/html,application/xhtml+xml,*/*;q=0.8")
		body := readAll(t, resp)
		resp.Body.Close()
		if resp.StatusCode/100 != 4 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "sign-out request") {
			t.Errorf("%v from a browser: %d %s %s, want twofold's error page", q, resp.StatusCode, resp.Header.Get("Content-Type"), truncate(body))
		}
		resp = get("")
		body = readAll(t, resp)
		resp.Body.Close()
		// 400: the endpoint authenticates no client, so has no challenge for a 401.
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error":"invalid_request"`) {
			t.Errorf("%v from a server: %d %s, want 400 invalid_request", q, resp.StatusCode, truncate(body))
		}
		wantNoStore(t, fmt.Sprint(q), resp.Header)
	}
}

// TestLogoutWithoutClientIgnoresTheURI: a post_logout_redirect_uri without a client (and
// without a hint) names no registration to check it against: the user signs out and lands
// on twofold's page.
func TestLogoutWithoutClientIgnoresTheURI(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	b, _ := signedIn(t, srv, "ada")
	resp := b.Get(oidc.EndSessionPath + "?" + url.Values{"post_logout_redirect_uri": {"https://evil.example/"}, "state": {"s"}}.Encode())
	if loc := resp.Header.Get("Location"); resp.Status != http.StatusFound || loc != oidc.LogoutConfirmPath {
		t.Fatalf("got %d to %q, want %s", resp.Status, loc, oidc.LogoutConfirmPath)
	}
	page := b.Get(oidc.LogoutConfirmPath)
	if page.Status != http.StatusOK || strings.Contains(string(page.Body), "evil") {
		t.Fatalf("confirmation page: %d %s", page.Status, truncate(string(page.Body)))
	}
	resp = b.Do(http.MethodPost, oidc.LogoutConfirmPath, "application/x-www-form-urlencoded", nil)
	if loc := resp.Header.Get("Location"); resp.Status/100 != 3 || loc != oidc.LoggedOutPath {
		t.Errorf("after confirming: %d to %q, want %s", resp.Status, loc, oidc.LoggedOutPath)
	}
}
