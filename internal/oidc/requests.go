package oidc

import (
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/internal/store"
)

// authRequest is a stored authorization request as the op package sees it.
type authRequest struct{ a *store.OIDCAuthRequest }

var (
	_ op.AuthRequest    = (*authRequest)(nil)
	_ op.LogAuthRequest = (*authRequest)(nil)
)

func (r *authRequest) GetID() string          { return r.a.ID }
func (r *authRequest) GetACR() string         { return r.a.ACR }
func (r *authRequest) GetAMR() []string       { return r.a.AMR }
func (r *authRequest) GetAudience() []string  { return []string{r.a.ClientID} }
func (r *authRequest) GetAuthTime() time.Time { return r.a.AuthTime }
func (r *authRequest) GetClientID() string    { return r.a.ClientID }
func (r *authRequest) GetNonce() string       { return r.a.Nonce }
func (r *authRequest) GetRedirectURI() string { return r.a.RedirectURI }
func (r *authRequest) GetScopes() []string    { return r.a.Scopes }
func (r *authRequest) GetState() string       { return r.a.State }
func (r *authRequest) GetSubject() string     { return r.a.UserID }
func (r *authRequest) Done() bool             { return r.a.UserID != "" }

func (r *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(r.a.ResponseType) }
func (r *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(r.a.ResponseMode) }

func (r *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if r.a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: r.a.CodeChallenge, Method: oidc.CodeChallengeMethod(r.a.CodeChallengeMethod)}
}

// LogValue names the request in the op package's logs without secrets.
func (r *authRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", r.a.ID), slog.String("client_id", r.a.ClientID),
		slog.String("redirect_uri", r.a.RedirectURI), slog.Any("scopes", r.a.Scopes))
}

// refreshRequest is a refresh token's grant as the op package sees it.
type refreshRequest struct {
	grant     *store.OIDCGrant
	token     *store.OIDCRefreshToken
	scopes    []string // the scopes of this exchange (a subset of the token's)
	tokenHash []byte
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return r.grant.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.grant.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.grant.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.grant.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.grant.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = slices.Clone(s) }
