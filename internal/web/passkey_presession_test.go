package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/web"
)

// TestPasskeyPreSessionIsDrawnByTheServer: a pre-session value someone planted in the
// victim's browser (cookie injection on an HTTP deployment, script on the site's pages
// before the HttpOnly cookie exists) is never what the victim's passkey challenge is bound
// to, under the old cookie name or the one named after the challenge: an assertion taken
// from the victim's page does not sign the attacker in from another browser, and the
// victim's own browser still finishes. (The security review of 743eef3, whose begin call
// kept a value the browser sent.) On both databases.
func TestPasskeyPreSessionIsDrawnByTheServer(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return testutil.PostgresURL(t) }},
	} {
		t.Run(db.name, func(t *testing.T) {
			srv := testserver.New(t, testserver.Options{Throttle: manyAttempts, DatabaseURL: db.url(t)})
			_, key, _ := keyUser(t, srv, "alice")
			u := mustURL(t, srv.URL)
			planted := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 32 zero bytes: the attacker's choice

			victim := srv.Client(t)
			victim.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "twofold_passkey", Value: planted, Path: "/"}})
			opts := victim.BeginKey("/api/v1/login/passkey")
			named := "twofold_passkey_" + challengeName(t, opts)
			answer, _ := key.Get(opts) // the victim's assertion, taken by script on the page

			attacker := srv.Client(t)
			attacker.HTTP.Jar.SetCookies(u, []*http.Cookie{
				{Name: "twofold_passkey", Value: planted, Path: "/"}, {Name: named, Value: planted, Path: "/"}})
			r := attacker.FinishKey("/api/v1/login/passkey/finish", "", answer)
			if r.Status == http.StatusOK {
				t.Fatalf("another browser redeemed the victim's passkey answer with the planted value: %d %s", r.Status, r.Body)
			}
			wantProblem(t, r, http.StatusUnauthorized, "challenge_expired")
			wantStatus(t, victim.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusOK)
		})
	}
}

// TestPasskeyPreSessionCookie: each passkey begin call sets a cookie of its own, named
// after its challenge (HttpOnly, SameSite=Strict, Path=/, as long as the challenge lives;
// Secure with the __Host- prefix over HTTPS), so that two offers of one browser never
// replace each other's; the finish call clears the cookie of the challenge it used up,
// whether it signed in or refused, and leaves the other's.
func TestPasskeyPreSessionCookie(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, key, _ := keyUser(t, srv, "alice")
	check := func(t *testing.T, ck *http.Cookie) {
		t.Helper()
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" || ck.MaxAge != int(auth.PreSessionTTL/time.Second) {
			t.Fatalf("cookie %s: want HttpOnly, SameSite=Strict, Path=/, no Domain, Max-Age %v", ck, auth.PreSessionTTL)
		}
	}
	begin := func(t *testing.T, c *testserver.Client) ([]byte, string) {
		t.Helper()
		r := c.PostJSON("/api/v1/login/passkey", map[string]any{})
		wantStatus(t, r, http.StatusOK)
		name := "twofold_passkey_" + challengeName(t, r.Body)
		check(t, setCookie(t, r.Header, name))
		return r.Body, name
	}
	cleared := func(t *testing.T, r *testserver.Response, name string) {
		t.Helper()
		if ck := setCookie(t, r.Header, name); ck.MaxAge >= 0 || ck.Value != "" {
			t.Fatalf("cookie %s is not cleared", ck)
		}
	}

	c := srv.Client(t)
	first, firstName := begin(t, c)
	second, secondName := begin(t, c)
	if firstName == secondName {
		t.Fatalf("two challenges, one cookie %s", firstName)
	}
	lazy := *key
	lazy.UV = false
	answer, _ := lazy.Get(first)
	r := c.FinishKey("/api/v1/login/passkey/finish", "", answer)
	wantProblem(t, r, http.StatusUnauthorized, "user_verification_required")
	cleared(t, r, firstName)
	answer, _ = key.Get(second)
	r = c.FinishKey("/api/v1/login/passkey/finish", "", answer)
	wantStatus(t, r, http.StatusOK)
	cleared(t, r, secondName)

	t.Run("over_HTTPS_it_is_Secure_with_the___Host-_prefix", func(t *testing.T) {
		h, err := web.New(web.Options{Auth: srv.Auth, SecureCookies: true})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "https://id.example/api/v1/login/passkey", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("passkey begin over HTTPS: %d %s", w.Code, w.Body)
		}
		ck := setCookie(t, w.Header(), "__Host-twofold_passkey_"+challengeName(t, w.Body.Bytes()))
		check(t, ck)
		if !ck.Secure {
			t.Fatalf("cookie %s is not Secure", ck)
		}
	})
}

