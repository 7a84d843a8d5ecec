package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return apperr.New(apperr.CodeBadRequest, fmt.Sprintf("Field %q must be a %s.", te.Field, jsonKind(te.Type.Kind().String())))
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

// hex4 reads the four hexadecimal digits of a \u escape at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}

func jsonKind(goKind string) string {
	if goKind == "string" {
		return "string"
	}
	return "value of another type"
}

// required returns a bad_request naming the first empty field.
func required(fields ...[2]string) error {
	for _, f := range fields {
		if f[1] == "" {
			return apperr.New(apperr.CodeBadRequest, fmt.Sprintf("Field %q is required.", f[0]))
		}
	}
	return nil
}
