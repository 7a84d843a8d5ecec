package oidc_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// logBuffer collects a server's log lines for the test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// logger logs everything (debug included) to l, in the server's text format.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// rawQuery joins parameters given as already-encoded "name=value" pairs.
func rawQuery(pairs ...string) string { return strings.Join(pairs, "&") }

// authorizePairs are the encoded parameters of a good authorization request of app.
func authorizePairs(app *rp) []string {
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	return []string{"client_id=" + url.QueryEscape(app.client.Client.ID), "redirect_uri=" + url.QueryEscape(redirectURI),
		"response_type=code", "scope=openid", "state=st", "nonce=n", "code_challenge=" + challenge, "code_challenge_method=S256"}
}

// replacePair sets name to the encoded value in pairs, or appends it.
func replacePair(pairs []string, name, value string) []string {
	out := make([]string, 0, len(pairs)+1)
	done := false
	for _, p := range pairs {
		if strings.HasPrefix(p, name+"=") {
			if !done {
				out = append(out, name+"="+value)
				done = true
			}
			continue
		}
		out = append(out, p)
	}
	if !done {
		out = append(out, name+"="+value)
	}
	return out
}

// wantNoRedirect checks that resp is twofold's 400 page, not a way to the application.
func wantNoRedirect(t *testing.T, resp *testserver.Response) {
	t.Helper()
	if loc := resp.Header.Get("Location"); resp.Status != http.StatusBadRequest || loc != "" {
		t.Fatalf("got %d to %q, want a 400 page without redirect: %s", resp.Status, loc, truncate(string(resp.Body)))
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("content type %q, want twofold's HTML error page", resp.Header.Get("Content-Type"))
	}
}

// wantErrorRedirect checks that resp sends the browser back to the application with
// error and, when state is not empty, that state.
func wantErrorRedirect(t *testing.T, resp *testserver.Response, wantError, state string) {
	t.Helper()
	q := callbackQuery(t, resp)
	if q.Get("error") != wantError || q.Get("code") != "" || q.Get("state") != state {
		t.Fatalf("redirected with %v, want error=%s and state %q", q, wantError, state)
	}
}

