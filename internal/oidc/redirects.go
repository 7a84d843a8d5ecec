package oidc

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// exactRedirects refuses, before the op package sees the request, an authorization or
// end-session request whose redirect URI is not registered exactly for the client it
// names. The op package lets a public (native) client's loopback URI differ in port and
// host (RFC 8252, 7.3) and would then send its errors, or the browser after a logout,
// there; twofold matches redirect URIs exactly. It reports whether it answered.
func (p *Provider) exactRedirects(w http.ResponseWriter, r *http.Request) bool {
	var param string
	switch r.URL.Path {
	case AuthorizePath:
		param = "redirect_uri"
	case EndSessionPath:
		param = "post_logout_redirect_uri"
	default:
		return false
	}
	// checkParams parsed the form and refused it when malformed.
	uris := r.Form[param]
	if len(uris) == 0 || (len(uris) == 1 && uris[0] == "") {
		return false
	}
	clientID := r.Form.Get("client_id")
	if clientID == "" && param == "post_logout_redirect_uri" {
		clientID = unverifiedAZP(r.Form.Get("id_token_hint"))
	}
	if clientID == "" {
		return false // no client: the op package refuses or ignores the URI
	}
	c, err := p.storage.getClient(r.Context(), clientID)
	if err != nil {
		return false // unknown client: the op package refuses it without a redirect
	}
	registered := c.RedirectURIs
	if param == "post_logout_redirect_uri" {
		registered = c.PostLogoutRedirectURIs
	}
	if len(uris) == 1 && slices.Contains(registered, uris[0]) {
		return false
	}
	msg := "The " + param + " is not registered for this client."
	if r.URL.Path == EndSessionPath {
		// As the op package answers its own refusals there.
		httphelper.MarshalJSONWithStatus(w, oidc.ErrInvalidRequest().WithDescription("%s", msg), http.StatusBadRequest)
		return true
	}
	http.Error(w, msg, http.StatusBadRequest)
	return true
}

// unverifiedAZP reads the client an ID token was issued to, without verifying it: only to
// find the registered URIs to match against (the op package verifies the hint itself).
func unverifiedAZP(idToken string) string {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 || len(parts[1]) > 16<<10 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		AZP string          `json:"azp"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	if claims.AZP != "" {
		return claims.AZP
	}
	var aud string
	if json.Unmarshal(claims.Aud, &aud) == nil {
		return aud
	}
	var auds []string
	if json.Unmarshal(claims.Aud, &auds) == nil && len(auds) == 1 {
		return auds[0]
	}
	return ""
}
