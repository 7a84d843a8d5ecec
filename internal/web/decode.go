package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

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
