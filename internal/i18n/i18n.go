package i18n

import (
	"html/template"
	"strings"

	"golang.org/x/text/language"
)

// Default is the language used when nothing else decides, and the one every message is
// written in first.
const Default = "en"

// Language is a language the catalog is complete in.
type Language struct {
	Tag  string // BCP 47, as in <html lang>
	Name string // the language's name in itself, for the switcher
}

// Languages lists the supported languages, the default first.
var Languages = []Language{{"en", "English"}, {"de", "Deutsch"}, {"fr", "Français"}}

// Supported reports whether tag is one of Languages, exactly.
func Supported(tag string) bool {
	for _, l := range Languages {
		if l.Tag == tag {
			return true
		}
	}
	return false
}

// FuncMap returns the template functions that speak lang: t (a message), thtml (a
// message with markup), and lang (the language's tag).
func FuncMap(lang string) map[string]any {
	if !Supported(lang) {
		lang = Default
	}
	return map[string]any{
		"t":     func(key string, args ...any) string { return T(lang, key, args...) },
		"thtml": func(key string, args ...any) template.HTML { return HTML(lang, key, args...) },
		"lang":  func() string { return lang },
	}
}

// maxAcceptLanguage bounds the Accept-Language header read: a longer one is not a
// browser's, and is not parsed.
const maxAcceptLanguage = 1024

var matcher = language.NewMatcher(func() []language.Tag {
	tags := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		tags[i] = language.Make(l.Tag)
	}
	return tags
}())

// Match returns the supported language that suits an Accept-Language header best, and
// Default when none does or the header is malformed or too long.
func Match(accept string) string {
	if accept == "" || len(accept) > maxAcceptLanguage {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return Languages[i].Tag
}

// Choose returns the language of a request: the browser's remembered choice (the cookie),
// else the signed-in user's stored preference, else the best match for Accept-Language.
func Choose(cookie, preference, accept string) string {
	if cookie = strings.TrimSpace(cookie); Supported(cookie) {
		return cookie
	}
	if Supported(preference) {
		return preference
	}
	return Match(accept)
}
