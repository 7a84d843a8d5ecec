package i18n_test

import (
	"html/template"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/i18n"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct{ name, header, want string }{
		{"empty header", "", "en"},
		{"regional German", "de-CH,de;q=0.9", "de"},
		{"regional French first", "fr-CA,fr;q=0.9,en;q=0.5", "fr"},
		{"quality decides", "en;q=0.3,de;q=0.8", "de"},
		{"English", "en-GB", "en"},
		{"unknown language", "ja-JP,ja;q=0.9", "en"},
		{"wildcard", "*", "en"},
		{"malformed", "de;q=banana,,;;=", "en"},
		{"binary", "\x00\xff\xfe", "en"},
		{"huge", strings.Repeat("de-CH,", 10000), "en"},
		{"private tags before French", strings.Repeat("x-a,", 200) + "fr", "fr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := i18n.Match(tc.header); got != tc.want {
				t.Errorf("Match(%.40q) = %q, want %q", tc.header, got, tc.want)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	for _, tc := range []struct{ name, cookie, pref, accept, want string }{
		{"cookie beats header", "fr", "", "de", "fr"},
		{"cookie beats preference", "fr", "de", "en", "fr"},
		{"preference beats header", "", "de", "fr", "de"},
		{"header without choice", "", "", "de-AT", "de"},
		{"unsupported cookie is ignored", "xx", "", "fr", "fr"},
		{"hostile cookie is ignored", "<script>", "", "", "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := i18n.Choose(tc.cookie, tc.pref, tc.accept); got != tc.want {
				t.Errorf("Choose(%q, %q, %q) = %q, want %q", tc.cookie, tc.pref, tc.accept, got, tc.want)
			}
		})
	}
}

func TestT(t *testing.T) {
	if got := i18n.T("de", "login.title"); got != "Anmelden" {
		t.Errorf("de login.title = %q", got)
	}
	if got := i18n.T("xx", "login.title"); got != "Sign in" {
		t.Errorf("an unsupported language falls back to English: %q", got)
	}
	if got := i18n.T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key shows itself: %q", got)
	}
	if got := i18n.T("en", "nav.sign_out_user", "Username", "ada"); got != "Sign out ada" {
		t.Errorf("argument: %q", got)
	}
	if got := string(i18n.HTML("en", "login.asking_app_html", "App", "<b>")); !strings.Contains(got, "<strong>&lt;b&gt;</strong>") {
		t.Errorf("HTML escapes its arguments: %q", got)
	}
}

// TestPlural: an integer Count chooses the form by the language's rule; a missing
// argument shows as "<no value>", and HTML escapes every argument but template.HTML.
func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		lang  string
		count any
		want  string
	}{
		{"en", 1, "Too many failed attempts. Try again in 1 minute."},
		{"en", 0, "Too many failed attempts. Try again in 0 minutes."},
		{"en", int64(2), "Too many failed attempts. Try again in 2 minutes."},
		{"de", 1, "Zu viele Fehlversuche. Versuchen Sie es in 1 Minute erneut."},
		{"fr", 0, "Trop de tentatives échouées. Réessayez dans 0 minute."},
		{"fr", 1, "Trop de tentatives échouées. Réessayez dans 1 minute."},
		{"fr", 1000000, "Trop de tentatives échouées. Réessayez dans 1000000 minutes."},
		{"en", "1", "Too many failed attempts. Try again in 1 minutes."},
	} {
		if got := i18n.T(tc.lang, "err.throttled_minutes", "Count", tc.count); got != tc.want {
			t.Errorf("%s, Count %#v: %q, want %q", tc.lang, tc.count, got, tc.want)
		}
	}
	if got := i18n.T("en", "nav.sign_out_user"); got != "Sign out <no value>" {
		t.Errorf("a missing argument: %q", got)
	}
	if got := string(i18n.HTML("en", "login.asking_app_html", "App", 42)); !strings.Contains(got, "<strong>42</strong>") {
		t.Errorf("a number argument: %q", got)
	}
	type role string
	if got := string(i18n.HTML("en", "login.asking_app_html", "App", role("<b>"))); !strings.Contains(got, "<strong>&lt;b&gt;</strong>") {
		t.Errorf("a string-kinded argument is escaped: %q", got)
	}
	when := template.HTML(`<time datetime="2026-01-02T03:04:05Z">2 Jan 2026</time>`)
	if got := string(i18n.HTML("en", "login.asking_app_html", "App", when)); !strings.Contains(got, "<strong>"+string(when)+"</strong>") {
		t.Errorf("markup (template.HTML) is kept: %q", got)
	}
}
