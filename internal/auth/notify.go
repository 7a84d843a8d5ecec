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

// Notifier delivers notices. Notify is called after the change committed; it must not
// fail the operation, so it reports its own errors (log) and returns nothing.
type Notifier interface {
	Notify(ctx context.Context, u *store.User, n Notice)
}

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, *store.User, Notice) {}

func (s *Service) notify(ctx context.Context, u *store.User, kind string, m Meta) {
	s.notifier.Notify(ctx, u, Notice{Kind: kind, At: s.now(), IP: m.IP, UserAgent: m.UserAgent})
}
