package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// An Action is something a user, an application or an administrator does that ends access.
// End decides, for each, which sessions, OIDC grants, pending authenticator setups and live
// password reset links end; docs/security.md holds the same table.
type Action int

// The actions. "This session" is the one the action comes from; actions taken at the
// console or the support desk come from no session of the user.
const (
	// Logout: the user signs out of this session.
	Logout Action = iota + 1
	// RPLogout: an application signs the user out of this session (RP-initiated logout).
	RPLogout
	// SessionReplaced: a new sign-in in the same browser replaces this session, or the
	// user chose to sign in again for an application.
	SessionReplaced
	// SignOutOthers: the user ends every other session.
	SignOutOthers
	// SignOutSession: the user ends one other session (a device on the security page).
	// "This session" is the one ended; the caller checks that it is the user's and not the
	// one the user acts from.
	SignOutSession
	// PasswordChanged: the user changed the password in this session.
	PasswordChanged
	// PasswordReset: a new password was set without the current one, through a reset link
	// or by an administrator at the console (`twofold user set-password`); it comes from
	// no session of the user, so everything ends.
	PasswordReset
	// FactorChanged: the user set up, replaced or removed a second factor in this session.
	FactorChanged
	// MFAReset: the support desk or the console removed the user's second factors.
	MFAReset
	// SignOutEverywhere: an administrator ends all access of the user
	// (`twofold user sign-out`).
	SignOutEverywhere
	// Disabled: an administrator disabled the account.
	Disabled
	// Deleted: the account is being deleted.
	Deleted
)

// reach says which of a user's sessions, or of the grants obtained through them, end:
// judged against the session the action comes from.
type reach int

const (
	none   reach = iota
	this         // the current session, or what was obtained through it
	others       // everything but the current session and what was obtained through it
	all
)

// rule is one row of the table. A pending authenticator setup belongs to the session that
// drew it (only that session may see or confirm it), so it ends when its session ends.
type rule struct {
	name     string // in the audit detail
	event    string // the audit event End writes
	sessions reach
	grants   reach // OIDC grants without offline access
	offline  reach // OIDC grants with offline access (refresh tokens)
	// resetLinks: the user's live password reset links end. A link mailed before the
	// password changed, the second factors were reset or the account was closed must not
	// outlive that.
	resetLinks bool
}

var rules = map[Action]rule{
	Logout:            {"logout", audit.Logout, this, this, none, false},
	RPLogout:          {"rp_logout", audit.ClientLogout, this, this, none, false},
	SessionReplaced:   {"session_replaced", audit.SessionReplaced, this, this, none, false},
	SignOutOthers:     {"sign_out_others", audit.SessionsRevoked, others, others, others, false},
	SignOutSession:    {"sign_out_session", audit.SessionRevoked, this, this, none, false},
	PasswordChanged:   {"password_changed", audit.AccessEnded, others, others, others, true},
	PasswordReset:     {"password_reset", audit.AccessEnded, others, others, others, true},
	FactorChanged:     {"factor_changed", audit.AccessEnded, others, others, others, false},
	MFAReset:          {"mfa_reset", audit.AccessEnded, all, all, all, true},
	SignOutEverywhere: {"sign_out_everywhere", audit.SessionsEnded, all, all, all, true},
	Disabled:          {"disabled", audit.AccessEnded, all, all, all, true},
	Deleted:           {"deleted", audit.AccessEnded, all, all, all, true},
}

