package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// getIn fetches path with the Accept-Language header accept and returns the status and
// the page's language (its <html lang>).
func getIn(t *testing.T, srv *testserver.Server, c *testserver.Client, path, accept string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<html lang="([^"]*)">`).FindSubmatch(b)
	if m == nil {
		return resp.StatusCode, "", string(b)
	}
	return resp.StatusCode, string(m[1]), string(b)
}

func TestPageLanguageFromAcceptLanguage(t *testing.T) {
	srv := newServer(t)
	c := srv.Client(t)
	for _, tc := range []struct{ name, header, want, title string }{
		{"no header", "", "en", "Sign in"},
		{"Swiss German", "de-CH,de;q=0.9", "de", "Anmelden"},
		{"Canadian French", "fr-CA", "fr", "Connexion"},
		{"unknown language", "ja", "en", "Sign in"},
		{"hostile header", "de\"><script>;q=<>,,,", "en", "Sign in"},
		{"huge header", strings.Repeat("fr-FR;q=0.5,", 5000), "en", "Sign in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, lang, body := getIn(t, srv, c, "/login", tc.header)
			if status != http.StatusOK || lang != tc.want {
				t.Fatalf("GET /login with Accept-Language %.40q: %d, lang %q; want 200, %q", tc.header, status, lang, tc.want)
			}
			if !strings.Contains(body, "<h1>"+tc.title+"</h1>") {
				t.Errorf("the page in %s is not titled %q", lang, tc.title)
			}
		})
	}
}

func TestLanguageSwitcher(t *testing.T) {
	srv := newServer(t)
	c := srv.Client(t)
	_, _, body := getIn(t, srv, c, "/password/forgot", "de")
	for _, want := range []string{`action="/language"`, `<label for="lang-choice">Sprache</label>`, `name="back" value="/password/forgot"`,
		`<option value="de" lang="de" selected>Deutsch</option>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the switcher lacks %s", want)
		}
	}

	// The choice redirects back (post, redirect, get) and is remembered over the header.
	r := postForm(c, "/language", url.Values{"lang": {"fr"}, "back": {"/password/forgot"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/password/forgot" {
		t.Fatalf("POST /language: %d to %q, want 303 to /password/forgot", r.Status, r.Header.Get("Location"))
	}
	if _, lang, _ := getIn(t, srv, c, "/password/forgot", "de-CH,de;q=0.9"); lang != "fr" {
		t.Errorf("after choosing French, the page is in %q", lang)
	}

	t.Run("back to another site is refused", func(t *testing.T) {
		for _, back := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""} {
			r := postForm(c, "/language", url.Values{"lang": {"de"}, "back": {back}})
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
				t.Errorf("back %q: %d to %q, want 303 to /", back, r.Status, r.Header.Get("Location"))
			}
		}
	})
	t.Run("an unknown language is a 400", func(t *testing.T) {
		for _, lang := range []string{"xx", "", strings.Repeat("d", 5000), "de\x00"} {
			if r := postForm(c, "/language", url.Values{"lang": {lang}, "back": {"/"}}); r.Status != http.StatusBadRequest {
				t.Errorf("lang %.20q: %d, want 400", lang, r.Status)
			}
		}
	})
}

// TestLanguageIsTheUsersPreference: a signed-in user's choice is stored, so a browser that
// never chose (and the mails) speak it.
func TestLanguageIsTheUsersPreference(t *testing.T) {
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "ada")
	if r := postForm(c, "/language", url.Values{"lang": {"de"}, "back": {"/account/security"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("POST /language: %d", r.Status)
	}
	u, err := srv.Store.GetUserByUsername(t.Context(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	if u.Language != "de" {
		t.Fatalf("ada's language is %q, want de", u.Language)
	}
	// The same session without the language cookie: the preference decides over the
	// header.
	c.HTTP.Jar.SetCookies(mustURL(t, srv.URL), []*http.Cookie{{Name: "twofold_lang", Value: "", Path: "/", MaxAge: -1}})
	if status, lang, _ := getIn(t, srv, c, "/account/security", "fr"); status != http.StatusOK || lang != "de" {
		t.Errorf("without the cookie, the security page is %d in %q, want 200 in de", status, lang)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestMailsSpeakTheUsersLanguage: a mail to a user is in the language they chose; one to
// an address without an account (the support form's receipt) in the language of the page.
func TestMailsSpeakTheUsersLanguage(t *testing.T) {
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "ada")
	if r := postForm(c, "/language", url.Values{"lang": {"de"}, "back": {"/"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("POST /language: %d", r.Status)
	}
	next := "orbit lantern cactus violin"
	if r := postForm(c, "/account/password", url.Values{"current_password": {testserver.Password},
		"new_password": {next}, "confirm_password": {next}}); r.Status != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	if m := srv.LastMailTo(t, "ada@example.com"); m.Subject != "Ihr Passwort wurde geändert" || !strings.Contains(m.Text, "Hallo ada,") {
		t.Errorf("the password notice to a German-speaking user: %q\n%s", m.Subject, m.Text)
	}

	anon := srv.Client(t)
	anon.HTTP.Jar.SetCookies(mustURL(t, srv.URL), []*http.Cookie{{Name: "twofold_lang", Value: "fr", Path: "/"}})
	r := postForm(anon, "/support", url.Values{"full_name": {"Zoé"}, "email": {"zoe@example.com"}, "organisation": {"Acme"},
		"category": {"lost_device"}, "description": {"Téléphone perdu."}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("support form: %d %s", r.Status, r.Body)
	}
	if m := srv.LastMailTo(t, "zoe@example.com"); !strings.HasPrefix(m.Subject, "Votre demande d’assistance") || !strings.Contains(m.Text, "Bonjour,") {
		t.Errorf("the support receipt to a French page's sender: %q\n%s", m.Subject, m.Text)
	}
}

// TestSignInRemembersThePagesLanguage: a user who never chose a language gets the mails in
// the language of the pages they signed in on.
func TestSignInRemembersThePagesLanguage(t *testing.T) {
	srv := newServer(t)
	srv.CreateUser(t, "bo", "bo@example.com", "user")
	c := srv.Client(t)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"username": {"bo"}, "password": {testserver.Password}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "fr-BE,fr;q=0.9")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := srv.Store.GetUserByUsername(t.Context(), "bo")
	if err != nil {
		t.Fatal(err)
	}
	if u.Language != "fr" {
		t.Errorf("after a sign-in on French pages, bo's language is %q", u.Language)
	}
}
