package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

// supportRoutes registers the support desk: the public support page and case API, the
// agent console and its API, and the e-mail confirmation page. Without a support
// service (some tests) there is none.
func (s *Server) supportRoutes(rt *router) {
	if s.support == nil {
		return
	}
	rt.handle("POST /api/v1/support/cases", public, s.apiOpenCase)
	rt.agentAPI("GET /api/v1/support/cases", admin.ScopeCasesRead, s.apiListCases)
	rt.agentAPI("GET /api/v1/support/cases/{ref}", admin.ScopeCasesRead, s.apiCase)
	rt.handle("POST /api/v1/support/cases/{ref}/notes", agent, s.apiCaseNote)
	rt.handle("POST /api/v1/support/cases/{ref}/assign", agent, s.apiCaseAssign)
	rt.handle("POST /api/v1/support/cases/{ref}/verify-email", agent, s.apiCaseVerifyEmail)
	rt.handle("POST /api/v1/support/cases/{ref}/reset-mfa", agent, s.apiCaseResetMFA)
	rt.handle("POST /api/v1/support/cases/{ref}/reset-mfa/approve", agent, s.apiCaseApproveReset)
	rt.handle("POST /api/v1/support/cases/{ref}/resolve", agent, s.apiCaseResolve)

	rt.handle("GET /support", public, s.supportPage)
	rt.handle("POST /support", public, s.supportSubmit)
	rt.handle("GET /support/sent", public, s.supportSent)
	rt.handle("GET /support/verify", public, s.verifyPage)
	rt.handle("POST /support/verify", public, s.verifySubmit)
	rt.handle("GET /support/verified", public, s.verifiedPage)
	rt.handle("GET /support/cases", agent, s.casesPage)
	rt.handle("GET /support/cases/{ref}", agent, s.casePage)
	rt.handle("POST /support/cases/{ref}/{action}", agent, s.caseAction)
	rt.handle("POST /support/cases/{ref}/reset-mfa/approve", agent, s.caseApprove)
}

type openCaseBody struct {
	FullName     string `json:"full_name"`
	Email        string `json:"email"`
	Organisation string `json:"organisation"`
	Phone        string `json:"phone"`
	Category     string `json:"category"`
	Description  string `json:"description"`
}

func (s *Server) apiOpenCase(w http.ResponseWriter, r *http.Request) error {
	var b openCaseBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	ref, err := s.support.OpenCase(r.Context(), support.CaseRequest{FullName: b.FullName, Email: b.Email,
		Organisation: b.Organisation, Phone: b.Phone, Category: b.Category, Description: b.Description}, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, CaseOpened{Reference: ref})
	return nil
}

// agentAllowed lets only support agents and administrators who signed in with MFA use the
// console: an agent can reset other people's MFA, so a stolen agent password alone must
// never be enough, whatever the MFA policy says. Under the phishing-resistant policy the
// sign-in must have used a security key: a code does not count.
func agentAllowed(svc *auth.Service, cur *auth.Current) error {
	if !support.IsAgent(cur.User) {
		return apperr.Msg(apperr.CodeForbidden, "err.not_agent")
	}
	if !slices.Contains(cur.Session.AMR, "mfa") {
		return apperr.Msg(apperr.CodeForbidden, "err.support_needs_mfa")
	}
	if !svc.MeetsKeyPolicy(cur) {
		return errKeySignInRequired
	}
	return nil
}

// errKeySignInRequired refuses what the phishing-resistant policy guards to a session of a
// user under it that did not use a security key.
var errKeySignInRequired = apperr.Msg(apperr.CodeSecurityKeyRequired, "err.key_sign_in_required")

// agentOf is who reads the support desk's API: the agent's user, or for an API token with
// cases:read a reader of role support that stands for the token ("token:ID"), which can
// never be the account a case concerns.
func agentOf(r *http.Request) *store.Account {
	if cur := sessionOf(r); cur != nil {
		return cur.User
	}
	id := actorOf(r).AuditID()
	return &store.Account{ID: id, Username: id, Role: store.RoleSupport}
}

func (s *Server) apiListCases(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := support.Filter{Status: q.Get("status"), Search: q.Get("q")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return apperr.New(apperr.CodeBadRequest, "limit must be a whole number between 1 and 500.")
		}
		f.Limit = n
	}
	list, err := s.support.ListCases(r.Context(), agentOf(r), f)
	if err != nil {
		return err
	}
	out := make([]CaseSummary, 0, len(list))
	for _, c := range list {
		out = append(out, summaryJSON(c))
	}
	writeJSON(w, http.StatusOK, CaseList{Cases: out})
	return nil
}

func (s *Server) apiCase(w http.ResponseWriter, r *http.Request) error {
	return s.writeCase(w, r, agentOf(r), http.StatusOK)
}

// writeCase answers with the case page as JSON.
func (s *Server) writeCase(w http.ResponseWriter, r *http.Request, reader *store.Account, status int) error {
	d, err := s.support.Case(r.Context(), reader, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, status, detailsJSON(d))
	return nil
}