// String names the action as the audit log does.
func (a Action) String() string {
	if r, ok := rules[a]; ok {
		return r.name
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Ended counts what an End removed.
type Ended struct {
	Sessions      int
	Grants        int // OIDC grants, offline ones included
	PendingSetups int
	ResetLinks    int // live password reset links
}

// End ends what the action ends for the user, judged against sessionID (the session the
// action comes from; empty when it comes from none of the user's sessions), and writes one
// audit row, all in one transaction. It is the only place that ends sessions and OIDC
// grants; besides it they go only by expiry (housekeeping), by an application revoking its
// own tokens or replaying a code, with a removed client, and by EndApplication below. Without a session, what
// "every other session" ends is everything;
// Logout, RPLogout and SessionReplaced without one are a programming error.
func (s *Service) End(ctx context.Context, a Action, userID, sessionID string, m Meta) (Ended, error) {
	var e Ended
	err := s.accountTx(ctx, userID, func(st store.Store) error {
		if err := TokenMayChangeIn(ctx, st, userID, m); err != nil {
			return err
		}
		var err error
		e, err = s.EndIn(ctx, st, a, userID, sessionID, m)
		return err
	})
	return e, err
}

// EndIn is End inside st, a transaction the caller holds because the action changes more
// than access (a new password, a new authenticator, a disabled account): both commit or
// neither does.
func (s *Service) EndIn(ctx context.Context, st store.Store, a Action, userID, sessionID string, m Meta) (Ended, error) {
	r, ok := rules[a]
	if !ok {
		return Ended{}, fmt.Errorf("end access: unknown action %d", int(a))
	}
	if sessionID == "" && (r.sessions == this || r.grants == this) {
		return Ended{}, fmt.Errorf("end access: %s needs the session it comes from", a)
	}
	var e Ended
	var err error
	if r.sessions == others || r.sessions == all {
		// The browsers still holding these sessions learn why at their next request.
		except := sessionID
		if r.sessions == all {
			except = ""
		}
		if _, err := st.MarkSessionsEnded(ctx, userID, except, r.name); err != nil {
			return Ended{}, err
		}
	}
	if a == SignOutSession {
		// Signed out from another device: that browser learns why too. A session that is
		// gone already (or never was the user's) is no error here: the delete below decides.
		if err := st.MarkSessionEnded(ctx, sessionID, r.name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Ended{}, err
		}
	}
	switch r.sessions {
	case this:
		if err = st.DeleteSession(ctx, sessionID); err == nil {
			e.Sessions = 1
		}
	case others:
		e.Sessions, err = st.DeleteUserSessions(ctx, userID, sessionID)
	case all:
		e.Sessions, err = st.DeleteUserSessions(ctx, userID, "")
	}
	if err != nil {
		return Ended{}, err
	}
	if e.Grants, err = s.endGrants(ctx, st, r, userID, sessionID); err != nil {
		return Ended{}, err
	}
	if e.PendingSetups, err = st.DeleteOrphanedPendingTOTP(ctx, userID); err != nil {
		return Ended{}, err
	}
	if r.resetLinks {
		if e.ResetLinks, err = st.InvalidateLinkTokens(ctx, store.LinkPasswordReset, userID, s.now()); err != nil {
			return Ended{}, err
		}
	}
	detail := fmt.Sprintf("%s, %s, %s ended (%s)", counted(e.Sessions, "session"), counted(e.Grants, "application grant"),
		counted(e.PendingSetups, "pending setup"), r.name)
	if err := s.record(ctx, st, r.event, userID, m, detail); err != nil {
		return Ended{}, err
	}
	return e, nil
}

// ErrNoSuchApplication answers a removal of an application the user never let in (or
// whose access is gone already).
var ErrNoSuchApplication = apperr.Msg(apperr.CodeNotFound, "err.no_such_application")

// EndApplication removes an application's access to the user's account ("Remove access"
// on the security page): its consent, and every grant it holds of the user with their
// access and refresh tokens, whichever session they were obtained through. Sessions stay.
// It writes one audit row in the same transaction. It belongs here beside End: it too
// ends grants, by application instead of by session.
func (s *Service) EndApplication(ctx context.Context, userID, clientID string, m Meta) (Ended, error) {
	return s.endApplication(ctx, userID, clientID, m, ErrNoSuchApplication)
}

// ErrNoUserApplication answers an administrator's removal of an application that has no
// access to the user's account.
var ErrNoUserApplication = apperr.Msg(apperr.CodeNotFound, "err.user_app_none")

// EndUserApplication is EndApplication for an administrator (m names them as the actor):
// ErrNoUserApplication when the application has no access to the account, or there is
// no such user.
func (s *Service) EndUserApplication(ctx context.Context, userID, clientID string, m Meta) (Ended, error) {
	return s.endApplication(ctx, userID, clientID, m, ErrNoUserApplication)
}

func (s *Service) endApplication(ctx context.Context, userID, clientID string, m Meta, notFound error) (Ended, error) {
	var e Ended
	err := s.accountTx(ctx, userID, func(st store.Store) error {
		if userID != "" {
			if err := TokenMayChangeIn(ctx, st, userID, m); err != nil {
				return err
			}
		}
		c, err := st.GetOIDCClient(ctx, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		e.Grants, err = st.DeleteUserOIDCClientAccess(ctx, userID, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		return s.record(ctx, st, audit.ApplicationRemoved, userID, m,
			fmt.Sprintf("client %s: consent and %d application grants ended", c.Name, e.Grants))
	})
	return e, err
}

// endGrants revokes the OIDC grants the rule ends and returns how many went.
func (s *Service) endGrants(ctx context.Context, st store.Store, r rule, userID, sessionID string) (int, error) {
	switch {
	case r.grants == this && r.offline == none:
		return st.DeleteSessionOIDCGrants(ctx, sessionID)
	case r.grants == others && r.offline == others && sessionID != "":
		return st.DeleteOtherOIDCGrants(ctx, userID, sessionID)
	case r.grants >= others && r.offline >= others:
		return st.DeleteUserOIDCGrants(ctx, userID)
	case r.grants == none && r.offline == none:
		return 0, nil
	}
	return 0, fmt.Errorf("end access: no store operation for grants %d, offline grants %d", r.grants, r.offline)
}

// WhyEnded returns the name of the action (as Action.String gives it) that ended the
// session of token, or "" when no action ended it (it never existed, it is still open, it
// timed out, or the browser's own sign-out ended it). It says no more than the holder of
// the token may know: what happened to the account they were signed in to.
func (s *Service) WhyEnded(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	a, err := s.store.EndedSession(ctx, hashToken(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return a, err
}

// counted says n of a thing in English: "1 session", "2 sessions".
func counted(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
