package oidc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

// Token issuance, rotation and revocation of the op.Storage implementation.
// newGrant starts a token family for a code exchange; its id is the request's, so that a
// replayed code finds it.
func (s *storage) newGrant(a *authRequest, offline bool, expires time.Time) *store.OIDCGrant {
	return &store.OIDCGrant{
		ID: a.a.ID, ClientID: a.a.ClientID, UserID: a.a.UserID, SessionID: a.a.SessionID,
		Scopes: a.a.Scopes, AuthTime: a.a.AuthTime, AMR: a.a.AMR, ACR: a.a.ACR, Offline: offline,
		CreatedAt: s.now(), ExpiresAt: expires,
	}
}

func (s *storage) newAccessToken(grantID string, scopes []string) (*store.OIDCAccessToken, error) {
	id, err := randomString(18)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &store.OIDCAccessToken{ID: id, GrantID: grantID, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(s.accessTTL)}, nil
}

// CreateAccessToken issues an access token for a code exchange without offline_access.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	a, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	at, err := s.newAccessToken(a.a.ID, a.a.Scopes)
	if err != nil {
		return "", time.Time{}, serverError(ctx, err)
	}
	err = s.st.WithTx(ctx, func(tx store.Store) error {
		if err := claimCode(ctx, tx, a, s.now()); err != nil {
			return err
		}
		if err := tx.CreateOIDCGrant(ctx, s.newGrant(a, false, at.ExpiresAt)); err != nil {
			return err
		}
		return tx.CreateOIDCAccessToken(ctx, at)
	})
	if errors.Is(err, errCodeUsed) {
		return "", time.Time{}, s.replayed(ctx, a)
	}
	if err != nil {
		return "", time.Time{}, serverError(ctx, err)
	}
	s.metrics.TokenIssued(metrics.GrantAuthorizationCode)
	return at.ID, at.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens issues an access and a refresh token: for a code exchange
// with offline_access, a new family; for a refresh, the next token of the family, after
// marking the presented one used. Two refreshes with one token: the second is a reuse.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	refresh, err := randomString(32)
	if err != nil {
		return "", "", time.Time{}, serverError(ctx, err)
	}
	now := s.now()
	switch r := req.(type) {
	case *authRequest:
		at, err := s.newAccessToken(r.a.ID, r.a.Scopes)
		if err != nil {
			return "", "", time.Time{}, serverError(ctx, err)
		}
		rt := &store.OIDCRefreshToken{TokenHash: hashToken(refresh), GrantID: r.a.ID, Scopes: r.a.Scopes,
			CreatedAt: now, ExpiresAt: s.refreshExpiry(r.a.AuthTime, now)}
		err = s.st.WithTx(ctx, func(tx store.Store) error {
			if err := claimCode(ctx, tx, r, now); err != nil {
				return err
			}
			if err := tx.CreateOIDCGrant(ctx, s.newGrant(r, true, rt.ExpiresAt)); err != nil {
				return err
			}
			if err := tx.CreateOIDCRefreshToken(ctx, rt); err != nil {
				return err
			}
			return tx.CreateOIDCAccessToken(ctx, at)
		})
		if errors.Is(err, errCodeUsed) {
			return "", "", time.Time{}, s.replayed(ctx, r)
		}
		if err != nil {
			return "", "", time.Time{}, serverError(ctx, err)
		}
		s.metrics.TokenIssued(metrics.GrantAuthorizationCode)
		return at.ID, refresh, at.ExpiresAt, nil
	case *refreshRequest:
		at, err := s.newAccessToken(r.grant.ID, r.scopes)
		if err != nil {
			return "", "", time.Time{}, serverError(ctx, err)
		}
		next := &store.OIDCRefreshToken{TokenHash: hashToken(refresh), GrantID: r.grant.ID, Scopes: r.token.Scopes,
			CreatedAt: now, ExpiresAt: s.refreshExpiry(r.grant.AuthTime, now)}
		err = s.st.WithTx(ctx, func(tx store.Store) error {
			if err := tx.RotateOIDCRefreshToken(ctx, hashToken(current), next, now); err != nil {
				return err
			}
			return tx.CreateOIDCAccessToken(ctx, at)
		})
		if errors.Is(err, store.ErrNotFound) {
			s.revokeReused(ctx, r.grant)
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("The refresh token was used already.")
		}
		if err != nil {
			return "", "", time.Time{}, serverError(ctx, err)
		}
		s.metrics.TokenIssued(metrics.GrantRefreshToken)
		return at.ID, refresh, at.ExpiresAt, nil
	}
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

// familyEnd is when the refresh token family of a sign-in at authTime ends, however often
// it was refreshed.
func (s *storage) familyEnd(authTime time.Time) time.Time {
	return authTime.Add(s.familyMaxAge)
}

