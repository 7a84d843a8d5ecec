package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/links"
)

// Forgotten password: the form that mails a link, and the pages the link opens. The
// link's GET only shows a page (mail scanners fetch links); POSTs do the work.

// PasswordResetAnswer answers POST /api/v1/password/reset: the fresh recovery code when
// the reset used up the old one, else nothing ({}).
type PasswordResetAnswer struct {
	RecoveryCode string `json:"recovery_code,omitempty"`
}

// Accepted answers a request whose result arrives by mail (POST /api/v1/password/forgot,
// /api/v1/account/email and /api/v1/account/email/verify): {}, whatever the account.
type Accepted struct{}

type forgotBody struct {
	Login string `json:"login"`
}

type passwordResetBody struct {
	Token       string          `json:"token"`
	NewPassword string          `json:"new_password"`
	Code        string          `json:"code"`
	Credential  json.RawMessage `json:"credential"` // a key's answer, instead of code
}

// resetTokenBody is the body of POST /api/v1/password/reset/webauthn.
type resetTokenBody struct {
	Token string `json:"token"`
}

// resetKeyBody is what webauthn.js posts to POST /password/reset/key: the link's token and
// the key's answer.
type resetKeyBody struct {
	Token      string          `json:"token"`
	Credential json.RawMessage `json:"credential"`
}

var (
	errCredentialNotObject = apperr.New(apperr.CodeBadRequest,
		`Field "credential" must be the object PublicKeyCredential.toJSON() returns.`).In("credential")
	errCodeAndCredential = apperr.New(apperr.CodeBadRequest,
		`Give either "code" or "credential", not both.`).In("credential")
)

// credentialOf returns a key's answer given in a body: nil when absent (or null), the JSON
// object otherwise, or errCredentialNotObject.
func credentialOf(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, errCredentialNotObject
	}
	return raw, nil
}

func (s *Server) apiForgotPassword(w http.ResponseWriter, r *http.Request) error {
	var b forgotBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if err := required([2]string{"login", b.Login}); err != nil {
		return err
	}
	if err := s.auth.RequestPasswordReset(r.Context(), b.Login, meta(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, Accepted{})
	return nil
}

func (s *Server) apiResetPassword(w http.ResponseWriter, r *http.Request) error {
	var b passwordResetBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if b.Token == "" {
		return links.ErrInvalid
	}
	if err := required([2]string{"new_password", b.NewPassword}); err != nil {
		return err
	}
	cred, err := credentialOf(b.Credential)
	if err != nil {
		return err
	}
	if cred != nil && b.Code != "" {
		return errCodeAndCredential
	}
	fresh, err := s.auth.ResetPassword(r.Context(), auth.ResetRequest{Token: b.Token, NewPassword: b.NewPassword,
		Code: b.Code, Credential: cred}, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, PasswordResetAnswer{RecoveryCode: fresh})
	return nil
}

// apiResetKey draws the challenge a security key answers as the second factor of the
// reset through the link.
func (s *Server) apiResetKey(w http.ResponseWriter, r *http.Request) error {
	var b resetTokenBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if b.Token == "" {
		return links.ErrInvalid
	}
	opts, err := s.auth.BeginResetKey(r.Context(), b.Token)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "forgot", view{Title: s.tr(r, "forgot.title"), Data: map[string]string{}})
	return nil
}

func (s *Server) forgotSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	login := r.PostForm.Get("login")
	if login == "" {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.login_empty").In("login"), func(status int, msg formProblem) error {
			s.render(w, r, status, "forgot", view{Title: s.tr(r, "forgot.title"), Error: msg.Message, Field: msg.Field, Data: map[string]string{}})
			return nil
		})
	}
	if err := s.auth.RequestPasswordReset(r.Context(), login, meta(r)); err != nil {
		return onForm(atField("login", err), func(status int, msg formProblem) error {
			s.render(w, r, status, "forgot", view{Title: s.tr(r, "forgot.title"), Error: msg.Message, Field: msg.Field, Data: map[string]string{"Login": login}})
			return nil
		})
	}
	redirect(w, r, "/password/forgot/sent")
	return nil
}

// forgotSentPage says what happens after a reset link was asked for; it is the same for
// every name typed, so it reveals nothing.
func (s *Server) forgotSentPage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "forgot_sent", view{Title: s.tr(r, "forgot_sent.title"),
		Data: map[string]any{"Minutes": int(auth.ResetLinkTTL.Minutes())}})
	return nil
}

// resetData is the reset page: the code step (Link.NeedsCode and no Proof yet), or the
// new-password step.
type resetData struct {
	Token string
	Proof string
	Link  *auth.ResetLink
}

// renderReset draws the step the link is at. A link that cannot be used shows why and
// where to get a new one.
func (s *Server) renderReset(w http.ResponseWriter, r *http.Request, status int, msg formProblem, d resetData) error {
	title := s.tr(r, "reset.title")
	if d.Link != nil && d.Link.NeedsCode && d.Proof == "" {
		title = s.tr(r, "reset.title_code")
	}
	if d.Link == nil {
		title = s.tr(r, "reset.title_no_link")
	}
	s.render(w, r, status, "reset", view{Title: title, Error: msg.Message, Field: msg.Field, Data: d})
	return nil
}