func (s *Server) apiCaseNote(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	var b struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	e, err := s.support.AddNote(r.Context(), cur.User, r.PathValue("ref"), b.Text, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NoteAdded{Note: entryJSON(*e)})
	return nil
}

func (s *Server) apiCaseAssign(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	if err := decodeJSON(w, r, &struct{}{}, true); err != nil {
		return err
	}
	if err := s.support.Assign(r.Context(), cur.User, r.PathValue("ref"), meta(r)); err != nil {
		return err
	}
	return s.writeCase(w, r, cur.User, http.StatusOK)
}

func (s *Server) apiCaseVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	var b struct {
		UserID string `json:"user_id"`
	}
	if err := decodeJSON(w, r, &b, true); err != nil {
		return err
	}
	sent, err := s.support.SendVerification(r.Context(), cur.User, r.PathValue("ref"), b.UserID, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, VerificationSent{SentTo: sent.Email, Username: sent.Username,
		ExpiresAt: sent.ExpiresAt.UTC().Format(time.RFC3339)})
	return nil
}

type resetBody struct {
	UserID       string `json:"user_id"`
	Verification string `json:"verification"`
	Note         string `json:"note"`
	MFAState     string `json:"mfa_state"` // optional: the account's mfa_state as the case answered it
}

func (s *Server) apiCaseResetMFA(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	var b resetBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if err := required([2]string{"verification", b.Verification}, [2]string{"note", b.Note}); err != nil {
		return err
	}
	res, err := s.support.RequestReset(r.Context(), cur.User, r.PathValue("ref"),
		support.ResetRequest{UserID: b.UserID, Verification: b.Verification, Note: b.Note, MFAState: b.MFAState}, meta(r))
	if err != nil {
		return err
	}
	writeReset(w, res)
	return nil
}

func (s *Server) apiCaseApproveReset(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	if err := decodeJSON(w, r, &struct{}{}, true); err != nil {
		return err
	}
	res, err := s.support.ApproveReset(r.Context(), cur.User, r.PathValue("ref"), meta(r))
	if err != nil {
		return err
	}
	writeReset(w, res)
	return nil
}

func writeReset(w http.ResponseWriter, res *support.ResetResult) {
	pending := ResetPending{Status: res.Status, Username: res.Username}
	if res.Status == support.ResetPending {
		writeJSON(w, http.StatusAccepted, pending)
		return
	}
	writeJSON(w, http.StatusOK, ResetDone{ResetPending: pending, SessionsEnded: res.SessionsEnded,
		EnrollmentRequired: res.EnrollmentRequired, Notified: res.Notified})
}

func (s *Server) apiCaseResolve(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	var b struct {
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	}
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if err := required([2]string{"outcome", b.Outcome}, [2]string{"reason", b.Reason}); err != nil {
		return err
	}
	if err := s.support.Close(r.Context(), cur.User, r.PathValue("ref"), b.Outcome, b.Reason, meta(r)); err != nil {
		return err
	}
	return s.writeCase(w, r, cur.User, http.StatusOK)
}

// The JSON answers of the support API; tests decode into the same types. Times are
// RFC 3339 in UTC; a time that never happened is null.

// CaseOpened answers POST /api/v1/support/cases.
type CaseOpened struct {
	Reference string `json:"reference"`
}

// CaseList answers GET /api/v1/support/cases.
type CaseList struct {
	Cases []CaseSummary `json:"cases"`
}

// NoteAdded answers a new note.
type NoteAdded struct {
	Note TimelineEntry `json:"note"`
}

// VerificationSent answers a sent e-mail confirmation link.
type VerificationSent struct {
	SentTo    string `json:"sent_to"`
	Username  string `json:"username"`
	ExpiresAt string `json:"expires_at"`
}

// ResetPending answers a reset that waits for a second agent (202).
type ResetPending struct {
	Status   string `json:"status"`
	Username string `json:"username"`
}

// ResetDone answers a reset that was carried out (200).
type ResetDone struct {
	ResetPending
	SessionsEnded      int  `json:"sessions_ended"`
	EnrollmentRequired bool `json:"enrollment_required"`
	Notified           bool `json:"notified"`
}

