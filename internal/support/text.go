package support

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/i18n"
)

// Text is a sentence of the message catalog with its arguments: a timeline entry keeps it
// beside its English text, so the case page says the entry in its reader's language (an
// agent reads a case in German that the console or another agent wrote in French). What
// people typed (names, notes, reasons) stays as they typed it.
//
// Stored entries outlive releases: a sentence whose arguments change gets a new key (an
// older instance then shows the entry as stored instead of a sentence missing a value).
type Text struct {
	Key  string `json:"k"`
	Args []Arg  `json:"a,omitempty"`
}

// Arg is a named argument of a Text: plain text, shown as it is (V), a count that chooses
// the plural form (N), catalog sentences said in the same language and joined with ", "
// (T: a verification method, the list of removed factors), or a time (At).
type Arg struct {
	Name string `json:"n"`
	V    string `json:"v,omitempty"`
	N    *int   `json:"c,omitempty"`
	T    []Text `json:"t,omitempty"`
	At   int64  `json:"d,omitempty"` // a time (Unix seconds), in the language's date layout
}

// say builds a Text from the catalog key and pairs of a name and a value: a string, an int
// (a count), a Text, a []Text or a time.Time.
func say(key string, pairs ...any) Text {
	t := Text{Key: key}
	for i := 0; i+1 < len(pairs); i += 2 {
		a := Arg{Name: pairs[i].(string)}
		switch v := pairs[i+1].(type) {
		case string:
			a.V = v
		case int:
			a.N = &v
		case Text:
			a.T = []Text{v}
		case []Text:
			a.T = v
		case time.Time:
			a.At = v.Unix()
		default:
			panic(fmt.Sprintf("support.say: argument %s of type %T", a.Name, v))
		}
		t.Args = append(t.Args, a)
	}
	return t
}

// maxTextDepth bounds how deep a stored Text nests (say nests two levels at most).
const maxTextDepth = 4

// In returns t in lang; ok is false when t or a Text it holds names no message of the
// catalog (a newer release's entry, or a damaged one), or nests deeper than any entry.
func (t Text) In(lang string) (string, bool) {
	return t.in(lang, 0)
}

func (t Text) in(lang string, depth int) (string, bool) {
	if depth > maxTextDepth || !i18n.Has(i18n.Default, t.Key) {
		return "", false
	}
	args := make([]any, 0, 2*len(t.Args))
	for _, a := range t.Args {
		var v any = a.V
		switch {
		case a.N != nil:
			v = *a.N
		case a.At != 0:
			v = time.Unix(a.At, 0).UTC().Format(i18n.T(lang, "date.layout"))
		case a.T != nil:
			parts := make([]string, len(a.T))
			for i, sub := range a.T {
				s, ok := sub.in(lang, depth+1)
				if !ok {
					return "", false
				}
				parts[i] = s
			}
			v = strings.Join(parts, ", ")
		}
		args = append(args, a.Name, v)
	}
	return i18n.T(lang, t.Key, args...), true
}

// English is t in the catalog's default language: the entry's stored text, which the
// support API returns and a reader falls back to.
func (t Text) English() string {
	s, _ := t.In(i18n.Default)
	return s
}

// encode is t as stored beside its English text: "" when it is longer than maxMessage,
// which only what people typed can make it (the page then shows the text).
func (t Text) encode() string {
	b, err := json.Marshal(t)
	if err != nil { // a Text holds only strings, ints and Texts
		panic(err)
	}
	if len(b) > maxMessage {
		return ""
	}
	return string(b)
}

// decodeText reads a stored Text; ok is false for an entry without one (a note, or one
// written before schema 23) or one that does not parse.
func decodeText(s string) (Text, bool) {
	var t Text
	if s == "" || json.Unmarshal([]byte(s), &t) != nil || t.Key == "" {
		return Text{}, false
	}
	return t, true
}

// storedIn returns the stored Text message in lang when it is one the catalog knows, else
// text, what was stored beside it.
func storedIn(message, text, lang string) string {
	if t, ok := decodeText(message); ok {
		if s, ok := t.In(lang); ok {
			return s
		}
	}
	return text
}

// In returns the entry in lang: its Text when it has one the catalog knows, else the text
// it was stored with (a note as typed, an entry of an earlier release in English).
func (e Entry) In(lang string) string { return storedIn(e.Message, e.Body, lang) }
