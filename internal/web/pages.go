package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
	"github.com/twofold-id/twofold/internal/totp"
)

// maxForm bounds every HTML form body.
const maxForm = 64 << 10

// parseForm reads a bounded form body; the error is an application error. A body of another
// type than application/x-www-form-urlencoded (JSON, multipart, text/plain, or none named)
// is refused with 415: ParseForm would skip it and the page would ask for fields that were sent.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if !formEncoded(r) {
		return apperr.Msg(codeUnsupportedType, "err.form_type")
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.Msg(codeTooLarge, "err.form_too_large")
		}
		return apperr.Msg(apperr.CodeBadRequest, "err.form_unreadable")
	}
	if name := repeatedField(r.PostForm); name != "" {
		// Handlers read the first value; a proxy or a log reading the last would see
		// another request than the one acted on (the JSON API refuses the same).
		return apperr.Msg(apperr.CodeBadRequest, "err.form_field_twice", "Field", apperr.Quote(name))
	}
	return nil
}

// multiValued are the form fields a page sends more than once: one per ticked box.
var multiValued = map[string]bool{"scopes": true}

// repeatedField returns the first (in sorted order) field of f given more than once that
// is not multi-valued; "" when none is.
func repeatedField(f url.Values) string {
	var names []string
	for name, vs := range f {
		if len(vs) > 1 && !multiValued[name] {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return slices.Min(names)
}

// formEncoded reports whether r's body, if it has one, is application/x-www-form-urlencoded.
// A Content-Type that does not parse is left to ParseForm, which refuses it.
func formEncoded(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return r.ContentLength == 0
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err != nil || mt == "application/x-www-form-urlencoded"
}

// nextStep is where a browser with this session belongs.
func (s *Server) nextStep(cur *auth.Current) string {
	switch {
	case cur == nil:
		return "/login"
	case cur.Session.State == store.StateMFARequired:
		return "/login/code"
	case cur.Session.State == store.StateEnrollmentRequired:
		return "/mfa/setup"
	case s.auth.HeldRecoveryCode(cur) != "":
		return "/recovery-code"
	}
	return homeOf(cur.User)
}

// homeOf is where a user lands after signing in with nothing else to do: an agent signs
// in to work the cases, everyone else to their account.
func homeOf(u *store.Account) string {
	if support.IsAgent(u) {
		return "/support/cases"
	}
	return "/account/security"
}

// flash returns what the page says after the form that led to it (?done=...), in r's
// language; empty when nothing.
func (s *Server) flash(r *http.Request) string {
	if key, ok := flashes[r.URL.Query().Get("done")]; ok {
		return s.tr(r, key)
	}
	return ""
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	cur, _ := s.current(r)
	redirect(w, r, s.nextStep(cur))
	return nil
}

// flashes are the catalog keys of what a page says after the form that led to it
// (?done=...).
var flashes = map[string]string{
	"logout":      "flash.logout",
	"setup":       "flash.setup",
	"password":    "flash.password",
	"sessions":    "flash.sessions",
	"session":     "flash.session",
	"profile":     "flash.profile",
	"app-removed": "flash.app_removed",
	"confirmed":   "flash.confirmed",
	"key-added":   "flash.key_added",
	"totp-added":  "flash.totp_added",
	"key-removed": "flash.key_removed",
	"saved":       "flash.saved",
	"registered":  "flash.registered",
	"welcome":     "flash.welcome",
	// The address flows: what happens next is in the mail.
	"verify-sent": "flash.verify_sent",
	"email-sent":  "flash.email_sent",
}

// resultSignInName is the kind of result that fills in the sign-in page's username: the
// account the first-administrator setup just created.
const resultSignInName = "sign-in-name"

// loginForm is what the sign-in page shows: the name typed (after an error), whether it
// offers registration, and which application asked.
type loginForm struct {
	Username string
	Register bool
	Passkeys bool   // "Sign in with a passkey" (webauthn.passwordless)
	App      string // the application that sent the browser to sign in, if any
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if cur, err := s.current(r); err == nil && cur.Session.State == store.StateAuthenticated {
		if next, ok := returnPath(r.URL.Query().Get("next")); ok && s.auth.HeldRecoveryCode(cur) == "" {
			redirect(w, r, s.returnURL(next)) // already signed in: go straight on
			return nil
		}
		redirect(w, r, s.nextStep(cur))
		return nil
	}
	s.rememberReturn(w, r)
	flash := s.flash(r)
	if c, err := r.Cookie(s.cookieName()); err == nil && flash == "" {
		// The browser holds a session that is gone: say why, once, when an action ended it.
		why, err := s.auth.WhyEnded(r.Context(), c.Value)
		if err != nil {
			return err
		}
		if key := signedOutBecause[why]; key != "" {
			flash = s.tr(r, key)
			s.clearSession(w)
		}
	}
	var name string
	s.result(r, resultSignInName, &name) // the account just created, if any
	s.render(w, r, http.StatusOK, "login", view{Title: s.tr(r, "login.title"), Flash: flash,
		Data: loginForm{Username: name, Register: s.registerLink(), Passkeys: s.auth.PasswordlessEnabled(), App: s.askingApp(r.Context(), r.URL.Query().Get("next"))}})
	return nil
}

// signedOutBecause tells a browser whose session an action ended (keyed by the action's
// name) why it is signed out. It says only what happened to the account the browser was
// signed in to, never who else was involved or from where.
// The values are catalog keys.
var signedOutBecause = map[string]string{
	auth.SignOutOthers.String():     "signed_out.sign_out_others",
	auth.SignOutSession.String():    "signed_out.sign_out_session",
	auth.PasswordChanged.String():   "signed_out.password_changed",
	auth.PasswordReset.String():     "signed_out.password_reset",
	auth.FactorChanged.String():     "signed_out.factor_changed",
	auth.MFAReset.String():          "signed_out.mfa_reset",
	auth.SignOutEverywhere.String(): "signed_out.sign_out_everywhere",
	auth.Disabled.String():          "signed_out.disabled",
	auth.Deleted.String():           "signed_out.deleted",
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	username, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	form := func(status int, msg formProblem) error {
		s.render(w, r, status, "login", view{Title: s.tr(r, "login.title"), Error: msg.Message, Field: msg.Field, Data: loginForm{Username: username, Register: s.registerLink(), Passkeys: s.auth.PasswordlessEnabled(), App: s.askingApp(r.Context(), s.remembered(r))}})
		return nil
	}
	if username == "" {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.login_empty").In("username"), form)
	}
	if pw == "" {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.password_empty").In("password"), form)
	}
	// The session the browser held ends with the sign-in, in its transaction.
	res, err := s.auth.LoginReplacing(r.Context(), username, pw, s.heldToken(r), meta(r))
	if err != nil {
		return onForm(atField("password", err), form)
	}
	s.setSession(w, res.Current.Token)
	if res.Current.User.Language == "" {
		// Until the user chooses one with the switcher, their mails speak the language
		// of the pages they signed in on.
		if err := s.auth.SetLanguage(r.Context(), res.Current, s.lang(r)); err != nil {
			return err
		}
	}
	if res.Current.Session.State == store.StateEnrollmentRequired && !s.auth.PhishingResistant(res.Current.User) {
		// Show the QR code at once. A setup belongs to the session that drew it, so a
		// new sign-in draws a new key (and a setup left in another tab stops working).
		if _, err := s.auth.BeginTOTPSetup(r.Context(), res.Current, "", meta(r)); err != nil {
			return err
		}
	}
	if res.Current.Session.State == store.StateAuthenticated {
		redirect(w, r, s.landing(w, r, homeOf(res.Current.User)))
		return nil
	}
	redirect(w, r, s.nextStep(res.Current))
	return nil
}

func (s *Server) codePage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.codeData(r, sessionOf(r))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "code", view{Title: s.tr(r, "code.title"), Data: d})
	return nil
}

