package invite

import (
	"context"
	"errors"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// ErrInvalidLink answers every link that cannot be accepted: unknown, used, replaced by a
// resent one, expired, or for an account that accepted, was disabled or changed address.
var ErrInvalidLink = apperr.Msg(apperr.CodeInvalidToken, "err.invitation_link")

// Info is what the invitation page shows about a live link.
type Info struct {
	Username  string
	Email     string
	ExpiresAt time.Time
}

// Check tells whether the link tok can still be accepted, for the page its GET shows. It
// changes nothing: mail scanners open links.
func (s *Service) Check(ctx context.Context, tok string) (*Info, error) {
	_, u, err := s.live(ctx, s.store, tok)
	if err != nil {
		return nil, err
	}
	inv, err := s.store.GetInvitation(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &Info{Username: u.Username, Email: u.Email, ExpiresAt: inv.ExpiresAt}, nil
}

// live returns the live link tok and its account, or ErrInvalidLink.
func (s *Service) live(ctx context.Context, st Store, tok string) (*store.LinkToken, *store.User, error) {
	l, err := peekLink(ctx, st, tok, s.now())
	if err != nil {
		return nil, nil, err
	}
	u, err := st.GetUser(ctx, l.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrInvalidLink
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled || u.PasswordHash != auth.NoPassword || !sameAddress(l, u) {
		return nil, nil, ErrInvalidLink
	}
	return l, u, nil
}

// Accept spends the link tok and gives its account the password pw: the policy applies
// (weak_password with the reason, and the link stays live), the address the link went to
// is verified, and the first session opens as a sign-in with the new password would:
// enrollment_required when the policy wants MFA, else authenticated. The caller sets its
// cookie. Of parallel acceptances of one link exactly one succeeds; every other, and every
// link that cannot be accepted, gets ErrInvalidLink.
func (s *Service) Accept(ctx context.Context, tok, pw string, m auth.Meta) (*auth.Current, error) {
	_, u, err := s.live(ctx, s.store, tok)
	if err != nil {
		return nil, err
	}
	hash, err := s.auth.HashNewPassword(ctx, u, pw)
	if err != nil {
		return nil, err
	}
	var cur *auth.Current
	// The account's lock first, as every change of the account takes it (store.AccountTx):
	// a resend beside the acceptance renews the invitation, then ends the links.
	err = store.AccountTx(ctx, s.store, u.ID, func(st store.Store) error {
		now := s.now()
		l, err := consumeLink(ctx, st, tok, now)
		if err != nil {
			return err
		}
		if l.UserID != u.ID { // one token, one link: cannot happen
			return ErrInvalidLink
		}
		if err := st.AcceptInvitation(ctx, l.UserID, now); errors.Is(err, store.ErrNotFound) {
			return ErrInvalidLink
		} else if err != nil {
			return err
		}
		fresh, err := st.GetUser(ctx, l.UserID)
		if err != nil {
			return err
		}
		if fresh.Disabled || fresh.PasswordHash != auth.NoPassword || !sameAddress(l, fresh) {
			return ErrInvalidLink
		}
		if err := st.SetUserEmailVerified(ctx, fresh.ID, fresh.EmailNorm, now); err != nil {
			return err
		}
		fresh.EmailVerified = true
		m.ActorID = fresh.ID
		if cur, err = s.auth.SetFirstPassword(ctx, st, fresh, hash, m); err != nil {
			return err
		}
		return audit.Record(ctx, st, now, audit.InvitationAccepted, fresh.ID, m, "next="+cur.Session.State)
	})
	if err != nil {
		return nil, err
	}
	return cur, nil
}
