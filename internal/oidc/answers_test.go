package oidc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// wantNoStore checks RFC 6749 section 5.1's headers on an answer with credentials.
func wantNoStore(t *testing.T, what string, h http.Header) {
	t.Helper()
	if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
		t.Errorf("%s: Cache-Control %q, Pragma %q, want no-store and no-cache", what, h.Get("Cache-Control"), h.Get("Pragma"))
	}
}

// mustSend is sendForm for the test goroutine.
func mustSend(t *testing.T, srv *testserver.Server, path string, form url.Values, user, pass string) (*http.Response, map[string]any) {
	t.Helper()
	resp, m, err := sendForm(srv, path, form, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	return resp, m
}

// TestTokenAnswersAreNotCached: every answer of the token and introspection endpoints,
// success or error, carries Cache-Control: no-store and Pragma: no-cache.
func TestTokenAnswersAreNotCached(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	id, secret := app.client.Client.ID, app.client.Secret
	a := app.newRequest()
	code := app.code(b, a)

	resp, m := mustSend(t, srv, oidc.TokenPath, codeForm(code, a.verifier), id, secret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %v", resp.StatusCode, m)
	}
	wantNoStore(t, "code exchange", resp.Header)
	access, _ := m["access_token"].(string)
	refresh, _ := m["refresh_token"].(string)

	for _, tc := range []struct {
		name, path string
		form       url.Values
		user, pass string
		status     int
	}{
		{"refresh", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, id, secret, 200},
		{"replayed code", oidc.TokenPath, codeForm(code, a.verifier), id, secret, 400},
		{"unknown grant type", oidc.TokenPath, url.Values{"grant_type": {"password"}}, id, secret, 400},
		{"wrong secret", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, id, "wrong", 401},
		{"introspection", oidc.IntrospectionPath, url.Values{"token": {access}}, id, secret, 200},
		{"introspection of an unknown token", oidc.IntrospectionPath, url.Values{"token": {"nope"}}, id, secret, 200},
		{"introspection with a wrong secret", oidc.IntrospectionPath, url.Values{"token": {access}}, id, "wrong", 401},
		{"introspection without client", oidc.IntrospectionPath, url.Values{"token": {access}}, "", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, m := mustSend(t, srv, tc.path, tc.form, tc.user, tc.pass)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %v, want %d", resp.StatusCode, m, tc.status)
			}
			wantNoStore(t, tc.name, resp.Header)
		})
	}
}

