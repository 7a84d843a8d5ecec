package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/twofold-id/twofold/internal/apperr"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads a JSON object into dst. An empty body is allowed when optional is true.
// Every failure is an application error with a reason: 400, or 413 for a body too large.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(codeTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", maxJSONBody))
		}
		return apperr.New(apperr.CodeBadRequest, "The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return apperr.New(apperr.CodeBadRequest, "The request body must be a JSON object.")
	}
	if reason := notText(body); reason != "" {
		// encoding/json would read either as U+FFFD and store it in place of what was sent.
		return apperr.New(apperr.CodeBadRequest, reason)
	}
	if depth, values := jsonShape(body); depth > maxJSONDepth || values > maxJSONValues {
		// No request of the API comes near either; they bound what walking the body costs.
		return apperr.New(apperr.CodeBadRequest, fmt.Sprintf(
			"The request body nests objects and lists deeper than %d or holds more than %d values.", maxJSONDepth, maxJSONValues))
	}
	if key := duplicateKey(body); key != "" {
		// encoding/json keeps the last of them; a proxy or a log reading the first would
		// see another request than the one acted on.
		return apperr.New(apperr.CodeBadRequest, "Field "+apperr.Quote(key)+" is given twice.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return apperr.New(apperr.CodeBadRequest, fmt.Sprintf("Field %s must be %s.", apperr.Quote(te.Field), jsonKind(te.Type)))
		}
		return apperr.New(apperr.CodeBadRequest, "The request body is not a valid JSON object.")
	}
	if dec.More() {
		return apperr.New(apperr.CodeBadRequest, "The request body must hold exactly one JSON object.")
	}
	return nil
}

// notText says why a JSON body holds something that is no text: bytes that are not UTF-8,
// or a \u escape of half a UTF-16 surrogate pair without its other half. "" when neither.
// Backslashes stand only inside strings in JSON that decodes, so the escapes are found
// without following the strings.
func notText(body []byte) string {
	if !utf8.Valid(body) {
		return "The request body is not UTF-8 text."
	}
	const lone = `The request body holds a \u escape of half a UTF-16 surrogate pair (\uD800 to \uDFFF) without the other half, which is no character.`
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		i++ // the escaped character: a second backslash is not the start of an escape
		if i >= len(body) || body[i] != 'u' {
			continue
		}
		r, ok := hex4(body[i+1:])
		switch {
		case !ok || !utf16.IsSurrogate(r):
		case r >= 0xDC00: // a low half first
			return lone
		default: // a high half, which a low one must follow
			rest := body[i+5:]
			if len(rest) < 6 || rest[0] != '\\' || rest[1] != 'u' {
				return lone
			}
			if lo, ok := hex4(rest[2:]); !ok || lo < 0xDC00 || lo > 0xDFFF {
				return lone
			}
			i += 10
		}
	}
	return ""
}

// maxJSONDepth and maxJSONValues bound a JSON body's nesting and its number of values
// (object members and list elements): duplicateKey walks every token.
const (
	maxJSONDepth  = 32
	maxJSONValues = 1024
)

// jsonShape is how deep a JSON body nests objects and lists, and about how many values they
// hold (a ':' or ',' outside strings each), read without decoding it.
func jsonShape(body []byte) (depth, values int) {
	inString, level := false, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if level++; level > depth {
				depth = level
			}
		case c == '}' || c == ']':
			level--
		case c == ':' || c == ',':
			values++
		}
	}
	return depth, values
}

// duplicateKey returns a key that an object of the JSON body holds twice, "" when none does
// (or the body is no JSON: the decoder says so). Keys match regardless of case, as
// encoding/json matches them to fields: {"username": "a", "Username": "b"} holds "Username"
// twice. The fold is a little broader than encoding/json's (İ and i count as one), so it
// never misses a pair encoding/json would merge.
func duplicateKey(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	type object struct {
		keys    map[string]bool
		wantKey bool // the next string is a key, not a value
	}
	var open []*object // the objects and arrays (nil) the walk is in
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *object
		if len(open) > 0 {
			top = open[len(open)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				open = append(open, &object{keys: map[string]bool{}, wantKey: true})
			case '[':
				open = append(open, nil)
			default: // the end of the value of the object around it, if any
				if open = open[:len(open)-1]; len(open) == 0 {
					return ""
				}
				if up := open[len(open)-1]; up != nil {
					up.wantKey = true
				}
			}
			continue
		case string:
			if top != nil && top.wantKey {
				folded := strings.ToLower(strings.ToUpper(v))
				if top.keys[folded] {
					return v
				}
				top.keys[folded] = true
				top.wantKey = false
				continue
			}
		}
		if top == nil && len(open) == 0 {
			return "" // a scalar on its own: no object
		}
		if top != nil {
			top.wantKey = true
		}
	}
}

// hex4 reads the four hexadecimal digits of a \u escape at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}

// jsonKind says what JSON value a field of Go type t takes, for a message: a
// json.RawMessage field holds any JSON value and is checked later, so it is not asked here.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "a list of strings"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a value of another type"
}

// required returns a bad_request naming the first empty field.
func required(fields ...[2]string) error {
	for _, f := range fields {
		if f[1] == "" {
			return apperr.New(apperr.CodeBadRequest, "Field "+apperr.Quote(f[0])+" is required.")
		}
	}
	return nil
}
