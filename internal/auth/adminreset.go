package auth

import (
	"context"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// MailResetLink mails the account u a password reset link, valid ResetLinkTTL, for an
// administrator: the same link and mail as the forgotten-password page sends, taken from
// the same allowance of ResetLinksPerHour per account, so an administrator cannot flood a
// mailbox either. Unlike that page it says why no link goes out: a disabled account (apperr
// conflict), an invited one without a password (apperr conflict: resend the invitation),
// or the hour's allowance spent (apperr rate_limited). An API token's link (m) goes only
// to a plain user (ErrTokenOnPrivileged).
//
// u only names the account: every rule is decided on the row the link's transaction locks,
// and the link and its mail go to that row's address, so an address changed, an account
// disabled or promoted since the caller read u is seen. The allowance is taken in the same
// transaction, after those rules: a refused request spends none of it, and parallel
// requests still mail no more than ResetLinksPerHour. The mail is queued with the link.
func (s *Service) MailResetLink(ctx context.Context, u *store.User, m Meta) error {
	now := s.now()
	return s.accountTx(ctx, u.ID, func(st store.Store) error {
		fresh, err := lockTarget(ctx, st, u.ID, m)
		if err != nil {
			return err
		}
		switch {
		case fresh.Disabled:
			return apperr.Msg(apperr.CodeConflict, "err.admin_reset_disabled", "Username", fresh.Username)
		case fresh.PasswordHash == NoPassword:
			return apperr.Msg(apperr.CodeConflict, "err.admin_reset_invited", "Username", fresh.Username)
		}
		took, err := throttle.TakeHourly(ctx, st, "password_reset:"+fresh.ID, now, ResetLinksPerHour)
		if err != nil {
			return err
		}
		if !took.Granted {
			e := apperr.Msg(apperr.CodeRateLimited, "err.admin_reset_limit", "Username", fresh.Username, "Max", ResetLinksPerHour)
			e.RetryAfter = took.RetryAfter(now)
			return e
		}
		link := links.Link{Purpose: store.LinkPasswordReset, UserID: fresh.ID, Email: fresh.Email, TTL: ResetLinkTTL}
		tok, err := links.Issue(ctx, st, s.rand, now, link)
		if err != nil {
			return err
		}
		n := Notice{Kind: NoticeResetLink, At: now, IP: m.IP, UserAgent: m.UserAgent,
			Link: links.URL(s.publicURL, "/password/reset", tok), ExpiresAt: now.Add(ResetLinkTTL)}
		if err := s.notifier.Notify(ctx, st, &fresh.Account, n); err != nil {
			return err
		}
		return s.record(ctx, st, audit.PasswordResetRequested, fresh.ID, m, "link sent by an administrator")
	})
}
