package mail

import (
	"context"
	"log/slog"

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
	auth.NoticeWebAuthnAdded:    KindWebAuthnAdded,
	auth.NoticeWebAuthnRemoved:  KindWebAuthnRemoved,
}

// Notifier tells users about security changes to their account by e-mail, through the
// mail queue. It implements auth.Notifier.
type Notifier struct {
	queue   *Queue
	log     *slog.Logger
	product string
}

var _ auth.Notifier = (*Notifier)(nil)

// NewNotifier queues notices in q; product names the service in the messages (empty:
// twofold).
func NewNotifier(q *Queue, log *slog.Logger, product string) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{queue: q, log: log, product: product}
}

// Notify queues the e-mail about n in tx, the transaction of the change: the mail is sent
// exactly when the change commits, and never makes the change wait for a mail server.
// A notice without an e-mail is logged and queues nothing.
func (n *Notifier) Notify(ctx context.Context, tx auth.NoticeTx, u *store.Account, no auth.Notice) error {
	kind, ok := noticeKinds[no.Kind]
	if !ok {
		n.log.WarnContext(ctx, "no e-mail for this notice", "notice", no.Kind)
		return nil
	}
	msg, err := Compose(kind, u.Email, Data{Product: n.product, Name: u.Username, At: no.At, IP: no.IP, UserAgent: no.UserAgent,
		Link: no.Link, ExpiresAt: no.ExpiresAt, Lang: u.Language})
	if err != nil {
		return err
	}
	return n.queue.Enqueue(ctx, tx, msg)
}
