package web

import (
	"net/http"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
)

// addressRoutes serve the verification and change of a user's e-mail address.
func (s *Server) addressRoutes(rt *router) {
	if s.address == nil {
		return
	}
	rt.handle("POST /api/v1/account/email", signedIn, s.apiChangeEmail)
	rt.handle("POST /api/v1/account/email/verify", signedIn, s.apiVerifyEmail)
	rt.handle("POST /api/v1/account/email/confirm", public, s.apiConfirmEmail)

	rt.handle("POST /account/email", signedIn, s.changeEmailSubmit)
	rt.handle("POST /account/email/verify", signedIn, s.verifyEmailSubmit)
	rt.handle("GET "+address.ConfirmPath, public, s.confirmEmailPage)
	rt.handle("POST "+address.ConfirmPath, public, s.confirmEmailSubmit)
	rt.handle("GET /account/email/confirmed", public, s.emailConfirmedPage)
}

type changeEmailBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) apiChangeEmail(w http.ResponseWriter, r *http.Request) error {
	var b changeEmailBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if err := required([2]string{"email", b.Email}, [2]string{"password", b.Password}); err != nil {
		return err
	}
	if err := s.address.RequestChange(r.Context(), sessionOf(r), b.Email, b.Password, meta(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, Accepted{})
	return nil
}

func (s *Server) apiVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	if err := decodeJSON(w, r, &struct{}{}, true); err != nil {
		return err
	}
	if err := s.address.SendVerification(r.Context(), sessionOf(r), meta(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, Accepted{})
	return nil
}

func (s *Server) apiConfirmEmail(w http.ResponseWriter, r *http.Request) error {
	var b tokenBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if _, err := s.address.Confirm(r.Context(), b.Token, meta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) changeEmailSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		email, pw := r.PostForm.Get("email"), r.PostForm.Get("password")
		if email == "" {
			return errEmailForm.In("new_email")
		}
		if pw == "" {
			return errEmailForm.In("email_password")
		}
		if err := s.address.RequestChange(r.Context(), cur, email, pw, meta(r)); err != nil {
			if e, ok := apperr.As(err); ok && e.Code == apperr.CodeInvalidCredentials {
				return e.In("email_password")
			}
			return atField("new_email", err)
		}
		redirect(w, r, "/account/security?done=email-sent")
		return nil
	})
}

func (s *Server) verifyEmailSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		if err := s.address.SendVerification(r.Context(), cur, meta(r)); err != nil {
			return err
		}
		redirect(w, r, "/account/security?done=verify-sent")
		return nil
	})
}

// confirmEmailData is the confirmation page: the link's token and what it confirms, or
// neither when the link cannot be used.
type confirmEmailData struct {
	Token   string
	Pending *address.Pending
}

// confirmEmailForm draws the confirmation page with an error and no button.
func (s *Server) confirmEmailForm(w http.ResponseWriter, r *http.Request) func(status int, msg formProblem) error {
	return func(status int, msg formProblem) error {
		s.render(w, r, status, "email_confirm", view{Title: s.tr(r, "email_confirm.title"), Error: msg.Message, Field: msg.Field, Data: confirmEmailData{}})
		return nil
	}
}

// confirmEmailPage shows what the link confirms, with a button; it changes nothing, since
// mail scanners open links.
func (s *Server) confirmEmailPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	p, err := s.address.Peek(r.Context(), tok)
	if err != nil {
		return onForm(err, s.confirmEmailForm(w, r))
	}
	s.render(w, r, http.StatusOK, "email_confirm", view{Title: s.tr(r, "email_confirm.title"), Data: confirmEmailData{Token: tok, Pending: p}})
	return nil
}

func (s *Server) confirmEmailSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	done, err := s.address.Confirm(r.Context(), r.PostForm.Get("token"), meta(r))
	if err != nil {
		return onForm(err, s.confirmEmailForm(w, r))
	}
	if err := s.setResult(w, resultEmailConfirmed, done); err != nil {
		return err
	}
	redirect(w, r, "/account/email/confirmed")
	return nil
}

// resultEmailConfirmed is the kind of result a confirmed address link hands on.
const resultEmailConfirmed = "email-confirmed"

// emailConfirmedPage says what the confirmed link did; without that result it sends the
// browser to the account page.
func (s *Server) emailConfirmedPage(w http.ResponseWriter, r *http.Request) error {
	var done address.Confirmed
	if !s.result(r, resultEmailConfirmed, &done) {
		redirect(w, r, "/account/security")
		return nil
	}
	s.render(w, r, http.StatusOK, "email_confirmed", view{Title: s.tr(r, "email_confirmed.title"), Data: &done})
	return nil
}

var errEmailForm = apperr.Msg(apperr.CodeBadRequest, "err.email_form")
