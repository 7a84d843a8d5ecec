package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/totp"
)

// keyConfirmData is the page that asks a signed-in user to confirm with a security key or
// passkey: an application's demand (Client, ID: its authorization request) or the
// phishing-resistant policy's (a console page, Next). Without a key (HasKey false) it
// leads to adding one.
type keyConfirmData struct {
	Client string
	ID     string
	HasKey bool
	Next   string // where the browser goes once the key is accepted
}

// keyConfirmPage asks for the security key before the page next, which the
// phishing-resistant policy guards (the consoles). ?next is a local path.
func (s *Server) keyConfirmPage(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	next, ok := returnPath(r.URL.Query().Get("next"))
	if !ok {
		next = homeOf(cur.User)
	}
	if s.auth.MeetsKeyPolicy(cur) {
		redirect(w, r, next)
		return nil
	}
	has, err := s.auth.HasKey(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	if !has {
		s.returnTo(w, next) // adding a key on the security page comes back
	}
	s.render(w, r, http.StatusOK, "key_confirm", view{Title: s.tr(r, "key_confirm.title"),
		Data: keyConfirmData{HasKey: has, Next: next}})
	return nil
}

// keyPolicyStep sends a page request that the phishing-resistant policy refused (err is
// errKeySignInRequired) to the page that asks for the key, and reports whether it did.
func (s *Server) keyPolicyStep(w http.ResponseWriter, r *http.Request, err error) bool {
	if !errors.Is(err, errKeySignInRequired) {
		return false
	}
	redirect(w, r, "/login/key?next="+url.QueryEscape(s.pageOf(r)))
	return true
}

// keyRoutes are the pages' side of security keys and passkeys. webauthn.js runs the
// browser's key prompts with the JSON API; the routes here keep what a page must: a new
// key's recovery code for "Successful!", the proof before a key changes, removing one.
func (s *Server) keyRoutes(rt *router) {
	rt.handle("POST /account/security-keys", enrolling, s.jsonAnswers(s.keyAddSubmit))
	rt.handle("POST /account/security-keys/{id}/remove", signedIn, s.keyRemoveSubmit)
	rt.handle("POST /account/confirm", signedIn, s.confirmSubmit)
	rt.handle("GET /login/done", partial, s.loginDone)
}

// jsonAnswers answers h's errors to webauthn.js (a JSON request) as problem documents,
// whose code chooses the text it shows; a form posted without JavaScript gets the error page.
func (s *Server) jsonAnswers(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if err != nil && isJSONRequest(r) {
			s.writeProblem(w, r, err)
			return nil
		}
		return err
	}
}

func isJSONRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
}

// keyAnswer is what webauthn.js posts after the browser created a key: its name and the
// browser's answer (PublicKeyCredential.toJSON()).
type keyAnswer struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// KeyNext tells webauthn.js where the browser goes once the key is kept.
type KeyNext struct {
	Next string `json:"next"`
}

// errKeyNeedsScript answers the add-a-key form posted without JavaScript.
var errKeyNeedsScript = apperr.New(apperr.CodeBadRequest, "Adding a security key or passkey needs JavaScript: turn it on for this site and try again.")

// keyAddSubmit keeps the key webauthn.js registered (the forced setup or the security
// page): the first second factor's recovery code is held for the "Successful!" page, an
// enrollment continues where the sign-in was going, anything else returns to the keys.
func (s *Server) keyAddSubmit(w http.ResponseWriter, r *http.Request) error {
	if !isJSONRequest(r) {
		return errKeyNeedsScript
	}
	cur := sessionOf(r)
	var b keyAnswer
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if len(b.Credential) == 0 || b.Credential[0] != '{' {
		return apperr.New(apperr.CodeBadRequest, `Field "credential" is required: the object PublicKeyCredential.toJSON() returns.`)
	}
	enrolling := cur.Session.State == store.StateEnrollmentRequired
	added, err := s.auth.FinishWebAuthnRegistration(r.Context(), cur, b.Name, b.Credential, meta(r))
	if err != nil {
		return err
	}
	s.setSession(w, added.Token)
	next := "/account/security?done=key-added#security-keys"
	switch {
	case added.RecoveryCode != "":
		if err := s.auth.HoldRecoveryCode(r.Context(), cur, added.RecoveryCode); err != nil {
			return err
		}
		next = "/recovery-code?why=" + codeAfterKey
	case enrolling || s.auth.PhishingResistant(cur.User):
		next = s.landing(w, r, homeOf(cur.User))
	}
	writeJSON(w, http.StatusOK, KeyNext{Next: next})
	return nil
}

// keyRemoveSubmit removes one of the user's keys (a recent proof is needed, as for every
// change of the second factors).
func (s *Server) keyRemoveSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		if err := s.auth.RemoveWebAuthnKey(r.Context(), cur, r.PathValue("id"), meta(r)); err != nil {
			return err
		}
		redirect(w, r, "/account/security?done=key-removed#security-keys")
		return nil
	})
}

// confirmSubmit proves the second factor again on the security page, so that keys can be
// added or removed for the next 10 minutes: an app code, or the recovery code (used up; the
// fresh one is shown at once).
func (s *Server) confirmSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.securityForm(w, r, func(cur *auth.Current) error {
		code := r.PostForm.Get("code")
		if _, err := totp.NormalizeCode(code); code != "" && err != nil {
			fresh, err := s.auth.ProveWithRecoveryCode(r.Context(), cur, code, meta(r))
			if err != nil {
				return atField("proof-code", err)
			}
			return s.holdCodeAndShow(w, r, cur, fresh, codeAfterRecovery)
		}
		if err := s.auth.ProveWithCode(r.Context(), cur, code, meta(r)); err != nil {
			return atField("proof-code", err)
		}
		redirect(w, r, "/account/security?done=confirmed#security-keys")
		return nil
	})
}

// loginDone is where webauthn.js sends the browser after a key or passkey sign-in: on to
// where the sign-in was going, or the step still due.
func (s *Server) loginDone(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	if cur.Session.State == store.StateAuthenticated && s.auth.HeldRecoveryCode(cur) == "" {
		redirect(w, r, s.landing(w, r, homeOf(cur.User)))
		return nil
	}
	redirect(w, r, s.nextStep(cur))
	return nil
}

// codeView is the second-factor page: a user with a key is offered it first ("Use your
// security key"), with the app code and the recovery code as alternatives; under the
// phishing-resistant policy the app code is not offered to such a user.
type codeView struct {
	HasKey  bool
	KeyOnly bool
	Next    string // where the key button leads once the key is accepted
}

func (s *Server) codeData(r *http.Request, cur *auth.Current) (codeView, error) {
	has, err := s.auth.HasKey(r.Context(), cur.User.ID)
	if err != nil {
		return codeView{}, err
	}
	return codeView{HasKey: has, KeyOnly: has && s.auth.PhishingResistant(cur.User), Next: "/login/done"}, nil
}
