package oidc

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Realm names twofold in the WWW-Authenticate challenges of the protocol endpoints.
const Realm = "twofold"

// Challenges of 401 answers: a client that failed to authenticate at the token,
// introspection or revocation endpoint (RFC 6749, section 5.2), and a request to userinfo
// without a usable access token (RFC 6750, section 3).
const (
	basicChallenge        = `Basic realm="` + Realm + `"`
	bearerChallenge       = `Bearer realm="` + Realm + `"`
	invalidTokenChallenge = bearerChallenge + `, error="invalid_token", error_description="` + invalidTokenDescription + `"`
)

const (
	invalidTokenDescription = "The access token is invalid, expired or revoked."
)

// invalidRequestChallenge is the challenge of a 400 or 413 answer of userinfo (RFC 6750,
// section 3.1): the realm, as in every other, and invalid_request with description, which
// must hold no double quote or backslash.
func invalidRequestChallenge(description string) string {
	return bearerChallenge + `, error="invalid_request", error_description="` + description + `"`
}

// OAuthError is the body of an OAuth error answer (RFC 6749, section 5.2), twofold's
// own answers at the protocol endpoints and the web server's about them alike.
type OAuthError struct {
	Error       string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
}

var (
	// answerInvalidClient is the only answer to a client that failed to authenticate: it
	// never says whether the client exists or what was wrong.
	answerInvalidClient = OAuthError{Error: string(oidc.InvalidClient), Description: "Client authentication failed."}
	// answerServerError is the only answer to a failure of twofold itself; the log has
	// the detail.
	answerServerError = OAuthError{Error: string(oidc.ServerError), Description: "The server could not answer. Try again in a moment."}
)

// writeJSON sends v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// failed answers a failure of twofold itself (the database, most often) with a generic
// server_error and logs the detail.
func (p *Provider) failed(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.log.ErrorContext(r.Context(), "oidc "+what+" failed", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, answerServerError)
}

// isServerError reports whether err is (or wraps) the op package's server_error, which
// the storage returns for failures of its own.
func isServerError(err error) bool {
	var e *oidc.Error
	return errors.As(err, &e) && e.ErrorType == oidc.ServerError
}

// credentialAnswer makes an answer of an endpoint that hands out or reads credentials
// uncacheable (RFC 6749, section 5.1), success or error, and gives a 401 of the client
// endpoints the challenge for client authentication (RFC 6749, section 5.2): the op
// package writes neither.
type credentialAnswer struct {
	http.ResponseWriter
	clientAuth bool // a 401 means the client failed to authenticate
	started    bool
}

func (a *credentialAnswer) WriteHeader(status int) {
	if !a.started {
		a.started = true
		h := a.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		if status == http.StatusUnauthorized && a.clientAuth && h.Get("WWW-Authenticate") == "" {
			h.Set("WWW-Authenticate", basicChallenge)
		}
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *credentialAnswer) Write(b []byte) (int, error) {
	if !a.started {
		a.WriteHeader(http.StatusOK)
	}
	return a.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (a *credentialAnswer) Unwrap() http.ResponseWriter { return a.ResponseWriter }
