package admin

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

// Store is what the user pages read.
type Store interface {
	SearchUsers(ctx context.Context, f store.UserFilter) ([]store.UserSummary, error)
	CountUsers(ctx context.Context, f store.UserFilter) (store.UserCounts, error)
	ListUserCases(ctx context.Context, userID, emailNorm string) ([]store.SupportCase, error)
	GetUser(ctx context.Context, id string) (*store.User, error)
	GetTOTP(ctx context.Context, userID string) (*store.TOTPCredential, error)
	GetRecoveryCode(ctx context.Context, userID string) (*store.RecoveryCode, error)
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]store.WebAuthnCredential, error)
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]store.SessionRecord, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
	GetInvitation(ctx context.Context, userID string) (*store.Invitation, error)
	ListPendingMFAResets(ctx context.Context, userID string) ([]store.MFAReset, error)
	GetCase(ctx context.Context, id string) (*store.SupportCase, error)
	GetAPIToken(ctx context.Context, id string) (*store.APIToken, error)
}

// Options wire the service.
type Options struct {
	Store   Store
	Auth    *auth.Service
	Invite  *invite.Service  // nil: no invitations
	Support *support.Service // nil: no MFA resets
}

// Service is what administrators do to users. It knows nothing of HTTP; every change is
// audited with the actor.
type Service struct {
	store   Store
	auth    *auth.Service
	invite  *invite.Service
	support *support.Service
}

// New returns a Service.
func New(o Options) *Service {
	return &Service{store: o.Store, auth: o.Auth, invite: o.Invite, support: o.Support}
}

// MaxQuery bounds the search text.
const MaxQuery = 200

// Filter selects users: search text, role, status and second factor, all optional.
type Filter struct {
	Query, Role, Status, MFA string
	After                    store.Cursor
	Limit                    int
}

// UserList is one page of users, the cursor of the next (zero on the last page), and
// the counts by status of every user the search and filters (but the status) match.
type UserList struct {
	Users  []store.UserSummary
	Next   store.Cursor
	Counts store.UserCounts
}

// badField is a 400 about field, its message the catalog key with args.
func badField(field, key string, args ...any) error {
	return apperr.Msg(apperr.CodeBadRequest, key, args...).In(field)
}

// Check validates f: a 400 naming the field for an unknown role, status or factor, or a
// search text that is too long or not text.
func (f Filter) Check() error {
	switch {
	case len(f.Query) > MaxQuery*4 || utf8.RuneCountInString(f.Query) > MaxQuery:
		return badField("query", "err.admin_query_long", "Max", MaxQuery)
	case !utf8.ValidString(f.Query) || strings.ContainsRune(f.Query, 0):
		return badField("query", "err.admin_query_text")
	case f.Role != "" && !store.ValidRole(f.Role):
		return badField("role", "err.admin_role")
	case f.Status != "" && !store.ValidUserStatus(f.Status):
		return badField("status", "err.admin_status")
	case f.MFA != "" && !store.ValidMFAFilter(f.MFA):
		return badField("mfa", "err.admin_mfa_filter")
	}
	return nil
}

// ListUsers returns a page of the users f selects, newest first.
func (s *Service) ListUsers(ctx context.Context, f Filter) (*UserList, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	sf := store.UserFilter{Query: strings.TrimSpace(f.Query), Role: f.Role, Status: f.Status, MFA: f.MFA,
		LockedAt: s.auth.LockFailures(), After: f.After}
	if f.Limit > 0 {
		sf.Limit = f.Limit + 1
	}
	rows, err := s.store.SearchUsers(ctx, sf)
	if err != nil {
		return nil, err
	}
	list := &UserList{}
	list.Users, list.Next = store.NextPage(rows, f.Limit, store.UserSummary.Cursor)
	if list.Counts, err = s.store.CountUsers(ctx, sf); err != nil {
		return nil, err
	}
	return list, nil
}

// errNoUser answers an unknown (or malformed) user id.
var errNoUser = apperr.Msg(apperr.CodeNotFound, "err.admin_no_user")

// user returns the account id names, or errNoUser.
func (s *Service) user(ctx context.Context, id string) (*store.User, error) {
	if id == "" || len(id) > 64 || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return nil, errNoUser
	}
	u, err := s.store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoUser
	}
	return u, err
}

// Summary returns the user id names as the list shows it; apperr not_found when none.
func (s *Service) Summary(ctx context.Context, id string) (*store.UserSummary, error) {
	u, err := s.user(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.summaryOf(ctx, u)
}

func (s *Service) summaryOf(ctx context.Context, u *store.User) (*store.UserSummary, error) {
	// The list's own query decides the status and factors, so the two never disagree.
	rows, err := s.store.SearchUsers(ctx, store.UserFilter{ID: u.ID, LockedAt: s.auth.LockFailures()})
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, errNoUser
	}
	return &rows[0], nil
}

