package address

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
	"github.com/twofold-id/twofold/internal/throttle"
)

const (
	// VerifyTTL is how long a link that verifies the current address works.
	VerifyTTL = 24 * time.Hour
	// ChangeTTL is how long a link that confirms a new address works.
	ChangeTTL = time.Hour
	// LinksPerHour is how many links of each kind (verify, change) one account may ask
	// for per clock hour, counted in the database across instances: the mail goes to an
	// address, and nobody may flood one with it.
	LinksPerHour = 3
	// ConfirmPath is the page both kinds of link open: GET shows a button, POST confirms.
	ConfirmPath = "/account/email/confirm"
)

// Store is the storage the service uses outside transactions. Inside WithTx it works on
// the transaction's full store.Store. Every store.Store is one.
type Store interface {
	links.Store
	WithTx(ctx context.Context, fn func(store.Store) error) error
	GetUser(ctx context.Context, id string) (*store.User, error)
	TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (granted bool, refusals int, err error)
}

var _ Store = store.Store(nil)

// Options configure a Service. Store and Auth are required.
type Options struct {
	Store Store
	// Auth checks the current password before a change, on the sign-in's failure budget.
	Auth *auth.Service
	// Post sends the links and notices, in the transaction of their event.
	Post mail.Post
	Log  *slog.Logger
	Now  func() time.Time // default time.Now
	Rand io.Reader        // default crypto/rand.Reader
}

// Service verifies and changes addresses. It knows nothing of HTTP.
type Service struct {
	store Store
	auth  *auth.Service
	post  mail.Post
	log   *slog.Logger
	now   func() time.Time
	rand  io.Reader
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{store: o.Store, auth: o.Auth, post: o.Post, log: o.Log, now: o.Now, rand: o.Rand}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s
}

// payload is what a link carries to its confirmation.
type payload struct {
	// EmailNorm is the lookup key of the address the link proves.
	EmailNorm string `json:"email_norm"`
}

var (
	errSame  = apperr.Msg(apperr.CodeInvalidEmail, "err.address_same")
	errTaken = apperr.Msg(apperr.CodeConflict, "err.address_taken")
)

// SendVerification mails a link that verifies the signed-in user's current address (valid
// VerifyTTL; a new link replaces the earlier one). rate_limited past LinksPerHour in the
// clock hour. The mail is queued with the link.
func (s *Service) SendVerification(ctx context.Context, cur *auth.Current, m auth.Meta) error {
	if cur.Session.State != store.StateAuthenticated {
		return apperr.ErrUnauthenticated
	}
	m.ActorID = cur.User.ID
	if err := s.take(ctx, "email_verify:"+cur.User.ID); err != nil {
		return err
	}
	now := s.now()
	return store.AccountTx(ctx, s.store, cur.User.ID, func(st store.Store) error {
		// The address's lookup key is read with the link it goes into; a request's Current
		// holds the account only.
		u, err := st.GetUser(ctx, cur.User.ID)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.ErrUnauthenticated
		} else if err != nil {
			return err
		}
		tok, err := links.Issue(ctx, st, s.rand, now, links.Link{Purpose: store.LinkEmailVerify, UserID: u.ID, Email: u.Email,
			Payload: payload{EmailNorm: u.EmailNorm}, TTL: VerifyTTL})
		if err != nil {
			return err
		}
		if _, err := s.post.Send(ctx, st, mail.KindAddressVerify, u.Email, mail.Data{Name: u.Username,
			Link: s.post.Link(ConfirmPath, tok), ExpiresAt: now.Add(VerifyTTL), Lang: u.Language}); err != nil {
			return err
		}
		return audit.Record(ctx, st, now, audit.EmailVerifySent, u.ID, m, "")
	})
}

