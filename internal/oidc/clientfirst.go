package oidc

import (
	"errors"
	"maps"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/twofold-id/twofold/internal/store"
)

// clientFirst authenticates the client of a code exchange, a refresh or a revocation before
// the op package sees the request, and answers 401 invalid_client when that fails, always
// with the same answer (answerInvalidClient). RFC 6749 (section 5.2) authenticates the
// client first; the op package looks a code up and checks its PKCE verifier before it asks
// who is calling, which tells a caller without the secret whether a code is live, and its
// refusals of a refresh or a revocation say whether the client exists. A public client
// has nothing to prove here: its code is bound by PKCE, which the op package checks, and
// its tokens by its client_id. A client assertion is refused: twofold accepts none.
// A public client that names itself with HTTP Basic and an empty password ("id:") gets
// its id moved into the form, as client_id: the op package's revocation checks Basic
// credentials as a secret, which a public client has not, and would refuse it.
// It reports whether it answered; its answers carry the CORS headers of the
// op package's own.
func (p *Provider) clientFirst(w http.ResponseWriter, r *http.Request) bool {
	refused, publicBasic, err := p.clientRefused(r)
	if !refused && err == nil {
		if publicBasic != "" {
			asFormClient(r, publicBasic)
		}
		return false
	}
	p.cors.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			p.failed(w, r, "token client authentication", serverError(r.Context(), err))
			return
		}
		writeJSON(w, http.StatusUnauthorized, answerInvalidClient)
	})).ServeHTTP(w, r)
	return true
}

// clientRefused reports whether the credentials of a code exchange, a refresh or a
// revocation fail to authenticate its client; an error is the database's. publicBasic is
// the id of a public client that named itself with HTTP Basic, else "".
func (p *Provider) clientRefused(r *http.Request) (refused bool, publicBasic string, err error) {
	// r.Form, not r.PostForm: the op package reads the query too.
	switch oidc.GrantType(r.Form.Get("grant_type")) {
	case oidc.GrantTypeCode, oidc.GrantTypeRefreshToken:
	default:
		if r.URL.Path != RevocationPath {
			return false, "", nil // the op package refuses the grant type
		}
	}
	if r.Form.Get("client_assertion_type") != "" {
		return true, "", nil // twofold accepts no client assertion
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// The client_secret_basic credentials are form-encoded (RFC 6749, section 2.3.1).
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return true, "", nil
		}
	} else {
		id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	if id == "" || !isText(id) {
		return true, "", nil
	}
	c, err := p.storage.getClient(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, "", nil
	case err != nil:
		return false, "", err
	}
	if !c.Public {
		return !secretMatches(c, secret), "", nil
	}
	// A public client has no secret: one sent, in Basic or in the form, is a client that
	// takes itself for another kind than it was registered as, which it should be told.
	if secret != "" || r.Form.Get("client_secret") != "" {
		return true, "", nil
	}
	if basic {
		return false, id, nil
	}
	return false, "", nil
}

// asFormClient makes r name the client id in its form, as client_id, instead of in HTTP
// Basic: the Basic id wins over a client_id in the form, as the op package's token
// endpoint has it. r's header and form are replaced by changed copies: whoever holds the
// maps r had sees them unchanged, while r itself now carries the copies.
func asFormClient(r *http.Request, id string) {
	r.Header = r.Header.Clone()
	r.Header.Del("Authorization")
	r.Form = maps.Clone(r.Form)
	r.Form.Set("client_id", id)
}