// resetForm redraws the step of token (with the proof when the code step is done) with
// an error; a link that became unusable shows the invalid-link page.
func (s *Server) resetForm(w http.ResponseWriter, r *http.Request, token, proof string) func(status int, msg formProblem) error {
	return func(status int, msg formProblem) error {
		info, err := s.auth.CheckResetLink(r.Context(), token)
		if errors.Is(err, links.ErrInvalid) {
			return s.renderReset(w, r, http.StatusBadRequest, formProblem{Message: links.ErrInvalid.Text(s.lang(r))}, resetData{})
		}
		if err != nil {
			return err
		}
		return s.renderReset(w, r, status, msg, resetData{Token: token, Proof: proof, Link: info})
	}
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	info, err := s.auth.CheckResetLink(r.Context(), tok)
	if err != nil {
		return onForm(err, func(status int, msg formProblem) error {
			return s.renderReset(w, r, status, msg, resetData{})
		})
	}
	d := resetData{Token: tok, Link: info}
	var p resetProof
	if s.result(r, resultResetProof, &p) && p.Token == tok {
		d.Proof = p.Proof // the code step of this link is done
	}
	return s.renderReset(w, r, http.StatusOK, formProblem{}, d)
}

func (s *Server) resetCodeSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	tok := r.PostForm.Get("token")
	proof, err := s.auth.CheckResetCode(r.Context(), tok, r.PostForm.Get("code"), meta(r))
	if err != nil {
		return onForm(atField("code", err), s.resetForm(w, r, tok, ""))
	}
	// The new-password step is the link's page again, now with the proof, which travels
	// sealed in the result cookie rather than in the URL.
	if err := s.setResult(w, resultResetProof, resetProof{Token: tok, Proof: proof}); err != nil {
		return err
	}
	redirect(w, r, "/password/reset?token="+url.QueryEscape(tok))
	return nil
}

// resetKeySubmit is the key's side of resetCodeSubmit, for webauthn.js: the key's answer
// checked, the proof goes into the result cookie as a code's does, and the answer names
// the link's page, now at the new-password step.
func (s *Server) resetKeySubmit(w http.ResponseWriter, r *http.Request) error {
	if !isJSONRequest(r) {
		return apperr.Msg(apperr.CodeBadRequest, "key.js_needed")
	}
	var b resetKeyBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	cred, err := credentialOf(b.Credential)
	if err != nil {
		return err
	}
	if cred == nil {
		return apperr.New(apperr.CodeBadRequest, `Field "credential" is required: the object PublicKeyCredential.toJSON() returns.`).In("credential")
	}
	if b.Token == "" {
		return links.ErrInvalid
	}
	proof, err := s.auth.CheckResetKey(r.Context(), b.Token, cred, meta(r))
	if err != nil {
		return err
	}
	if err := s.setResult(w, resultResetProof, resetProof{Token: b.Token, Proof: proof}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, KeyNext{Next: "/password/reset?token=" + url.QueryEscape(b.Token)})
	return nil
}

// resetProof is the result of the code step of a reset link: the proof of the second
// factor, for that link only.
type resetProof struct{ Token, Proof string }

// resetDone is the result of a reset: the new recovery code when the old one was used.
type resetDone struct{ Code string }

// The kinds of result the reset pages hand on.
const (
	resultResetProof = "reset-proof"
	resultResetDone  = "reset-done"
)

// resetDonePage shows the end of a reset and the new recovery code, if any; without the
// result of a reset it sends the browser to the sign-in.
func (s *Server) resetDonePage(w http.ResponseWriter, r *http.Request) error {
	var d resetDone
	if !s.result(r, resultResetDone, &d) {
		redirect(w, r, "/login")
		return nil
	}
	s.render(w, r, http.StatusOK, "reset_done", view{Title: s.tr(r, "reset_done.title"), Data: map[string]string{"Code": d.Code}})
	return nil
}

func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	tok, proof := f.Get("token"), f.Get("proof")
	if f.Get("new_password") != f.Get("confirm_password") {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.new_passwords_differ_twice").In("confirm_password"),
			s.resetForm(w, r, tok, proof))
	}
	if f.Get("new_password") == "" {
		return onForm(apperr.Msg(apperr.CodeBadRequest, "err.choose_new_password").In("new_password"), s.resetForm(w, r, tok, proof))
	}
	fresh, err := s.auth.ResetPassword(r.Context(), auth.ResetRequest{Token: tok, NewPassword: f.Get("new_password"), Proof: proof}, meta(r))
	if err != nil {
		if e, ok := apperr.As(err); ok && (e.Code == apperr.CodeInvalidCode || e.Code == apperr.CodeKeyNotRegistered) {
			// The proof no longer holds (its code was used meanwhile, it expired, or its
			// key was removed): the second factor must be given again, so the page goes
			// back to that step, and so does the link's page in this browser.
			s.clearResult(w)
			return onForm(atField("code", err), s.resetForm(w, r, tok, ""))
		}
		return onForm(atField("new_password", err), s.resetForm(w, r, tok, proof))
	}
	if err := s.setResult(w, resultResetDone, resetDone{Code: fresh}); err != nil {
		return err
	}
	redirect(w, r, "/password/reset/done")
	return nil
}
