package admin

import (
	"context"
	"errors"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

// Meta is the request an action comes from, with the actor (Actor.AuditID) as ActorID.
type Meta = auth.Meta

// NewUser is an account to invite.
type NewUser struct {
	Username, Email, Role string
}

// Invite creates the account without a password and mails it an invitation (the
// invitation flow's own rules: the link, its expiry, the mail queued with it). An API
// token never invites an administrator (apperr token_cannot_manage_admins).
func (s *Service) Invite(ctx context.Context, actor Actor, nu NewUser, m Meta) (*store.UserSummary, error) {
	m = actor.meta(m)
	if s.invite == nil {
		return nil, apperr.Msg(apperr.CodeConflict, "err.admin_no_invitations")
	}
	if nu.Role != "" && !store.ValidRole(nu.Role) {
		return nil, badField("role", "err.admin_role")
	}
	if err := actor.mayGiveRole(nu.Role); err != nil {
		return nil, err
	}
	sent, err := s.invite.Invite(ctx, auth.NewUser{Username: nu.Username, Email: nu.Email, Role: nu.Role}, m)
	if err != nil {
		return nil, err
	}
	return s.summaryOf(ctx, sent.User)
}

// ResendInvitation mails a fresh invitation link; the earlier ones stop working.
func (s *Service) ResendInvitation(ctx context.Context, actor Actor, id string, m Meta) error {
	m = actor.meta(m)
	if s.invite == nil {
		return apperr.Msg(apperr.CodeConflict, "err.admin_no_invitations")
	}
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return err
	}
	_, err = s.invite.Resend(ctx, u, m)
	return err
}

// MFA requirement values of a Change.
const (
	MFARequiredYes     = "yes"
	MFARequiredNo      = "no"
	MFARequiredDefault = "default"
)

// Change is what an administrator changes on an account; nil fields stay.
type Change struct {
	Role        *string
	Disabled    *bool
	MFARequired *string // MFARequiredYes, MFARequiredNo or MFARequiredDefault
}

// errSelfDemote, errSelfDisable and errSelfDelete refuse an administrator's action that
// would lock themselves out.
var (
	errSelfDemote  = apperr.Msg(apperr.CodeLastAdmin, "err.admin_self_demote")
	errSelfDisable = apperr.Msg(apperr.CodeLastAdmin, "err.admin_self_disable")
	errSelfDelete  = apperr.Msg(apperr.CodeLastAdmin, "err.admin_self_delete")
)

// Update applies c to the account id. An administrator never disables, demotes or
// deletes themselves, nor the last enabled administrator (apperr last_admin); an API
// token never changes an administrator nor makes one (apperr token_cannot_manage_admins).
// Each change is audited; disabling ends every session and grant (auth's Disabled).
func (s *Service) Update(ctx context.Context, actor Actor, id string, c Change, m Meta) (*store.UserSummary, error) {
	m = actor.meta(m)
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if c.Role != nil && !store.ValidRole(*c.Role) {
		return nil, badField("role", "err.admin_role")
	}
	if c.Role != nil {
		if err := actor.mayGiveRole(*c.Role); err != nil {
			return nil, err
		}
	}
	override := ""
	if c.MFARequired != nil {
		switch *c.MFARequired {
		case MFARequiredYes, MFARequiredNo:
			override = *c.MFARequired
		case MFARequiredDefault:
			override = store.MFAOverrideDefault
		default:
			return nil, badField("mfa_required", "err.admin_mfa_required")
		}
	}
	if u.ID == actor.UserID {
		if c.Role != nil && *c.Role != store.RoleAdmin {
			return nil, errSelfDemote
		}
		if c.Disabled != nil && *c.Disabled {
			return nil, errSelfDisable
		}
	}
	if c.Role != nil && *c.Role != u.Role {
		if err := s.auth.SetRoleKeepingAnAdmin(ctx, u, *c.Role, m); err != nil {
			return nil, err
		}
	}
	if c.Disabled != nil && *c.Disabled != u.Disabled {
		if err := s.auth.SetDisabledKeepingAnAdmin(ctx, u, *c.Disabled, m); err != nil {
			return nil, err
		}
	}
	if c.MFARequired != nil && override != u.MFAOverride {
		if err := s.auth.SetMFAOverride(ctx, u, override, m); err != nil {
			return nil, err
		}
	}
	return s.Summary(ctx, id)
}

// SignOut ends every session and application grant of the account (auth's
// SignOutEverywhere) and returns how many sessions ended.
func (s *Service) SignOut(ctx context.Context, actor Actor, id string, m Meta) (int, error) {
	m = actor.meta(m)
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return 0, err
	}
	e, err := s.auth.End(ctx, auth.SignOutEverywhere, u.ID, "", m)
	return e.Sessions, err
}

