package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// adminUserRoutes registers the users part of the console and the admin API.
func (s *Server) adminUserRoutes(rt *router) {
	if s.admin == nil {
		return
	}
	rt.admin("GET /api/v1/admin/users", admin.ScopeUsersRead, s.apiAdminListUsers)
	rt.admin("POST /api/v1/admin/users", admin.ScopeUsersWrite, s.apiAdminInvite)
	rt.admin("GET /api/v1/admin/users/{id}", admin.ScopeUsersRead, s.apiAdminUser)
	rt.admin("PATCH /api/v1/admin/users/{id}", admin.ScopeUsersWrite, s.apiAdminUpdate)
	rt.admin("DELETE /api/v1/admin/users/{id}", admin.ScopeUsersWrite, s.apiAdminDelete)
	rt.admin("POST /api/v1/admin/users/{id}/sign-out", admin.ScopeUsersWrite, s.apiAdminSignOut)
	rt.admin("POST /api/v1/admin/users/{id}/unlock", admin.ScopeUsersWrite, s.apiAdminUnlock)
	rt.admin("POST /api/v1/admin/users/{id}/password-reset", admin.ScopeUsersWrite, s.apiAdminPasswordReset)
	rt.admin("POST /api/v1/admin/users/{id}/reset-mfa", admin.ScopeUsersWrite, s.apiAdminResetMFA)

	rt.admin("GET /admin/users", admin.ScopeUsersRead, s.adminUsersPage)
	rt.admin("GET /admin/users/invite", admin.ScopeUsersWrite, s.adminInvitePage)
	rt.admin("POST /admin/users/invite", admin.ScopeUsersWrite, s.adminInviteSubmit)
	rt.admin("GET /admin/users/{id}", admin.ScopeUsersRead, s.adminUserPage)
	rt.admin("POST /admin/users/{id}/{action}", admin.ScopeUsersWrite, s.adminUserAction)
	rt.admin("POST /admin/users/{id}/sessions/{session}/end", admin.ScopeUsersWrite, s.adminEndSession)
	rt.admin("GET /admin/users/{id}/delete", admin.ScopeUsersWrite, s.adminDeletePage)
	rt.admin("GET /admin/users/{id}/reset-mfa", admin.ScopeUsersWrite, s.adminResetMFAPage)
}

// AdminUser is a user in the admin API.
type AdminUser struct {
	ID            string       `json:"id"`
	Username      string       `json:"username"`
	Email         string       `json:"email"`
	EmailVerified bool         `json:"email_verified"`
	DisplayName   string       `json:"display_name"`
	Role          string       `json:"role"`
	Status        string       `json:"status"`
	MFA           AdminUserMFA `json:"mfa"`
	// MFARequired is the per-user override: yes, no, or default (the policy decides).
	MFARequired  string     `json:"mfa_required"`
	CreatedAt    time.Time  `json:"created_at"`
	LastSignInAt *time.Time `json:"last_sign_in_at"`
}

// AdminUserMFA says which second factors a user has.
type AdminUserMFA struct {
	TOTP     bool `json:"totp"`
	WebAuthn int  `json:"webauthn"`
}

// AdminUserDetails answers GET /api/v1/admin/users/{id}: the user with sessions, factors
// and open support cases.
type AdminUserDetails struct {
	AdminUser
	Sessions []AdminSession `json:"sessions"`
	Factors  []AdminFactor  `json:"factors"`
	Cases    []AdminCase    `json:"open_cases"`
	// Invitation is set for an invited account: until when its link works, and when it
	// was accepted (null while not).
	Invitation *AdminInvitation `json:"invitation"`
	// MFAState marks the state of the user's MFA this answer shows; a reset that sends it
	// back runs only while the user is still in it. Opaque; "" without MFA resets.
	MFAState string `json:"mfa_state"`
}

