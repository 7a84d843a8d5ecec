package auth

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// Store is the storage the service uses outside transactions, declared here so that what
// sign-in needs is visible in one place and a test can stand in for exactly these methods
// (Authelia's RegulatorProvider idea). Inside WithTx the service works on the transaction's
// full store.Store. Every store.Store is one.
type Store interface {
	WithTx(ctx context.Context, fn func(store.Store) error) error
	AdminHasExisted(ctx context.Context) (bool, error)
	AppendAudit(ctx context.Context, e *store.AuditEvent) error
	CheckSetupToken(ctx context.Context, tokenHash []byte, now time.Time) error
	DeleteExpired(ctx context.Context, now, idleBefore time.Time) (int, error)
	EndedSession(ctx context.Context, tokenHash []byte, now time.Time) (string, error)
	ForgetIdleBudgets(ctx context.Context, kind string, idleBefore time.Time, maxFailures int) (int, error)
	GetBudget(ctx context.Context, kind, key string) (*store.ThrottleBudget, error)
	GetPendingTOTP(ctx context.Context, userID string, now time.Time) (*store.PendingTOTP, error)
	GetRecoveryCode(ctx context.Context, userID string) (*store.RecoveryCode, error)
	GetSecondFactors(ctx context.Context, userID string) (store.SecondFactors, error)
	GetSessionUser(ctx context.Context, tokenHash []byte) (*store.SessionUser, error)
	SessionLastSeen(ctx context.Context, id string) (time.Time, error)
	GetTOTP(ctx context.Context, userID string) (*store.TOTPCredential, error)
	GetUser(ctx context.Context, id string) (*store.User, error)
	GetUserByLogin(ctx context.Context, identifierNorm string) (*store.User, error)
	PeekLinkToken(ctx context.Context, purpose string, tokenHash []byte, now time.Time) (*store.LinkToken, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]store.SessionRecord, error)
	ListUserOIDCApplications(ctx context.Context, userID string, now time.Time) ([]store.OIDCApplication, error)
	ReserveAttempt(ctx context.Context, kind, key string, p throttle.Policy, now time.Time) (b *store.ThrottleBudget, granted bool, err error)
	ReleaseAttempt(ctx context.Context, kind, key string, p throttle.Policy) error
	ResetBudget(ctx context.Context, kind, key string) error
	SetSessionNotice(ctx context.Context, id string, noticeEnc []byte) error
	SetUserPasswordHash(ctx context.Context, id, hash string, now time.Time) error
	SetUserLanguage(ctx context.Context, id, lang string, now time.Time) error
	TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (granted bool, refusals int, err error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]store.WebAuthnCredential, error)
	CountWebAuthnCredentials(ctx context.Context, userID string) (int, error)
	GetWebAuthnCredential(ctx context.Context, credentialID []byte) (*store.WebAuthnCredential, error)
	CreateWebAuthnChallenge(ctx context.Context, c *store.WebAuthnChallenge) error
	ConsumeWebAuthnChallenge(ctx context.Context, challengeHash []byte, kind, boundTo string, now time.Time) (*store.WebAuthnChallenge, error)
}

var _ Store = store.Store(nil) // every store.Store serves the service

// accountTx runs fn in one transaction that first takes the lock of the user's account
// (store.AccountTx). Every transaction here that changes an account's second factors,
// sessions, budgets, keys or password goes through it, so two of them for one account (two
// tabs, an administrator beside the user) take turns instead of locking the account's rows
// in different orders: on PostgreSQL such a pair deadlocks and the database ends one of
// them. On SQLite the lock costs nothing, as writers take turns anyway. A path that must
// not tell whether the account exists takes a lock for an unknown one too.
func (s *Service) accountTx(ctx context.Context, userID string, fn func(store.Store) error) error {
	return store.AccountTx(ctx, s.store, userID, fn)
}
