package auth

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// Notice kinds: security changes a user is told about (by e-mail when mail is set up).
const (
	NoticeTOTPEnrolled     = "totp_enrolled"
	NoticeTOTPReplaced     = "totp_replaced"
	NoticeRecoveryCodeUsed = "recovery_code_used"
	NoticePasswordChanged  = "password_changed"
	NoticePasswordReset    = "password_reset"      // a reset link set a new password
	NoticePasswordSet      = "password_set"        // an administrator set a new password
	NoticeResetLink        = "password_reset_link" // the reset link itself (Link, ExpiresAt)
	NoticeWebAuthnAdded    = "webauthn_added"      // a security key or passkey was added
	NoticeWebAuthnRemoved  = "webauthn_removed"    // a security key or passkey was removed
)

// Notice is one security change to tell a user about. It never carries a secret other
// than a single-use link that the notice exists to deliver.
type Notice struct {
	Kind      string
	At        time.Time
	IP        string
	UserAgent string
	Link      string    // a single-use link (NoticeResetLink); empty otherwise
	ExpiresAt time.Time // when Link stops working
}

// NoticeTx is the transaction of a change, in which its notice is queued.
type NoticeTx interface {
	EnqueueMail(ctx context.Context, m *store.QueuedMail) error
	AfterCommit(fn func())
}

// Notifier queues notices. Notify is called inside the transaction of the change (tx), so
// a notice exists exactly when its change commits; an error fails the change. It never
// waits for a mail server.
type Notifier interface {
	Notify(ctx context.Context, tx NoticeTx, u *store.Account, n Notice) error
}

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, NoticeTx, *store.Account, Notice) error { return nil }

// notify queues the notice of kind to u in tx, the change's transaction.
func (s *Service) notify(ctx context.Context, tx NoticeTx, u *store.Account, kind string, m Meta) error {
	return s.notifier.Notify(ctx, tx, u, Notice{Kind: kind, At: s.now(), IP: m.IP, UserAgent: m.UserAgent})
}
