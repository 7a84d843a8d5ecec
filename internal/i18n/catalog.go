package i18n

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// The catalog: one JSON file per language under locales/, named by its tag. A message is a
// string, or an object of plural forms ("one", "other") for a message with a Count.
// Arguments are named, in text/template syntax: "Welcome, {{.Name}}" (the only action a
// message may hold).
//
//go:embed locales/*.json
var files embed.FS

// message is a message of one language: its text, and the text for a Count of one when the
// message has plural forms ("" when it has none).
type message struct {
	other, one string
}

// catalog holds every language's messages by key. The messages are plain strings, with
// the few pointers a map of strings has: the garbage collector walks them on every cycle.
type catalog map[string]map[string]message

var loaded = sync.OnceValues(func() (catalog, error) {
	c := catalog{}
	for _, l := range Languages {
		if oneRules[l.Tag] == nil {
			return nil, fmt.Errorf("language %s: no plural rule in oneRules", l.Tag)
		}
		name := "locales/" + l.Tag + ".json"
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		if c[l.Tag], err = parseMessages(b); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
	}
	return c, nil
})

// parseMessages reads a catalog file: an object of keys, each a string or an object of
// the plural forms "one" and "other". A message's arguments are {{.Name}} and nothing else.
func parseMessages(b []byte) (map[string]message, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	msgs := make(map[string]message, len(raw))
	for key, v := range raw {
		var m message
		if err := json.Unmarshal(v, &m.other); err != nil {
			var forms struct {
				One   *string `json:"one"`
				Other *string `json:"other"`
			}
			d := json.NewDecoder(bytes.NewReader(v))
			d.DisallowUnknownFields()
			if err := d.Decode(&forms); err != nil || forms.One == nil || forms.Other == nil {
				return nil, fmt.Errorf("%q: want a string or the forms \"one\" and \"other\"", key)
			}
			m = message{other: *forms.Other, one: *forms.One}
		}
		for _, text := range []string{m.other, m.one} {
			if err := checkArgs(text); err != nil {
				return nil, fmt.Errorf("%q: %w", key, err)
			}
		}
		msgs[key] = m
	}
	return msgs, nil
}

// checkArgs fails unless every action of text is an argument, {{.Name}}.
func checkArgs(text string) error {
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return nil
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			return fmt.Errorf("unclosed {{ in %q", text)
		}
		if _, ok := argName(text[i+2 : i+j]); !ok {
			return fmt.Errorf("%q: an argument is {{.Name}}", text[i:i+j+2])
		}
		text = text[i+j+2:]
	}
}

// argName returns Name of the action ".Name" (spaces around it allowed).
func argName(action string) (string, bool) {
	name, ok := strings.CutPrefix(strings.TrimSpace(action), ".")
	if !ok || name == "" {
		return "", false
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			return "", false
		}
	}
	return name, true
}

func mustCatalog() catalog {
	c, err := loaded()
	if err != nil {
		// The catalog is embedded: a broken one fails every test, never a server.
		panic(err)
	}
	return c
}

// Keys returns the keys of lang's catalog, sorted.
func Keys(lang string) []string {
	msgs := mustCatalog()[lang]
	keys := make([]string, 0, len(msgs))
	for k := range msgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Has reports whether the catalog of lang has key.
func Has(lang, key string) bool {
	_, ok := mustCatalog()[lang][key]
	return ok
}

// T returns the message key in lang (Default when lang is not supported, or when lang's
// catalog lacks the key), filled in with args: pairs of a name and a value ("Name", "ada",
// "Count", 3). An integer "Count" argument chooses the plural form. A key missing from the
// catalog comes back as itself, so a slip shows on the page instead of breaking it; the
// catalog tests catch it first. An argument the message names but args lack shows as
// "<no value>".
func T(lang, key string, args ...any) string {
	return localize(lang, key, args, nil)
}

// HTML is T for the messages whose text holds markup (their keys end in "_html"): the
// message is trusted, each argument is escaped unless it is template.HTML.
func HTML(lang, key string, args ...any) template.HTML {
	//nolint:gosec // the message comes from the embedded catalog; its arguments are escaped.
	return template.HTML(localize(lang, key, args, template.HTMLEscapeString))
}

func localize(lang, key string, args []any, escape func(string) string) string {
	c := mustCatalog()
	msgs, ok := c[lang]
	if !ok {
		lang, msgs = Default, c[Default]
	}
	m, ok := msgs[key]
	if !ok {
		if m, ok = c[Default][key]; !ok {
			return key
		}
		lang = Default
	}
	text := m.other
	if n, ok := countOf(args); ok && m.one != "" && takesOne(lang, n) {
		text = m.one
	}
	if !strings.Contains(text, "{{") {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], "}}")
		name, _ := argName(text[i+2 : i+j])
		b.WriteString(text[:i])
		b.WriteString(argument(args, name, escape))
		text = text[i+j+2:]
	}
	b.WriteString(text)
	return b.String()
}

// argument returns the value of the argument name in args as text (fmt's), escaped when
// escape is not nil, except markup the caller vouches for (template.HTML, such as the
// pages' dates).
func argument(args []any, name string, escape func(string) string) string {
	for i := 0; i+1 < len(args); i += 2 {
		if n, ok := args[i].(string); !ok || n != name {
			continue
		}
		var s string
		switch v := args[i+1].(type) {
		case nil:
			return "<no value>"
		case template.HTML:
			return string(v)
		case string:
			s = v
		default:
			s = fmt.Sprint(v)
		}
		if escape != nil {
			s = escape(s)
		}
		return s
	}
	return "<no value>"
}

// countOf returns the integer "Count" argument of args; ok is false when there is none.
func countOf(args []any) (n int64, ok bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if name, _ := args[i].(string); name != "Count" {
			continue
		}
		v := reflect.ValueOf(args[i+1])
		switch {
		case v.CanInt():
			return v.Int(), true
		case v.CanUint() && v.Uint() <= math.MaxInt64:
			return int64(v.Uint()), true
		}
		return 0, false
	}
	return 0, false
}

// takesOne reports whether a count of n takes the "one" form in lang (oneRules).
func takesOne(lang string, n int64) bool {
	if n < 0 {
		n = -n
	}
	return oneRules[lang](n)
}

// oneRules are the plural rules of the Unicode CLDR for integers, one for each of
// Languages: which counts take the "one" form; every other count takes "other" (French's
// "many", for millions, is not in the catalog). A catalog message has those two forms.
var oneRules = map[string]func(n int64) bool{
	"en": func(n int64) bool { return n == 1 },
	"de": func(n int64) bool { return n == 1 },
	"fr": func(n int64) bool { return n == 0 || n == 1 },
}