var errNoSession = apperr.Msg(apperr.CodeNotFound, "err.admin_no_session")

// EndSession ends one session of the account (auth's SignOutSession): the device that
// holds it is signed out, the others stay. apperr not_found when the account has no such
// session.
func (s *Service) EndSession(ctx context.Context, actor Actor, id, sessionID string, m Meta) error {
	m = actor.meta(m)
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return err
	}
	sessions, err := s.store.ListUserSessions(ctx, u.ID, s.auth.Now())
	if err != nil {
		return err
	}
	for _, x := range sessions {
		if x.ID == sessionID {
			_, err := s.auth.End(ctx, auth.SignOutSession, u.ID, x.ID, m)
			return err
		}
	}
	return errNoSession
}

// Unlock forgets the account's password and second-factor failures.
func (s *Service) Unlock(ctx context.Context, actor Actor, id string, m Meta) error {
	m = actor.meta(m)
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return err
	}
	return s.auth.Unlock(ctx, u, m)
}

// SendPasswordReset mails the account a password reset link (auth's MailResetLink).
func (s *Service) SendPasswordReset(ctx context.Context, actor Actor, id string, m Meta) error {
	m = actor.meta(m)
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return err
	}
	return s.auth.MailResetLink(ctx, u, m)
}

// RevokeApplication ends the access of the application clientID to the account (auth's
// EndUserApplication: its consent and tokens; the sessions stay) and returns how many
// grants ended.
func (s *Service) RevokeApplication(ctx context.Context, actor Actor, id, clientID string, m Meta) (int, error) {
	m = actor.meta(m)
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return 0, err
	}
	e, err := s.auth.EndUserApplication(ctx, u.ID, clientID, m)
	return e.Grants, err
}

// ResetResult is what an MFA reset did: done, or pending approval on a case.
type ResetResult struct {
	Status        string // support.ResetDone or support.ResetPending
	CaseReference string // the case a pending reset waits on
	SessionsEnded int
}

// ResetMFA resets the account's second factors with the administrator's written reason,
// through the support desk's reset (support.ResetByAdmin): with dual control it waits
// for a second agent or administrator. The actor must be an administrator's account.
// mfaState, optional, is the user's MFAState as the administrator saw it: the reset runs
// only while the account is still in it (else 409 mfa_changed), so that a form sent twice
// or a retried request resets once.
func (s *Service) ResetMFA(ctx context.Context, actor Actor, id, reason, mfaState string, m Meta) (*ResetResult, error) {
	m = actor.meta(m)
	if s.support == nil {
		return nil, apperr.Msg(apperr.CodeConflict, "err.admin_no_resets")
	}
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if err := support.CheckReason(reason); err != nil {
		return nil, err // a reason to mend is told before who may file it
	}
	if actor.UserID == "" {
		// A token made at the command line has no account behind it; a reset is filed on a
		// support case by an administrator, who then may not approve it.
		return nil, apperr.Msg(apperr.CodeForbidden, "err.admin_reset_needs_account")
	}
	who, err := s.actorUser(ctx, actor)
	if err != nil {
		return nil, err
	}
	res, ref, err := s.support.ResetByAdmin(ctx, who, u, reason, mfaState, m)
	if err != nil {
		return nil, err
	}
	return &ResetResult{Status: res.Status, CaseReference: ref, SessionsEnded: res.SessionsEnded}, nil
}

// actorUser is the administrator's account an action is taken for.
func (s *Service) actorUser(ctx context.Context, actor Actor) (*store.User, error) {
	u, err := s.store.GetUser(ctx, actor.UserID)
	if errors.Is(err, store.ErrNotFound) || actor.UserID == "" {
		return nil, apperr.Msg(apperr.CodeForbidden, "err.admin_needs_account")
	}
	return u, err
}

// Delete deletes the account (auth's DeleteUser: every session and grant ends, the audit
// log keeps its history). confirm must be the username, typed by the administrator; an
// administrator never deletes themselves nor the last enabled administrator (apperr
// last_admin).
func (s *Service) Delete(ctx context.Context, actor Actor, id, confirm string, m Meta) error {
	m = actor.meta(m)
	u, err := s.target(ctx, actor, id)
	if err != nil {
		return err
	}
	if confirm != u.Username {
		return badField("confirm", "err.admin_confirm_delete", "Username", u.Username)
	}
	if u.ID == actor.UserID {
		return errSelfDelete
	}
	return s.auth.DeleteUser(ctx, u, m)
}

// IsPending reports whether r waits for approval.
func (r *ResetResult) IsPending() bool { return r.Status == support.ResetPending }
