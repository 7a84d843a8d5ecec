package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/support"
	"github.com/twofold-id/twofold/internal/testserver"
)

// oneCodeMessage is the one answer to a wrong code and to a code used already: the page
// never tells them apart.
const oneCodeMessage = "That code didn't work. Each code works only once: if you just used it, wait for the next one."

func TestWaysOutOfTheCodePages(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	wantRedirect(t, postForm(c, "/logout", nil), "/login")
	wantRedirect(t, formLogin(c, "alice", testserver.Password), "/login/code")
	signOut := `<form method="post" action="/logout"`
	t.Run("code_page", func(t *testing.T) {
		wantPage(t, c.Get("/login/code"), http.StatusOK, `href="/login/recovery">Use your recovery code`,
			`href="/support">Contact support`, signOut, "Cancel and sign out")
	})
	t.Run("recovery_page", func(t *testing.T) {
		wantPage(t, c.Get("/login/recovery"), http.StatusOK, `href="/login/code"`,
			`href="/support">Contact support`, signOut, "Cancel and sign out")
	})
}

func TestWrongAndReusedCodeGetTheOneMessage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, secret, _ := enrolled(t, srv, "alice")
	wantRedirect(t, postForm(c, "/logout", nil), "/login")
	wantRedirect(t, formLogin(c, "alice", testserver.Password), "/login/code")
	wrong := postForm(c, "/login/code", url.Values{"code": {wrongCode(srv, secret)}})
	wantPage(t, wrong, http.StatusUnauthorized, oneCodeMessage)
	reused := postForm(c, "/login/code", url.Values{"code": {srv.Code(secret, -1)}}) // the last sign-in's code
	wantPage(t, reused, http.StatusUnauthorized, oneCodeMessage)
	errorOf := regexp.MustCompile(`<p class="error[^>]*>([^<]*)<`) // beside the code field or above the form
	if a, b := find(t, wrong, errorOf), find(t, reused, errorOf); a != b {
		t.Fatalf("a wrong code gets %q, a reused one %q", a, b)
	}
}

// savedPage follows a redirect to the "Successful!" page and returns it.
func savedPage(t *testing.T, c *testserver.Client, r *testserver.Response) *testserver.Response {
	t.Helper()
	wantRedirect(t, r, "/recovery-code")
	return c.Get(r.Header.Get("Location"))
}

func TestSuccessfulSaysWhy(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	t.Run("first_setup", func(t *testing.T) {
		srv.CreateUser(t, "first", "first@example.com", "user")
		c := srv.Client(t)
		wantRedirect(t, formLogin(c, "first", testserver.Password), "/mfa/setup")
		secret := testserver.DecodeSecret(t, find(t, c.Get("/mfa/setup"), secretOnPage))
		r := savedPage(t, c, postForm(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(secret, 0)}}))
		wantPage(t, r, http.StatusOK, "Successful!", "Your authenticator app is set up.")
	})
	t.Run("recovery_code_sign-in", func(t *testing.T) {
		c, _, rc := enrolled(t, srv, "lost")
		wantRedirect(t, postForm(c, "/logout", nil), "/login")
		wantRedirect(t, formLogin(c, "lost", testserver.Password), "/login/code")
		r := savedPage(t, c, postForm(c, "/login/recovery", url.Values{"code": {rc}}))
		wantPage(t, r, http.StatusOK, "Successful!", "Your old recovery code no longer works; here is your new one.")
	})
	t.Run("replaced_authenticator", func(t *testing.T) {
		c, _, _ := enrolled(t, srv, "replace")
		wantRedirect(t, postForm(c, "/mfa/setup/start", nil), "/mfa/setup")
		secret := testserver.DecodeSecret(t, find(t, c.Get("/mfa/setup"), secretOnPage))
		r := savedPage(t, c, postForm(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(secret, 0)}}))
		wantPage(t, r, http.StatusOK, "Successful!", "Your new authenticator app replaces the old one, which no longer works.")
	})
	t.Run("new_recovery_code", func(t *testing.T) {
		c, secret, _ := enrolled(t, srv, "renew")
		r := savedPage(t, c, postForm(c, "/account/recovery-code", url.Values{"code": {srv.Code(secret, 0)}}))
		wantPage(t, r, http.StatusOK, "Successful!", "Here is your new recovery code; the old one no longer works.")
	})
}

func TestSetupOffersTheAppLinkAndCopy(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.CreateUser(t, "alice", "alice@example.com", "user")
	c := srv.Client(t)
	wantRedirect(t, formLogin(c, "alice", testserver.Password), "/mfa/setup")
	r := c.Get("/mfa/setup")
	key := strings.ReplaceAll(find(t, r, secretOnPage), " ", "")
	link := find(t, r, regexp.MustCompile(`<a class="button" href="(otpauth://[^"]+)"`))
	u, err := url.Parse(strings.ReplaceAll(link, "&amp;", "&"))
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != key {
		t.Fatalf("app link %q does not hold the key %s", link, key)
	}
	wantPage(t, r, http.StatusOK, "Open in authenticator app", `data-copy="secret"`, `data-copy-status`)
	if strings.Contains(string(r.Body), "#ZgotmplZ") {
		t.Fatal("the template sanitizer dropped the link")
	}
}