func (s *Server) codeSubmit(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	tok, err := s.auth.VerifyTOTP(r.Context(), cur, r.PostForm.Get("code"), meta(r))
	if err != nil {
		return onForm(atField("code", err), func(status int, msg formProblem) error {
			d, err := s.codeData(r, cur)
			if err != nil {
				return err
			}
			s.render(w, r, status, "code", view{Title: s.tr(r, "code.title"), Error: msg.Message, Field: msg.Field, Data: d})
			return nil
		})
	}
	s.setSession(w, tok)
	if cur.Session.State != store.StateAuthenticated {
		redirect(w, r, s.nextStep(cur)) // a key must be added first (phishing-resistant policy)
		return nil
	}
	redirect(w, r, s.landing(w, r, homeOf(cur.User)))
	return nil
}

func (s *Server) recoveryPage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "recovery", view{Title: s.tr(r, "recovery.title")})
	return nil
}

func (s *Server) recoverySubmit(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	tok, fresh, err := s.auth.UseRecoveryCode(r.Context(), cur, r.PostForm.Get("code"), meta(r))
	if err != nil {
		return onForm(atField("code", err), func(status int, msg formProblem) error {
			s.render(w, r, status, "recovery", view{Title: s.tr(r, "recovery.title"), Error: msg.Message, Field: msg.Field})
			return nil
		})
	}
	s.setSession(w, tok)
	return s.holdCodeAndShow(w, r, cur, fresh, codeAfterRecovery)
}

