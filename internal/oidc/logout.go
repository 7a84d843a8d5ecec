package oidc

import (
	"context"
	"errors"
	"net/url"
	"slices"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

var errLogoutReturn = apperr.Msg(apperr.CodeBadRequest, "err.oidc_logout_return")

// LogoutReturn is where the browser goes after the user confirmed a logout request without
// id_token_hint: the client's post_logout_redirect_uri, when registered exactly for it, with
// state added; LoggedOutPath without one. It also returns the client's name ("" without a
// client). The values come back from the confirmation page, so they are checked again here;
// an unknown client or an unregistered URI is an apperr.
func (p *Provider) LogoutReturn(ctx context.Context, clientID, uri, state string) (to, client string, err error) {
	if !isText(clientID) || !isText(uri) || !isText(state) {
		return "", "", errLogoutReturn
	}
	if clientID == "" {
		if uri != "" {
			return "", "", errLogoutReturn
		}
		return LoggedOutPath, "", nil
	}
	c, err := p.storage.st.GetOIDCClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", errLogoutReturn
	}
	if err != nil {
		return "", "", err
	}
	if uri == "" {
		return LoggedOutPath, c.Name, nil
	}
	if !slices.Contains(c.PostLogoutRedirectURIs, uri) {
		return "", "", errLogoutReturn
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", errLogoutReturn
	}
	if state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	return u.String(), c.Name, nil
}
