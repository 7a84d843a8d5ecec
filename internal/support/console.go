package support

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// Statuses lists the case statuses in the order the console filters them.
var Statuses = []string{store.CaseOpen, store.CaseWaitingForUser, store.CaseResolved, store.CaseRejected}

// Filter selects cases in the console.
type Filter struct {
	Status string // empty: every status
	Search string
	Limit  int // 0: 100; at most 500
}

// Summary is a case in the console's list.
type Summary struct {
	store.SupportCase
	Assignee string // username; "" when unassigned
}

// ListCases returns the cases f selects, newest first.
func (s *Service) ListCases(ctx context.Context, agent *store.Account, f Filter) ([]Summary, error) {
	if err := requireAgent(agent); err != nil {
		return nil, err
	}
	if f.Status != "" && !validStatus(f.Status) {
		return nil, apperr.New(apperr.CodeBadRequest, "Unknown status: use open, waiting_for_user, resolved or rejected.")
	}
	search, err := cleanText("q", f.Search, MaxSearch, false, false)
	if err != nil {
		return nil, err
	}
	if f.Limit < 0 || f.Limit > 500 {
		return nil, apperr.New(apperr.CodeBadRequest, "limit must be between 1 and 500.")
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	cases, err := s.store.ListCases(ctx, store.CaseFilter{Status: f.Status, Search: search, Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	names := s.namer(ctx)
	out := make([]Summary, 0, len(cases))
	for _, c := range cases {
		out = append(out, Summary{SupportCase: c, Assignee: names(c.AssigneeID)})
	}
	return out, nil
}

func validStatus(st string) bool {
	for _, x := range Statuses {
		if x == st {
			return true
		}
	}
	return false
}

// Account is what an agent sees of an account that matches a case's e-mail: facts that
// help verification, never a secret (no password hash, authenticator key or recovery code).
type Account struct {
	UserID       string
	Username     string
	Email        string
	Role         string
	Disabled     bool
	CreatedAt    time.Time
	LastSignInAt time.Time // zero: never
	MFAActive    bool
	MFASince     time.Time
	MFALastUsed  time.Time
	RecoveryCode bool
	MFARequired  bool
	// Keys names the user's security keys and passkeys, oldest first: what a reset removes.
	Keys           []string
	RecentFailures int  // failed sign-in steps in the last 30 days
	EmailConfirmed bool // ownership of this account's address is confirmed for the case
	// CanReset says whether the agent looking may reset this account's MFA; WhyNot says
	// why not, in English, and WhyNotKey names that sentence in the message catalog.
	CanReset  bool
	WhyNot    string
	WhyNotKey string
	// MFAState marks the state of the account's MFA shown here (its resets and second
	// factors); a reset request carries it back (ResetRequest.MFAState). Opaque.
	MFAState string
}

// Entry is one timeline entry, with the acting agent's name.
type Entry struct {
	At    time.Time
	Kind  string
	Actor string // username; "" for the public or the console
	Body  string // in English, or a note as typed (the support API's text)
	// Message is the entry's Text as stored ("" for a note or an older entry): In says
	// the entry in a language from it.
	Message string
}

// PendingReset is a reset waiting for a second agent.
type PendingReset struct {
	ID          string
	Username    string
	RequestedBy string // the requester's username; for an API token's request its creator's
	// Token names the API token that filed the request (its id when the token is gone);
	// "" when a person did. The token's creator may not approve it (ApproveReset).
	Token        string
	RequestedAt  time.Time
	Verification string
	Note         string
}

// Requester names who filed the request in English: the username, or "token NAME" for an
// API token's request (the support API's requested_by and the console's case view).
func (p *PendingReset) Requester() string {
	if p.Token != "" {
		return "token " + p.Token
	}
	return p.RequestedBy
}

// Details is the case page.
type Details struct {
	Case             store.SupportCase
	Assignee         string // username; "" when unassigned
	ClosedBy         string
	ConfirmedAccount string // username whose e-mail ownership is confirmed
	Accounts         []Account
	Timeline         []Entry
	Pending          *PendingReset
	RequireApproval  bool
}

// DescriptionIn returns the case's description in lang: the sentence twofold wrote it
// with, where it has one the catalog knows (a case an administrator opened), else the
// description as stored (as people typed it, or in English).
func (d Details) DescriptionIn(lang string) string {
	return storedIn(d.Case.DescriptionMessage, d.Case.Description, lang)
}

// failureEvents are the audit events that count as failed attempts on an account.
var failureEvents = map[string]bool{
	audit.LoginFailed: true, audit.TOTPFailed: true, audit.RecoveryCodeFailed: true, audit.TOTPConfirmFailed: true,
	audit.WebAuthnFailed: true,
}

// Case returns the case page for an agent: the case, the accounts whose e-mail matches it,
// the timeline and a pending reset.
func (s *Service) Case(ctx context.Context, agent *store.Account, ref string) (*Details, error) {
	if err := requireAgent(agent); err != nil {
		return nil, err
	}
	c, err := loadCase(ctx, s.store, ref)
	if err != nil {
		return nil, err
	}
	d := &Details{Case: *c, RequireApproval: s.requireApproval}
	names := s.namer(ctx)
	d.Assignee, d.ClosedBy, d.ConfirmedAccount = names(c.AssigneeID), names(c.ClosedBy), names(c.EmailConfirmedUserID)
	accounts, err := s.matchingAccounts(ctx, s.store, c)
	if err != nil {
		return nil, err
	}
	for _, u := range accounts {
		a, err := s.accountFacts(ctx, agent, c, &u)
		if err != nil {
			return nil, err
		}
		d.Accounts = append(d.Accounts, *a)
	}
	events, err := s.store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		d.Timeline = append(d.Timeline, Entry{At: e.At, Kind: e.Kind, Actor: names(e.ActorID), Body: e.Body, Message: e.Message})
	}
	p, err := s.store.GetPendingMFAReset(ctx, c.ID)
	var why stale
	if err == nil {
		why, err = s.staleReason(ctx, s.store, p)
	}
	switch {
	case err == nil && why != (stale{}):
		// A stale request is not offered for approval; the next request or approval
		// attempt cancels it on the timeline (a page view changes nothing).
	case err == nil:
		d.Pending = &PendingReset{ID: p.ID, Username: names(p.UserID), RequestedBy: names(p.RequestedBy),
			RequestedAt: p.RequestedAt, Verification: p.Verification, Note: p.Note}
		if p.RequestedByToken != "" {
			d.Pending.Token = s.tokenName(ctx, s.store, p.RequestedByToken)
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return d, nil
}

// namer resolves user ids to usernames, once each.
func (s *Service) namer(ctx context.Context) func(id string) string {
	cache := map[string]string{"": ""}
	return func(id string) string {
		if n, ok := cache[id]; ok {
			return n
		}
		n := store.DeletedUsername
		if u, err := s.store.GetUser(ctx, id); err == nil {
			n = u.Username
		}
		cache[id] = n
		return n
	}
}

// matchingAccounts returns the accounts whose e-mail is the case's (at most one: e-mail
// addresses are unique), read through st.
func (s *Service) matchingAccounts(ctx context.Context, st Store, c *store.SupportCase) ([]store.User, error) {
	u, err := st.GetUserByLogin(ctx, c.EmailNorm)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.EmailNorm != c.EmailNorm) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []store.User{*u}, nil
}

func (s *Service) accountFacts(ctx context.Context, agent *store.Account, c *store.SupportCase, u *store.User) (*Account, error) {
	st, err := s.auth.Status(ctx, &u.Account)
	if err != nil {
		return nil, err
	}
	a := &Account{
		UserID: u.ID, Username: u.Username, Email: u.Email, Role: u.Role, Disabled: u.Disabled,
		CreatedAt: u.CreatedAt, LastSignInAt: u.LastLoginAt, MFAActive: st.TOTP, MFASince: st.Since,
		MFALastUsed: st.LastUsed, RecoveryCode: st.RecoveryCode, MFARequired: st.Required,
		EmailConfirmed: emailConfirmedFor(c, u),
	}
	for _, k := range st.WebAuthn {
		a.Keys = append(a.Keys, k.Name)
	}
	state, err := readMFAState(ctx, s.store, u.ID)
	if err != nil {
		return nil, err
	}
	a.MFAState = state.String()
	events, err := s.store.ListAudit(ctx, store.AuditFilter{UserID: u.ID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	since := s.now().Add(-30 * 24 * time.Hour)
	for _, e := range events {
		if e.SubjectID == u.ID && failureEvents[e.Event] && e.At.After(since) {
			a.RecentFailures++
		}
	}
	if err := mayReset(agent, u); err != nil {
		a.WhyNot, a.WhyNotKey = err.Message, err.Key
	} else {
		a.CanReset = true
	}
	return a, nil
}

// emailConfirmedFor reports whether the case holds a proof of ownership of u's current
// e-mail address.
func emailConfirmedFor(c *store.SupportCase, u *store.User) bool {
	return !c.EmailConfirmedAt.IsZero() && c.EmailConfirmedUserID == u.ID && c.EmailConfirmedNorm == u.EmailNorm
}

// mayReset says whether agent may reset u's MFA: never their own, and only an
// administrator resets a support agent or an administrator.
func mayReset(agent *store.Account, u *store.User) *apperr.Error {
	switch {
	case agent.ID == u.ID:
		return apperr.Msg(apperr.CodeForbidden, "err.own_mfa")
	case agent.Role != store.RoleAdmin && u.Role != store.RoleUser:
		return apperr.Msg(apperr.CodeForbidden, "err.admin_only_reset")
	}
	return nil
}

// Assign makes agent the case's assignee.
func (s *Service) Assign(ctx context.Context, agent *store.Account, ref string, m Meta) error {
	if err := requireAgent(agent); err != nil {
		return err
	}
	m.ActorID = agent.ID
	return s.store.WithTx(ctx, func(st store.Store) error {
		c, err := loadOpenCase(ctx, st, ref)
		if err != nil {
			return err
		}
		if err := st.AssignCase(ctx, c.ID, agent.ID, s.now()); errors.Is(err, store.ErrNotFound) {
			return errClosed
		} else if err != nil {
			return err
		}
		if err := s.timeline(ctx, st, c.ID, EventAssigned, agent.ID, say("timeline.assigned", "Agent", agent.Username)); err != nil {
			return err
		}
		return s.record(ctx, st, audit.SupportCaseAssigned, "", m, "case="+c.Reference+" assignee="+agent.Username)
	})
}

// AddNote appends an agent's note to the timeline (also on closed cases).
func (s *Service) AddNote(ctx context.Context, agent *store.Account, ref, text string, m Meta) (*Entry, error) {
	if err := requireAgent(agent); err != nil {
		return nil, err
	}
	text, err := cleanText("text", text, MaxNote, true, true)
	if err != nil {
		return nil, err
	}
	m.ActorID = agent.ID
	var e *Entry
	err = s.store.WithTx(ctx, func(st store.Store) error {
		c, err := loadCase(ctx, st, ref)
		if err != nil {
			return err
		}
		added, err := s.addNote(ctx, st, c.ID, agent.ID, text)
		if err != nil {
			return err
		}
		e = &Entry{At: added.At, Kind: EventNote, Actor: agent.Username, Body: text}
		return s.record(ctx, st, audit.SupportNoteAdded, "", m, "case="+c.Reference)
	})
	return e, err
}

// Outcomes of a closed case.
const (
	OutcomeResolved = store.CaseResolved
	OutcomeRejected = store.CaseRejected
)

// Close resolves or rejects the case with a reason, once; a reset waiting for approval
// is cancelled with it.
func (s *Service) Close(ctx context.Context, agent *store.Account, ref, outcome, reason string, m Meta) error {
	if err := requireAgent(agent); err != nil {
		return err
	}
	if outcome != OutcomeResolved && outcome != OutcomeRejected {
		return badField("outcome", "must be resolved or rejected.", "err.outcome")
	}
	reason, err := cleanText("reason", reason, MaxReason, true, true)
	if err != nil {
		return err
	}
	m.ActorID = agent.ID
	return s.store.WithTx(ctx, func(st store.Store) error {
		c, err := loadOpenCase(ctx, st, ref)
		if err != nil {
			return err
		}
		now := s.now()
		if err := st.CloseCase(ctx, c.ID, outcome, agent.ID, reason, now); errors.Is(err, store.ErrNotFound) {
			return errClosed
		} else if err != nil {
			return err
		}
		n, err := st.CancelMFAResets(ctx, c.ID, agent.ID, now)
		if err != nil {
			return err
		}
		if n > 0 {
			if err := s.timeline(ctx, st, c.ID, EventResetCancelled, agent.ID, say("timeline.cancelled_with_case")); err != nil {
				return err
			}
			if err := s.record(ctx, st, audit.SupportResetCancelled, "", m, "case="+c.Reference); err != nil {
				return err
			}
		}
		kind, event, said := EventResolved, audit.SupportCaseResolved, "timeline.resolved"
		if outcome == OutcomeRejected {
			kind, event, said = EventRejected, audit.SupportCaseRejected, "timeline.rejected"
		}
		if err := s.timeline(ctx, st, c.ID, kind, agent.ID, say(said, "Reason", reason)); err != nil {
			return err
		}
		return s.record(ctx, st, event, "", m, fmt.Sprintf("case=%s reason=%s", c.Reference, clip(reason, 300)))
	})
}

// KeyNames lists the account's security keys and passkeys for a sentence.
func (a Account) KeyNames() string { return strings.Join(a.Keys, ", ") }
