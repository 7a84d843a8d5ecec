package oidc

import (
	"context"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/internal/store"
)

// Signing keys and claims of the op.Storage implementation.
// SigningKey returns the current key of the algorithm the client being served uses.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := callFrom(ctx).alg
	if !ValidAlg(alg) {
		alg = AlgES256
	}
	k, err := s.keys.current(ctx, alg)
	if err != nil {
		return nil, serverError(ctx, err)
	}
	return k, nil
}

// SignatureAlgorithms lists what ID tokens may be signed with.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256, jose.RS256}, nil
}

// KeySet is the JWKS: the current keys and the retired ones not expired yet.
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.keys.publicKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out, nil
}

// SetUserinfoFromScopes is deprecated in the op package; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims, and sid (and acr, for a
// refreshed ID token).
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.setUserinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	switch r := req.(type) {
	case *authRequest:
		info.AppendClaims("sid", r.a.SessionID)
	case *refreshRequest:
		info.AppendClaims("sid", r.grant.SessionID)
		if r.grant.ACR != "" {
			info.AppendClaims("acr", r.grant.ACR)
		}
	}
	return nil
}

// SetUserinfoFromToken answers the userinfo endpoint for a live access token: errInvalid
// for a token that is unknown, expired, revoked or not the subject's.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.liveAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.setUserinfo(ctx, info, subject, t.Scopes)
}

// liveAccessToken returns the unexpired, unrevoked access token tokenID of subject:
// errInvalid when there is none, a server error when the store fails.
func (s *storage) liveAccessToken(ctx context.Context, tokenID, subject string) (*store.OIDCAccessToken, error) {
	t, err := s.st.GetOIDCAccessToken(ctx, tokenID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("access token: %w", errInvalid)
	}
	if err != nil {
		return nil, serverError(ctx, err)
	}
	if t.Grant.UserID != subject {
		return nil, fmt.Errorf("access token of another subject: %w", errInvalid)
	}
	return t, nil
}

// SetIntrospectionFromToken answers token introspection; a client sees only its own tokens.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.liveAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if t.Grant.ClientID != clientID {
		return fmt.Errorf("access token of another client: %w", errInvalid)
	}
	if err := s.introspection(ctx, resp, t.Grant, t.Scopes); err != nil {
		return err
	}
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	return nil
}

// introspection fills what introspection says of every token of the grant g with scopes.
func (s *storage) introspection(ctx context.Context, resp *oidc.IntrospectionResponse, g *store.OIDCGrant, scopes []string) error {
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(ctx, info, g.UserID, scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = scopes
	resp.ClientID = g.ClientID
	resp.AuthTime = oidc.FromTime(g.AuthTime)
	resp.AuthenticationMethodsReferences = g.AMR
	resp.Audience = []string{g.ClientID}
	resp.Issuer = op.IssuerFromContext(ctx)
	if g.ACR != "" {
		if resp.Claims == nil {
			resp.Claims = map[string]any{}
		}
		resp.Claims["acr"] = g.ACR
	}
	return nil
}

// setUserinfo fills the claims the scopes ask for. A disabled or deleted user has none.
func (s *storage) setUserinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	u, err := s.getUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return fmt.Errorf("user unknown or disabled: %w", errInvalid)
	}
	if err != nil {
		return serverError(ctx, err)
	}
	info.Subject = u.ID
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			info.Name = u.DisplayName // set by the user on the security page
			if info.Name == "" {
				info.Name = u.Username
			}
			info.PreferredUsername = u.Username
			info.UpdatedAt = oidc.FromTime(u.UpdatedAt)
		case oidc.ScopeEmail:
			info.Email = u.Email
			// The claim is set explicitly: the library's field omits false, and relying
			// parties must be told that an address is unproved.
			info.AppendClaims("email_verified", u.EmailVerified)
		}
	}
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: access tokens are opaque.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID: client keys (private_key_jwt, JWT profile) are not supported.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("oidc: client keys are not supported")
}

// ValidateJWTProfileScopes: the JWT profile grant is not supported.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("oidc: the JWT profile grant is not supported")
}