// TestRepeatedParametersAreRefused: a parameter sent twice is ambiguous (RFC 6749, section
// 3.1: it must not be): twofold's own checks and the library could read different copies.
// Every endpoint refuses it with invalid_request; the authorization endpoint never sends
// the browser anywhere while the client or the redirect URI is in doubt.
func TestRepeatedParametersAreRefused(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	other := newRP(t, srv, "other-app", clientOpts{public: true})
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())
	idToken, _ := tok.Extra("id_token").(string)
	authz := authorizePairs(app)

	t.Run("authorize", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			pairs []string
			// wantError is the error of the redirect; empty means the 400 page.
			wantError, state string
		}{
			{"client_id twice", append(authz, "client_id="+url.QueryEscape(other.client.Client.ID)), "", ""},
			{"client_id twice, the same", append(authz, "client_id="+url.QueryEscape(app.client.Client.ID)), "", ""},
			{"client_id twice, with a malformed pair", append(authz, "client_id="+url.QueryEscape(other.client.Client.ID), "x=%zz"), "", ""},
			{"redirect_uri twice", append(authz, "redirect_uri="+url.QueryEscape("https://evil.example/cb")), "", ""},
			{"state twice", append(authz, "state=other"), "invalid_request", ""},
			{"scope twice", append(authz, "scope=profile"), "invalid_request", "st"},
			{"code_challenge twice", append(authz, "code_challenge=x"), "invalid_request", "st"},
			{"response_type twice", append(authz, "response_type=code"), "invalid_request", "st"},
			{"an empty copy", append(authz, "nonce="), "invalid_request", "st"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := b.Get(oidc.AuthorizePath + "?" + rawQuery(tc.pairs...))
				if tc.wantError == "" {
					wantNoRedirect(t, resp)
					return
				}
				wantErrorRedirect(t, resp, tc.wantError, tc.state)
			})
		}
	})

	t.Run("end_session", func(t *testing.T) {
		for _, q := range []string{
			"client_id=" + url.QueryEscape(app.client.Client.ID) + "&client_id=" + url.QueryEscape(other.client.Client.ID) +
				"&post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1:9/bye") + "&state=s",
			"id_token_hint=" + idToken + "&post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1:9/bye") +
				"&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/") + "&state=s",
			"id_token_hint=" + idToken + "&post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1:9/bye") + "&state=a&state=b",
		} {
			resp := b.Get(oidc.EndSessionPath + "?" + q)
			if loc := resp.Header.Get("Location"); resp.Status != http.StatusBadRequest || loc != "" {
				t.Errorf("%s: got %d to %q, want 400 without redirect", q, resp.Status, loc)
			}
			if !strings.Contains(string(resp.Body), "invalid_request") && !strings.Contains(string(resp.Body), "repeated") {
				t.Errorf("%s: body %q does not say what is wrong", q, truncate(string(resp.Body)))
			}
		}
		if s := b.Get("/api/v1/session"); s.Status != http.StatusOK {
			t.Errorf("session after refused logouts: %d, want it alive", s.Status)
		}
	})

	t.Run("token, introspection, revocation", func(t *testing.T) {
		id, secret := app.client.Client.ID, app.client.Secret
		for _, tc := range []struct {
			name, path, body string
			basic            bool
		}{
			{"token: grant_type twice", oidc.TokenPath, "grant_type=refresh_token&grant_type=authorization_code&refresh_token=x", true},
			{"token: client_id twice", oidc.TokenPath, "grant_type=refresh_token&refresh_token=x&client_id=" + url.QueryEscape(id) +
				"&client_id=" + url.QueryEscape(other.client.Client.ID) + "&client_secret=" + url.QueryEscape(secret), false},
			{"introspection: token twice", oidc.IntrospectionPath, "token=" + url.QueryEscape(tok.AccessToken) + "&token=x", true},
			{"revocation: token twice", oidc.RevocationPath, "token=" + url.QueryEscape(tok.AccessToken) + "&token=x", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if tc.basic {
					req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body := readAll(t, resp)
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error":"invalid_request"`) {
					t.Errorf("got %d %s, want 400 invalid_request", resp.StatusCode, truncate(body))
				}
			})
		}
	})

	t.Run("userinfo", func(t *testing.T) {
		resp := b.Get(oidc.UserinfoPath + "?access_token=" + url.QueryEscape(tok.AccessToken) + "&access_token=x")
		if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), "invalid_request") {
			t.Errorf("got %d %s, want 400 invalid_request", resp.Status, truncate(string(resp.Body)))
		}
		// RFC 6750, section 3: the challenge of every userinfo refusal names the realm.
		if wa := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, `Bearer realm="twofold", error="invalid_request"`) {
			t.Errorf("WWW-Authenticate %q, want Bearer realm=\"twofold\", error=\"invalid_request\"", wa)
		}
	})

	if status, _ := userinfo(t, srv, tok.AccessToken); status != http.StatusOK {
		t.Errorf("the access token stopped working after refused requests: %d", status)
	}
}

