package oidc_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestCodeFlowWithPKCE is the main journey: an application signs a user in with the code
// flow and PKCE, verifies the ID token against the JWKS, and learns that the login used a
// one-time code.
func TestCodeFlowWithPKCE(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	cur := srv.Clock.Now()

	a := app.newRequest()
	tok, id := app.tokens(b, a)
	c := claimsOf(t, id)
	u, err := srv.Store.GetUserByUsername(t.Context(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := srv.Store.ListUserSessions(t.Context(), u.ID, srv.Clock.Now())
	if err != nil || len(sess) != 1 {
		t.Fatalf("sessions of ada: %v %v", sess, err)
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"sub is the user id", c.Sub == u.ID},
		{"email", c.Email == "ada@example.com"},
		{"email_verified is present and false", c.EmailVerified != nil && !*c.EmailVerified},
		{"name and preferred_username", c.Name == "ada" && c.PreferredUsername == "ada"},
		{"auth_time is the code sign-in", c.AuthTime == cur.Unix()},
		{"amr has pwd, otp and mfa", contains(c.AMR, "pwd") && contains(c.AMR, "otp") && contains(c.AMR, "mfa")},
		{"acr says mfa", c.ACR == oidc.ACRMFA},
		{"sid is the session id", c.SID == sess[0].ID},
		{"nonce", c.Nonce == a.nonce},
		{"access token issued", tok.AccessToken != "" && tok.TokenType == "Bearer"},
		{"no refresh token without offline_access", tok.RefreshToken == ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("claims %+v, token type %q", c, tok.TokenType)
			}
		})
	}
	t.Run("id token is ES256", func(t *testing.T) {
		if alg := idTokenAlg(t, tok); alg != "ES256" {
			t.Errorf("alg %s, want ES256", alg)
		}
	})
	t.Run("userinfo", func(t *testing.T) {
		status, info := userinfo(t, srv, tok.AccessToken)
		if status != http.StatusOK || info["sub"] != u.ID || info["email"] != "ada@example.com" || info["preferred_username"] != "ada" {
			t.Errorf("userinfo: %d %v", status, info)
		}
	})
	t.Run("introspection", func(t *testing.T) {
		m := introspect(t, srv, app.client, tok.AccessToken)
		if m["active"] != true || m["sub"] != u.ID || m["client_id"] != app.client.Client.ID || m["scope"] != "openid profile email" ||
			m["acr"] != oidc.ACRMFA || fmt.Sprint(m["amr"]) != "[pwd otp mfa]" || m["username"] != "ada" {
			t.Errorf("introspection: %v", m)
		}
	})
}

func TestDiscoveryAnnouncesEveryEndpoint(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	var d map[string]any
	resp := srv.Client(t).Get(oidc.DiscoveryPath)
	if resp.Status != http.StatusOK {
		t.Fatalf("discovery: %d %s", resp.Status, resp.Body)
	}
	d = resp.JSON(t)
	for key, path := range map[string]string{
		"authorization_endpoint": oidc.AuthorizePath, "token_endpoint": oidc.TokenPath,
		"userinfo_endpoint": oidc.UserinfoPath, "jwks_uri": oidc.KeysPath, "revocation_endpoint": oidc.RevocationPath,
		"introspection_endpoint": oidc.IntrospectionPath, "end_session_endpoint": oidc.EndSessionPath,
	} {
		if d[key] != srv.URL+path {
			t.Errorf("%s = %v, want %s", key, d[key], srv.URL+path)
		}
	}
	for key, want := range map[string]string{
		"issuer": srv.URL, "code_challenge_methods_supported": "[S256]", "response_types_supported": "[code]",
		"grant_types_supported": "[authorization_code refresh_token]", "id_token_signing_alg_values_supported": "[ES256 RS256]",
	} {
		if got := fmt.Sprint(d[key]); got != want && !(key == "issuer" && d[key] == want) {
			t.Errorf("%s = %v, want %s", key, got, want)
		}
	}
	if _, ok := d["device_authorization_endpoint"]; ok {
		t.Error("discovery announces a device authorization endpoint that twofold does not serve")
	}
	keys := srv.Client(t).Get(oidc.KeysPath).JSON(t)["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["alg"] != "ES256" || keys[0].(map[string]any)["d"] != nil {
		t.Errorf("JWKS %v, want one public ES256 key", keys)
	}
}

func TestCodeWorksOnce(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	a := app.newRequest()
	code := app.code(b, a)
	tok, err := app.exchange(code, a)
	if err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err = app.exchange(code, a)
	if got := tokenError(t, err); got != "invalid_grant" {
		t.Errorf("second exchange: %s, want invalid_grant", got)
	}
	if m := introspect(t, srv, app.client, tok.AccessToken); m["active"] != false {
		t.Errorf("access token of a replayed code: %v, want inactive (RFC 6749 4.1.2)", m)
	}
	// The replay is audited with the address it came from, like every security event.
	events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Event == oidc.EventCodeReplayed {
			if e.IP != "127.0.0.1" || e.UserAgent == "" {
				t.Errorf("code replay audited with IP %q and user agent %q, want the client's", e.IP, e.UserAgent)
			}
			return
		}
	}
	t.Error("no audit event for the replayed code")
}

