package support

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// Store is the storage the support desk uses outside transactions, declared here so that
// its needs are visible in one place and a test can stand in for exactly these methods.
// Inside WithTx the desk works on the transaction's full store.Store. Every store.Store
// is one.
type Store interface {
	WithTx(ctx context.Context, fn func(store.Store) error) error
	AddCaseEvent(ctx context.Context, e *store.CaseEvent) error
	AppendAudit(ctx context.Context, e *store.AuditEvent) error
	GetAPIToken(ctx context.Context, id string) (*store.APIToken, error)
	GetCase(ctx context.Context, id string) (*store.SupportCase, error)
	GetCaseByReference(ctx context.Context, reference string) (*store.SupportCase, error)
	GetEmailLink(ctx context.Context, tokenHash []byte, now time.Time) (*store.EmailLink, error)
	GetPendingMFAReset(ctx context.Context, caseID string) (*store.MFAReset, error)
	GetRecoveryCode(ctx context.Context, userID string) (*store.RecoveryCode, error)
	GetTOTP(ctx context.Context, userID string) (*store.TOTPCredential, error)
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]store.WebAuthnCredential, error)
	GetUser(ctx context.Context, id string) (*store.User, error)
	GetUserByLogin(ctx context.Context, identifierNorm string) (*store.User, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
	ListCaseEvents(ctx context.Context, caseID string) ([]store.CaseEvent, error)
	ListCases(ctx context.Context, f store.CaseFilter) ([]store.SupportCase, error)
	ListMFAResets(ctx context.Context, userID string) ([]store.MFAReset, error)
	TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (granted bool, refusals int, err error)
}

var _ Store = store.Store(nil) // every store.Store serves the desk
