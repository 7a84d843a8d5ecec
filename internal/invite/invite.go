package invite

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/store"
)

// DefaultTTL is how long an invitation link works unless Options.TTL says otherwise.
const DefaultTTL = 7 * 24 * time.Hour

// Store is the storage the service uses outside transactions; inside WithTx it works on
// the transaction's full store.Store. Every store.Store is one.
type Store interface {
	WithTx(ctx context.Context, fn func(store.Store) error) error
	AppendAudit(ctx context.Context, e *store.AuditEvent) error
	GetUser(ctx context.Context, id string) (*store.User, error)
	GetInvitation(ctx context.Context, userID string) (*store.Invitation, error)
	links.Store
}

var _ Store = store.Store(nil)

// Options configure a Service. Store and Auth are required.
type Options struct {
	Store Store
	// Auth creates the accounts, checks the password policy and opens the first session.
	Auth *auth.Service
	// Post sends the invitation mail, in the invitation's transaction.
	Post mail.Post
	Log  *slog.Logger
	// TTL is how long a link works (invitations.ttl); 0 takes DefaultTTL.
	TTL  time.Duration
	Now  func() time.Time // default time.Now
	Rand io.Reader        // default crypto/rand.Reader
}

// Service sends and accepts invitations. It knows nothing of HTTP.
type Service struct {
	store Store
	auth  *auth.Service
	post  mail.Post
	log   *slog.Logger
	ttl   time.Duration
	now   func() time.Time
	rand  io.Reader
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{store: o.Store, auth: o.Auth, post: o.Post, log: o.Log, ttl: o.TTL, now: o.Now, rand: o.Rand}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s
}

// TTL is how long a new link works.
func (s *Service) TTL() time.Duration { return s.ttl }

// Sent says where an invitation went.
type Sent struct {
	User      *store.User
	ExpiresAt time.Time
}

// Invite creates the account nu without a password and mails it a link that sets the
// password, valid TTL. Bad input and a taken username or e-mail give application errors
// with a clear reason and create nothing. The mail is queued in the same transaction.
func (s *Service) Invite(ctx context.Context, nu auth.NewUser, m auth.Meta) (*Sent, error) {
	var sent *Sent
	var tok string
	err := s.store.WithTx(ctx, func(st store.Store) error {
		u, err := s.auth.CreateInvitedUser(ctx, st, nu, m)
		if err != nil {
			return err
		}
		now := s.now()
		inv := &store.Invitation{UserID: u.ID, InvitedBy: m.ActorID, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
		if err := st.CreateInvitation(ctx, inv); err != nil {
			return err
		}
		if tok, err = s.issueLink(ctx, st, u, now, inv.ExpiresAt); err != nil {
			return err
		}
		sent = &Sent{User: u, ExpiresAt: inv.ExpiresAt}
		if err := s.queueMail(ctx, st, sent, tok); err != nil {
			return err
		}
		return audit.Record(ctx, st, now, audit.InvitationSent, u.ID, m, "expires="+inv.ExpiresAt.UTC().Format(time.RFC3339))
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// Resend mails u a fresh link valid TTL from now; every earlier link stops working. An
// expired invitation can be resent; an accepted one cannot, nor one whose account got a
// password another way (apperr conflict), nor an account that was never invited (apperr
// bad_request), nor, by an API token, an administrator's or agent's (auth's
// TokenMayChangeIn, on the row as the transaction sees it).
func (s *Service) Resend(ctx context.Context, u *store.User, m auth.Meta) (*Sent, error) {
	var sent *Sent
	var tok string
	err := store.AccountTx(ctx, s.store, u.ID, func(st store.Store) error {
		if err := auth.TokenMayChangeIn(ctx, st, u.ID, m); err != nil {
			return err
		}
		inv, err := st.GetInvitation(ctx, u.ID)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.New(apperr.CodeBadRequest, fmt.Sprintf("%s was not invited: there is no invitation to resend.", u.Username))
		}
		if err != nil {
			return err
		}
		fresh, err := st.GetUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if inv.Accepted() {
			return errAccepted(fresh)
		}
		if fresh.PasswordHash != auth.NoPassword {
			return apperr.New(apperr.CodeConflict, fmt.Sprintf("%s has a password already: the invitation cannot be resent.", fresh.Username))
		}
		now := s.now()
		expires := now.Add(s.ttl)
		if err := st.RenewInvitation(ctx, u.ID, expires); errors.Is(err, store.ErrNotFound) {
			return errAccepted(u)
		} else if err != nil {
			return err
		}
		if tok, err = s.issueLink(ctx, st, fresh, now, expires); err != nil {
			return err
		}
		sent = &Sent{User: fresh, ExpiresAt: expires}
		if err := s.queueMail(ctx, st, sent, tok); err != nil {
			return err
		}
		return audit.Record(ctx, st, now, audit.InvitationResent, u.ID, m, "expires="+expires.UTC().Format(time.RFC3339))
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

func errAccepted(u *store.User) error {
	return apperr.New(apperr.CodeConflict, fmt.Sprintf("%s accepted the invitation already: it cannot be resent.", u.Username))
}

// State returns the user's invitation, or nil when the account was not invited.
func (s *Service) State(ctx context.Context, userID string) (*store.Invitation, error) {
	inv, err := s.store.GetInvitation(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return inv, err
}

// Link is the address of the page a token opens.
func (s *Service) Link(tok string) string { return s.post.Link("/invite", tok) }

// queueMail queues the invitation mail in st, the invitation's transaction.
func (s *Service) queueMail(ctx context.Context, st mail.Enqueuer, sent *Sent, tok string) error {
	u := sent.User
	_, err := s.post.Send(ctx, st, mail.KindInvitation, u.Email, mail.Data{Name: u.Username,
		Link: s.Link(tok), ExpiresAt: sent.ExpiresAt, Lang: u.Language})
	return err
}