// challengeName is the name part of the pre-session cookie of the challenge in a begin
// call's options: the first 8 hex digits of the SHA-256 of its base64url form.
func challengeName(t *testing.T, opts []byte) string {
	t.Helper()
	var o struct {
		PublicKey struct{ Challenge string } `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("no challenge in %s", opts)
	}
	h := sha256.Sum256([]byte(o.PublicKey.Challenge))
	return hex.EncodeToString(h[:4])
}

// TestPasskeyPreSessionsOfOneBrowserAreBounded: each passkey begin adds a cookie for five
// minutes, and every load of the sign-in page begins one (autofill). A browser holds at
// most 8 of them: the begin that finds 8 ends them all, and only its own offer stays
// answerable; below 8 every offer stays answerable.
func TestPasskeyPreSessionsOfOneBrowserAreBounded(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, key, _ := keyUser(t, srv, "alice")
	u := mustURL(t, srv.URL)
	held := func(c *testserver.Client) int {
		n := 0
		for _, ck := range c.HTTP.Jar.Cookies(u) {
			if strings.HasPrefix(ck.Name, "twofold_passkey_") {
				n++
			}
		}
		return n
	}
	c := srv.Client(t)
	var offers [][]byte
	for i := range 8 {
		offers = append(offers, c.BeginKey("/api/v1/login/passkey"))
		if n := held(c); n != i+1 {
			t.Fatalf("after %d begins the browser holds %d passkey cookies, want %d", i+1, n, i+1)
		}
	}
	ninth := c.BeginKey("/api/v1/login/passkey")
	if n := held(c); n != 1 {
		t.Fatalf("after the ninth begin the browser holds %d passkey cookies, want only the ninth's", n)
	}
	answer, _ := key.Get(offers[7])
	wantProblem(t, c.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusUnauthorized, "challenge_expired")
	answer, _ = key.Get(ninth)
	wantStatus(t, c.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusOK)

	// Below the bound, every offer of one browser stays answerable (two tabs, autofill and button).
	d := srv.Client(t)
	offers = offers[:0]
	for range 7 {
		offers = append(offers, d.BeginKey("/api/v1/login/passkey"))
	}
	answer, _ = key.Get(offers[0])
	wantStatus(t, d.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusOK)
}

// TestPasskeyCookieOutlivesAnUnavailableDatabase: a finish call the database could not take
// (here another transaction holds SQLite's write lock longer than a write waits, 10 s)
// answers 503 unavailable with Retry-After, spends nothing and keeps the challenge's cookie,
// so the same answer signs in once the database takes writes again.
func TestPasskeyCookieOutlivesAnUnavailableDatabase(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, key, _ := keyUser(t, srv, "alice")
	c := srv.Client(t)
	opts := c.BeginKey("/api/v1/login/passkey")
	named := "twofold_passkey_" + challengeName(t, opts)
	answer, _ := key.Get(opts)

	release := srv.HoldWrites(t)
	r := c.FinishKey("/api/v1/login/passkey/finish", "", answer)
	release()
	wantProblem(t, r, http.StatusServiceUnavailable, "unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 unavailable without Retry-After")
	}
	for _, line := range r.Header.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(line); err == nil && ck.Name == named {
			t.Fatalf("the unavailable database's answer cleared the challenge's cookie: %s", line)
		}
	}
	wantStatus(t, c.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusOK)
}
