package invite

import (
	"context"
	"errors"
	"time"

	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/store"
)

// issueLink stores, in st, a fresh invitation link for u that works until expires, and
// returns its token; u's earlier invitation links stop working.
func (s *Service) issueLink(ctx context.Context, st store.Store, u *store.User, now, expires time.Time) (string, error) {
	return links.Issue(ctx, st, s.rand, now, links.Link{Purpose: store.LinkInvitation, UserID: u.ID, Email: u.Email,
		TTL: expires.Sub(now)})
}

// peekLink and consumeLink return the live invitation link tok names, or ErrInvalidLink.
func peekLink(ctx context.Context, st links.Store, tok string, now time.Time) (*store.LinkToken, error) {
	l, err := links.Peek(ctx, st, store.LinkInvitation, tok, now)
	return l, ours(err)
}

func consumeLink(ctx context.Context, st links.Store, tok string, now time.Time) (*store.LinkToken, error) {
	l, err := links.Consume(ctx, st, store.LinkInvitation, tok, now)
	return l, ours(err)
}

// ours words the links' one refusal for an invitation.
func ours(err error) error {
	if errors.Is(err, links.ErrInvalid) {
		return ErrInvalidLink
	}
	return err
}

// sameAddress reports whether u still has the address the link l went to.
func sameAddress(l *store.LinkToken, u *store.User) bool { return l.Email == u.Email }
