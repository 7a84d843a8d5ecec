package web_test

import (
	"html"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
)

// keyScriptNames are the texts webauthn.js asks the page for: msg("name") and the
// values of its byCode table.
func keyScriptNames(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("static/webauthn.js")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var names []string
	byCode := regexp.MustCompile(`(?s)var byCode = \{(.*?)\};`).FindStringSubmatch(string(src))
	if byCode == nil {
		t.Fatal("webauthn.js has no byCode table")
	}
	for _, f := range []struct {
		re  *regexp.Regexp
		src string
	}{
		{regexp.MustCompile(`msg\("([a-z-]+)"\)`), string(src)},
		{regexp.MustCompile(`get\("([a-z-]+)"\)`), string(src)},
		{regexp.MustCompile(`[a-z_]+: "([a-z-]+)"`), byCode[1]},
	} {
		for _, m := range f.re.FindAllStringSubmatch(f.src, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				names = append(names, m[1])
			}
		}
	}
	for _, want := range []string{"failed", "cancelled", "invalid", "reauth", "too-many", "signed-out", "required", "unsupported",
		"expired", "origin", "not-registered", "uv", "cloned", "registered", "model"} {
		if !seen[want] {
			t.Errorf("webauthn.js no longer asks for the %q text", want)
		}
	}
	return names
}

// keyTexts returns the data-t-key-* attributes of the page's <body>, unescaped.
func keyTexts(t *testing.T, page string) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`<body[^>]*>`).FindString(page)
	if m == "" {
		t.Fatal("no <body> on the page")
	}
	out := map[string]string{}
	for _, a := range regexp.MustCompile(`data-t-key-([a-z-]+)="([^"]*)"`).FindAllStringSubmatch(m, -1) {
		out[a[1]] = html.UnescapeString(a[2])
	}
	return out
}

// TestKeyScriptMessagesTranslated: every text webauthn.js shows when a security key or
// passkey step fails (a refusal told by its problem's code, a closed prompt, no support)
// is on the page that runs it, in the page's language: German and French pages carry
// German and French texts, not the English ones.
func TestKeyScriptMessagesTranslated(t *testing.T) {
	srv := newServer(t)
	c := srv.Client(t)
	names := keyScriptNames(t)
	texts := map[string]map[string]string{}
	for _, lang := range []string{"en", "de", "fr"} {
		status, got, page := getIn(t, srv, c, "/login", lang)
		if status != 200 || got != lang {
			t.Fatalf("GET /login in %s: %d, lang %q", lang, status, got)
		}
		if !strings.Contains(page, `src="/static/webauthn.js"`) {
			t.Fatalf("the sign-in page in %s does not load webauthn.js", lang)
		}
		texts[lang] = keyTexts(t, page)
		for _, n := range names {
			if strings.TrimSpace(texts[lang][n]) == "" {
				t.Errorf("the page in %s has no data-t-key-%s text, which webauthn.js shows", lang, n)
			}
		}
	}
	for _, lang := range []string{"de", "fr"} {
		for _, n := range names {
			if texts[lang][n] != "" && texts[lang][n] == texts["en"][n] {
				t.Errorf("data-t-key-%s in %s is the English text %q", n, lang, texts[lang][n])
			}
		}
	}
	if got, want := texts["de"]["cancelled"], "Versuchen Sie es noch einmal."; !strings.Contains(got, want) {
		t.Errorf("German cancelled text %q, want it to contain %q", got, want)
	}
	if got, want := texts["fr"]["invalid"], "clé"; !strings.Contains(got, want) {
		t.Errorf("French invalid-key text %q, want it to contain %q", got, want)
	}
}

// TestKeyScriptHasNoWords: webauthn.js holds no sentence a person reads (they come from
// the catalog through the page) and never shows a problem's English detail.
func TestKeyScriptHasNoWords(t *testing.T) {
	src, err := os.ReadFile("static/webauthn.js")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`(?m)//.*$`).ReplaceAllString(string(src), "")
	code = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(code, "")
	for _, lit := range regexp.MustCompile(`"[^"\n]*"|'[^'\n]*'`).FindAllString(code, -1) {
		if lit == `"use strict"` {
			continue
		}
		if regexp.MustCompile(`[A-Za-z]{2,} [A-Za-z]{2,}`).MatchString(lit) || regexp.MustCompile(`^.[A-Z][a-z]+[.!?].$`).MatchString(lit) {
			t.Errorf("webauthn.js has the literal %s: words a person reads belong in the catalog (a data-t-key-* attribute)", lit)
		}
	}
	if strings.Contains(code, ".detail") {
		t.Error("webauthn.js reads a problem's detail, which is English: choose the text by its code")
	}
}

// TestKeyScriptTellsEveryKeyRefusal: each code a refused key answer can carry has its own
// entry in webauthn.js's byCode table, so the page tells what happened and what to do,
// not one general text; and the codes a person can act on have a text of their own.
func TestKeyScriptTellsEveryKeyRefusal(t *testing.T) {
	src, err := os.ReadFile("static/webauthn.js")
	if err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile(`(?s)var byCode = \{(.*?)\};`).FindStringSubmatch(string(src))
	if table == nil {
		t.Fatal("webauthn.js has no byCode table")
	}
	byCode := map[string]string{}
	for _, m := range regexp.MustCompile(`([a-z_]+): "([a-z-]+)"`).FindAllStringSubmatch(table[1], -1) {
		byCode[m[1]] = m[2]
	}
	texts := map[string]string{}
	for _, code := range apperr.KeyRefusals {
		name, ok := byCode[code]
		if !ok {
			t.Errorf("webauthn.js has no text for the key refusal %s", code)
			continue
		}
		if code != apperr.CodeInvalidCredential {
			if other, seen := texts[name]; seen || name == byCode[apperr.CodeInvalidCredential] {
				t.Errorf("the key refusal %s shares the text %q with %s", code, name, other)
			}
		}
		texts[name] = code
	}
}