// RequestChange starts a change of the signed-in user's address to newEmail: after the
// current password (invalid_credentials when wrong, spending the sign-in's failure budget),
// a link valid ChangeTTL goes to the new address, and the address changes only when that
// link is confirmed. The answer and the work are the same whether or not another account
// uses newEmail: then that address gets a notice that nothing changed instead of the link.
// invalid_email for an address that is not valid or is already the user's; rate_limited
// past LinksPerHour in the clock hour. The mail is queued with the link.
func (s *Service) RequestChange(ctx context.Context, cur *auth.Current, newEmail, password string, m auth.Meta) error {
	if cur.Session.State != store.StateAuthenticated {
		return apperr.ErrUnauthenticated
	}
	email, norm, err := auth.ValidateEmail(newEmail)
	if e, ok := apperr.As(err); ok {
		return apperr.New(apperr.CodeInvalidEmail, e.Message)
	} else if err != nil {
		return err
	}
	u := cur.User
	if email == u.Email {
		return errSame
	}
	if err := s.auth.CheckPassword(ctx, cur, password, audit.EmailChangeFailed, m); err != nil {
		return err
	}
	m.ActorID = u.ID
	if err := s.take(ctx, "email_change:"+u.ID); err != nil {
		return err
	}
	now := s.now()
	return store.AccountTx(ctx, s.store, u.ID, func(st store.Store) error {
		owner, err := st.GetUserByLogin(ctx, norm)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// The link is issued either way, so a taken address costs the same work.
		tok, err := links.Issue(ctx, st, s.rand, now, links.Link{Purpose: store.LinkEmailChange, UserID: u.ID, Email: email,
			Payload: payload{EmailNorm: norm}, TTL: ChangeTTL})
		if err != nil {
			return err
		}
		if owner != nil && owner.ID != u.ID {
			_, err = s.post.Send(ctx, st, mail.KindAddressTaken, email, mail.Data{Name: owner.Username, NewEmail: email, At: now, Lang: owner.Language})
		} else {
			_, err = s.post.Send(ctx, st, mail.KindAddressChange, email, mail.Data{Name: u.Username, NewEmail: email,
				Link: s.post.Link(ConfirmPath, tok), ExpiresAt: now.Add(ChangeTTL), Lang: u.Language})
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, st, now, audit.EmailChangeRequested, u.ID, m, "to "+email)
	})
}

// Pending is what the confirmation page shows about a live link.
type Pending struct {
	Change    bool // a change of address; false: verification of the current one
	Username  string
	Email     string // the address the link proves
	ExpiresAt time.Time
}

// purposes are the links ConfirmPath serves, in the order they are tried.
var purposes = []string{store.LinkEmailChange, store.LinkEmailVerify}

// Peek tells what a link would confirm, for the page its GET shows. It changes nothing:
// mail scanners open links. links.ErrInvalid (invalid_token) when the link is unknown,
// used, expired or replaced, its account is disabled, or (a verification link) the
// account's address changed since it was sent.
func (s *Service) Peek(ctx context.Context, token string) (*Pending, error) {
	l, purpose, err := find(ctx, s.store, token, s.now())
	if err != nil {
		return nil, err
	}
	u, p, err := s.account(ctx, s.store, l)
	if err != nil {
		return nil, err
	}
	if purpose == store.LinkEmailVerify && u.EmailNorm != p.EmailNorm {
		return nil, links.ErrInvalid
	}
	return &Pending{Change: purpose == store.LinkEmailChange, Username: u.Username, Email: l.Email, ExpiresAt: l.ExpiresAt}, nil
}

// Confirmed says what a confirmation did.
type Confirmed struct {
	Changed  bool // the address changed; false: the current one is now verified
	Username string
	Email    string // the account's address now, verified
}

