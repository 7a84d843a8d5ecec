package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// wantSentTo fails unless resp redirects the browser to a twofold page starting with path,
// and makes sure no code went anywhere.
func wantSentTo(t *testing.T, resp *testserver.Response, path string) {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.Status/100 != 3 || !strings.HasPrefix(loc, path) {
		t.Fatalf("got %d to %q, want a redirect to %s", resp.Status, loc, path)
	}
	if strings.Contains(loc, "code=") {
		t.Fatalf("a code leaked in %q", loc)
	}
}

// TestNoCodeWithoutCompleteSignIn: a browser without a session, with a password-only
// session (code due) or in enrollment gets sent through the sign-in, never a code; once
// the sign-in is complete, the same request yields one.
func TestNoCodeWithoutCompleteSignIn(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})

	t.Run("no session goes to the login with a way back", func(t *testing.T) {
		a := app.newRequest()
		resp := app.authorize(srv.Client(t), a)
		wantSentTo(t, resp, "/login?next=")
		next, _ := url.Parse(resp.Header.Get("Location"))
		if !strings.HasPrefix(next.Query().Get("next"), oidc.CallbackPath+"?id=") {
			t.Errorf("next = %q, want the callback", next.Query().Get("next"))
		}
	})

	t.Run("password-only session goes to the code page", func(t *testing.T) {
		srv.CreateUser(t, "bob", "bob@example.com", "user")
		b := srv.Client(t)
		secret, _ := srv.Enroll(t, b, "bob")
		b.Login("bob", "mfa_required")
		a := app.newRequest()
		resp := app.authorize(b, a)
		wantSentTo(t, resp, "/login/code")
		callback := lastCallback(t, b, app, a)
		if again := follow(t, b, callback); again.Header.Get("Location") != "/login/code" {
			t.Fatalf("the callback with a password-only session: %d %q", again.Status, again.Header.Get("Location"))
		}
		srv.NextStep()
		if r := b.PostJSON("/api/v1/login/totp", map[string]string{"code": srv.Code(secret, 0)}); r.Status != http.StatusOK {
			t.Fatalf("code: %d %s", r.Status, r.Body)
		}
		q := callbackQuery(t, follow(t, b, callback))
		if q.Get("code") == "" || q.Get("state") != a.state {
			t.Fatalf("after the code: %v, want a code and the state", q)
		}
	})

	t.Run("enrollment_required session goes to the setup", func(t *testing.T) {
		srv.CreateUser(t, "cleo", "cleo@example.com", "user")
		b := srv.Client(t)
		b.Login("cleo", "enrollment_required")
		a := app.newRequest()
		wantSentTo(t, app.authorize(b, a), "/mfa/setup")
	})
}

// lastCallback returns the callback path of the request a, which b started.
func lastCallback(t *testing.T, b *testserver.Client, app *rp, a *authRequest) string {
	t.Helper()
	resp := b.Get(app.authorizePath(a))
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, oidc.CallbackPath) {
		t.Fatalf("authorize sent to %q, want the callback", loc)
	}
	return loc
}

func TestPromptLoginAndMaxAge(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, secret := signedIn(t, srv, "ada")

	t.Run("max_age not exceeded gives a code", func(t *testing.T) {
		srv.Clock.Advance(time.Minute)
		app.code(b, app.newRequest(oauth2.SetAuthURLParam("max_age", "3600")))
	})
	for _, tc := range []struct {
		name  string
		param oauth2.AuthCodeOption
	}{
		{"prompt=login asks to sign in again", oauth2.SetAuthURLParam("prompt", "login")},
		{"max_age exceeded asks to sign in again", oauth2.SetAuthURLParam("max_age", "30")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Clock.Advance(time.Minute)
			a := app.newRequest(tc.param)
			resp := app.authorize(b, a)
			if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "/authorize/reauth") {
				t.Fatalf("got %d %q, want the sign-in-again page", resp.Status, resp.Header.Get("Location"))
			}
			callback := lastCallback(t, b, app, a)
			id, _ := url.Parse(callback)
			r := b.Do(http.MethodPost, "/authorize/reauth", "application/x-www-form-urlencoded",
				[]byte(url.Values{"id": {id.Query().Get("id")}}.Encode()))
			wantSentTo(t, r, "/login?next=")
			if s := b.Get("/api/v1/session"); s.Status != http.StatusUnauthorized {
				t.Fatalf("the old session still works: %d", s.Status)
			}
			before := srv.Clock.Now()
			signInWithCode(t, srv, b, "ada", secret)
			q := callbackQuery(t, follow(t, b, callback))
			tok, err := app.exchange(q.Get("code"), a)
			if err != nil {
				t.Fatal(err)
			}
			if c := claimsOf(t, app.verify(tok, a)); c.AuthTime < before.Unix() {
				t.Errorf("auth_time %d is before the new sign-in at %d", c.AuthTime, before.Unix())
			}
		})
	}
}

