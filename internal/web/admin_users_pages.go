package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// The labels below are catalog keys.
var roleOptions = []option{{store.RoleUser, "admin_users.role_user"}, {store.RoleSupport, "admin_users.role_support"},
	{store.RoleAdmin, "admin_users.role_admin"}}

var roleLabels = map[string]string{store.RoleUser: "admin_users.role_user", store.RoleSupport: "admin_users.role_support",
	store.RoleAdmin: "admin_users.role_admin"}

var userStatusLabels = map[string]string{
	store.UserActive: "admin_users.status_active", store.UserDisabled: "admin_users.status_disabled",
	store.UserInvited: "admin_users.status_invited", store.UserLocked: "admin_users.status_locked",
}

var mfaFilterOptions = []option{{store.MFANone, "admin_users.mfa_none"}, {store.MFAApp, "admin_users.mfa_app"},
	{store.MFAKey, "admin_users.mfa_key"}}

var mfaRequiredOptions = []option{
	{admin.MFARequiredDefault, "admin_users.required_default"}, {admin.MFARequiredYes, "admin_users.required_yes"},
	{admin.MFARequiredNo, "admin_users.required_no"},
}

// statusTab is one status filter of the user list, with its count.
type statusTab struct {
	Label, Href string
	Count       int
	Current     bool
}

// usersData is the user list page.
type usersData struct {
	Filter     admin.Filter
	Tabs       []statusTab
	Roles      []option
	MFAs       []option
	Users      []store.UserSummary
	Labels     map[string]string
	RoleLabels map[string]string
	Next       string // the next page's address; empty on the last page
	First      string // the first page's address, when this is a later one
	Counted    int    // users matching the search and filters
}

// usersHref is the list's address for f with status and cursor.
func usersHref(f admin.Filter, status string, cursor store.Cursor) string {
	q := url.Values{}
	for k, v := range map[string]string{"query": f.Query, "role": f.Role, "mfa": f.MFA, "status": status, "cursor": cursor.Encode(listUsers)} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit != defaultPageLimit && f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if len(q) == 0 {
		return "/admin/users"
	}
	return "/admin/users?" + q.Encode()
}

func (s *Server) adminUsersPage(w http.ResponseWriter, r *http.Request) error {
	f, err := userFilter(r)
	if err != nil {
		return err
	}
	list, err := s.admin.ListUsers(r.Context(), f)
	if err != nil {
		return err
	}
	c := list.Counts
	d := usersData{Filter: f, Roles: roleOptions, MFAs: mfaFilterOptions, Users: list.Users, Labels: userStatusLabels,
		RoleLabels: roleLabels, Counted: c.All}
	for _, t := range []struct {
		status, label string
		n             int
	}{{"", "admin_users.tab_all", c.All}, {store.UserActive, userStatusLabels[store.UserActive], c.Active},
		{store.UserDisabled, userStatusLabels[store.UserDisabled], c.Disabled},
		{store.UserInvited, userStatusLabels[store.UserInvited], c.Invited}, {store.UserLocked, userStatusLabels[store.UserLocked], c.Locked}} {
		d.Tabs = append(d.Tabs, statusTab{Label: t.label, Count: t.n, Href: usersHref(f, t.status, store.Cursor{}), Current: f.Status == t.status})
	}
	if !list.Next.IsZero() {
		d.Next = usersHref(f, f.Status, list.Next)
	}
	if !f.After.IsZero() {
		d.First = usersHref(f, f.Status, store.Cursor{})
	}
	s.render(w, r, http.StatusOK, "admin_users", view{Title: s.tr(r, "admin_users.title"), Data: d,
		Flash: s.doneFlash(r, map[string]string{"deleted": "admin_user.done_deleted"})})
	return nil
}

// adminInviteData refills the invitation form.
type adminInviteData struct {
	Form  map[string]string
	Roles []option
}