// TestInvalidClientAnswers: a client that fails to authenticate gets 401 invalid_client
// with WWW-Authenticate (RFC 6749 section 5.2), at every endpoint and for every grant as
// the same JSON, which says nothing about whether the client exists.
func TestInvalidClientAnswers(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	id := app.client.Client.ID
	spa := newRP(t, srv, "spa", clientOpts{public: true}).client.Client.ID
	var bodies []string
	for _, tc := range []struct {
		name, path string
		form       url.Values
		user, pass string
	}{
		{"token, Basic with a wrong secret", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, id, "wrong"},
		{"token, Basic with an unknown client", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "nobody", "wrong"},
		{"token, secret in the form", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {id}, "client_secret": {"wrong"}}, "", ""},
		// The client is authenticated before its code is looked at (RFC 6749, section 5.2):
		// a caller without the secret learns nothing about a code, live or not.
		{"code, Basic with a wrong secret", oidc.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, id, "wrong"},
		{"code, Basic with an unknown client", oidc.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, "nobody", "wrong"},
		{"code, secret in the form", oidc.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {id}, "client_secret": {"wrong"}}, "", ""},
		{"code, unknown client in the form", oidc.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"nobody"}}, "", ""},
		{"code, no client", oidc.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, "", ""},
		{"code, grant_type in the query", oidc.TokenPath + "?grant_type=authorization_code", url.Values{"code": {"x"}}, id, "wrong"},
		{"code, a client assertion", oidc.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {"x"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"x"}, "client_id": {id}}, "", ""},
		{"token, unknown client in the form", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {"nobody"}, "client_secret": {"x"}}, "", ""},
		{"token, no client", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "", ""},
		// A public client has no secret to send (RFC 6749, section 2.3).
		{"code, a public client with a secret", oidc.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {spa}, "client_secret": {"x"}}, "", ""},
		{"refresh, a public client with a secret, Basic", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, spa, "x"},
		{"revocation, a public client with a secret", oidc.RevocationPath, url.Values{"token": {"x"}, "client_id": {spa}, "client_secret": {"x"}}, "", ""},
		{"revocation, a public client with a secret, Basic", oidc.RevocationPath, url.Values{"token": {"x"}}, spa, "x"},
		{"refresh, a public client with Basic and a secret in the form", oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_secret": {"x"}}, spa, ""},
		{"revocation, a public client with Basic and a secret in the form", oidc.RevocationPath, url.Values{"token": {"x"}, "client_secret": {"x"}}, spa, ""},
		{"revocation without client", oidc.RevocationPath, url.Values{"token": {"x"}}, "", ""},
		{"revocation, wrong secret", oidc.RevocationPath, url.Values{"token": {"x"}}, id, "wrong"},
		{"revocation, unknown client", oidc.RevocationPath, url.Values{"token": {"x"}}, "nobody", "wrong"},
		{"revocation, secret in the form", oidc.RevocationPath, url.Values{"token": {"x"}, "client_id": {id}, "client_secret": {"wrong"}}, "", ""},
		{"revocation, unknown client in the form", oidc.RevocationPath, url.Values{"token": {"x"}, "client_id": {"nobody"}}, "", ""},
		{"revocation, a confidential client without its secret", oidc.RevocationPath, url.Values{"token": {"x"}, "client_id": {id}}, "", ""},
		{"introspection, wrong secret", oidc.IntrospectionPath, url.Values{"token": {"x"}}, id, "wrong"},
		{"introspection, unknown client", oidc.IntrospectionPath, url.Values{"token": {"x"}}, "nobody", "wrong"},
		{"introspection, no client", oidc.IntrospectionPath, url.Values{"token": {"x"}}, "", ""},
		{"introspection, secret in the form", oidc.IntrospectionPath, url.Values{"token": {"x"}, "client_id": {id}, "client_secret": {"wrong"}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, m := mustSend(t, srv, tc.path, tc.form, tc.user, tc.pass)
			if resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_client" {
				t.Fatalf("got %d %v, want 401 invalid_client", resp.StatusCode, m)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q, want JSON", resp.Header.Get("Content-Type"))
			}
			wa := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(wa, "Basic realm=") {
				t.Errorf("WWW-Authenticate %q, want Basic realm=…", wa)
			}
			body, _ := json.Marshal(m)
			bodies = append(bodies, tc.name+": "+string(body))
		})
	}
	for i := 1; i < len(bodies); i++ {
		if _, b, _ := strings.Cut(bodies[i], ": "); !strings.HasSuffix(bodies[0], ": "+b) {
			t.Errorf("answers differ between a wrong secret, an unknown client and none:\n%s\n%s", bodies[0], bodies[i])
		}
	}
}