// Factor is one of a user's second factors.
type Factor struct {
	Kind       string // FactorApp, FactorKey or FactorRecoveryCode
	ID         string // a key's id; empty for the others
	Name       string
	AddedAt    time.Time
	LastUsedAt time.Time // zero when never used (or not recorded)
}

// Factor kinds.
const (
	FactorApp          = "totp"
	FactorKey          = "webauthn"
	FactorRecoveryCode = "recovery_code"
)

// PendingReset is an MFA reset of the user waiting for a second agent's approval.
type PendingReset struct {
	Reference string // the case it waits on
	// RequestedBy is the username of who asked, or of who created the API token that
	// asked; store.DeletedUsername when the account is gone.
	RequestedBy string
	// Token is the name of the API token that asked (its id when the token is gone); ""
	// when a person asked.
	Token       string
	RequestedAt time.Time
}

// Details is everything the user's page shows.
type Details struct {
	store.UserSummary
	Factors  []Factor
	Sessions []store.SessionRecord
	Events   []store.AuditEvent // the most recent, newest first
	Cases    []store.SupportCase
	// Invitation is the account's invitation; nil when it was not invited.
	Invitation *store.Invitation
	Pending    []PendingReset
	// MFAState marks the state of the user's MFA shown here, for ResetMFA to carry back;
	// "" without MFA resets (no support service). Opaque.
	MFAState string
}

// RecentEvents is how many audit events the user's page shows.
const RecentEvents = 20

// User returns the user id names with factors, sessions, recent events and open cases;
// apperr not_found for an unknown id.
func (s *Service) User(ctx context.Context, id string) (*Details, error) {
	sum, err := s.Summary(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &Details{UserSummary: *sum}
	if d.Factors, err = s.factors(ctx, id); err != nil {
		return nil, err
	}
	if d.Sessions, err = s.store.ListUserSessions(ctx, id, s.auth.Now()); err != nil {
		return nil, err
	}
	if d.Events, err = s.store.ListAudit(ctx, store.AuditFilter{UserID: id, Limit: RecentEvents}); err != nil {
		return nil, err
	}
	if d.Cases, err = s.store.ListUserCases(ctx, id, sum.EmailNorm); err != nil {
		return nil, err
	}
	inv, err := s.store.GetInvitation(ctx, id)
	switch {
	case err == nil:
		d.Invitation = inv
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	pending, err := s.store.ListPendingMFAResets(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, r := range pending {
		c, err := s.store.GetCase(ctx, r.CaseID)
		if err != nil {
			return nil, err
		}
		p := PendingReset{Reference: c.Reference, RequestedAt: r.RequestedAt}
		if p.RequestedBy, err = s.username(ctx, r.RequestedBy); err != nil {
			return nil, err
		}
		if r.RequestedByToken != "" {
			p.Token = r.RequestedByToken
			t, err := s.store.GetAPIToken(ctx, r.RequestedByToken)
			switch {
			case err == nil:
				p.Token = t.Name
			case !errors.Is(err, store.ErrNotFound):
				return nil, err
			}
		}
		d.Pending = append(d.Pending, p)
	}
	if d.MFAState, err = s.MFAState(ctx, id); err != nil {
		return nil, err
	}
	return d, nil
}

// MFAState is the state of the user id's MFA for ResetMFA to carry back
// (support.Service.MFAState); "" without MFA resets (no support service).
func (s *Service) MFAState(ctx context.Context, id string) (string, error) {
	if s.support == nil {
		return "", nil
	}
	return s.support.MFAState(ctx, id)
}

// username is the username of the account id, or store.DeletedUsername when it is gone.
func (s *Service) username(ctx context.Context, id string) (string, error) {
	u, err := s.store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.DeletedUsername, nil
	}
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

func (s *Service) factors(ctx context.Context, id string) ([]Factor, error) {
	var out []Factor
	t, err := s.store.GetTOTP(ctx, id)
	switch {
	case err == nil:
		out = append(out, Factor{Kind: FactorApp, Name: "Authenticator app", AddedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt})
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	keys, err := s.store.ListWebAuthnCredentials(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		out = append(out, Factor{Kind: FactorKey, ID: k.ID, Name: k.Name, AddedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	rc, err := s.store.GetRecoveryCode(ctx, id)
	switch {
	case err == nil:
		out = append(out, Factor{Kind: FactorRecoveryCode, Name: "Recovery code", AddedAt: rc.CreatedAt})
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return out, nil
}