func (s *Server) adminInvitePage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "admin_invite", view{Title: s.tr(r, "admin_users.invite"),
		Data: adminInviteData{Form: map[string]string{"role": store.RoleUser}, Roles: roleOptions}})
	return nil
}

func (s *Server) adminInviteSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	u, err := s.admin.Invite(r.Context(), actorOf(r), admin.NewUser{Username: f.Get("username"), Email: f.Get("email"), Role: f.Get("role")}, adminMeta(r))
	if err != nil {
		return onForm(err, func(status int, msg formProblem) error {
			s.render(w, r, status, "admin_invite", view{Title: s.tr(r, "admin_users.invite"), Error: msg.Message, Field: msg.Field,
				Data: adminInviteData{Roles: roleOptions, Form: map[string]string{"username": f.Get("username"), "email": f.Get("email"), "role": f.Get("role")}}})
			return nil
		})
	}
	redirect(w, r, "/admin/users/"+url.PathEscape(u.ID)+"?done=invited")
	return nil
}

// userData is a user's page.
type userData struct {
	*admin.Details
	Self        bool // the administrator looks at their own account
	Labels      map[string]string
	RoleLabels  map[string]string
	Roles       []option
	MFARequired []option
	Override    string // the override as the form names it
	Form        map[string]string
	CaseLabels  map[string]string
	Approval    bool // MFA resets wait for a second agent
}

// userFlashes are the catalog keys of what the user page says after an action (?done=).
var userFlashes = map[string]string{
	"invited":        "admin_user.done_invited",
	"resend":         "admin_user.done_resend",
	"role":           "admin_user.done_role",
	"disable":        "admin_user.done_disable",
	"enable":         "admin_user.done_enable",
	"mfa-required":   "admin_user.done_mfa_required",
	"unlock":         "admin_user.done_unlock",
	"password-reset": "admin_user.done_password_reset",
	"sign-out":       "admin_user.done_sign_out",
	"session":        "admin_user.done_session",
	"reset-mfa":      "admin_user.done_reset_mfa",
	"reset-pending":  "admin_user.done_reset_pending",
}

// doneFlash is the page's message after an action, in r's language; "" for none.
func (s *Server) doneFlash(r *http.Request, keys map[string]string) string {
	if k, ok := keys[r.URL.Query().Get("done")]; ok {
		return s.tr(r, k)
	}
	return ""
}

func (s *Server) adminUserPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderUser(w, r, http.StatusOK, formProblem{}, s.doneFlash(r, userFlashes), nil)
}

// renderUser draws a user's page; the error is that of loading the user.
func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, status int, msg formProblem, flash string, form map[string]string) error {
	d, err := s.admin.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if form == nil {
		form = map[string]string{}
	}
	approval := s.support != nil && s.support.RequireApproval()
	s.render(w, r, status, "admin_user", view{Title: d.Username, Error: msg.Message, Field: msg.Field, Flash: flash,
		Data: userData{Details: d, Self: d.ID == actorOf(r).UserID, Labels: userStatusLabels, RoleLabels: roleLabels, Roles: roleOptions,
			MFARequired: mfaRequiredOptions, Override: mfaRequiredOf(d.MFAOverride), Form: form, CaseLabels: statusLabels, Approval: approval}})
	return nil
}

// userPath is the address of the user page of id.
func userPath(id string) string { return "/admin/users/" + url.PathEscape(id) }