// AdminSession is one of a user's sessions.
type AdminSession struct {
	ID         string    `json:"id"`
	State      string    `json:"state"`
	IP         string    `json:"ip"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// AdminFactor is one of a user's second factors.
type AdminFactor struct {
	Kind       string     `json:"kind"` // totp, webauthn or recovery_code
	ID         string     `json:"id,omitempty"`
	Name       string     `json:"name"`
	AddedAt    time.Time  `json:"added_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// AdminCase is a support case about the user that is not closed.
type AdminCase struct {
	Reference string    `json:"reference"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// AdminInvitation is the state of an invited account's invitation.
type AdminInvitation struct {
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at"`
}

// MFAResetAnswer answers POST /api/v1/admin/users/{id}/reset-mfa.
type MFAResetAnswer struct {
	Status string `json:"status"` // done or pending_approval
	// Case is the support case a pending reset waits on, where a second agent or
	// administrator approves it; omitted when done.
	Case string `json:"case,omitempty"`
}

func mfaRequiredOf(override string) string {
	if override == store.MFAOverrideDefault {
		return admin.MFARequiredDefault
	}
	return override
}

func adminUserJSON(u *store.UserSummary) AdminUser {
	return AdminUser{ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified, DisplayName: u.DisplayName,
		Role: u.Role, Status: u.Status, MFA: AdminUserMFA{TOTP: u.TOTP, WebAuthn: u.Keys}, MFARequired: mfaRequiredOf(u.MFAOverride),
		CreatedAt: u.CreatedAt.UTC(), LastSignInAt: optTime(u.LastLoginAt)}
}

func adminDetailsJSON(d *admin.Details) AdminUserDetails {
	out := AdminUserDetails{AdminUser: adminUserJSON(&d.UserSummary), Sessions: []AdminSession{}, Factors: []AdminFactor{}, Cases: []AdminCase{},
		MFAState: d.MFAState}
	for _, x := range d.Sessions {
		out.Sessions = append(out.Sessions, AdminSession{ID: x.ID, State: x.State, IP: x.IP, Device: deviceName(x.UserAgent),
			UserAgent: x.UserAgent, CreatedAt: x.CreatedAt.UTC(), LastSeenAt: x.LastSeenAt.UTC()})
	}
	for _, f := range d.Factors {
		out.Factors = append(out.Factors, AdminFactor{Kind: f.Kind, ID: f.ID, Name: f.Name, AddedAt: f.AddedAt.UTC(), LastUsedAt: optTime(f.LastUsedAt)})
	}
	for _, c := range d.Cases {
		out.Cases = append(out.Cases, AdminCase{Reference: c.Reference, Status: c.Status, CreatedAt: c.CreatedAt.UTC()})
	}
	if d.Invitation != nil {
		out.Invitation = &AdminInvitation{ExpiresAt: d.Invitation.ExpiresAt.UTC(), AcceptedAt: optTime(d.Invitation.AcceptedAt)}
	}
	return out
}

// userFilter reads the list's query: ?query=&role=&status=&mfa=&limit=&cursor=.
func userFilter(r *http.Request) (admin.Filter, error) {
	q := r.URL.Query()
	after, limit, err := pageParams(r, listUsers)
	if err != nil {
		return admin.Filter{}, err
	}
	f := admin.Filter{Query: q.Get("query"), Role: q.Get("role"), Status: q.Get("status"), MFA: q.Get("mfa"), After: after, Limit: limit}
	return f, f.Check()
}

func (s *Server) apiAdminListUsers(w http.ResponseWriter, r *http.Request) error {
	f, err := userFilter(r)
	if err != nil {
		return err
	}
	list, err := s.admin.ListUsers(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(listUsers, list.Users, list.Next, adminUserJSON))
	return nil
}

type inviteBody struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Role     string `json:"role"`
	Invite   *bool  `json:"invite"`
}

func (s *Server) apiAdminInvite(w http.ResponseWriter, r *http.Request) error {
	var b inviteBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if err := required([2]string{"username", b.Username}, [2]string{"email", b.Email}); err != nil {
		return err
	}
	if b.Invite != nil && !*b.Invite {
		return apperr.New(apperr.CodeBadRequest, `Accounts are created by invitation: leave "invite" out or set it to true.`).In("invite")
	}
	u, err := s.admin.Invite(r.Context(), actorOf(r), admin.NewUser{Username: b.Username, Email: b.Email, Role: b.Role}, adminMeta(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/admin/users/"+u.ID)
	writeJSON(w, http.StatusCreated, adminUserJSON(u))
	return nil
}

func (s *Server) apiAdminUser(w http.ResponseWriter, r *http.Request) error {
	d, err := s.admin.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminDetailsJSON(d))
	return nil
}

// patchFields are the fields PATCH /api/v1/admin/users/{id} takes; any other is a 400,
// so a misspelt field never passes for a change made.
var patchFields = []string{"role", "disabled", "mfa_required"}

func (s *Server) apiAdminUpdate(w http.ResponseWriter, r *http.Request) error {
	var raw map[string]json.RawMessage
	if err := decodeJSON(w, r, &raw, false); err != nil {
		return err
	}
	for k := range raw {
		if !slices.Contains(patchFields, k) {
			return apperr.New(apperr.CodeBadRequest, "Unknown field "+apperr.Quote(k)+": use role, disabled or mfa_required.").In(k)
		}
	}
	var c admin.Change
	for field, dst := range map[string]any{"role": &c.Role, "disabled": &c.Disabled, "mfa_required": &c.MFARequired} {
		if v, ok := raw[field]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return apperr.New(apperr.CodeBadRequest, "Field "+apperr.Quote(field)+" has the wrong type.").In(field)
			}
		}
	}
	u, err := s.admin.Update(r.Context(), actorOf(r), r.PathValue("id"), c, adminMeta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminUserJSON(u))
	return nil
}

func (s *Server) apiAdminDelete(w http.ResponseWriter, r *http.Request) error {
	u, err := s.admin.Summary(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	// The API's caller names the account by its id: that is the confirmation.
	if err := s.admin.Delete(r.Context(), actorOf(r), u.ID, u.Username, adminMeta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAdminSignOut(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.admin.SignOut(r.Context(), actorOf(r), r.PathValue("id"), adminMeta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAdminUnlock(w http.ResponseWriter, r *http.Request) error {
	if err := s.admin.Unlock(r.Context(), actorOf(r), r.PathValue("id"), adminMeta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAdminPasswordReset(w http.ResponseWriter, r *http.Request) error {
	if err := s.admin.SendPasswordReset(r.Context(), actorOf(r), r.PathValue("id"), adminMeta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) apiAdminResetMFA(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Reason   string `json:"reason"`
		MFAState string `json:"mfa_state"` // optional: the user's mfa_state as GET /api/v1/admin/users/{id} answered it
	}
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	res, err := s.admin.ResetMFA(r.Context(), actorOf(r), r.PathValue("id"), b.Reason, b.MFAState, adminMeta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, MFAResetAnswer{Status: res.Status, Case: res.CaseReference})
	return nil
}