func TestCodeExpiresAfter60Seconds(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		ok   bool
	}{{59 * time.Second, true}, {61 * time.Second, false}} {
		t.Run(tc.wait.String(), func(t *testing.T) {
			srv := testserver.New(t, testserver.Options{})
			app := newRP(t, srv, "tenant-app", clientOpts{})
			b, _ := signedIn(t, srv, "ada")
			a := app.newRequest()
			code := app.code(b, a)
			srv.Clock.Advance(tc.wait)
			_, err := app.exchange(code, a)
			if tc.ok && err != nil {
				t.Fatalf("exchange after %s: %v", tc.wait, err)
			}
			if !tc.ok && tokenError(t, err) != "invalid_grant" {
				t.Fatalf("exchange after %s: %v, want invalid_grant", tc.wait, err)
			}
		})
	}
}

// TestWrongRedirectURIRefusedBeforeAnyRedirect: twofold never sends a browser (or a code)
// to a redirect URI that is not registered exactly.
func TestWrongRedirectURIRefusedBeforeAnyRedirect(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	for _, tc := range []struct{ name, clientID, redirect string }{
		{"unregistered host", app.client.Client.ID, "https://evil.example/callback"},
		{"longer path", app.client.Client.ID, redirectURI + "/x"},
		{"extra query", app.client.Client.ID, redirectURI + "?next=https://evil.example"},
		{"other port", app.client.Client.ID, "http://127.0.0.1:10/callback"},
		{"trailing slash", app.client.Client.ID, redirectURI + "/"},
		{"unknown client", "no-such-client", redirectURI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"client_id": {tc.clientID}, "redirect_uri": {tc.redirect}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
				"code_challenge_method": {"S256"}}
			resp := b.Get(oidc.AuthorizePath + "?" + q.Encode())
			if resp.Status != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("got %d Location %q, want 400 without redirect", resp.Status, resp.Header.Get("Location"))
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(resp.Body), "Invalid sign-in request") {
				t.Errorf("want twofold's error page, got %s: %s", resp.Header.Get("Content-Type"), resp.Body)
			}
		})
	}
}

func TestPKCE(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	public := newRP(t, srv, "spa", clientOpts{public: true})
	confidential := newRP(t, srv, "web", clientOpts{})
	b, _ := signedIn(t, srv, "ada")

	t.Run("public client without code_challenge is refused", func(t *testing.T) {
		a := public.newRequest()
		q := url.Values{"client_id": {public.client.Client.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
			"scope": {"openid"}, "state": {a.state}}
		got := callbackQuery(t, follow(t, b, oidc.AuthorizePath+"?"+q.Encode()))
		if got.Get("error") != "invalid_request" || got.Get("code") != "" || got.Get("state") != a.state {
			t.Errorf("got %v, want error=invalid_request with the state", got)
		}
	})
	t.Run("plain method is refused", func(t *testing.T) {
		a := public.newRequest()
		q := url.Values{"client_id": {public.client.Client.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
			"scope": {"openid"}, "state": {a.state}, "code_challenge": {a.verifier}, "code_challenge_method": {"plain"}}
		got := callbackQuery(t, follow(t, b, oidc.AuthorizePath+"?"+q.Encode()))
		if got.Get("error") != "invalid_request" || got.Get("code") != "" {
			t.Errorf("got %v, want error=invalid_request", got)
		}
	})
	t.Run("public client with S256 and no secret", func(t *testing.T) {
		if public.client.Secret != "" {
			t.Fatal("a public client got a secret")
		}
		_, id := public.tokens(b, public.newRequest())
		if id.Subject == "" {
			t.Error("no subject")
		}
	})
	t.Run("wrong code_verifier is refused", func(t *testing.T) {
		a := public.newRequest()
		code := public.code(b, a)
		a.verifier = oauth2.GenerateVerifier()
		if got := tokenError(t, mustFail(public.exchange(code, a))); got != "invalid_grant" {
			t.Errorf("got %s, want invalid_grant", got)
		}
	})
	t.Run("confidential client with S256", func(t *testing.T) {
		confidential.tokens(b, confidential.newRequest())
	})
	t.Run("confidential client with a wrong secret", func(t *testing.T) {
		a := confidential.newRequest()
		code := confidential.code(b, a)
		bad := *confidential
		bad.conf.ClientSecret = "not-the-secret"
		if got := tokenError(t, mustFail(bad.exchange(code, a))); got != "invalid_client" && got != "unauthorized_client" {
			t.Errorf("got %s, want invalid_client", got)
		}
	})
}

// TestCrossOriginApplications: a single-page application on another origin can call the
// token endpoint (no cookies involved), but never with credentials.
func TestCrossOriginApplications(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodOptions, oidc.TokenPath, "grant_type=authorization_code&code=x"},
		{http.MethodPost, oidc.TokenPath, "grant_type=authorization_code&code=x"},
		{http.MethodOptions, oidc.RevocationPath, ""},
		{http.MethodPost, oidc.RevocationPath, "token=x"},
		{http.MethodPost, oidc.RevocationPath, ""},
	} {
		method := tc.method
		t.Run(method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			req, _ := http.NewRequest(method, srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Origin", "https://spa.example")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusForbidden {
				t.Fatalf("cross-origin %s refused with 403", method)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://spa.example" && got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q", got)
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") == "true" {
				t.Error("credentials allowed cross-origin")
			}
		})
	}
}
