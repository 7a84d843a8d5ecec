package i18n

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// The catalog: one JSON file per language under locales/, named by its tag. A message is a
// string, or an object of plural forms ("one", "other") for a message with a Count.
// Arguments are named, in text/template syntax: "Welcome, {{.Name}}".
//
//go:embed locales/*.json
var files embed.FS

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

type catalog struct {
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
	keys       map[string][]string // by language, sorted
}

var loaded = sync.OnceValues(func() (*catalog, error) {
	c := &catalog{bundle: goi18n.NewBundle(language.English), localizers: map[string]*goi18n.Localizer{},
		keys: map[string][]string{}}
	for _, l := range Languages {
		name := "locales/" + l.Tag + ".json"
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		f, err := c.bundle.ParseMessageFileBytes(b, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		for _, m := range f.Messages {
			c.keys[l.Tag] = append(c.keys[l.Tag], m.ID)
		}
		sort.Strings(c.keys[l.Tag])
		c.localizers[l.Tag] = goi18n.NewLocalizer(c.bundle, l.Tag, Default)
	}
	return c, nil
})

func mustCatalog() *catalog {
	c, err := loaded()
	if err != nil {
		// The catalog is embedded: a broken one fails every test, never a server.
		panic(err)
	}
	return c
}

// Keys returns the keys of lang's catalog, sorted.
func Keys(lang string) []string { return mustCatalog().keys[lang] }

// Has reports whether the catalog of lang has key.
func Has(lang, key string) bool {
	keys := Keys(lang)
	i := sort.SearchStrings(keys, key)
	return i < len(keys) && keys[i] == key
}

// T returns the message key in lang (Default when lang is not supported), filled in with
// args: pairs of a name and a value ("Name", "ada", "Count", 3). A "Count" argument
// chooses the plural form. A key missing from the catalog comes back as itself, so a slip
// shows on the page instead of breaking it; the catalog tests catch it first.
func T(lang, key string, args ...any) string {
	return localize(lang, key, args, nil)
}

// HTML is T for the messages whose text holds markup (their keys end in "_html"): the
// message is trusted, each string argument is escaped.
func HTML(lang, key string, args ...any) template.HTML {
	//nolint:gosec // the message comes from the embedded catalog; its arguments are escaped.
	return template.HTML(localize(lang, key, args, template.HTMLEscapeString))
}

func localize(lang, key string, args []any, escape func(string) string) string {
	c := mustCatalog()
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers[Default]
	}
	data := map[string]any{}
	var count any
	for i := 0; i+1 < len(args); i += 2 {
		name, ok := args[i].(string)
		if !ok {
			continue
		}
		v := args[i+1]
		if s, ok := v.(string); ok && escape != nil {
			v = escape(s)
		}
		if s, ok := v.(fmt.Stringer); ok && escape != nil {
			v = escape(s.String())
		}
		data[name] = v
		if name == "Count" {
			count = args[i+1]
		}
	}
	msg, err := l.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data, PluralCount: count})
	if err != nil && msg == "" {
		return key
	}
	return msg
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