// refreshExpiry is when a refresh token issued at now to the family of a sign-in at
// authTime expires: after its lifetime, or at the family's end if that comes first.
func (s *storage) refreshExpiry(authTime, now time.Time) time.Time {
	if exp, end := now.Add(s.refreshTTL), s.familyEnd(authTime); end.Before(exp) {
		return end
	}
	return now.Add(s.refreshTTL)
}

// revokeReused ends a token family one of whose used refresh tokens came back.
func (s *storage) revokeReused(ctx context.Context, g *store.OIDCGrant) {
	s.metrics.RefreshReused()
	if err := s.st.DeleteOIDCGrant(ctx, g.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.ErrorContext(ctx, "revoke reused refresh token family", "grant", g.ID, "err", err)
		return
	}
	s.record(ctx, EventRefreshReused, g.UserID, "a used refresh token came back; client "+g.ClientID+"'s tokens of this sign-in are revoked")
}

// TokenRequestByRefreshToken finds a refresh token's family. A token that was used
// already revokes the whole family: it was stolen, or the client has a bug. The op
// package calls it once the client has authenticated; a token of another client is
// refused without revoking anything, so that no one but the application can end its
// family this way.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	h := hashToken(token)
	rt, err := s.st.GetOIDCRefreshToken(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("unknown refresh token: %w", errInvalid)
	}
	if err != nil {
		return nil, serverError(ctx, err)
	}
	g, err := s.st.GetOIDCGrant(ctx, rt.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("revoked refresh token: %w", errInvalid)
	}
	if err != nil {
		return nil, serverError(ctx, err)
	}
	if g.ClientID != callFrom(ctx).clientID {
		return nil, fmt.Errorf("refresh token of another client: %w", errInvalid)
	}
	if !rt.UsedAt.IsZero() {
		s.revokeReused(ctx, g)
		return nil, fmt.Errorf("reused refresh token: %w", errInvalid)
	}
	if now := s.now(); !now.Before(rt.ExpiresAt) || !now.Before(s.familyEnd(g.AuthTime)) {
		return nil, fmt.Errorf("expired refresh token, or its family is older than its maximum age: %w", errInvalid)
	}
	if err := s.userActive(ctx, g.UserID); err != nil {
		return nil, err
	}
	return &refreshRequest{grant: g, token: rt, scopes: rt.Scopes, tokenHash: h}, nil
}

// introspectRefreshToken fills resp for a live refresh token of clientID: the current
// token of its family, unexpired, its user active. Anything else is errInvalid.
func (s *storage) introspectRefreshToken(ctx context.Context, resp *oidc.IntrospectionResponse, token, clientID string) error {
	rt, err := s.st.GetOIDCRefreshToken(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unknown refresh token: %w", errInvalid)
	}
	if err != nil {
		return serverError(ctx, err)
	}
	if !rt.UsedAt.IsZero() || !s.now().Before(rt.ExpiresAt) {
		return fmt.Errorf("used or expired refresh token: %w", errInvalid)
	}
	g, err := s.st.GetOIDCGrant(ctx, rt.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("revoked refresh token: %w", errInvalid)
	}
	if err != nil {
		return serverError(ctx, err)
	}
	if g.ClientID != clientID {
		return fmt.Errorf("refresh token of another client: %w", errInvalid)
	}
	if !s.now().Before(s.familyEnd(g.AuthTime)) {
		return fmt.Errorf("refresh token family older than its maximum age: %w", errInvalid)
	}
	if err := s.introspection(ctx, resp, g, rt.Scopes); err != nil {
		return err
	}
	resp.Expiration = oidc.FromTime(rt.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(rt.CreatedAt)
	return nil
}

// GetRefreshTokenInfo identifies a refresh token of the client for revocation.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := s.st.GetOIDCRefreshToken(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	g, err := s.st.GetOIDCGrant(ctx, rt.GrantID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.ClientID != clientID) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	return g.UserID, refreshIDPrefix + hex.EncodeToString(rt.TokenHash), nil
}

// refreshIDPrefix marks the ids GetRefreshTokenInfo hands to RevokeToken.
const refreshIDPrefix = "rt:"

// RevokeToken revokes a refresh token (with its whole family, RFC 7009) or one access
// token. Unknown tokens and tokens of other clients are ignored, as the RFC asks.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	if h, ok := strings.CutPrefix(tokenOrID, refreshIDPrefix); ok {
		raw, err := hex.DecodeString(h)
		if err != nil {
			return nil
		}
		rt, err := s.st.GetOIDCRefreshToken(ctx, raw)
		if err != nil {
			return nil
		}
		g, err := s.st.GetOIDCGrant(ctx, rt.GrantID)
		if err != nil || g.ClientID != clientID {
			return nil
		}
		if err := s.st.DeleteOIDCGrant(ctx, g.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	t, err := s.st.GetOIDCAccessToken(ctx, tokenOrID, s.now())
	if err != nil || t.Grant.ClientID != clientID {
		return nil
	}
	if err := s.st.DeleteOIDCAccessToken(ctx, t.ID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}