func TestTimesCarryTheirInstant(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	r := c.Get("/account/security")
	m := regexp.MustCompile(`<time datetime="([^"]+)">([^<]+) UTC</time>`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the security page shows no <time> with a UTC text:\n%s", r.Body)
	}
	if _, err := time.Parse(time.RFC3339, string(m[1])); err != nil {
		t.Fatalf("datetime %q is not RFC 3339: %v", m[1], err)
	}
	contains(t, c.Get("/static/app.js"), "Intl.DateTimeFormat", "timeZoneName")
}

func TestSetupSaysTheAuthenticatorWasReset(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	srv.CreateUser(t, "bob", "bob@example.com", "user") // never reset: no notice
	alice, err := srv.Store.GetUserByLogin(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	resetAt := srv.Clock.Now()
	if _, err := srv.Support.ResetAtConsole(t.Context(), alice, "called back on the number on file", "", support.Meta{}); err != nil {
		t.Fatal(err)
	}
	srv.Clock.Advance(time.Hour)
	wantRedirect(t, formLogin(c, "alice", testserver.Password), "/mfa/setup")
	r := c.Get("/mfa/setup")
	wantPage(t, r, http.StatusOK, "Your sign-in protection was reset on",
		`<time datetime="`+resetAt.UTC().Format(time.RFC3339)+`">`, "set up your authenticator again")

	other := srv.Client(t)
	wantRedirect(t, formLogin(other, "bob", testserver.Password), "/mfa/setup")
	if page := string(other.Get("/mfa/setup").Body); strings.Contains(page, "protection was reset") {
		t.Fatal("a user never reset is told of a reset")
	}
	// Once set up again, the notice is gone.
	secret := testserver.DecodeSecret(t, find(t, r, secretOnPage))
	savedPage(t, c, postForm(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(secret, 0)}}))
	wantRedirect(t, postForm(c, "/recovery-code/ack", url.Values{"saved": {"yes"}}), "/account/security")
	if page := string(c.Get("/mfa/setup").Body); strings.Contains(page, "protection was reset") {
		t.Fatal("the notice stays after the authenticator was set up again")
	}
}

func TestSignInPageSaysWhySignedOut(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	// signedOutBrowser signs username in twice (browsers a and b) and returns both.
	twoBrowsers := func(t *testing.T, username string) (a, b *testserver.Client, secret []byte) {
		t.Helper()
		a, secret, _ = enrolled(t, srv, username)
		b = srv.Client(t)
		signIn(t, srv, b, username, secret)
		return a, b, secret
	}
	// wantTold fails unless b, signed out, is sent to the sign-in page and told why, once.
	wantTold := func(t *testing.T, b *testserver.Client, why string) {
		t.Helper()
		wantRedirect(t, b.Get("/account/security"), "/login")
		wantPage(t, b.Get("/login"), http.StatusOK, "You were signed out because "+why)
		if page := string(b.Get("/login").Body); strings.Contains(page, "You were signed out because") {
			t.Fatal("the reason is told again")
		}
	}

	t.Run("sign_out_other_sessions", func(t *testing.T) {
		a, b, _ := twoBrowsers(t, "others")
		wantRedirect(t, postForm(a, "/account/sessions/sign-out-others", nil), "/account/security")
		wantTold(t, b, "your other sessions were signed out from another device.")
		wantPage(t, a.Get("/account/security"), http.StatusOK, "Active since") // a stays
	})
	t.Run("mfa_reset", func(t *testing.T) {
		_, b, _ := twoBrowsers(t, "reset")
		u, err := srv.Store.GetUserByLogin(t.Context(), "reset")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Support.ResetAtConsole(t.Context(), u, "called back on the number on file", "", support.Meta{}); err != nil {
			t.Fatal(err)
		}
		wantTold(t, b, "support reset the sign-in protection of your account.")
	})
	t.Run("sign_out_one_device", func(t *testing.T) {
		desk, phone, phoneID := twoDevices(t, srv)
		wantStatus(t, desk.PostJSON("/api/v1/account/sessions/"+phoneID+"/sign-out", nil), http.StatusNoContent)
		wantTold(t, phone, "this device was signed out from another device.")
	})
	t.Run("half_signed-in_browser_keeps_its_session", func(t *testing.T) {
		a, _, _ := twoBrowsers(t, "half")
		wantRedirect(t, postForm(a, "/logout", nil), "/login")
		wantRedirect(t, formLogin(a, "half", testserver.Password), "/login/code")
		wantPage(t, a.Get("/login"), http.StatusOK, `action="/login"`)
		wantRedirect(t, a.Get("/account/security"), "/login/code")
	})
	t.Run("own_logout_says_only_signed_out", func(t *testing.T) {
		a, _, _ := twoBrowsers(t, "self")
		wantRedirect(t, postForm(a, "/logout", nil), "/login")
		if page := string(a.Get("/login").Body); strings.Contains(page, "You were signed out because") {
			t.Fatal("an own sign-out is told a reason")
		}
	})
}
