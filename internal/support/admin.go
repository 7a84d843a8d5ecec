package support

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// CheckReason refuses a reset's reason ResetByAdmin would refuse: empty, not text or
// longer than MaxReason, so that a caller can tell it before anything else.
func CheckReason(reason string) error {
	_, err := cleanText("reason", reason, MaxReason, true, true)
	return err
}

// ResetByAdmin resets u's MFA for an administrator in the admin console or the admin API,
// with the administrator's written reason; the actor in the audit log is m.ActorID when
// set (an API token's "token:ID" acts for the administrator who created it, and is
// recorded as itself), else the administrator. The rules are the support desk's: nobody resets their own MFA, a pending request
// for u refuses a second one. Without dual control the reset happens at once, exactly as
// an agent's (factors removed, every session ended, the user told by e-mail). With
// support.reset_requires_approval it waits for a second agent or administrator: a case is
// opened for u's address, assigned to the administrator, with the reason as its
// description and the request waiting on it, approved on that case like any other
// (ApproveReset). It returns the outcome and, for a pending request, the case's reference.
//
// With state, the user's MFAState as the administrator saw it, the reset (or the
// request) is made only while the account's MFA is still in that state, checked in the
// transaction that removes the factors, under the account's lock: otherwise a 409
// mfa_changed says it was reset since or its factors changed, and nothing is done, so a
// form sent twice or a retried request resets once. A state not of the form MFAState
// gives is a 400. Without one (the admin API's field is optional) nothing is compared.
// Every reset changes the state, also one of an account that holds no second factor.
func (s *Service) ResetByAdmin(ctx context.Context, admin, u *store.User, reason, state string, m Meta) (*ResetResult, string, error) {
	if err := requireAgent(&admin.Account); err != nil {
		return nil, "", err
	}
	if admin.Role != store.RoleAdmin {
		return nil, "", errNotAgent
	}
	reason, err := cleanText("reason", reason, MaxReason, true, true)
	if err != nil {
		return nil, "", err
	}
	seen, ok := parseMFAState(state)
	if !ok {
		return nil, "", apperr.Msg(apperr.CodeBadRequest, "err.mfa_state_user")
	}
	if m.ActorID == "" {
		m.ActorID = admin.ID
	}
	var res *ResetResult
	var ref string
	for attempt := 0; ; attempt++ {
		err = store.AccountTx(ctx, s.store, u.ID, func(st store.Store) error {
			if err := auth.TokenMayChangeIn(ctx, st, u.ID, m); err != nil {
				return err
			}
			fresh, err := st.GetUser(ctx, u.ID)
			if err != nil {
				return err
			}
			if err := mayReset(&admin.Account, fresh); err != nil {
				return err
			}
			if err := s.refusePending(ctx, st, fresh, admin.ID, m); err != nil {
				return err
			}
			if seen != (mfaState{}) {
				if err := compareMFAState(ctx, st, fresh.ID, seen, userChanged); err != nil {
					return err
				}
			}
			now := s.now()
			r := &store.MFAReset{ID: newID(), UserID: fresh.ID, RequestedBy: admin.ID, RequestedByToken: m.TokenID(),
				Verification: VerifyOther, Note: reason, RequestedAt: now, Status: store.ResetPending}
			from := s.adminOrigin(ctx, st, admin, m)
			if !s.requireApproval {
				r.Status, r.DecidedBy, r.DecidedAt = store.ResetDone, admin.ID, now
				res, err = s.reset(ctx, st, nil, fresh, r, admin.Username, "", from.note, m)
				return err
			}
			c, err := s.openAdminCase(ctx, st, admin, fresh, reason, from, m)
			if err != nil {
				return err
			}
			r.CaseID, ref = c.ID, c.Reference
			if err := st.CreateMFAReset(ctx, r); err != nil {
				return err
			}
			body := say("timeline.reset_requested_admin", "By", s.requesterArg(ctx, st, r, admin.Username),
				"Username", fresh.Username, "Reason", reason)
			if err := s.timeline(ctx, st, c.ID, EventResetRequested, admin.ID, body); err != nil {
				return err
			}
			res = &ResetResult{Status: ResetPending, Username: fresh.Username}
			return s.record(ctx, st, audit.SupportResetRequested, fresh.ID, m,
				fmt.Sprintf("case=%s agent=%s verification=%s (%s)", c.Reference, admin.Username, VerifyOther, from.note))
		})
		// A reference clash is retried with a new one, in a new transaction.
		if !errors.Is(err, store.ErrConflict) || attempt == 4 {
			break
		}
	}
	if err != nil {
		return nil, "", err
	}
	return res, ref, nil
}

// adminOrigin is who asked for an administrator's MFA reset, and where: by names the
// administrator, or the API token the request's Meta names (by name and id, with the
// administrator who created it); where is how a sentence says where the request came
// from; note is the same for an audit detail's parentheses: "admin console", or the admin
// API with the token.
type adminOrigin struct {
	by, where Text
	note      string
}

// adminOrigin describes the request m of admin, reading a token's name in st.
func (s *Service) adminOrigin(ctx context.Context, st store.Store, admin *store.User, m Meta) adminOrigin {
	id := m.TokenID()
	if id == "" {
		return adminOrigin{by: say("timeline.by_admin", "Name", admin.Username), where: say("timeline.from_console"), note: "admin console"}
	}
	// The name is quoted: an administrator chooses it freely (any text without control
	// characters), and unquoted it could read as fields of the detail of its own (another
	// id, creator or reason).
	name := strconv.Quote(s.tokenName(ctx, st, id))
	return adminOrigin{
		by:    say("timeline.by_token", "Token", name, "ID", id, "Name", admin.Username),
		where: say("timeline.from_api"),
		note:  fmt.Sprintf("admin API, API token %s, id %s, created by %s", name, id, admin.Username),
	}
}

// openAdminCase opens, in st, the case an administrator's reset request waits on. Its
// description, first timeline entry and audit row name who asked and where (from); the
// description and the entry keep their sentences, so that the case page says them in its
// reader's language.
func (s *Service) openAdminCase(ctx context.Context, st store.Store, admin, u *store.User, reason string, from adminOrigin, m Meta) (*store.SupportCase, error) {
	refText, err := newReference(s.rand)
	if err != nil {
		return nil, err
	}
	now := s.now()
	name := u.DisplayName
	if name == "" {
		name = u.Username
	}
	described := say("case.description_admin", "By", from.by, "Reason", reason)
	c := &store.SupportCase{ID: newID(), Reference: refText, FullName: name, Email: u.Email, EmailNorm: u.EmailNorm,
		Category: CategoryOther, Description: clip(described.English(), MaxDescription), DescriptionMessage: described.encode(),
		Status: store.CaseOpen, AssigneeID: admin.ID, IP: clip(m.IP, 64), UserAgent: clip(m.UserAgent, 256),
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateCase(ctx, c); err != nil {
		return nil, err
	}
	if err := s.timeline(ctx, st, c.ID, EventOpened, admin.ID, say("timeline.opened_admin", "Where", from.where, "By", from.by, "Username", u.Username)); err != nil {
		return nil, err
	}
	return c, s.record(ctx, st, audit.SupportCaseOpened, u.ID, m, fmt.Sprintf("case=%s category=%s (%s)", c.Reference, c.Category, from.note))
}
