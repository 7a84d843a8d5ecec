package web

import (
	"net/http"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

type securityData struct {
	User     *store.Account
	Status   *auth.MFAStatus
	Sessions []store.SessionRecord
	// Applications: those the user let in, with what they may have and when they last got it.
	Applications []store.OIDCApplication
	Current      string
	AMR          []string
	// Recent: the session proved the second factor recently enough to replace the
	// authenticator without a code.
	Recent bool
	// KeyProof: keys can be added or removed now (a recent proof, or no factor to prove);
	// else CodeProof says whether an app code or the recovery code can prove it, Confirm
	// is the key button's way back.
	KeyProof, CodeProof bool
	Confirm             keyConfirmData
	// KeyRequired: the phishing-resistant policy covers the user.
	KeyRequired bool
}

// renderSecurity draws the security page; the error is that of loading its data.
func (s *Server) renderSecurity(w http.ResponseWriter, r *http.Request, cur *auth.Current, status int, msg formProblem, flash string) error {
	st, err := s.auth.Status(r.Context(), cur.User)
	if err != nil {
		return err
	}
	sessions, err := s.auth.Sessions(r.Context(), cur)
	if err != nil {
		return err
	}
	apps, err := s.auth.Applications(r.Context(), cur)
	if err != nil {
		return err
	}
	s.render(w, r, status, "security", view{Title: s.tr(r, "security.title"), Error: msg.Message, Field: msg.Field, Flash: flash,
		Data: securityData{User: cur.User, Status: st, Sessions: sessions, Applications: apps, Current: cur.Session.ID, AMR: cur.Session.AMR,
			Recent: s.auth.ProvedRecently(cur), KeyProof: s.auth.ProvedRecently(cur) || !st.HasSecondFactor(),
			CodeProof: st.TOTP || st.RecoveryCode, Confirm: keyConfirmData{HasKey: true, Next: "/account/security?done=confirmed#security-keys"},
			KeyRequired: s.auth.PhishingResistant(cur.User)}})
	return nil
}

func (s *Server) securityPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSecurity(w, r, sessionOf(r), http.StatusOK, formProblem{}, s.flash(r))
}

// securityForm runs a form posted from the security page, showing errors on it.
func (s *Server) securityForm(w http.ResponseWriter, r *http.Request, do func(cur *auth.Current) error) error {
	cur := sessionOf(r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	return onForm(do(cur), func(status int, msg formProblem) error {
		return s.renderSecurity(w, r, cur, status, msg, "")
	})
}

func (s *Server) newRecoveryCodeSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		rc, err := s.auth.NewRecoveryCode(r.Context(), cur, r.PostForm.Get("code"), meta(r))
		if err != nil {
			return atField("rc-code", err)
		}
		return s.holdCodeAndShow(w, r, cur, rc, codeAfterRenew)
	})
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		current, next := r.PostForm.Get("current_password"), r.PostForm.Get("new_password")
		if current == "" {
			return apperr.Msg(apperr.CodeBadRequest, "err.current_password_empty").In("current_password")
		}
		if next == "" {
			return apperr.Msg(apperr.CodeBadRequest, "err.choose_new_password").In("new_password")
		}
		if next != r.PostForm.Get("confirm_password") {
			return apperr.Msg(apperr.CodeBadRequest, "err.new_passwords_differ").In("confirm_password")
		}
		if err := s.auth.ChangePassword(r.Context(), cur, current, next, meta(r)); err != nil {
			if e, ok := apperr.As(err); ok && e.Code == apperr.CodeInvalidCredentials {
				return e.In("current_password")
			}
			return atField("new_password", err)
		}
		redirect(w, r, "/account/security?done=password")
		return nil
	})
}

func (s *Server) signOutOthersSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		if _, err := s.auth.End(r.Context(), auth.SignOutOthers, cur.User.ID, cur.Session.ID, userMeta(r, cur)); err != nil {
			return err
		}
		redirect(w, r, "/account/security?done=sessions")
		return nil
	})
}