// TestIntrospectionOfRefreshTokens: RFC 7662 covers refresh tokens too; token_type_hint is
// honoured but not needed, and a used, revoked or other client's token is inactive.
func TestIntrospectionOfRefreshTokens(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	other := newRP(t, srv, "other-app", offline)
	b, _ := signedIn(t, srv, "ada")
	tok, id := app.tokens(b, app.newRequest())
	ask := func(c *oidc.RegisteredClient, token, hint string) map[string]any {
		t.Helper()
		form := url.Values{"token": {token}}
		if hint != "" {
			form.Set("token_type_hint", hint)
		}
		resp, m := mustSend(t, srv, oidc.IntrospectionPath, form, c.Client.ID, c.Secret)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("introspection: %d %v", resp.StatusCode, m)
		}
		return m
	}
	for _, hint := range []string{"", "refresh_token", "access_token"} {
		m := ask(app.client, tok.RefreshToken, hint)
		if m["active"] != true || m["sub"] != id.Subject || m["client_id"] != app.client.Client.ID ||
			m["scope"] != "openid email offline_access" || m["exp"] == nil || m["acr"] != oidc.ACRMFA {
			t.Errorf("refresh token with hint %q: %v", hint, m)
		}
	}
	if m := ask(app.client, tok.AccessToken, "refresh_token"); m["active"] != true || m["token_type"] != "Bearer" {
		t.Errorf("access token with the hint refresh_token: %v, want active", m)
	}
	if m := ask(other.client, tok.RefreshToken, ""); len(m) != 1 || m["active"] != false {
		t.Errorf("another client's refresh token: %v, want only active=false", m)
	}
	next, err := app.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if m := ask(app.client, tok.RefreshToken, "refresh_token"); len(m) != 1 || m["active"] != false {
		t.Errorf("used refresh token: %v, want only active=false", m)
	}
	if m := ask(app.client, next.RefreshToken, ""); m["active"] != true {
		t.Errorf("the family's current refresh token: %v, want active", m)
	}
	if status, _ := postForm(t, srv, oidc.RevocationPath, url.Values{"token": {next.RefreshToken}}, app.client.Client.ID, app.client.Secret); status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	if m := ask(app.client, next.RefreshToken, "refresh_token"); len(m) != 1 || m["active"] != false {
		t.Errorf("revoked refresh token: %v, want only active=false", m)
	}
	if m := ask(app.client, "nope", "refresh_token"); len(m) != 1 || m["active"] != false {
		t.Errorf("unknown token: %v, want only active=false", m)
	}
	t.Run("expired", func(t *testing.T) {
		tok, _ := app.tokens(b, app.newRequest())
		srv.Clock.Advance(31 * 24 * time.Hour)
		if m := ask(app.client, tok.RefreshToken, ""); m["active"] != false {
			t.Errorf("expired refresh token: %v, want inactive", m)
		}
		if m := ask(app.client, tok.AccessToken, ""); m["active"] != false {
			t.Errorf("expired access token: %v, want inactive", m)
		}
	})
}

