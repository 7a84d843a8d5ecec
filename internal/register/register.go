package register

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/ratelimit"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// LinkTTL is how long a registration link works: the person registering is waiting for it.
const LinkTTL = time.Hour

// Defaults of the limits when Options leave them zero (config.DefaultRegistration's).
const (
	DefaultPerIPHour    = 10
	DefaultPerEmailHour = 3
	DefaultMailsPerHour = 100
)

// Store is the storage registration uses outside transactions. Inside WithTx it works on
// the transaction's full store.Store. Every store.Store is one.
type Store interface {
	links.Store
	WithTx(ctx context.Context, fn func(store.Store) error) error
	AppendAudit(ctx context.Context, e *store.AuditEvent) error
	GetUserByLogin(ctx context.Context, identifierNorm string) (*store.User, error)
	TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (granted bool, refusals int, err error)
}

var _ Store = store.Store(nil)

// Options configure a Service. Store and Auth are required.
type Options struct {
	Store Store
	Auth  *auth.Service
	// Post sends the links and notices, in the transaction of the request.
	Post mail.Post
	Log  *slog.Logger
	// Enabled offers registration; off, every call answers not_found.
	Enabled bool
	// DomainAllowed says whether an address of a (case-folded) domain may register; nil
	// allows every domain.
	DomainAllowed func(domain string) bool
	// Requests per hour from one client address and for one e-mail address, and the mail
	// sent per clock hour by every instance together; 0 takes the defaults above.
	PerIPHour, PerEmailHour, MailsPerHour int
	Now                                   func() time.Time // default time.Now
	Rand                                  io.Reader        // default crypto/rand.Reader
}

