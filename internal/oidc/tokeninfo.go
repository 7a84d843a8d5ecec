package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The introspection and userinfo endpoints are served here rather than by the op package,
// whose handlers answer plain text with Go error text (the database's too) and 403 {}, and
// do not know refresh tokens. They use its parts: client authentication, the access token
// crypto and the request parsing.

// introspect answers token introspection (RFC 7662) for a client authenticated with HTTP
// Basic: its live access and refresh tokens are active, anything else is
// {"active": false}. token_type_hint=refresh_token looks at refresh tokens first; the
// search always covers both kinds. It never reveals whether a client exists, or why twofold
// failed.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	clientID, err := op.ClientBasicAuth(r.WithContext(ctx), p.storage)
	if isServerError(err) {
		p.failed(w, r, "introspection client authentication", err)
		return
	}
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, answerInvalidClient)
		return
	}
	token := r.PostFormValue("token")
	if token == "" {
		writeJSON(w, http.StatusBadRequest, OAuthError{Error: string(oidc.InvalidRequest), Description: "The token parameter is missing."})
		return
	}
	lookups := []func(context.Context, *oidc.IntrospectionResponse, string, string) error{p.introspectAccessToken, p.storage.introspectRefreshToken}
	if r.PostFormValue("token_type_hint") == "refresh_token" {
		lookups[0], lookups[1] = lookups[1], lookups[0]
	}
	for _, lookup := range lookups {
		resp := new(oidc.IntrospectionResponse)
		err := lookup(ctx, resp, token, clientID)
		if err == nil {
			resp.Active = true
			writeJSON(w, http.StatusOK, resp)
			return
		}
		if !errors.Is(err, errInvalid) {
			p.failed(w, r, "introspection", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, &oidc.IntrospectionResponse{})
}

// introspectAccessToken fills resp for a live access token of clientID; errInvalid for
// anything else.
func (p *Provider) introspectAccessToken(ctx context.Context, resp *oidc.IntrospectionResponse, token, clientID string) error {
	id, subject, ok := p.accessTokenID(token)
	if !ok {
		return errInvalid
	}
	return p.storage.SetIntrospectionFromToken(ctx, resp, id, subject, clientID)
}

// accessTokenID opens an opaque access token: the op package encrypts "id:subject".
func (p *Provider) accessTokenID(token string) (id, subject string, ok bool) {
	if token == "" || len(token) > 1024 {
		return "", "", false
	}
	plain, err := p.op.Crypto().Decrypt(token)
	if err != nil || !isText(plain) {
		// Another kind of token (a refresh token) can decrypt to bytes that are no text.
		return "", "", false
	}
	id, subject, ok = strings.Cut(plain, ":")
	return id, subject, ok && id != "" && subject != "" && !strings.Contains(subject, ":")
}

// userinfo answers the userinfo endpoint (GET, HEAD or POST) for a live access token, sent as
// Authorization: Bearer or, as RFC 6750 allows, as the access_token parameter. Without a
// token it answers 401 with a bare Bearer challenge and no body; with an invalid, expired or revoked
// one, 401 with error="invalid_token" (RFC 6750, section 3.1).
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	if bearerHeader(r) && r.Form.Has("access_token") {
		// RFC 6750, sections 2 and 3.1: one method per request. Another scheme (Basic)
		// carries no access token: the one in the parameter is the only one.
		const twice = "The access token was sent twice: send it once, as Authorization: Bearer <token>."
		w.Header().Set("WWW-Authenticate", invalidRequestChallenge(twice))
		writeJSON(w, http.StatusBadRequest, OAuthError{Error: string(oidc.InvalidRequest), Description: twice})
		return
	}
	token, err := op.ParseUserinfoRequest(r, p.op.Decoder())
	if err != nil || token == "" {
		// RFC 6750, section 3.1: no error information when the request carries none.
		w.Header().Set("WWW-Authenticate", bearerChallenge)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	info := new(oidc.UserInfo)
	err = errInvalid
	if id, subject, ok := p.accessTokenID(token); ok {
		err = p.storage.SetUserinfoFromToken(ctx, info, id, subject, "")
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, info)
	case errors.Is(err, errInvalid):
		w.Header().Set("WWW-Authenticate", invalidTokenChallenge)
		writeJSON(w, http.StatusUnauthorized, OAuthError{Error: "invalid_token", Description: invalidTokenDescription})
	default:
		p.failed(w, r, "userinfo", err)
	}
}

// bearerHeader reports whether r carries an access token in Authorization: Bearer, the
// scheme in any case, as op.ParseUserinfoRequest reads it (oidc.PrefixBearer); a header of
// another scheme leaves it to read the access_token parameter.
func bearerHeader(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	return len(h) >= len(oidc.PrefixBearer) && strings.EqualFold(h[:len(oidc.PrefixBearer)], oidc.PrefixBearer)
}