// bearerGet calls the userinfo endpoint with the Authorization header auth (none when "").
func bearerGet(t *testing.T, srv *testserver.Server, auth string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+oidc.UserinfoPath, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestUserinfoRefusals: the userinfo endpoint answers a request without a usable access
// token with 401 and WWW-Authenticate as RFC 6750 section 3 says: without a token, the bare
// challenge and no body; with an unusable one, error="invalid_token", also in JSON.
func TestUserinfoRefusals(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	revoked, _ := app.tokens(b, app.newRequest())
	if status, _ := postForm(t, srv, oidc.RevocationPath, url.Values{"token": {revoked.AccessToken}}, app.client.Client.ID, app.client.Secret); status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	expired, _ := app.tokens(b, app.newRequest())
	live, _ := app.tokens(b, app.newRequest())

	check := func(t *testing.T, auth string, wantError bool) {
		t.Helper()
		resp, body := bearerGet(t, srv, auth)
		wa := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %d %q, want 401", resp.StatusCode, body)
		}
		if !strings.HasPrefix(wa, "Bearer ") || !strings.Contains(wa, `realm="`) {
			t.Errorf("WWW-Authenticate %q, want Bearer realm=…", wa)
		}
		if got := strings.Contains(wa, `error="invalid_token"`); got != wantError {
			t.Errorf("WWW-Authenticate %q: error=\"invalid_token\" present %v, want %v", wa, got, wantError)
		}
		if !wantError {
			// RFC 6750, section 3.1: a request without authentication information gets
			// no error information; an OAuth error body would need an error code.
			if body != "" {
				t.Errorf("body %q, want none", body)
			}
			return
		}
		if !strings.Contains(resp.Header.Get("Content-Type"), "application/json") || !json.Valid([]byte(body)) {
			t.Errorf("body %s %q, want JSON", resp.Header.Get("Content-Type"), body)
		}
		if !strings.Contains(body, `"invalid_token"`) {
			t.Errorf("body %q, want error invalid_token", body)
		}
	}
	t.Run("no token", func(t *testing.T) { check(t, "", false) })
	t.Run("another scheme", func(t *testing.T) { check(t, "Basic YTpi", false) })
	t.Run("forged token", func(t *testing.T) { check(t, "Bearer forged", true) })
	t.Run("revoked token", func(t *testing.T) { check(t, "Bearer "+revoked.AccessToken, true) })
	t.Run("live token", func(t *testing.T) {
		if resp, body := bearerGet(t, srv, "Bearer "+live.AccessToken); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"sub"`) {
			t.Errorf("live token: %d %q", resp.StatusCode, body)
		}
	})
	// inQuery calls userinfo with the live token as the access_token parameter and the
	// Authorization header auth.
	inQuery := func(t *testing.T, auth string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+oidc.UserinfoPath+"?access_token="+url.QueryEscape(live.AccessToken), nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		t.Run("the token twice, in the header ("+scheme+") and the query", func(t *testing.T) {
			// RFC 6750, section 2: a client uses one method per request; section 3.1: else
			// 400. The scheme is case-insensitive (RFC 9110, section 11.1).
			resp, body := inQuery(t, scheme+" "+live.AccessToken)
			wa := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"invalid_request"`) ||
				!strings.HasPrefix(wa, `Bearer realm="`) || !strings.Contains(wa, `error="invalid_request"`) {
				t.Errorf("got %d %q, WWW-Authenticate %q; want 400 invalid_request", resp.StatusCode, body, wa)
			}
		})
	}
	t.Run("a Basic header and the token in the query", func(t *testing.T) {
		// Basic carries no access token: the token was sent once, in the query, and is served.
		if resp, body := inQuery(t, "Basic YTpi"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"sub"`) {
			t.Errorf("got %d %q, want 200 with the claims", resp.StatusCode, body)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		srv.Clock.Advance(oidc.DefaultAccessTokenLifetime + time.Second)
		check(t, "Bearer "+expired.AccessToken, true)
	})
}

// TestIntrospectionHidesInternalErrors: when the database fails, introspection answers a
// generic server_error, never the error's text.
func TestIntrospectionHidesInternalErrors(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())
	if err := srv.DB.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, user, pass string }{
		{"client authentication fails", app.client.Client.ID, app.client.Secret},
		{"no client", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, oidc.IntrospectionPath, strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			rec := httptest.NewRecorder()
			srv.OIDC.ServeHTTP(rec, req) // the provider itself, without the web server's 503
			body := rec.Body.String()
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatalf("answer %d is not JSON: %q", rec.Code, body)
			}
			if rec.Code >= 500 && (m["error"] != "server_error" || len(m) > 2) {
				t.Errorf("got %d %q, want a generic server_error", rec.Code, body)
			}
			for _, leak := range []string{"sql", "database", "closed", "Parent", "ErrorType"} {
				if strings.Contains(body, leak) {
					t.Errorf("answer %q reveals %q", body, leak)
				}
			}
			wantNoStore(t, tc.name, rec.Header())
		})
	}
}

// TestPublicClientNamesItself: a public client has no secret to prove (RFC 6749, section
// 2.3); it names itself with client_id in the body or with HTTP Basic and an empty
// password ("id:"), and either way refreshes and revokes its tokens.
func TestPublicClientNamesItself(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	spa := newRP(t, srv, "spa", clientOpts{public: true, scopes: offline.scopes})
	b, _ := signedIn(t, srv, "ada")
	id := spa.client.Client.ID
	for _, tc := range []struct {
		name  string
		basic bool
	}{
		{"client_id_in_the_body", false},
		{"HTTP_Basic_with_an_empty_password", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			send := func(path string, form url.Values) (*http.Response, map[string]any) {
				t.Helper()
				if tc.basic {
					return mustSend(t, srv, path, form, id, "")
				}
				form.Set("client_id", id)
				return mustSend(t, srv, path, form, "", "")
			}
			refresh := func(token string) url.Values {
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
			}
			tok, _ := spa.tokens(b, spa.newRequest())
			resp, m := send(oidc.TokenPath, refresh(tok.RefreshToken))
			next, _ := m["refresh_token"].(string)
			if resp.StatusCode != http.StatusOK || next == "" {
				t.Fatalf("refresh: %d %v, want 200 with a refresh token", resp.StatusCode, m)
			}
			if resp, m := send(oidc.RevocationPath, url.Values{"token": {next}}); resp.StatusCode != http.StatusOK {
				t.Fatalf("revocation: %d %v, want 200", resp.StatusCode, m)
			}
			// The revocation took effect: 200 alone also answers an unknown token.
			if resp, m := send(oidc.TokenPath, refresh(next)); resp.StatusCode != http.StatusBadRequest || m["error"] != "invalid_grant" {
				t.Errorf("refresh with the revoked token: %d %v, want 400 invalid_grant", resp.StatusCode, m)
			}
		})
	}
}