// TestMalformedTextIsInvalidRequest: parameters are text: a NUL or bytes that are not
// UTF-8 get invalid_request at the edge on every database (PostgreSQL refuses to store
// such text), never a server_error and never an ERROR in the log.
func TestMalformedTextIsInvalidRequest(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(*testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return testutil.PostgresURL(t) }},
	} {
		t.Run(db.name, func(t *testing.T) {
			logs := &logBuffer{}
			srv := testserver.New(t, testserver.Options{DatabaseURL: db.url(t), Log: logs.logger()})
			app := newRP(t, srv, "tenant-app", clientOpts{})
			b, _ := signedIn(t, srv, "ada")
			for _, bad := range []string{"a%00b", "%FF", "%C3%28"} {
				for _, tc := range []struct {
					param            string
					wantError, state string // empty wantError: the 400 page
				}{
					{"client_id", "", ""},
					{"redirect_uri", "", ""},
					{"state", "invalid_request", ""},
					{"nonce", "invalid_request", "st"},
					{"login_hint", "invalid_request", "st"},
					{"code_challenge", "invalid_request", "st"},
					{"acr_values", "invalid_request", "st"},
					{"prompt", "invalid_request", "st"},
				} {
					t.Run(tc.param+"="+bad, func(t *testing.T) {
						resp := b.Get(oidc.AuthorizePath + "?" + rawQuery(replacePair(authorizePairs(app), tc.param, bad)...))
						if tc.wantError == "" {
							wantNoRedirect(t, resp)
							return
						}
						wantErrorRedirect(t, resp, tc.wantError, tc.state)
					})
				}
				t.Run("token client_id="+bad, func(t *testing.T) {
					resp := b.Do(http.MethodPost, oidc.TokenPath, "application/x-www-form-urlencoded",
						[]byte("grant_type=refresh_token&refresh_token=x&client_secret=x&client_id="+bad))
					if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), `"error":"invalid_request"`) {
						t.Errorf("got %d %s, want 400 invalid_request", resp.Status, truncate(string(resp.Body)))
					}
				})
				// A malformed pair elsewhere in the request must not switch the checks off:
				// Go keeps the pairs it could parse, and the op package would serve them.
				t.Run("authorize with a malformed pair, state="+bad, func(t *testing.T) {
					wantNoRedirect(t, b.Get(oidc.AuthorizePath+"?"+rawQuery(append(replacePair(authorizePairs(app), "state", bad), "x=%zz")...)))
				})
				t.Run("token with a malformed pair, client_id="+bad, func(t *testing.T) {
					resp := b.Do(http.MethodPost, oidc.TokenPath, "application/x-www-form-urlencoded",
						[]byte("grant_type=refresh_token&refresh_token=x&client_secret=x&x=%zz&client_id="+bad))
					if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), `"error":"invalid_request"`) {
						t.Errorf("got %d %s, want 400 invalid_request", resp.Status, truncate(string(resp.Body)))
					}
				})
				t.Run("end_session with a malformed pair, client_id="+bad, func(t *testing.T) {
					if resp := b.Get(oidc.EndSessionPath + "?x=%zz&client_id=" + bad); resp.Status != http.StatusBadRequest {
						t.Errorf("got %d %s, want 400", resp.Status, truncate(string(resp.Body)))
					}
				})
				// HTTP Basic credentials are not form parameters; such a client is unknown.
				basicID, _ := url.QueryUnescape(bad)
				for _, ep := range []struct {
					path string
					form url.Values
				}{
					{oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}},
					{oidc.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}},
					{oidc.IntrospectionPath, url.Values{"token": {"x"}}},
					{oidc.RevocationPath, url.Values{"token": {"x"}}},
				} {
					t.Run("Basic client "+bad+" at "+ep.path, func(t *testing.T) {
						resp, m := mustSend(t, srv, ep.path, ep.form, basicID, "x")
						if resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_client" {
							t.Errorf("got %d %v, want 401 invalid_client", resp.StatusCode, m)
						}
					})
				}
				t.Run("callback id="+bad, func(t *testing.T) {
					if resp := b.Get(oidc.CallbackPath + "?id=" + bad); resp.Status != http.StatusBadRequest {
						t.Errorf("got %d %s, want 400", resp.Status, truncate(string(resp.Body)))
					}
				})
				t.Run("end_session client_id="+bad, func(t *testing.T) {
					resp := b.Get(oidc.EndSessionPath + "?client_id=" + bad)
					if resp.Status != http.StatusBadRequest {
						t.Errorf("got %d %s, want 400", resp.Status, truncate(string(resp.Body)))
					}
				})
			}
			if l := logs.String(); strings.Contains(l, "level=ERROR") {
				t.Errorf("bad input was logged as an error:\n%s", l)
			}
		})
	}
}

// TestLibraryLogsThroughOurLogger: the op package's log lines reach the server's logger,
// in its format, and a user who denies an application is no warning.
func TestLibraryLogsThroughOurLogger(t *testing.T) {
	logs := &logBuffer{}
	srv := testserver.New(t, testserver.Options{Log: logs.logger()})
	app := newRP(t, srv, "partner", clientOpts{thirdParty: true})
	b, _ := signedIn(t, srv, "ada")

	status, _ := postForm(t, srv, oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}},
		app.client.Client.ID, app.client.Secret)
	if status != http.StatusBadRequest {
		t.Fatalf("refresh with an unknown token: %d, want 400", status)
	}
	if l := logs.String(); !strings.Contains(l, `msg="request error"`) || !strings.Contains(l, "oidc_error.type=invalid_grant") {
		t.Fatalf("the library's refusal is not in the server's log:\n%s", l)
	}

	a := app.newRequest()
	if resp := app.authorize(b, a); resp.Status != http.StatusOK {
		t.Fatalf("got %d, want the consent page", resp.Status)
	}
	callback, _ := url.Parse(lastCallback(t, b, app, a))
	resp := b.Do(http.MethodPost, "/authorize/consent", "application/x-www-form-urlencoded",
		[]byte(url.Values{"id": {callback.Query().Get("id")}, "decision": {"deny"}}.Encode()))
	if q := callbackQuery(t, resp); q.Get("error") != "access_denied" {
		t.Fatalf("denied: %v, want access_denied", q)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "access_denied") && !strings.Contains(line, "level=INFO") && !strings.Contains(line, "level=DEBUG") {
			t.Errorf("a denial is logged above info: %s", line)
		}
	}
}