// Service runs self-registration. It knows nothing of HTTP.
type Service struct {
	store         Store
	auth          *auth.Service
	post          mail.Post
	log           *slog.Logger
	enabled       bool
	domainAllowed func(string) bool
	perIP         *ratelimit.Limiter
	perEmail      *ratelimit.Limiter
	mailsPerHour  int
	now           func() time.Time
	rand          io.Reader
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{store: o.Store, auth: o.Auth, post: o.Post, log: o.Log, enabled: o.Enabled,
		domainAllowed: o.DomainAllowed, mailsPerHour: o.MailsPerHour, now: o.Now, rand: o.Rand}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.domainAllowed == nil {
		s.domainAllowed = func(string) bool { return true }
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.mailsPerHour <= 0 {
		s.mailsPerHour = DefaultMailsPerHour
	}
	s.perIP = ratelimit.New(throttle.PerHour(orDefault(o.PerIPHour, DefaultPerIPHour)), s.now)
	s.perEmail = ratelimit.New(throttle.PerHour(orDefault(o.PerEmailHour, DefaultPerEmailHour)), s.now)
	return s
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// Enabled reports whether registration is offered (registration.enabled).
func (s *Service) Enabled() bool { return s != nil && s.enabled }

// ErrOff answers every call while registration is off.
var ErrOff = apperr.Msg(apperr.CodeNotFound, "err.registration_off")

// Request is what the registration form and API submit.
type Request struct {
	Username string
	Email    string
	Password string
}

// payload is what a registration link carries: the account to create. The password is
// there only as its argon2id hash.
type payload struct {
	Username     string `json:"username"`
	PasswordHash string `json:"password_hash"`
}

// What a request sends, for the audit detail.
const (
	sentLink    = "link"
	sentNotice  = "notice to the account using the address"
	sentNothing = "nothing"
	whyDomain   = "domain not allowed"
	whyDisabled = "account using the address is disabled"
	whyMailCap  = "hourly mail cap reached"
	mailCapName = "registration_mail"
)

// Register answers a registration request. A malformed name or address gives bad_request,
// a password the policy refuses weak_password (neither says anything about accounts), too
// many requests from the client address or for the address rate_limited. Otherwise the
// answer is nil, and it is the same, with the same store calls in the same order and one
// argon2id hash, whether the address is free, used by an account or of a domain that may
// not register: a link is issued in every case, but mailed only when the address may
// register. When an enabled account uses the address, that account gets a notice that
// someone tried to register with it instead; past the hourly mail cap nobody gets mail.
// The username is checked when the link is confirmed, by whoever holds the address.
func (s *Service) Register(ctx context.Context, in Request, m auth.Meta) error {
	if !s.Enabled() {
		return ErrOff
	}
	name, _, err := auth.ValidateUsername(in.Username)
	if err != nil {
		return err
	}
	email, emailNorm, err := auth.ValidateEmail(in.Email)
	if err != nil {
		return err
	}
	if in.Password == "" {
		return apperr.Msg(apperr.CodeBadRequest, "err.choose_password")
	}
	if err := s.auth.CheckNewPassword(in.Password, name, email); err != nil {
		return err
	}
	if ok, wait := s.perIP.Allow("ip:" + ratelimit.AddressKey(m.IP)); !ok {
		return apperr.RateLimited("err.register_limit_ip", wait)
	}
	if ok, wait := s.perEmail.Allow("email:" + ratelimit.EmailKey(emailNorm)); !ok {
		return apperr.RateLimited("err.register_limit_email", wait)
	}
	hash, err := s.auth.HashPassword(ctx, in.Password)
	if err != nil {
		return err
	}
	mayMail, err := s.takeMail(ctx, m)
	if err != nil {
		return err
	}
	existing, err := s.store.GetUserByLogin(ctx, emailNorm)
	if errors.Is(err, store.ErrNotFound) {
		existing, err = nil, nil
	}
	if err != nil {
		return err
	}
	sent, subject := sentLink, ""
	switch {
	case !s.domainAllowed(domainOf(emailNorm)):
		sent = sentNothing + " (" + whyDomain + ")"
	case existing != nil && existing.Disabled:
		sent, subject = sentNothing+" ("+whyDisabled+")", existing.ID
	case existing != nil:
		sent, subject = sentNotice, existing.ID
	}
	if !mayMail {
		sent = sentNothing + " (" + whyMailCap + ")"
	}
	m.ActorID = ""
	var token string
	err = s.store.WithTx(ctx, func(st store.Store) error {
		var err error
		token, err = links.Issue(ctx, st, s.rand, s.now(), links.Link{Purpose: store.LinkRegistration, Email: email,
			Payload: payload{Username: name, PasswordHash: hash}, TTL: LinkTTL})
		if err != nil {
			return err
		}
		// The mail is queued with the link: the answer never waits for a mail server, so
		// its time says nothing about whether there was anything to send.
		switch sent {
		case sentLink:
			_, err = s.post.Send(ctx, st, mail.KindRegistrationLink, email, mail.Data{Name: name,
				Link: s.post.Link("/register/confirm", token), ExpiresAt: s.now().Add(LinkTTL), Lang: i18n.FromContext(ctx)})
		case sentNotice:
			_, err = s.post.Send(ctx, st, mail.KindRegistrationAttempt, existing.Email, mail.Data{Name: existing.Username,
				At: s.now(), IP: m.IP, UserAgent: m.UserAgent, Lang: existing.Language})
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, st, s.now(), audit.RegistrationRequested, subject, m, "sent="+sent)
	})
	return err
}

// Pending is a registration waiting for its link to be confirmed, as its page shows it.
type Pending struct {
	Username string
	Email    string
}

var errInvalidLink = apperr.Msg(apperr.CodeInvalidToken, "err.registration_link")

// Check returns the registration the link stands for, changing nothing, for the page the
// link opens (mail scanners fetch links too). An unknown, used or expired link gives
// invalid_token; registration turned off, not_found.
func (s *Service) Check(ctx context.Context, token string) (*Pending, error) {
	if !s.Enabled() {
		return nil, ErrOff
	}
	l, p, err := s.peek(ctx, token)
	if err != nil {
		return nil, err
	}
	return &Pending{Username: p.Username, Email: l.Email}, nil
}

// Confirm consumes the link and creates its account (the user role, the address verified),
// signed in: the session is enrollment_required when the MFA policy wants an authenticator,
// else authenticated. Of parallel confirmations of one link exactly one creates the
// account; the others get invalid_token. A name or address an account took since the
// request gives a conflict that says so, and leaves the link as it was. A link whose domain
// may no longer register is refused like an unknown one.
func (s *Service) Confirm(ctx context.Context, token string, m auth.Meta) (*auth.Current, error) {
	if !s.Enabled() {
		return nil, ErrOff
	}
	var cur *auth.Current
	err := s.store.WithTx(ctx, func(st store.Store) error {
		l, p, err := s.consume(ctx, st, token)
		if err != nil {
			return err
		}
		cur, err = s.auth.CreateRegistered(ctx, st, auth.Registration{Username: p.Username, Email: l.Email,
			PasswordHash: p.PasswordHash}, m)
		if err != nil {
			return err
		}
		m.ActorID = cur.User.ID
		return audit.Record(ctx, st, s.now(), audit.RegistrationConfirmed, cur.User.ID, m, "username="+cur.User.Username)
	})
	if err != nil {
		return nil, err
	}
	return cur, nil
}

// peek reads the live link of token without using it.
func (s *Service) peek(ctx context.Context, token string) (*store.LinkToken, *payload, error) {
	l, err := links.Peek(ctx, s.store, store.LinkRegistration, token, s.now())
	return s.open(l, err)
}

// consume uses the live link of token in st.
func (s *Service) consume(ctx context.Context, st store.Store, token string) (*store.LinkToken, *payload, error) {
	l, err := links.Consume(ctx, st, store.LinkRegistration, token, s.now())
	return s.open(l, err)
}

// open decodes a link's payload; a link that is gone, or whose domain may no longer
// register, is an invalid link.
func (s *Service) open(l *store.LinkToken, err error) (*store.LinkToken, *payload, error) {
	if errors.Is(err, links.ErrInvalid) {
		return nil, nil, errInvalidLink
	}
	if err != nil {
		return nil, nil, err
	}
	var p payload
	if err := links.Decode(l, &p); err != nil || p.Username == "" || p.PasswordHash == "" {
		return nil, nil, fmt.Errorf("registration link payload: %w", err)
	}
	_, emailNorm, err := auth.ValidateEmail(l.Email)
	if err != nil || !s.domainAllowed(domainOf(emailNorm)) {
		return nil, nil, errInvalidLink
	}
	return l, &p, nil
}

// takeMail takes one mail from this hour's cap, counted in the database so the cap holds
// across instances. Past the cap it returns false; the first refusal of the hour (only that
// one, on whichever instance) is audited and logged.
func (s *Service) takeMail(ctx context.Context, m auth.Meta) (bool, error) {
	took, err := throttle.TakeHourly(ctx, s.store, mailCapName, s.now(), s.mailsPerHour)
	if err != nil || !took.FirstRefusal {
		return took.Granted, err
	}
	hour := took.Hour
	s.log.WarnContext(ctx, "registration mail cap reached: requests are answered without mail until the next hour",
		"cap", s.mailsPerHour, "hour", hour)
	detail := fmt.Sprintf("cap=%d hour=%s", s.mailsPerHour, hour.Format(time.RFC3339))
	audit.Aside(ctx, s.log, audit.RegistrationMailCapped, "",
		audit.Record(ctx, s.store, s.now(), audit.RegistrationMailCapped, "", m, detail))
	return false, nil
}

// domainOf is the domain of a normalised address.
func domainOf(emailNorm string) string {
	return emailNorm[strings.LastIndexByte(emailNorm, '@')+1:]
}
