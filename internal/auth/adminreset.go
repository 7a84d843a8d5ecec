package auth

import (
	"context"
	"fmt"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// MailResetLink mails u a password reset link, valid ResetLinkTTL, for an administrator:
// the same link and mail as the forgotten-password page sends, taken from the same
// allowance of ResetLinksPerHour per account, so an administrator cannot flood a mailbox
// either. Unlike that page it says why no link goes out: a disabled account (apperr
// conflict), an invited one without a password (apperr conflict: resend the invitation),
// or the hour's allowance spent (apperr rate_limited). The mail is queued with the link.
func (s *Service) MailResetLink(ctx context.Context, u *store.User, m Meta) error {
	switch {
	case u.Disabled:
		return apperr.New(apperr.CodeConflict, fmt.Sprintf("%s is disabled: enable the account first.", u.Username))
	case u.PasswordHash == NoPassword:
		return apperr.New(apperr.CodeConflict, fmt.Sprintf("%s has not accepted the invitation yet, so there is no password to reset: resend the invitation instead.", u.Username))
	}
	now := s.now()
	took, err := throttle.TakeHourly(ctx, s.store, "password_reset:"+u.ID, now, ResetLinksPerHour)
	if err != nil {
		return err
	}
	if !took.Granted {
		return &apperr.Error{Code: apperr.CodeRateLimited, RetryAfter: took.RetryAfter(now),
			Message: fmt.Sprintf("%s was mailed %d reset links this hour already: try again later.", u.Username, ResetLinksPerHour)}
	}
	return s.store.WithTx(ctx, func(st store.Store) error {
		link := links.Link{Purpose: store.LinkPasswordReset, UserID: u.ID, Email: u.Email, TTL: ResetLinkTTL}
		tok, err := links.Issue(ctx, st, s.rand, now, link)
		if err != nil {
			return err
		}
		n := Notice{Kind: NoticeResetLink, At: now, IP: m.IP, UserAgent: m.UserAgent,
			Link: links.URL(s.publicURL, "/password/reset", tok), ExpiresAt: now.Add(ResetLinkTTL)}
		if err := s.notifier.Notify(ctx, st, u, n); err != nil {
			return err
		}
		return s.record(ctx, st, audit.PasswordResetRequested, u.ID, m, "link sent by an administrator")
	})
}