// Why the "Successful!" page shows a fresh recovery code: its query (why=...) names one of
// these, and the page says it in words.
const (
	codeAfterSetup    = "setup"         // the first authenticator is set up
	codeAfterReplace  = "replaced"      // a new authenticator replaced the old one
	codeAfterRecovery = "recovery-code" // the old recovery code was used up
	codeAfterRenew    = "new"           // the user asked for a new recovery code
	codeAfterKey      = "key"           // the first second factor is a security key or passkey
)

// codeReasons says why, in the words of the "Successful!" page (catalog keys).
var codeReasons = map[string]string{
	codeAfterSetup:    "saved.why_setup",
	codeAfterReplace:  "saved.why_replaced",
	codeAfterRecovery: "saved.why_recovery_code",
	codeAfterRenew:    "saved.why_new",
	codeAfterKey:      "saved.why_key",
}

// holdCodeAndShow keeps a fresh recovery code on the session and sends the browser to the
// "Successful!" page that shows it until the user confirms saving it; why is one of the
// codeAfter reasons, which the page states.
func (s *Server) holdCodeAndShow(w http.ResponseWriter, r *http.Request, cur *auth.Current, code, why string) error {
	if err := s.auth.HoldRecoveryCode(r.Context(), cur, code); err != nil {
		return err
	}
	redirect(w, r, "/recovery-code?why="+why)
	return nil
}

type setupData struct {
	Setup *auth.Setup
	QR    template.URL
	// AppLink opens the key URI in the authenticator app of the phone showing the page.
	AppLink    template.URL
	HasTOTP    bool
	Enrollment bool
	// Recent: the session proved the second factor recently enough to replace the
	// authenticator without a code.
	Recent bool
	// ResetAt: when support reset the second factors, leaving the user to set up again.
	ResetAt time.Time
	// KeyOnly: the phishing-resistant policy covers the user: only a security key or
	// passkey may be set up.
	KeyOnly bool
}

// renderSetup draws the authenticator setup page; the error is that of loading its data.
func (s *Server) renderSetup(w http.ResponseWriter, r *http.Request, cur *auth.Current, status int, msg formProblem) error {
	d := setupData{Enrollment: cur.Session.State == store.StateEnrollmentRequired, Recent: s.auth.ProvedRecently(cur),
		KeyOnly: s.auth.PhishingResistant(cur.User)}
	st, err := s.auth.Status(r.Context(), cur.User)
	if err != nil {
		return err
	}
	d.HasTOTP = st.TOTP
	if !st.TOTP {
		if d.ResetAt, err = s.auth.ResetBySupport(r.Context(), cur.User); err != nil {
			return err
		}
	}
	setup, err := s.auth.PendingSetup(r.Context(), cur)
	switch {
	case d.KeyOnly: // no authenticator app for this user
	case err == nil:
		d.Setup = setup
		// The QR image is our own PNG, base64-encoded: safe as a data URL.
		d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(setup.QRPNG))
		// The key URI is ours too (otpauth://totp/... built by the auth service); the
		// sanitizer would refuse its scheme in an href.
		d.AppLink = template.URL(setup.URI)
	case !errors.Is(err, apperr.ErrNoPending):
		return err
	}
	title := s.tr(r, "setup.title")
	if d.KeyOnly {
		title = s.tr(r, "setup.title_key")
	}
	s.render(w, r, status, "setup", view{Title: title, Error: msg.Message, Field: msg.Field, Data: d})
	return nil
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSetup(w, r, sessionOf(r), http.StatusOK, formProblem{})
}

func (s *Server) setupStart(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	// The code field is "replace-code" on the security page, "current" on the setup page.
	field := "current"
	if r.PostForm.Get("from") == "security" {
		field = "replace-code"
	}
	form := func(status int, msg formProblem) error {
		if r.PostForm.Get("from") == "security" {
			return s.renderSecurity(w, r, cur, status, msg, "")
		}
		return s.renderSetup(w, r, cur, status, msg)
	}
	code := r.PostForm.Get("code")
	if _, err := totp.NormalizeCode(code); code != "" && err != nil {
		// Not an authenticator code: the recovery code, proving the second factor again
		// for a user whose authenticator is lost. It is used up; the fresh one is shown
		// at once, and that page leads on to the new setup.
		fresh, err := s.auth.ProveWithRecoveryCode(r.Context(), cur, code, meta(r))
		if err != nil {
			return onForm(atField(field, err), form)
		}
		return s.holdCodeAndShow(w, r, cur, fresh, codeAfterRecovery)
	}
	if _, err := s.auth.BeginTOTPSetup(r.Context(), cur, code, meta(r)); err != nil {
		return onForm(atField(field, err), form)
	}
	redirect(w, r, "/mfa/setup")
	return nil
}