// Confirm uses up a link (once: of parallel confirmations exactly one wins) and does what
// it was for: a change link makes its address the account's, verified, and tells the old
// address; a verification link marks the current address verified. links.ErrInvalid as
// for Peek; conflict, with the link left usable until it expires, when another account
// took the new address since the link was sent. A change ends the account's other live
// address and password-reset links: they were sent to the old address.
func (s *Service) Confirm(ctx context.Context, token string, m auth.Meta) (*Confirmed, error) {
	now := s.now()
	// The link names its account; its lock comes before the link is used up, as every
	// change of the account takes it first (store.AccountTx): a change of address ends the
	// account's password-reset links, which a reset running beside it may hold.
	peeked, _, err := find(ctx, s.store, token, now)
	if err != nil {
		return nil, err
	}
	var done Confirmed
	err = store.AccountTx(ctx, s.store, peeked.UserID, func(st store.Store) error {
		l, purpose, err := consume(ctx, st, token, now)
		if err != nil {
			return err
		}
		if l.UserID != peeked.UserID { // one token, one link: cannot happen
			return links.ErrInvalid
		}
		u, p, err := s.account(ctx, st, l)
		if err != nil {
			return err
		}
		m.ActorID = u.ID
		done = Confirmed{Changed: purpose == store.LinkEmailChange, Username: u.Username, Email: l.Email}
		if purpose == store.LinkEmailVerify {
			if err := st.SetUserEmailVerified(ctx, u.ID, p.EmailNorm, now); errors.Is(err, store.ErrNotFound) {
				return links.ErrInvalid // the address changed since the link was sent
			} else if err != nil {
				return err
			}
			return audit.Record(ctx, st, now, audit.EmailVerified, u.ID, m, "")
		}
		if err := st.SetUserEmail(ctx, u.ID, l.Email, p.EmailNorm, true, now); errors.Is(err, store.ErrConflict) {
			return errTaken
		} else if err != nil {
			return err
		}
		for _, other := range []string{store.LinkEmailVerify, store.LinkEmailChange, store.LinkPasswordReset} {
			if err := links.Invalidate(ctx, st, other, u.ID, now); err != nil {
				return err
			}
		}
		if u.EmailNorm != p.EmailNorm {
			if _, err := s.post.Send(ctx, st, mail.KindAddressChanged, u.Email, mail.Data{Name: u.Username, NewEmail: l.Email,
				At: now, IP: m.IP, UserAgent: m.UserAgent, Lang: u.Language}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, st, now, audit.EmailChanged, u.ID, m, u.Email+" -> "+l.Email)
	})
	if err != nil {
		return nil, err
	}
	return &done, nil
}

// find returns the live link that token names, of whichever purpose ConfirmPath serves,
// and changes nothing.
func find(ctx context.Context, st links.Peeker, token string, now time.Time) (*store.LinkToken, string, error) {
	for _, purpose := range purposes {
		l, err := links.Peek(ctx, st, purpose, token, now)
		if errors.Is(err, links.ErrInvalid) {
			continue
		}
		return l, purpose, err
	}
	return nil, "", links.ErrInvalid
}

// consume uses up the live link that token names, of whichever purpose ConfirmPath serves.
func consume(ctx context.Context, st store.Store, token string, now time.Time) (*store.LinkToken, string, error) {
	for _, purpose := range purposes {
		l, err := links.Consume(ctx, st, purpose, token, now)
		if errors.Is(err, links.ErrInvalid) {
			continue
		}
		return l, purpose, err
	}
	return nil, "", links.ErrInvalid
}

// userGetter reads accounts: the service's store, or a transaction.
type userGetter interface {
	GetUser(ctx context.Context, id string) (*store.User, error)
}

// account returns the enabled account a link acts on and the link's payload;
// links.ErrInvalid when it is gone or disabled.
func (s *Service) account(ctx context.Context, st userGetter, l *store.LinkToken) (*store.User, *payload, error) {
	u, err := st.GetUser(ctx, l.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, nil, links.ErrInvalid
	}
	if err != nil {
		return nil, nil, err
	}
	var p payload
	if err := links.Decode(l, &p); err != nil || p.EmailNorm == "" {
		return nil, nil, fmt.Errorf("address: link payload: %v", err)
	}
	return u, &p, nil
}

// take counts one link against the account's hourly allowance of its kind.
func (s *Service) take(ctx context.Context, window string) error {
	now := s.now()
	took, err := throttle.TakeHourly(ctx, s.store, window, now, LinksPerHour)
	if err != nil || took.Granted {
		return err
	}
	e := apperr.Msg(apperr.CodeRateLimited, "err.address_links_limit")
	e.RetryAfter = took.RetryAfter(now)
	return e
}
