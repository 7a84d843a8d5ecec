package support

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/store"
)

// How an agent verified the identity of the person asking for a reset.
const (
	VerifyEmailLink     = "email_link"     // they confirmed a link sent to the account's address
	VerifyPhoneCallback = "phone_callback" // the agent called them back on a number on record
	VerifyIDDocument    = "id_document"    // they showed an identity document
	VerifyOther         = "other"          // described in the note
)

// Verifications lists the methods in the order the console offers them.
var Verifications = []string{VerifyEmailLink, VerifyPhoneCallback, VerifyIDDocument, VerifyOther}

// VerifiedBy are the catalog keys of the methods as the words after "verified by" (the
// case page's pending reset, the timeline).
var VerifiedBy = map[string]string{
	VerifyEmailLink:     "case.verified_by.email_link",
	VerifyPhoneCallback: "case.verified_by.phone_callback",
	VerifyIDDocument:    "case.verified_by.id_document",
	VerifyOther:         "case.verified_by.other",
}

// ResetRequest is an agent's request to reset the MFA of the account a case concerns.
type ResetRequest struct {
	UserID       string // optional: the matching account (the only one when empty)
	Verification string
	Note         string // how the identity was verified, in the agent's words
	// MFAState is the state of the account's MFA the agent saw (Account.MFAState), as the
	// case page's form carries it: the reset runs only while the account is still in it.
	// Optional (the support API's clients may leave it out).
	MFAState string
}

// PendingResetTTL is how long a reset waits for approval. An older request is void: the
// identity check it rests on is stale, and an agent must verify the person again.
const PendingResetTTL = 24 * time.Hour

// Reset outcomes.
const (
	ResetDone    = "done"
	ResetPending = "pending_approval"
)

// ResetResult says what a reset request did.
type ResetResult struct {
	Status        string // done, or pending_approval under dual control
	Username      string
	SessionsEnded int
	// EnrollmentRequired: the next sign-in leads to a new authenticator setup. False
	// when the policy requires no MFA for the user: they sign in with the password alone.
	EnrollmentRequired bool
	Notified           bool // the notice e-mail was handed to the mail server
	// Removed names the second factors the reset removed, in English ("authenticator
	// app", "security key “YubiKey”", "recovery code"), as the case timeline lists them.
	Removed []string
}

var errNotConfirmed = apperr.Msg(apperr.CodeConflict, "err.not_confirmed")

