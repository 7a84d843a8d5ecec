package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestBrowserReturnPathStaysOnOurHost signs in in headless Chromium from a sign-in link
// whose ?next= names another site through a backslash ("/./\host", "/x/../\host", and
// the same percent-encoded), then opens such a link once signed in. Another server plays
// the other site; the browser must end on twofold every time.
func TestBrowserReturnPathStaysOnOurHost(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<!doctype html><title>evil</title><h1>Another site</h1>"))
	}))
	t.Cleanup(evil.Close)
	evilURL, _ := url.Parse(evil.URL)
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA, RealClock: true})
	ours, _ := url.Parse(srv.URL)
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	b := browserStart(t, chromium, srv.URL)

	onOurs := func(what string) {
		t.Helper()
		u, err := url.Parse(b.location())
		if err != nil || u.Host != ours.Host {
			t.Fatalf("%s: the browser is on %s, want host %s\n%s", what, b.location(), ours.Host, b.pageText())
		}
	}
	tricks := []string{
		`/./\` + evilURL.Host + `/`,
		`/x/../\` + evilURL.Host + `/`,
		`/./%5C` + evilURL.Host + `/`,
	}
	// Signed in, the sign-in link goes straight on: a plain navigation.
	b.open("/login")
	b.typeInto("username", "ada")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/account/security")
	for _, next := range tricks {
		// The error is not checked: a page of the other site would load fine.
		_, _ = b.runResponse(chromedp.Navigate(srv.URL + "/login?next=" + url.QueryEscape(next)))
		onOurs("signed in, next=" + next)
		b.wantPath("/account/security")
	}
	b.click(`//button[normalize-space()="Sign out"]`, "/login")

	// Signed out, the return path comes back from the cookie after the password. (The
	// Content-Security-Policy's form-action 'self' already stops Chromium from following
	// a form's redirect to another site; the server must not rely on it.)
	for _, next := range tricks {
		b.do("open the sign-in link", chromedp.Navigate(srv.URL+"/login?next="+url.QueryEscape(next)))
		b.wantPath("/login")
		b.typeInto("username", "ada")
		b.typeInto("password", testserver.Password)
		b.click(`//button[normalize-space()="Sign in"]`, "/account/security")
		onOurs("after signing in with next=" + next)
		b.click(`//button[normalize-space()="Sign out"]`, "/login")
	}
	b.wantCleanConsole()
}
