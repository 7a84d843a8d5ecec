package oidc

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// Store is the storage the provider uses outside transactions, declared here so that its
// needs are visible in one place and a test can stand in for exactly these methods. Inside
// WithTx the provider works on the transaction's full store.Store. Every store.Store is
// one. (The administration of clients and keys, Admin, declares its own: AdminStore.)
type Store interface {
	WithTx(ctx context.Context, fn func(store.Store) error) error
	AppendAudit(ctx context.Context, e *store.AuditEvent) error
	CompleteOIDCAuthRequest(ctx context.Context, id string, done *store.OIDCAuthRequest, now time.Time) error
	CreateOIDCAuthRequest(ctx context.Context, a *store.OIDCAuthRequest) error
	CreateOIDCSigningKey(ctx context.Context, k *store.OIDCSigningKey) error
	DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error)
	DeleteOIDCAccessToken(ctx context.Context, id string) error
	DeleteOIDCGrant(ctx context.Context, id string) error
	GetOIDCAccessToken(ctx context.Context, id string, now time.Time) (*store.OIDCAccessToken, error)
	GetOIDCAuthRequest(ctx context.Context, id string, now time.Time) (*store.OIDCAuthRequest, error)
	GetOIDCAuthRequestByCode(ctx context.Context, codeHash []byte, now time.Time) (*store.OIDCAuthRequest, error)
	GetOIDCClient(ctx context.Context, id string) (*store.OIDCClient, error)
	GetOIDCConsent(ctx context.Context, userID, clientID string) (*store.OIDCConsent, error)
	GetOIDCGrant(ctx context.Context, id string) (*store.OIDCGrant, error)
	GetOIDCRefreshToken(ctx context.Context, tokenHash []byte) (*store.OIDCRefreshToken, error)
	GetTOTP(ctx context.Context, userID string) (*store.TOTPCredential, error)
	GetUser(ctx context.Context, id string) (*store.User, error)
	ListOIDCSigningKeys(ctx context.Context, now time.Time) ([]store.OIDCSigningKey, error)
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]store.SessionRecord, error)
	Ping(ctx context.Context) error
	RevokeOIDCGrantOfUsedCode(ctx context.Context, codeHash []byte) (int, error)
	SaveOIDCAuthCode(ctx context.Context, id string, codeHash []byte, expiresAt, now time.Time) error
}

var _ Store = store.Store(nil) // every store.Store serves the provider
