package mail

import (
	"context"
	"log/slog"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// noticeKinds maps the auth service's notices to message kinds.
var noticeKinds = map[string]string{
	auth.NoticeTOTPEnrolled:     KindTOTPEnrolled,
	auth.NoticeTOTPReplaced:     KindTOTPReplaced,
	auth.NoticeRecoveryCodeUsed: KindRecoveryCodeUsed,
	auth.NoticePasswordChanged:  KindPasswordChanged,
	auth.NoticePasswordReset:    KindPasswordReset,
	auth.NoticeResetLink:        KindPasswordResetLink,
	auth.NoticePasswordSet:      KindPasswordSet,
}

// Notifier tells users about security changes to their account by e-mail. It implements
// auth.Notifier.
type Notifier struct {
	mailer  Mailer
	log     *slog.Logger
	product string
	timeout time.Duration
}

var _ auth.Notifier = (*Notifier)(nil)

// NewNotifier sends notices through m; product names the service in the messages
// (empty: twofold).
func NewNotifier(m Mailer, log *slog.Logger, product string) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{mailer: m, log: log, product: product, timeout: 15 * time.Second}
}

// Notify e-mails the user about n. It runs after the change committed and never fails
// it: problems are logged. It outlives a cancelled request, up to its own time limit.
func (n *Notifier) Notify(ctx context.Context, u *store.User, no auth.Notice) {
	kind, ok := noticeKinds[no.Kind]
	if !ok {
		n.log.WarnContext(ctx, "no e-mail for this notice", "notice", no.Kind)
		return
	}
	msg, err := Compose(kind, u.Email, Data{Product: n.product, Name: u.Username, At: no.At, IP: no.IP, UserAgent: no.UserAgent,
		Link: no.Link, ExpiresAt: no.ExpiresAt})
	if err != nil {
		n.log.ErrorContext(ctx, "compose notice", "notice", no.Kind, "err", err)
		return
	}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.timeout)
	defer cancel()
	if err := n.mailer.Send(sendCtx, msg); err != nil {
		n.log.WarnContext(ctx, "notice e-mail not sent", "notice", no.Kind, "user", u.Username, "err", err)
	}
}
