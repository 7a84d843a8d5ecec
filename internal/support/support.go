package support

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/ratelimit"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// LinkTTL is how long an e-mail verification link works.
const LinkTTL = 24 * time.Hour

// Options configure a Service. Store and Auth are required.
type Options struct {
	Store Store
	// Auth provides the MFA policy (who must use MFA) and account facts.
	Auth *auth.Service
	// Post sends case mail and reset notices, in the transaction of the event they tell of.
	Post mail.Post
	Log  *slog.Logger
	// RequireApproval turns on dual control: a reset needs a second agent's approval.
	RequireApproval bool
	// Per-hour limits on opening cases; 0 takes the defaults
	// (throttle.DefaultSupportCasesPerIPHour and ...PerEmailHour).
	CasesPerIPHour    int
	CasesPerEmailHour int
	// MailsPerHour caps the mail the public form sends per clock hour, counted in the
	// database across every instance; 0 takes throttle.DefaultSupportMailsPerHour.
	MailsPerHour int
	Now          func() time.Time // default time.Now
	Rand         io.Reader        // default crypto/rand.Reader
	// Metrics counts cases opened and MFA resets; nil counts nothing.
	Metrics metrics.Recorder
}

// Service runs the support desk. It knows nothing of HTTP.
type Service struct {
	store           Store
	auth            *auth.Service
	post            mail.Post
	log             *slog.Logger
	requireApproval bool
	perIP           *ratelimit.Limiter
	perEmail        *ratelimit.Limiter
	mailsPerHour    int
	now             func() time.Time
	rand            io.Reader
	metrics         metrics.Recorder
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{
		store: o.Store, auth: o.Auth, post: o.Post, log: o.Log, requireApproval: o.RequireApproval,
		now: o.Now, rand: o.Rand, metrics: metrics.Or(o.Metrics),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	perIP, perEmail := o.CasesPerIPHour, o.CasesPerEmailHour
	if perIP <= 0 {
		perIP = throttle.DefaultSupportCasesPerIPHour
	}
	if perEmail <= 0 {
		perEmail = throttle.DefaultSupportCasesPerEmailHour
	}
	s.perIP = ratelimit.New(throttle.PerHour(perIP), s.now)
	s.perEmail = ratelimit.New(throttle.PerHour(perEmail), s.now)
	s.mailsPerHour = o.MailsPerHour
	if s.mailsPerHour <= 0 {
		s.mailsPerHour = throttle.DefaultSupportMailsPerHour
	}
	return s
}

// RequireApproval reports whether resets need a second agent (dual control).
func (s *Service) RequireApproval() bool { return s.requireApproval }

// Meta describes the request an operation comes from, for the audit log.
type Meta = auth.Meta

// IsAgent reports whether u may work support cases: the support and admin roles.
func IsAgent(u *store.Account) bool {
	return u != nil && !u.Disabled && (u.Role == store.RoleSupport || u.Role == store.RoleAdmin)
}

var errNotAgent = apperr.Msg(apperr.CodeForbidden, "err.not_agent")

// requireAgent refuses everyone but agents.
func requireAgent(agent *store.Account) error {
	if !IsAgent(agent) {
		return errNotAgent
	}
	return nil
}

// errNoCase says no case has the reference as typed, quoted with apperr.Quote: cut at 80
// characters, with controls (a terminal escape, a NUL), direction overrides and bytes that
// are not UTF-8 escaped.
func errNoCase(ref string) error {
	return apperr.Msg(apperr.CodeNotFound, "err.no_case", "Reference", apperr.Quote(ref))
}

var errClosed = apperr.Msg(apperr.CodeConflict, "err.case_closed")

// loadCase finds the case with the (user-typed) reference in st.
func loadCase(ctx context.Context, st Store, ref string) (*store.SupportCase, error) {
	norm, ok := NormalizeReference(ref)
	if !ok {
		return nil, errNoCase(ref)
	}
	c, err := st.GetCaseByReference(ctx, norm)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoCase(ref)
	}
	return c, err
}

// loadOpenCase is loadCase for a change: a closed case gives a conflict.
func loadOpenCase(ctx context.Context, st store.Store, ref string) (*store.SupportCase, error) {
	c, err := loadCase(ctx, st, ref)
	if err == nil && store.CaseClosed(c.Status) {
		return nil, errClosed
	}
	return c, err
}

// record appends an audit event through st.
func (s *Service) record(ctx context.Context, st audit.Appender, event, subject string, m Meta, detail string) error {
	return audit.Record(ctx, st, s.now(), event, subject, m, detail)
}

// timeline appends an entry saying t to the case's timeline through st: its English text,
// and t itself for the case page to say in its reader's language.
func (s *Service) timeline(ctx context.Context, st Store, caseID, kind, actorID string, t Text) error {
	return st.AddCaseEvent(ctx, &store.CaseEvent{CaseID: caseID, At: s.now(), Kind: kind, ActorID: actorID,
		Body: clip(t.English(), maxBody), Message: t.encode()})
}

// addNote appends an agent's note, as typed, to the case's timeline through st.
func (s *Service) addNote(ctx context.Context, st Store, caseID, actorID, text string) (*store.CaseEvent, error) {
	e := &store.CaseEvent{CaseID: caseID, At: s.now(), Kind: EventNote, ActorID: actorID, Body: clip(text, maxBody)}
	return e, st.AddCaseEvent(ctx, e)
}

// maxBody and maxMessage bound a timeline entry's stored text and Text.
const (
	maxBody    = 8000
	maxMessage = 16000
)

func newID() string { return uuid.NewString() }

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