// adminUserAction runs a form posted from a user's page (or its delete and reset pages),
// then shows the page again.
func (s *Server) adminUserAction(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx, id, f, m := r.Context(), r.PathValue("id"), r.PostForm, adminMeta(r)
	action := r.PathValue("action")
	done, back := action, "admin_user"
	var err error
	switch action {
	case "resend":
		err = s.admin.ResendInvitation(ctx, actorOf(r), id, m)
	case "role":
		role := f.Get("role")
		_, err = s.admin.Update(ctx, actorOf(r), id, admin.Change{Role: &role}, m)
	case "disable", "enable":
		on := action == "disable"
		if on && f.Get("confirm") != "yes" {
			err = apperr.Msg(apperr.CodeBadRequest, "admin_user.confirm_disable").In("confirm-disable")
			break
		}
		_, err = s.admin.Update(ctx, actorOf(r), id, admin.Change{Disabled: &on}, m)
	case "mfa-required":
		v := f.Get("mfa_required")
		_, err = s.admin.Update(ctx, actorOf(r), id, admin.Change{MFARequired: &v}, m)
	case "unlock":
		err = s.admin.Unlock(ctx, actorOf(r), id, m)
	case "password-reset":
		err = s.admin.SendPasswordReset(ctx, actorOf(r), id, m)
	case "sign-out":
		_, err = s.admin.SignOut(ctx, actorOf(r), id, m)
	case "reset-mfa":
		back = "admin_reset_mfa"
		var res *admin.ResetResult
		res, err = s.admin.ResetMFA(ctx, actorOf(r), id, f.Get("reason"), f.Get("mfa_state"), m)
		if err == nil && res.IsPending() {
			done = "reset-pending"
		}
	case "delete":
		back = "admin_delete"
		if err = s.admin.Delete(ctx, actorOf(r), id, f.Get("confirm"), m); err == nil {
			redirect(w, r, "/admin/users?done=deleted")
			return nil
		}
	default:
		return apperr.Msg(apperr.CodeNotFound, "err.admin_no_action")
	}
	if err != nil {
		form := map[string]string{"reason": f.Get("reason"), "confirm": f.Get("confirm")}
		return onForm(err, func(status int, msg formProblem) error {
			if back == "admin_user" {
				return s.renderUser(w, r, status, msg, "", form)
			}
			return s.renderConfirm(w, r, back, status, msg, form)
		})
	}
	redirect(w, r, userPath(id)+"?done="+done)
	return nil
}

func (s *Server) adminEndSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.admin.EndSession(r.Context(), actorOf(r), id, r.PathValue("session"), adminMeta(r)); err != nil {
		return onForm(err, func(status int, msg formProblem) error {
			return s.renderUser(w, r, status, msg, "", nil)
		})
	}
	redirect(w, r, userPath(id)+"?done=session")
	return nil
}

// confirmData is the delete and MFA reset pages: the user and what was typed.
type confirmData struct {
	*store.UserSummary
	Form     map[string]string
	Approval bool
	// MFAState is the user's MFA state as the reset page is drawn (its form carries it
	// back, so that the reset runs once per decision); "" on the delete page.
	MFAState string
}

func (s *Server) adminDeletePage(w http.ResponseWriter, r *http.Request) error {
	return s.renderConfirm(w, r, "admin_delete", http.StatusOK, formProblem{}, nil)
}

func (s *Server) adminResetMFAPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderConfirm(w, r, "admin_reset_mfa", http.StatusOK, formProblem{}, nil)
}

// renderConfirm draws the delete or the MFA reset page of the user.
func (s *Server) renderConfirm(w http.ResponseWriter, r *http.Request, page string, status int, msg formProblem, form map[string]string) error {
	u, err := s.admin.Summary(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if form == nil {
		form = map[string]string{}
	}
	title := s.tr(r, "admin_delete.title", "Username", u.Username)
	state := ""
	if page == "admin_reset_mfa" {
		title = s.tr(r, "admin_reset_mfa.title", "Username", u.Username)
		// Read as the page is drawn: redrawn after a 409 it is the state as it is now,
		// so that a deliberate second reset works from the page shown.
		if state, err = s.admin.MFAState(r.Context(), u.ID); err != nil {
			return err
		}
	}
	s.render(w, r, status, page, view{Title: title, Error: msg.Message, Field: msg.Field,
		Data: confirmData{UserSummary: u, Form: form, Approval: s.support != nil && s.support.RequireApproval(), MFAState: state}})
	return nil
}