// RequestReset resets the MFA of the account matching the case (or, under dual control,
// records the request for a second agent to approve). The agent records how they
// verified the person's identity; email_link needs the case's confirmed proof of
// ownership of that account's current address. The reset itself, in one transaction,
// removes the authenticator, any setup in progress and the recovery code, ends every
// session of the user, makes the next sign-in enroll a new authenticator when the policy
// requires MFA, and writes the audit event naming case and agents; then the account's
// address is told by e-mail. Agents never see or set a secret or a password.
//
// With req.MFAState the reset, or the request, is made only while the account's MFA is
// still in that state, checked in the same transaction: otherwise a 409 mfa_changed says
// it was reset since or its factors changed, and nothing is done. A state not of the form
// the case gives out is a 400. Without one, a reset the case records already is not made
// again while the account holds no second factor (409 conflict, refuseRepeat).
func (s *Service) RequestReset(ctx context.Context, agent *store.Account, ref string, req ResetRequest, m Meta) (*ResetResult, error) {
	if err := requireAgent(agent); err != nil {
		return nil, err
	}
	if !validVerification(req.Verification) {
		return nil, badField("verification", "must be email_link, phone_callback, id_document or other.", "err.verification_choice")
	}
	note, err := cleanText("note", req.Note, MaxReason, true, true)
	if err != nil {
		return nil, err
	}
	seen, ok := parseMFAState(req.MFAState)
	if !ok {
		return nil, errBadMFAState
	}
	m.ActorID = agent.ID
	var res *ResetResult
	var c *store.SupportCase
	var u *store.User
	err = s.store.WithTx(ctx, func(st store.Store) error {
		var err error
		if c, err = loadOpenCase(ctx, st, ref); err != nil {
			return err
		}
		if u, err = s.target(ctx, st, c, req.UserID); err != nil {
			return err
		}
		// Before the first write, as the user's own actions take it (store.LockAccount).
		if err := st.LockAccount(ctx, u.ID); err != nil {
			return err
		}
		if err := mayReset(agent, u); err != nil {
			return err
		}
		if req.Verification == VerifyEmailLink && !emailConfirmedFor(c, u) {
			return errNotConfirmed
		}
		if err := s.refusePending(ctx, st, u, agent.ID, m); err != nil {
			return err
		}
		if err := checkMFAState(ctx, st, c, u, seen); err != nil {
			return err
		}
		r := &store.MFAReset{ID: newID(), CaseID: c.ID, UserID: u.ID, RequestedBy: agent.ID, Verification: req.Verification,
			Note: note, RequestedAt: s.now(), Status: store.ResetPending}
		if s.requireApproval {
			if err := st.CreateMFAReset(ctx, r); errors.Is(err, store.ErrConflict) {
				return apperr.Msg(apperr.CodeConflict, "err.reset_waiting")
			} else if err != nil {
				return err
			}
			body := say("timeline.reset_requested", "Agent", agent.Username, "Username", u.Username,
				"How", verifiedBy(req.Verification), "Note", note)
			if err := s.timeline(ctx, st, c.ID, EventResetRequested, agent.ID, body); err != nil {
				return err
			}
			res = &ResetResult{Status: ResetPending, Username: u.Username}
			return s.record(ctx, st, audit.SupportResetRequested, u.ID, m,
				fmt.Sprintf("case=%s agent=%s verification=%s", c.Reference, agent.Username, req.Verification))
		}
		r.Status, r.DecidedBy, r.DecidedAt = store.ResetDone, agent.ID, r.RequestedAt
		if err := st.CreateMFAReset(ctx, r); err != nil {
			return err
		}
		res, err = s.reset(ctx, st, c, u, r, agent.Username, "", "", m)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func validVerification(v string) bool {
	for _, x := range Verifications {
		if x == v {
			return true
		}
	}
	return false
}

// ApproveReset carries out the reset waiting for approval on the case. The approver must
// be another agent than the requester, and may approve only what they could have done
// themselves; the account must still match the case. Of parallel approvals one wins.
func (s *Service) ApproveReset(ctx context.Context, agent *store.Account, ref string, m Meta) (*ResetResult, error) {
	if err := requireAgent(agent); err != nil {
		return nil, err
	}
	m.ActorID = agent.ID
	var res *ResetResult
	var c *store.SupportCase
	var u *store.User
	var void error // a stale request: cancelled in the transaction, then refused
	err := s.store.WithTx(ctx, func(st store.Store) error {
		var err error
		if c, err = loadOpenCase(ctx, st, ref); err != nil {
			return err
		}
		r, err := st.GetPendingMFAReset(ctx, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.Msg(apperr.CodeConflict, "err.no_reset_waiting")
		}
		if err != nil {
			return err
		}
		// Before the first write, as the user's own actions take it (store.LockAccount).
		if err := st.LockAccount(ctx, r.UserID); err != nil {
			return err
		}
		if why, err := s.staleReason(ctx, st, r); err != nil {
			return err
		} else if why != (stale{}) {
			void = apperr.Msg(apperr.CodeConflict, why.void)
			return s.cancelStale(ctx, st, c, r, why, agent.ID, m)
		}
		if r.RequestedBy == agent.ID {
			return apperr.Msg(apperr.CodeForbidden, "err.own_request")
		}
		if u, err = s.target(ctx, st, c, r.UserID); err != nil {
			return err
		}
		if err := mayReset(agent, u); err != nil {
			return err
		}
		if r.Verification == VerifyEmailLink && !emailConfirmedFor(c, u) {
			return errNotConfirmed
		}
		if err := st.ApproveMFAReset(ctx, r.ID, agent.ID, s.now()); errors.Is(err, store.ErrNotFound) {
			return apperr.Msg(apperr.CodeConflict, "err.reset_done_already")
		} else if err != nil {
			return err
		}
		requester := s.requester(ctx, st, r, s.namer(ctx)(r.RequestedBy))
		res, err = s.reset(ctx, st, c, u, r, requester, agent.Username, "", m)
		return err
	})
	if err == nil {
		err = void
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// ResetAtConsole resets a user's MFA for an administrator at the server console
// (`twofold user reset-mfa`), with a reason and optionally a case whose e-mail must match
// the user. Whoever runs the console holds the database and the master key already, so
// dual control does not apply; the audit log shows the console as the actor. With a case
// that records a reset of the user already, and no second factor set up since, nothing
// is done (409 conflict, refuseRepeat): the command run twice resets once.
func (s *Service) ResetAtConsole(ctx context.Context, u *store.User, reason, ref string, m Meta) (*ResetResult, error) {
	reason, err := cleanText("reason", reason, MaxReason, true, true)
	if err != nil {
		return nil, err
	}
	m.ActorID = ""
	var c *store.SupportCase
	var res *ResetResult
	err = store.AccountTx(ctx, s.store, u.ID, func(st store.Store) error {
		fresh, err := st.GetUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if err := s.refusePending(ctx, st, fresh, "", m); err != nil {
			return err
		}
		r := &store.MFAReset{ID: newID(), UserID: u.ID, Verification: VerifyOther, Note: reason,
			RequestedAt: s.now(), Status: store.ResetDone, DecidedAt: s.now()}
		if ref != "" {
			if c, err = loadOpenCase(ctx, st, ref); err != nil {
				return err
			}
			if fresh.EmailNorm != c.EmailNorm {
				return apperr.Msg(apperr.CodeForbidden, "err.user_not_matching", "Username", fresh.Username, "Reference", c.Reference)
			}
			if err := refuseRepeat(ctx, st, c, fresh); err != nil {
				return err
			}
			r.CaseID = c.ID
			if err := st.CreateMFAReset(ctx, r); err != nil {
				return err
			}
		}
		res, err = s.reset(ctx, st, c, fresh, r, consoleRequester, "", "", m)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// stale is why a pending request may no longer be carried out, as the catalog's sentences
// say it: on its case's timeline, and in the error that refuses its approval.
type stale struct{ timeline, void string }

var (
	staleExpired           = stale{"timeline.stale.expired", "err.reset_void.expired"}
	staleTokenOnPrivileged = stale{"timeline.stale.privileged", "err.reset_void.privileged"}
	staleFactorsChanged    = stale{"timeline.stale.factors_changed", "err.reset_void.factors_changed"}
	staleKeyAdded          = stale{"timeline.stale.key_added", "err.reset_void.key_added"}
)

// staleReason says why a pending request may no longer be carried out, or the zero stale
// when it may: it expired (PendingResetTTL), an API token filed it and the user now holds a
// privileged role (which a token may not act on: auth.ErrTokenOnPrivileged), or the
// user's authenticator or recovery code was set up after it (the user got back in, and
// the request would delete factors the identity check never covered).
func (s *Service) staleReason(ctx context.Context, st Store, r *store.MFAReset) (stale, error) {
	if !s.now().Before(r.RequestedAt.Add(PendingResetTTL)) {
		return staleExpired, nil
	}
	if r.RequestedByToken != "" {
		u, err := st.GetUser(ctx, r.UserID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return stale{}, err
		}
		if u != nil && store.PrivilegedRole(u.Role) {
			return staleTokenOnPrivileged, nil
		}
	}
	totp, err := st.GetTOTP(ctx, r.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return stale{}, err
	}
	rc, err := st.GetRecoveryCode(ctx, r.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return stale{}, err
	}
	if (totp != nil && totp.CreatedAt.After(r.RequestedAt)) || (rc != nil && rc.CreatedAt.After(r.RequestedAt)) {
		return staleFactorsChanged, nil
	}
	keys, err := st.ListWebAuthnCredentials(ctx, r.UserID)
	if err != nil {
		return stale{}, err
	}
	for _, k := range keys {
		if k.CreatedAt.After(r.RequestedAt) {
			return staleKeyAdded, nil
		}
	}
	return stale{}, nil
}

// requester names who filed r for its case's timeline and the audit log: person (a
// username) or, when an API token filed it, "token" and the token's name quoted, as
// adminOrigin quotes it: an administrator names a token freely, and unquoted the name
// could read as fields of an audit detail of its own.
func (s *Service) requester(ctx context.Context, st Store, r *store.MFAReset, person string) string {
	if r.RequestedByToken == "" {
		return person
	}
	return "token " + strconv.Quote(s.tokenName(ctx, st, r.RequestedByToken))
}

// requesterArg is requester for a timeline sentence: a person's name as it is, a token
// as a sentence of the catalog naming it, the console or an account deleted since as a
// sentence saying so.
func (s *Service) requesterArg(ctx context.Context, st Store, r *store.MFAReset, person string) any {
	switch {
	case r.RequestedByToken != "":
		return say("timeline.by_token_short", "Token", strconv.Quote(s.tokenName(ctx, st, r.RequestedByToken)))
	case person == consoleRequester:
		return say("timeline.the_console")
	case person == store.DeletedUsername:
		return say("user.deleted")
	}
	return person
}

// consoleRequester names the console (twofold support reset) as an MFA reset's requester
// in the audit log.
const consoleRequester = "the console"

// verifiedBy says how the person was verified: one of Verifications in words, any other
// value (a newer release's method, during a rolling upgrade) as it is stored.
func verifiedBy(v string) any {
	if k, ok := VerifiedBy[v]; ok {
		return say(k)
	}
	return v
}

// tokenName is the name of the API token id, or the id when the token is gone.
func (s *Service) tokenName(ctx context.Context, st Store, id string) string {
	if t, err := st.GetAPIToken(ctx, id); err == nil {
		return t.Name
	}
	return id
}

// cancelStale cancels the stale request r on case c, on the timeline and in the audit log.
func (s *Service) cancelStale(ctx context.Context, st store.Store, c *store.SupportCase, r *store.MFAReset, why stale, actorID string, m Meta) error {
	if _, err := st.CancelMFAResets(ctx, c.ID, actorID, s.now()); err != nil {
		return err
	}
	reason := say(why.timeline)
	if err := s.timeline(ctx, st, c.ID, EventResetCancelled, actorID, say("timeline.stale_cancelled", "Why", reason)); err != nil {
		return err
	}
	return s.record(ctx, st, audit.SupportResetCancelled, r.UserID, m, "case="+c.Reference+" reason="+reason.English())
}

// refusePending cancels u's stale pending requests and refuses with a conflict while a
// live one waits: no second request, and no direct reset, beside a request a second agent
// may still approve.
func (s *Service) refusePending(ctx context.Context, st store.Store, u *store.User, actorID string, m Meta) error {
	pending, err := st.ListPendingMFAResets(ctx, u.ID)
	if err != nil {
		return err
	}
	for i := range pending {
		r := &pending[i]
		c, err := st.GetCase(ctx, r.CaseID)
		if err != nil {
			return err
		}
		why, err := s.staleReason(ctx, st, r)
		if err != nil {
			return err
		}
		if why != (stale{}) {
			if err := s.cancelStale(ctx, st, c, r, why, actorID, m); err != nil {
				return err
			}
			continue
		}
		return apperr.Msg(apperr.CodeConflict, "err.reset_waiting_elsewhere", "Username", u.Username, "Reference", c.Reference)
	}
	return nil
}

// reset does the reset in st, a transaction; c may be nil (console without a case). note,
// when set, says in the support.mfa_reset row's parentheses where the reset was asked for
// (an administrator's adminOrigin).
func (s *Service) reset(ctx context.Context, st store.Store, c *store.SupportCase, u *store.User, r *store.MFAReset,
	requester, approver, note string, m Meta) (*ResetResult, error) {
	removed, err := factorsHeld(ctx, st, u.ID)
	if err != nil {
		return nil, err
	}
	if err := st.DeleteTOTP(ctx, u.ID); err != nil {
		return nil, err
	}
	if _, err := st.DeleteUserWebAuthnCredentials(ctx, u.ID); err != nil {
		return nil, err
	}
	if err := st.DeleteRecoveryCode(ctx, u.ID); err != nil {
		return nil, err
	}
	// Counted even when nothing was removed, so that the account's mfaState changes
	// with every reset and a repeat of this one is refused.
	if err := st.AddUserMFAReset(ctx, u.ID); err != nil {
		return nil, err
	}
	ended, err := s.auth.EndIn(ctx, st, auth.MFAReset, u.ID, "", m)
	if err != nil {
		return nil, err
	}
	n := ended.Sessions
	ref := ""
	if c != nil {
		ref = c.Reference
	}
	// Enrollment at the next sign-in follows from the policy once no authenticator is
	// left. An administrator's "no" override would exempt a user the policy covers: the
	// reset clears it, so the reset never leaves such a user without MFA.
	policy := s.policyRequires(u)
	if policy && u.MFAOverride == store.MFAOverrideNo {
		if err := st.SetUserMFAOverride(ctx, u.ID, store.MFAOverrideDefault, s.now()); err != nil {
			return nil, err
		}
		if err := s.record(ctx, st, audit.UserMFAOverride, u.ID, m, "mfa_required=default (cleared by the MFA reset"+casePart(ref)+")"); err != nil {
			return nil, err
		}
		u.MFAOverride = store.MFAOverrideDefault
	}
	enroll := policy || u.MFAOverride == store.MFAOverrideYes
	names := make([]string, len(removed))
	for i, f := range removed {
		names[i] = f.English()
	}
	res := &ResetResult{Status: ResetDone, Username: u.Username, SessionsEnded: n, EnrollmentRequired: enroll, Removed: names}

	who := s.requesterArg(ctx, st, r, requester)
	if approver != "" {
		who = say("timeline.approved_by", "By", who, "Approver", approver)
	}
	next := say("timeline.next_enroll")
	if !enroll {
		next = say("timeline.next_optional")
	}
	detail := fmt.Sprintf("case=%s agent=%s verification=%s sessions_ended=%d removed=%s", orDash(ref), requester, r.Verification, n,
		orDash(strings.Join(names, "; ")))
	if approver != "" {
		detail += " approved_by=" + approver
	}
	if note != "" {
		detail += " (" + note + ")"
	}
	if c != nil {
		if len(removed) == 0 {
			removed = []Text{say("timeline.removed_none")}
		}
		body := say("timeline.mfa_reset", "Username", u.Username, "By", who, "How", verifiedBy(r.Verification), "Note", r.Note,
			"Removed", removed, "Count", n, "Next", next)
		if err := s.timeline(ctx, st, c.ID, EventMFAReset, m.ActorID, body); err != nil {
			return nil, err
		}
	} else {
		detail += " reason=" + clip(r.Note, 200)
	}
	if err := s.notifyReset(ctx, st, c, u, m.ActorID, res); err != nil {
		return nil, err
	}
	st.AfterCommit(s.metrics.MFAReset)
	return res, s.record(ctx, st, audit.SupportMFAReset, u.ID, m, detail)
}

// policyRequires reports whether the policy for u's role requires MFA, whatever the
// per-user override says.
func (s *Service) policyRequires(u *store.User) bool {
	x := *u
	x.MFAOverride = store.MFAOverrideDefault
	return s.auth.MFARequired(&x.Account)
}

// notifyReset queues the e-mail about the reset to the account's address in st, the
// reset's transaction, and notes it on the case.
func (s *Service) notifyReset(ctx context.Context, st store.Store, c *store.SupportCase, u *store.User, actorID string, res *ResetResult) error {
	ref := ""
	if c != nil {
		ref = c.Reference
	}
	queued, err := s.post.Send(ctx, st, mail.KindMFAReset, u.Email, mail.Data{Name: u.Username, Reference: ref, At: s.now(), Lang: u.Language})
	res.Notified = queued
	if err != nil || !queued || c == nil {
		return err
	}
	return s.timeline(ctx, st, c.ID, EventUserNotified, actorID, say("timeline.user_notified", "Email", u.Email))
}

// factorsHeld names the second factors u has, in st: the app, each key by name, the
// recovery code.
func factorsHeld(ctx context.Context, st store.Store, userID string) ([]Text, error) {
	var out []Text
	if _, err := st.GetTOTP(ctx, userID); err == nil {
		out = append(out, say("timeline.factor.app"))
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	keys, err := st.ListWebAuthnCredentials(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		kind := "timeline.factor.key"
		if k.Discoverable {
			kind = "timeline.factor.passkey"
		}
		out = append(out, say(kind, "Name", k.Name))
	}
	if _, err := st.GetRecoveryCode(ctx, userID); err == nil {
		out = append(out, say("timeline.factor.recovery"))
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return out, nil
}

func casePart(ref string) string {
	if ref == "" {
		return ""
	}
	return " of case " + ref
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
