package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestBadInputIsRefusedWithA4xx: malformed protocol requests get a 4xx answer with a
// reason, never a 500.
func TestBadInputIsRefusedWithA4xx(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	id := app.client.Client.ID
	authz := func(extra string) string {
		return oidc.AuthorizePath + "?client_id=" + id + "&redirect_uri=" + url.QueryEscape(redirectURI) +
			"&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256" + extra
	}
	for _, tc := range []struct {
		name, method, path, body string
		basic                    bool
		wantStatus               int
		contains                 string
	}{
		{"authorize without parameters", "GET", oidc.AuthorizePath, "", false, 400, "client_id"},
		{"authorize without client_id", "GET", oidc.AuthorizePath + "?response_type=code&scope=openid&redirect_uri=" + url.QueryEscape(redirectURI), "", false, 400, "client_id is missing"},
		{"authorize with a malformed max_age", "GET", authz("&max_age=soon"), "", false, 302, "error=invalid_request"},
		{"authorize with a negative max_age", "GET", authz("&max_age=-1"), "", false, 302, "error=invalid_request"},
		{"authorize with a huge max_age", "GET", authz("&max_age=12345678901234567890123"), "", false, 302, "error=invalid_request"},
		{"authorize with a malformed max_age and an unknown client", "GET", strings.Replace(authz("&max_age=-1"), "client_id="+id, "client_id=nobody", 1), "", false, 400, "max_age must be a whole number"},
		{"authorize with response_type twice", "GET", authz("&response_type=id_token"), "", false, 302, "error=invalid_request"},
		{"authorize without openid", "GET", strings.Replace(authz(""), "scope=openid", "scope=profile", 1), "", false, 302, "error=invalid_scope"},
		{"authorize with form_post", "GET", authz("&response_mode=form_post"), "", false, 302, "error=invalid_request"},
		{"authorize with a short code_challenge", "GET", strings.Replace(authz(""), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "abc", 1), "", false, 302, "error=invalid_request"},
		{"authorize with a padded code_challenge", "GET", strings.Replace(authz(""), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM%3D", 1), "", false, 302, "error=invalid_request"},
		{"authorize with prompt none and login", "GET", authz("&prompt=none+login"), "", false, 302, "error=invalid_request"},
		{"callback without id", "GET", oidc.CallbackPath, "", false, 400, "unknown or expired"},
		{"callback with an unknown id", "GET", oidc.CallbackPath + "?id=nope", "", false, 400, "unknown or expired"},
		{"consent without id", "POST", "/authorize/consent", "decision=allow", false, 400, "unknown or expired"},
		{"reauth with an unknown id", "POST", "/authorize/reauth", "id=nope", false, 400, "unknown or expired"},
		{"token without grant type", "POST", oidc.TokenPath, "", true, 400, "grant_type"},
		{"token with an unknown grant type", "POST", oidc.TokenPath, "grant_type=password", true, 400, "unsupported_grant_type"},
		{"token with an unknown code", "POST", oidc.TokenPath, "grant_type=authorization_code&code=nope&redirect_uri=" + url.QueryEscape(redirectURI), true, 400, "invalid_grant"},
		{"token with an unknown client", "POST", oidc.TokenPath, "grant_type=refresh_token&refresh_token=x&client_id=nope&client_secret=x", false, 401, "invalid_client"},
		{"token with a huge body", "POST", oidc.TokenPath, "grant_type=" + strings.Repeat("x", 70<<10), true, 413, "larger than 64 KiB"},
		{"refresh with an unknown token", "POST", oidc.TokenPath, "grant_type=refresh_token&refresh_token=nope", true, 400, "invalid_grant"},
		{"userinfo without token", "GET", oidc.UserinfoPath, "", false, 401, ""},
		{"userinfo with a forged token", "GET", oidc.UserinfoPath + "?access_token=forged", "", false, 401, "access token"},
		{"introspection without client authentication", "POST", oidc.IntrospectionPath, "token=x", false, 401, ""},
		{"revocation without client", "POST", oidc.RevocationPath, "token=x", false, 401, "invalid_client"},
		{"revocation without a token", "POST", oidc.RevocationPath, "", true, 400, "token parameter is required"},
		{"revocation with an empty token", "POST", oidc.RevocationPath, "token=", true, 400, "token parameter is required"},
		{"end session with a forged id_token_hint", "GET", oidc.EndSessionPath + "?id_token_hint=forged", "", false, 400, "id_token_hint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.basic {
				req.SetBasicAuth(id, app.client.Secret)
			}
			resp, err := b.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := readAll(t, resp)
			where := resp.Header.Get("Location") + " " + body
			if resp.StatusCode != tc.wantStatus || !strings.Contains(where, tc.contains) {
				t.Errorf("got %d %q, want %d with %q", resp.StatusCode, truncate(where), tc.wantStatus, tc.contains)
			}
			if strings.Contains(where, "ErrorType=") || strings.Contains(where, "Parent=") {
				t.Errorf("the answer shows the library's error structure: %q", truncate(where))
			}
		})
	}
}

// TestOversizedBodiesAre413: a form body over 64 KiB is 413 at every protocol endpoint,
// each in its format: at userinfo an OAuth error with a Bearer challenge (RFC 6750,
// section 3), at the authorization endpoint the error page.
func TestOversizedBodiesAre413(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	b := srv.Client(t)
	huge := []byte("x=" + strings.Repeat("x", 70<<10))
	const reason = "larger than 64 KiB"

	t.Run("userinfo", func(t *testing.T) {
		resp := b.Do(http.MethodPost, oidc.UserinfoPath, "application/x-www-form-urlencoded", huge)
		wa := resp.Header.Get("WWW-Authenticate")
		if resp.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(resp.Body), `"error":"invalid_request"`) ||
			!strings.Contains(string(resp.Body), reason) {
			t.Errorf("got %d %s, want 413 invalid_request saying %q", resp.Status, truncate(string(resp.Body)), reason)
		}
		if !strings.HasPrefix(wa, `Bearer realm="twofold", error="invalid_request"`) {
			t.Errorf("WWW-Authenticate %q, want Bearer realm=\"twofold\", error=\"invalid_request\"", wa)
		}
	})
	t.Run("authorize", func(t *testing.T) {
		resp := b.Do(http.MethodPost, oidc.AuthorizePath, "application/x-www-form-urlencoded", huge)
		if resp.Status != http.StatusRequestEntityTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(resp.Body), reason) {
			t.Errorf("got %d %s %s, want the 413 error page saying %q", resp.Status, resp.Header.Get("Content-Type"),
				truncate(string(resp.Body)), reason)
		}
	})
}
