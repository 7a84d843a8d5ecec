package auth

import (
	"context"

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
// or the hour's allowance spent (apperr rate_limited). An API token's link (m) goes only
// to a plain user, as the link's transaction sees the account (ErrTokenOnPrivileged). The
// mail is queued with the link.
func (s *Service) MailResetLink(ctx context.Context, u *store.User, m Meta) error {
	switch {
	case u.Disabled:
		return apperr.Msg(apperr.CodeConflict, "err.admin_reset_disabled", "Username", u.Username)
	case u.PasswordHash == NoPassword:
		return apperr.Msg(apperr.CodeConflict, "err.admin_reset_invited", "Username", u.Username)
	}
	now := s.now()
	took, err := throttle.TakeHourly(ctx, s.store, "password_reset:"+u.ID, now, ResetLinksPerHour)
	if err != nil {
		return err
	}
	if !took.Granted {
		e := apperr.Msg(apperr.CodeRateLimited, "err.admin_reset_limit", "Username", u.Username, "Max", ResetLinksPerHour)
		e.RetryAfter = took.RetryAfter(now)
		return e
	}
	return s.store.WithTx(ctx, func(st store.Store) error {
		// An API token mails links only to plain users: checked again on the locked row,
		// so an account promoted since the caller read u gets no link from a token.
		if err := TokenMayChangeIn(ctx, st, u.ID, m); err != nil {
			return err
		}
		link := links.Link{Purpose: store.LinkPasswordReset, UserID: u.ID, Email: u.Email, TTL: ResetLinkTTL}
		tok, err := links.Issue(ctx, st, s.rand, now, link)
		if err != nil {
			return err
		}
		n := Notice{Kind: NoticeResetLink, At: now, IP: m.IP, UserAgent: m.UserAgent,
			Link: links.URL(s.publicURL, "/password/reset", tok), ExpiresAt: now.Add(ResetLinkTTL)}
		if err := s.notifier.Notify(ctx, st, &u.Account, n); err != nil {
			return err
		}
		return s.record(ctx, st, audit.PasswordResetRequested, u.ID, m, "link sent by an administrator")
	})
}