func (s *Server) signOutSessionSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		if err := s.auth.SignOutSession(r.Context(), cur, r.PathValue("id"), meta(r)); err != nil {
			return err
		}
		redirect(w, r, "/account/security?done=session")
		return nil
	})
}

func (s *Server) removeApplicationSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		if _, err := s.auth.EndApplication(r.Context(), cur.User.ID, r.PathValue("client_id"), userMeta(r, cur)); err != nil {
			return err
		}
		redirect(w, r, "/account/security?done=app-removed")
		return nil
	})
}

func (s *Server) profileSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		if _, sent := r.PostForm["display_name"]; !sent { // the page's form always sends it, empty or not
			return apperr.Msg(apperr.CodeBadRequest, "err.field_required").In("display_name")
		}
		if _, err := s.auth.SetDisplayName(r.Context(), cur, r.PostForm.Get("display_name"), meta(r)); err != nil {
			return atField("display_name", err)
		}
		redirect(w, r, "/account/security?done=profile")
		return nil
	})
}

func (s *Server) logoutPage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "logout", view{Title: s.tr(r, "logout.title")})
	return nil
}

func (s *Server) logoutSubmit(w http.ResponseWriter, r *http.Request) error {
	if cur, err := s.current(r); err == nil {
		if _, err := s.auth.End(r.Context(), auth.Logout, cur.User.ID, cur.Session.ID, userMeta(r, cur)); err != nil {
			return err
		}
	}
	s.clearSession(w)
	redirect(w, r, "/login?done=logout")
	return nil
}

// adminSetupData is the first administrator's form and what was typed (never the
// password); Dead says the link does not work, and the page says why and what to do.
type adminSetupData struct {
	Token, Username, Email string
	Dead                   bool
}

// deadSetupLink answers a setup link that does not work (err says why, and what to do
// instead) with its own page: no form, a way to the sign-in.
func (s *Server) deadSetupLink(w http.ResponseWriter, r *http.Request, err error) error {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.CodeInvalidToken {
		return err
	}
	s.render(w, r, statusOf[e.Code], "admin_setup", view{Title: s.tr(r, "admin_setup.used_title"), Error: e.Text(s.lang(r)),
		Data: adminSetupData{Dead: true}})
	return nil
}

func (s *Server) setupAdminPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	if err := s.auth.CheckSetupToken(r.Context(), token); err != nil {
		return s.deadSetupLink(w, r, err)
	}
	s.render(w, r, http.StatusOK, "admin_setup", view{Title: s.tr(r, "admin_setup.title"), Data: adminSetupData{Token: token}})
	return nil
}

func (s *Server) setupAdminSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	data := adminSetupData{Token: f.Get("token"), Username: f.Get("username"), Email: f.Get("email")}
	form := func(status int, msg formProblem) error {
		s.render(w, r, status, "admin_setup", view{Title: s.tr(r, "admin_setup.title"), Error: msg.Message, Field: msg.Field, Data: data})
		return nil
	}
	if f.Get("password") != f.Get("confirm_password") {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.passwords_differ").In("confirm_password"), form)
	}
	u, err := s.auth.CompleteSetup(r.Context(), f.Get("token"), auth.NewUser{
		Username: f.Get("username"), Email: f.Get("email"), Password: f.Get("password"),
	}, meta(r))
	if e, ok := apperr.As(err); ok && e.Code == apperr.CodeWeakPassword {
		err = e.In("password")
	}
	if e, ok := apperr.As(err); ok && e.Code == apperr.CodeInvalidToken {
		return s.deadSetupLink(w, r, err)
	}
	if err != nil {
		return onForm(err, form)
	}
	// The sign-in page has the new name filled in; it travels in the result cookie.
	if err := s.setResult(w, resultSignInName, u.Username); err != nil {
		return err
	}
	redirect(w, r, "/login?done=setup")
	return nil
}