// CaseSummary is a case in the list.
type CaseSummary struct {
	Reference    string     `json:"reference"`
	Status       string     `json:"status"`
	Category     string     `json:"category"`
	FullName     string     `json:"full_name"`
	Email        string     `json:"email"`
	Organisation string     `json:"organisation"`
	Assignee     *string    `json:"assignee"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	ClosedAt     *time.Time `json:"closed_at"`
}

func summaryJSON(c support.Summary) CaseSummary {
	return CaseSummary{Reference: c.Reference, Status: c.Status, Category: c.Category, FullName: c.FullName,
		Email: c.Email, Organisation: c.Organisation, Assignee: optString(c.Assignee), CreatedAt: c.CreatedAt.UTC(),
		UpdatedAt: c.UpdatedAt.UTC(), ClosedAt: optTime(c.ClosedAt)}
}

// EmailConfirmation is the proof that the requester holds the e-mail address.
type EmailConfirmation struct {
	At       time.Time `json:"at"`
	IP       string    `json:"ip"`
	Username string    `json:"username"`
}

// CaseClosed says who closed a case, when and why.
type CaseClosed struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Reason string    `json:"reason"`
}

// MFAFacts are an account's second-factor facts.
type MFAFacts struct {
	Active       bool       `json:"active"`
	Since        *time.Time `json:"since"`
	LastUsed     *time.Time `json:"last_used"`
	RecoveryCode bool       `json:"recovery_code"`
	Required     bool       `json:"required"`
	// SecurityKeys names the user's security keys and passkeys; a reset removes them too.
	SecurityKeys []string `json:"security_keys"`
}

// Account is an account a case may concern.
type Account struct {
	ID                   string     `json:"id"`
	Username             string     `json:"username"`
	Email                string     `json:"email"`
	Role                 string     `json:"role"`
	Disabled             bool       `json:"disabled"`
	CreatedAt            time.Time  `json:"created_at"`
	LastSignInAt         *time.Time `json:"last_sign_in_at"`
	MFA                  MFAFacts   `json:"mfa"`
	RecentFailedAttempts int        `json:"recent_failed_attempts"`
	EmailConfirmed       bool       `json:"email_confirmed"`
	CanReset             bool       `json:"can_reset"`
	CannotResetReason    *string    `json:"cannot_reset_reason"`
	// MFAState marks the state of the account's MFA this answer shows; a reset that sends
	// it back runs only while the account is still in it.
	MFAState string `json:"mfa_state"`
}

// TimelineEntry is a note or an event of a case.
type TimelineEntry struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Actor *string   `json:"actor"`
	Text  string    `json:"text"`
}

// PendingReset is a reset that waits for a second agent.
type PendingReset struct {
	Username    string `json:"username"`
	RequestedBy string `json:"requested_by"`
	// RequestedByToken is the name of the API token that filed the request (requested_by
	// is then "token NAME", kept for compatibility); omitted when a person did.
	RequestedByToken string    `json:"requested_by_token,omitempty"`
	RequestedAt      time.Time `json:"requested_at"`
	Verification     string    `json:"verification"`
	Note             string    `json:"note"`
}

// Case answers GET /api/v1/support/cases/{ref} and the calls that change a case.
type Case struct {
	CaseSummary
	Phone                 string             `json:"phone"`
	Description           string             `json:"description"`
	IP                    string             `json:"ip"`
	UserAgent             string             `json:"user_agent"`
	EmailConfirmation     *EmailConfirmation `json:"email_confirmation"`
	Closed                *CaseClosed        `json:"closed"`
	Accounts              []Account          `json:"accounts"`
	Timeline              []TimelineEntry    `json:"timeline"`
	PendingReset          *PendingReset      `json:"pending_reset"`
	ResetRequiresApproval bool               `json:"reset_requires_approval"`
}

func detailsJSON(d *support.Details) Case {
	c := d.Case
	out := Case{
		CaseSummary: summaryJSON(support.Summary{SupportCase: c, Assignee: d.Assignee}),
		Phone:       c.Phone, Description: c.Description, IP: c.IP, UserAgent: c.UserAgent,
		Accounts: []Account{}, Timeline: []TimelineEntry{}, ResetRequiresApproval: d.RequireApproval,
	}
	if !c.EmailConfirmedAt.IsZero() {
		out.EmailConfirmation = &EmailConfirmation{At: c.EmailConfirmedAt.UTC(), IP: c.EmailConfirmedIP, Username: d.ConfirmedAccount}
	}
	if !c.ClosedAt.IsZero() {
		out.Closed = &CaseClosed{At: c.ClosedAt.UTC(), By: d.ClosedBy, Reason: c.Resolution}
	}
	for _, a := range d.Accounts {
		out.Accounts = append(out.Accounts, Account{
			ID: a.UserID, Username: a.Username, Email: a.Email, Role: a.Role, Disabled: a.Disabled,
			CreatedAt: a.CreatedAt.UTC(), LastSignInAt: optTime(a.LastSignInAt),
			MFA: MFAFacts{Active: a.MFAActive, Since: optTime(a.MFASince), LastUsed: optTime(a.MFALastUsed),
				RecoveryCode: a.RecoveryCode, Required: a.MFARequired, SecurityKeys: append([]string{}, a.Keys...)},
			RecentFailedAttempts: a.RecentFailures, EmailConfirmed: a.EmailConfirmed, CanReset: a.CanReset,
			CannotResetReason: optString(a.WhyNot), MFAState: a.MFAState,
		})
	}
	for _, e := range d.Timeline {
		out.Timeline = append(out.Timeline, entryJSON(e))
	}
	if p := d.Pending; p != nil {
		out.PendingReset = &PendingReset{Username: p.Username, RequestedBy: p.Requester(), RequestedByToken: p.Token, RequestedAt: p.RequestedAt.UTC(),
			Verification: p.Verification, Note: p.Note}
	}
	return out
}

func entryJSON(e support.Entry) TimelineEntry {
	return TimelineEntry{At: e.At.UTC(), Kind: e.Kind, Actor: optString(e.Actor), Text: e.Body}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