// TestPasswordOnlySessionNeverReachesAnApplication: where the policy lets a user into
// twofold with a password alone, an application still gets no code until the user signs
// in with MFA: the browser is led to set up an authenticator (with or without acr_values),
// prompt=none gets interaction_required, and after the setup a sign-in with a code.
func TestPasswordOnlySessionNeverReachesAnApplication(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: func(string) bool { return false }})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	srv.CreateUser(t, "dan", "dan@example.com", "user")
	b := srv.Client(t)
	b.Login("dan", "authenticated")

	wantSentTo(t, app.authorize(b, app.newRequest()), "/mfa/setup")
	for _, acr := range []string{oidc.ACRMFA, oidc.ACRMultiFactorPAPE} {
		a := app.newRequest(oauth2.SetAuthURLParam("acr_values", acr))
		wantSentTo(t, app.authorize(b, a), "/mfa/setup")
	}
	none := app.newRequest(oauth2.SetAuthURLParam("prompt", "none"))
	if q := callbackQuery(t, app.authorize(b, none)); q.Get("error") != "interaction_required" || q.Get("code") != "" {
		t.Fatalf("prompt=none for a password-only session: %v, want interaction_required and no code", q)
	}

	a := app.newRequest()
	callback := lastCallback(t, b, app, a)
	r := b.PostJSON("/api/v1/account/mfa/totp", nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin setup: %d %s", r.Status, r.Body)
	}
	secret := testserver.DecodeSecret(t, r.JSON(t)["secret"].(string))
	if r := b.PostJSON("/api/v1/account/mfa/totp/confirm", map[string]string{"code": srv.Code(secret, 0)}); r.Status != http.StatusOK {
		t.Fatalf("confirm setup: %d %s", r.Status, r.Body)
	}
	// Enrolling is not an MFA sign-in (whoever knew the password could have bound the
	// authenticator): the application still gets nothing until a sign-in with a code.
	if r := follow(t, b, callback); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Sign in again") {
		t.Fatalf("the callback right after enrolling: %d %q, want the page asking to sign in again", r.Status, r.Header.Get("Location"))
	}
	if q := callbackQuery(t, app.authorize(b, app.newRequest(oauth2.SetAuthURLParam("prompt", "none")))); q.Get("code") != "" || q.Get("error") != "login_required" {
		t.Fatalf("prompt=none right after enrolling: %v, want login_required and no code", q)
	}
	signInWithCode(t, srv, b, "dan", secret)
	q := callbackQuery(t, follow(t, b, callback))
	tok, err := app.exchange(q.Get("code"), a)
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, app.verify(tok, a)); !contains(c.AMR, "otp") || !contains(c.AMR, "mfa") || c.ACR != oidc.ACRMFA {
		t.Fatalf("after enrolling and a code sign-in: amr %v acr %q, want otp, mfa and %s", c.AMR, c.ACR, oidc.ACRMFA)
	}
}

func TestPromptNoneWithoutSessionIsLoginRequired(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	a := app.newRequest(oauth2.SetAuthURLParam("prompt", "none"))
	q := callbackQuery(t, app.authorize(srv.Client(t), a))
	if q.Get("error") != "login_required" || q.Get("state") != a.state {
		t.Fatalf("got %v, want error=login_required with the state", q)
	}
}

// TestConsentOncePerUserAndClient: a third-party application is allowed once; first-party
// ones never ask (every other test).
func TestConsentOncePerUserAndClient(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "partner", clientOpts{thirdParty: true})
	b, _ := signedIn(t, srv, "ada")
	consent := func(a *authRequest, decision string) *testserver.Response {
		t.Helper()
		resp := app.authorize(b, a)
		if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "partner") || !strings.Contains(string(resp.Body), `action="/authorize/consent"`) {
			t.Fatalf("got %d %q, want the consent page", resp.Status, resp.Header.Get("Location"))
		}
		callback := lastCallback(t, b, app, a)
		id, _ := url.Parse(callback)
		return b.Do(http.MethodPost, "/authorize/consent", "application/x-www-form-urlencoded",
			[]byte(url.Values{"id": {id.Query().Get("id")}, "decision": {decision}}.Encode()))
	}

	a := app.newRequest()
	if q := callbackQuery(t, consent(a, "deny")); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("denied: %v, want error=access_denied", q)
	}
	a = app.newRequest()
	if q := callbackQuery(t, consent(a, "allow")); q.Get("code") == "" {
		t.Fatalf("allowed: %v, want a code", q)
	}
	app.code(b, app.newRequest()) // asked once: no page the second time

	a = app.newRequest(oauth2.SetAuthURLParam("scope", "openid profile email offline_access"))
	if q := callbackQuery(t, consent(a, "allow")); q.Get("code") == "" {
		t.Fatalf("new scope allowed: %v, want a code", q)
	}
}