func (s *Server) setupConfirm(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	before, err := s.auth.Status(r.Context(), cur.User)
	if err != nil {
		return err
	}
	enrolling := cur.Session.State == store.StateEnrollmentRequired
	tok, rc, err := s.auth.ConfirmTOTPSetup(r.Context(), cur, r.PostForm.Get("code"), meta(r))
	if err != nil {
		return onForm(atField("code", err), func(status int, msg formProblem) error {
			return s.renderSetup(w, r, cur, status, msg)
		})
	}
	s.setSession(w, tok)
	if rc == "" { // an app beside keys: the recovery code stays as it was
		next := "/account/security?done=totp-added#sign-in"
		if enrolling {
			next = s.landing(w, r, homeOf(cur.User))
		}
		redirect(w, r, next)
		return nil
	}
	why := codeAfterSetup
	if before.TOTP {
		why = codeAfterReplace
	}
	return s.holdCodeAndShow(w, r, cur, rc, why)
}

func (s *Server) savedCodePage(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	return s.renderSavedCode(w, r, cur, r.URL.Query().Get("why"), http.StatusOK, formProblem{})
}

// savedData is what the "Successful!" page shows: why it shows a fresh recovery code, the
// code, and, after the old one was used, the way to a new authenticator.
type savedData struct {
	Why    string // one of codeAfter...
	Reason string // Why in words; empty for an unknown Why
	Code   string
	Lost   bool
}

// renderSavedCode draws the "Successful!" page for why (one of codeAfter...); after the
// recovery code was used up, the page offers to set up a new authenticator as well.
func (s *Server) renderSavedCode(w http.ResponseWriter, r *http.Request, cur *auth.Current, why string, status int, msg formProblem) error {
	code := s.auth.HeldRecoveryCode(cur)
	if code == "" {
		redirect(w, r, "/account/security")
		return nil
	}
	reason, ok := codeReasons[why]
	if !ok {
		why = ""
	} else {
		reason = s.tr(r, reason)
	}
	d := savedData{Why: why, Reason: reason, Code: code}
	if why == codeAfterRecovery {
		st, err := s.auth.Status(r.Context(), cur.User)
		if err != nil {
			return err
		}
		d.Lost = st.TOTP
	}
	s.render(w, r, status, "saved", view{Title: s.tr(r, "saved.title"), Error: msg.Message, Field: msg.Field, Data: d})
	return nil
}

func (s *Server) savedCodeDownload(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	code := s.auth.HeldRecoveryCode(cur)
	if code == "" {
		redirect(w, r, "/account/security")
		return nil
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="twofold-recovery-code.txt"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("twofold recovery code for " + cur.User.Username + "\n\n" + code +
		"\n\nIt signs you in once when your authenticator app is not at hand.\n"))
	return nil
}

func (s *Server) savedCodeAck(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	if r.PostForm.Get("saved") != "yes" {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.tick_saved").In("saved"),
			func(status int, msg formProblem) error {
				return s.renderSavedCode(w, r, cur, r.PostForm.Get("why"), status, msg)
			})
	}
	if err := s.auth.AcknowledgeRecoveryCode(r.Context(), cur); err != nil {
		return err
	}
	if r.PostForm.Get("next") == "new-authenticator" {
		// "My authenticator is lost": the recovery code just proved the second factor, so
		// the new setup starts without a code. Should the proof be too old by now, the
		// setup page asks for a code or the (new) recovery code first.
		_, err := s.auth.BeginTOTPSetup(r.Context(), cur, "", meta(r))
		if err != nil && !errors.Is(err, apperr.ErrReauthentication) {
			return err
		}
		redirect(w, r, "/mfa/setup")
		return nil
	}
	if s.auth.PhishingResistant(cur.User) && !s.auth.MeetsKeyPolicy(cur) {
		// The recovery code signed in a user whose second factor must be a key: on to
		// adding one.
		redirect(w, r, "/mfa/setup")
		return nil
	}
	redirect(w, r, s.landing(w, r, "/account/security?done=saved"))
	return nil
}
