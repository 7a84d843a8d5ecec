package web

import (
	"net/http"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/store"
)

// inviteRoutes registers the invitation page and its API; without an invitation service
// they are left out.
func (s *Server) inviteRoutes(rt *router) {
	if s.invite == nil {
		return
	}
	rt.handle("POST /api/v1/invitations/accept", public, s.apiAcceptInvitation)
	rt.handle("GET /invite", public, s.invitePage)
	rt.handle("POST /invite", public, s.inviteSubmit)
}

// AcceptAnswer answers POST /api/v1/invitations/accept: the state of the session the
// accepted invitation opened.
type AcceptAnswer struct {
	State string `json:"state"`
}

type acceptBody struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (s *Server) apiAcceptInvitation(w http.ResponseWriter, r *http.Request) error {
	var b acceptBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if b.Token == "" {
		return invite.ErrInvalidLink
	}
	if err := required([2]string{"password", b.Password}); err != nil {
		return err
	}
	cur, err := s.invite.Accept(r.Context(), b.Token, b.Password, meta(r))
	if err != nil {
		return err
	}
	s.endOldSession(r, cur.Session.ID)
	s.setSession(w, cur.Token)
	writeJSON(w, http.StatusOK, AcceptAnswer{State: cur.Session.State})
	return nil
}

type inviteData struct {
	Token string
	Info  *invite.Info
}

// invitePage shows the form that sets the password; it changes nothing, because mail
// scanners open links.
func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	info, err := s.invite.Check(r.Context(), tok)
	if err != nil {
		return onForm(err, s.inviteForm(w, r, inviteData{}))
	}
	s.render(w, r, http.StatusOK, "invite", view{Title: s.tr(r, "invite.welcome", "Username", info.Username),
		Data: inviteData{Token: tok, Info: info}})
	return nil
}

// inviteForm shows the invitation page again with an error; without d.Info (the link
// cannot be accepted) the page only says so and where to go.
func (s *Server) inviteForm(w http.ResponseWriter, r *http.Request, d inviteData) func(int, formProblem) error {
	return func(status int, msg formProblem) error {
		title := s.tr(r, "invite.title")
		if d.Info != nil {
			title = s.tr(r, "invite.welcome", "Username", d.Info.Username)
		}
		s.render(w, r, status, "invite", view{Title: title, Error: msg.Message, Field: msg.Field, Data: d})
		return nil
	}
}

func (s *Server) inviteSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	tok := f.Get("token")
	info, err := s.invite.Check(r.Context(), tok)
	if err != nil {
		return onForm(err, s.inviteForm(w, r, inviteData{}))
	}
	form := s.inviteForm(w, r, inviteData{Token: tok, Info: info})
	if f.Get("password") == "" {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.choose_password").In("password"), form)
	}
	if f.Get("password") != f.Get("confirm_password") {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.passwords_differ_twice").In("confirm_password"), form)
	}
	cur, err := s.invite.Accept(r.Context(), tok, f.Get("password"), meta(r))
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Code == apperr.CodeInvalidToken {
			return onForm(err, s.inviteForm(w, r, inviteData{}))
		}
		return onForm(atField("password", err), form)
	}
	s.endOldSession(r, cur.Session.ID)
	s.setSession(w, cur.Token)
	return s.afterFirstPassword(w, r, cur)
}

// afterFirstPassword sends the browser on from the session an accepted invitation opened:
// to the authenticator setup, its QR code drawn at once, when the policy wants MFA; else
// signed in, where a sign-in would have led.
func (s *Server) afterFirstPassword(w http.ResponseWriter, r *http.Request, cur *auth.Current) error {
	if cur.Session.State == store.StateEnrollmentRequired {
		if _, err := s.auth.BeginTOTPSetup(r.Context(), cur, "", meta(r)); err != nil {
			return err
		}
		redirect(w, r, "/mfa/setup")
		return nil
	}
	redirect(w, r, s.landing(w, r, "/account/security?done=welcome"))
	return nil
}
