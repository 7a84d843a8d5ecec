package web

import (
	"net/http"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/register"
	"github.com/twofold-id/twofold/internal/store"
)

// RegistrationRequested answers POST /api/v1/register: always the same empty object, so
// the answer never says whether the address or the name is taken.
type RegistrationRequested struct{}

// RegistrationConfirmed answers POST /api/v1/register/confirm: the new account's session
// state (enrollment_required when an authenticator must be set up first, else
// authenticated).
type RegistrationConfirmed struct {
	State string `json:"state"`
}

type registerBody struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenBody struct {
	Token string `json:"token"`
}

// registerRoutes registers self-registration. The routes exist whether it is on or off;
// off, each answers 404 (register.ErrOff) and the sign-in page does not link to it.
func (s *Server) registerRoutes(rt *router) {
	rt.handle("POST /api/v1/register", public, s.apiRegister)
	rt.handle("POST /api/v1/register/confirm", public, s.apiRegisterConfirm)
	rt.handle("GET /register", public, s.registerPage)
	rt.handle("POST /register", public, s.registerSubmit)
	rt.handle("GET /register/sent", public, s.registerSent)
	rt.handle("GET /register/confirm", public, s.registerConfirmPage)
	rt.handle("POST /register/confirm", public, s.registerConfirmSubmit)
}

func (s *Server) apiRegister(w http.ResponseWriter, r *http.Request) error {
	if !s.register.Enabled() {
		return register.ErrOff
	}
	var b registerBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if err := required([2]string{"username", b.Username}, [2]string{"email", b.Email}, [2]string{"password", b.Password}); err != nil {
		return err
	}
	if err := s.register.Register(r.Context(), register.Request{Username: b.Username, Email: b.Email, Password: b.Password}, meta(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, RegistrationRequested{})
	return nil
}

func (s *Server) apiRegisterConfirm(w http.ResponseWriter, r *http.Request) error {
	if !s.register.Enabled() {
		return register.ErrOff
	}
	var b tokenBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	cur, err := s.register.Confirm(r.Context(), b.Token, meta(r))
	if err != nil {
		return err
	}
	s.endOldSession(r, cur.Session.ID)
	s.setSession(w, cur.Token)
	writeJSON(w, http.StatusOK, RegistrationConfirmed{State: cur.Session.State})
	return nil
}

// registerForm is what the registration page shows and refills after an error (never the
// password).
type registerForm struct {
	Username string
	Email    string
}

func (s *Server) registerPage(w http.ResponseWriter, r *http.Request) error {
	if !s.register.Enabled() {
		return register.ErrOff
	}
	s.render(w, r, http.StatusOK, "register", view{Title: s.tr(r, "register.title"), Data: registerForm{}})
	return nil
}

func (s *Server) registerSubmit(w http.ResponseWriter, r *http.Request) error {
	if !s.register.Enabled() {
		return register.ErrOff
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	in := register.Request{Username: f.Get("username"), Email: f.Get("email"), Password: f.Get("password")}
	if err := s.register.Register(r.Context(), in, meta(r)); err != nil {
		if e, ok := apperr.As(err); ok && e.Code == apperr.CodeWeakPassword {
			err = e.In("password")
		}
		return onForm(err, func(status int, msg formProblem) error {
			s.render(w, r, status, "register", view{Title: s.tr(r, "register.title"), Error: msg.Message, Field: msg.Field,
				Data: registerForm{Username: in.Username, Email: in.Email}})
			return nil
		})
	}
	// Post/redirect/get: reloading the answer does not register again.
	redirect(w, r, "/register/sent")
	return nil
}

func (s *Server) registerSent(w http.ResponseWriter, r *http.Request) error {
	if !s.register.Enabled() {
		return register.ErrOff
	}
	s.render(w, r, http.StatusOK, "register_sent", view{Title: s.tr(r, "forgot_sent.title")})
	return nil
}

// registerConfirmData is the confirmation page: the pending account and its link.
type registerConfirmData struct {
	Token   string
	Pending *register.Pending
	MFA     bool // the new account must set up an authenticator next
}

// registerConfirmForm draws the confirmation page with an error and no form.
func (s *Server) registerConfirmForm(w http.ResponseWriter, r *http.Request) func(status int, msg formProblem) error {
	return func(status int, msg formProblem) error {
		s.render(w, r, status, "register_confirm", view{Title: s.tr(r, "register_confirm.title"), Error: msg.Message, Field: msg.Field, Data: registerConfirmData{}})
		return nil
	}
}

// registerConfirmPage shows what the link will create and a button; it changes nothing,
// since mail scanners fetch links too.
func (s *Server) registerConfirmPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	p, err := s.register.Check(r.Context(), tok)
	if err != nil {
		return onForm(err, s.registerConfirmForm(w, r))
	}
	s.render(w, r, http.StatusOK, "register_confirm", view{Title: s.tr(r, "register_confirm.title"), Data: registerConfirmData{
		Token: tok, Pending: p, MFA: s.auth.MFARequired(&store.Account{Role: store.RoleUser})}})
	return nil
}

// registerConfirmSubmit creates the account and signs it in: to the authenticator setup
// when the policy wants one, else to the account page.
func (s *Server) registerConfirmSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	cur, err := s.register.Confirm(r.Context(), r.PostForm.Get("token"), meta(r))
	if err != nil {
		return onForm(err, s.registerConfirmForm(w, r))
	}
	s.endOldSession(r, cur.Session.ID)
	s.setSession(w, cur.Token)
	if cur.Session.State == store.StateEnrollmentRequired {
		// Show the QR code at once, as after a sign-in.
		if _, err := s.auth.BeginTOTPSetup(r.Context(), cur, "", meta(r)); err != nil {
			return err
		}
		redirect(w, r, "/mfa/setup")
		return nil
	}
	redirect(w, r, "/account/security?done=registered")
	return nil
}

// registerLink reports whether the sign-in page offers registration.
func (s *Server) registerLink() bool { return s.register.Enabled() }
