package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// The security key and passkey API. Options go out exactly as the library builds them
// ({"publicKey": ...}, the WebAuthn Level 3 JSON form); answers come in as the browser's
// PublicKeyCredential.toJSON() produces them.

// KeyAdded answers POST /api/v1/account/mfa/webauthn/register/finish.
type KeyAdded struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	RecoveryCode string `json:"recovery_code,omitempty"` // only with the user's first second factor
}

// Key is one security key or passkey.
type Key struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // null when never used to sign in
	Passkey    bool       `json:"passkey"`      // discoverable: signs in without a username
}

// MFAFactors answers GET /api/v1/account/mfa.
type MFAFactors struct {
	TOTP         bool  `json:"totp"`
	WebAuthn     []Key `json:"webauthn"`
	RecoveryCode bool  `json:"recovery_code"`
}

// keyAnswerBody is the body of the finish calls: the browser's answer, and at
// registration the key's name.
type keyAnswerBody struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// decodeKeyAnswer decodes a finish call's body; the credential must be a JSON object.
func decodeKeyAnswer(w http.ResponseWriter, r *http.Request) (*keyAnswerBody, error) {
	var b keyAnswerBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return nil, err
	}
	if len(b.Credential) == 0 || b.Credential[0] != '{' {
		return nil, apperr.New(apperr.CodeBadRequest, `Field "credential" is required: the object PublicKeyCredential.toJSON() returns.`)
	}
	return &b, nil
}

// emptyBody accepts an absent body or any JSON object (the begin calls take {}).
func emptyBody(w http.ResponseWriter, r *http.Request) error {
	var b struct{}
	return decodeJSON(w, r, &b, true)
}

func (s *Server) apiWebAuthnRegister(w http.ResponseWriter, r *http.Request) error {
	if err := emptyBody(w, r); err != nil {
		return err
	}
	opts, err := s.auth.BeginWebAuthnRegistration(r.Context(), sessionOf(r), meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (s *Server) apiWebAuthnRegisterFinish(w http.ResponseWriter, r *http.Request) error {
	b, err := decodeKeyAnswer(w, r)
	if err != nil {
		return err
	}
	added, err := s.auth.FinishWebAuthnRegistration(r.Context(), sessionOf(r), b.Name, b.Credential, meta(r))
	if err != nil {
		return answerCodesWith(err, apperr.KeyRefusals, http.StatusBadRequest)
	}
	s.setSession(w, added.Token)
	writeJSON(w, http.StatusCreated, KeyAdded{ID: added.Key.ID, Name: added.Key.Name, RecoveryCode: added.RecoveryCode})
	return nil
}

func (s *Server) apiMFAFactors(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	st, err := s.auth.Status(r.Context(), cur.User)
	if err != nil {
		return err
	}
	keys := make([]Key, 0, len(st.WebAuthn))
	for _, k := range st.WebAuthn {
		keys = append(keys, Key{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: timeOrNull(k.LastUsedAt), Passkey: k.Discoverable})
	}
	writeJSON(w, http.StatusOK, MFAFactors{TOTP: st.TOTP, WebAuthn: keys, RecoveryCode: st.RecoveryCode})
	return nil
}

func (s *Server) apiWebAuthnRemove(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.RemoveWebAuthnKey(r.Context(), sessionOf(r), r.PathValue("id"), meta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiLoginWebAuthn(w http.ResponseWriter, r *http.Request) error {
	if err := emptyBody(w, r); err != nil {
		return err
	}
	opts, err := s.auth.BeginWebAuthnLogin(r.Context(), sessionOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (s *Server) apiLoginWebAuthnFinish(w http.ResponseWriter, r *http.Request) error {
	b, err := decodeKeyAnswer(w, r)
	if err != nil {
		return err
	}
	tok, err := s.auth.FinishWebAuthnLogin(r.Context(), sessionOf(r), b.Credential, meta(r))
	if err != nil {
		return err
	}
	s.setSession(w, tok)
	writeJSON(w, http.StatusOK, StepAnswer{State: store.StateAuthenticated})
	return nil
}

// preSessionCookie is the name of the cookie that holds the value a passkey sign-in's
// challenge is bound to, between the two calls (only the browser that asked for the
// challenge can answer it): one per challenge, named after it (auth.PreSessionName), so
// that two offers of one browser (the sign-in page's autofill and its button, two tabs)
// never replace each other's.
func (s *Server) preSessionCookie(name string) string {
	if s.secure {
		return "__Host-twofold_passkey_" + name
	}
	return "twofold_passkey_" + name
}

func (s *Server) setPreSession(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: s.preSessionCookie(name), Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// maxPreSessions bounds the passkey offers one browser holds at once. Every begin call
// (each load of the sign-in page starts one, for autofill) adds a cookie for
// auth.PreSessionTTL: a browser reloading the page many times would carry dozens of them in
// every request's Cookie header, past the header limit of a proxy in front. A begin that
// finds maxPreSessions of them ends them all: only its own offer stays answerable.
const maxPreSessions = 8

func (s *Server) apiLoginPasskey(w http.ResponseWriter, r *http.Request) error {
	if err := emptyBody(w, r); err != nil {
		return err
	}
	opts, pre, name, err := s.auth.BeginPasskeyLogin(r.Context())
	if err != nil {
		return err
	}
	prefix := s.preSessionCookie("")
	var held []string
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, prefix) && !slices.Contains(held, c.Name) {
			held = append(held, c.Name)
		}
	}
	if len(held) >= maxPreSessions {
		for _, n := range held {
			s.setPreSession(w, strings.TrimPrefix(n, prefix), "", -time.Second)
		}
	}
	s.setPreSession(w, name, pre, auth.PreSessionTTL)
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (s *Server) apiLoginPasskeyFinish(w http.ResponseWriter, r *http.Request) error {
	if !s.auth.PasswordlessEnabled() {
		return auth.ErrPasswordlessOff
	}
	b, err := decodeKeyAnswer(w, r)
	if err != nil {
		return err
	}
	asked := "" // the name of the challenge's cookie, once the answer could be read
	res, err := s.auth.FinishPasskeyLogin(r.Context(), func(name string) string {
		asked = name
		if c, err := r.Cookie(s.preSessionCookie(name)); err == nil {
			return c.Value
		}
		return ""
	}, b.Credential, meta(r))
	if _, refused := apperr.As(err); asked != "" && (err == nil || refused) {
		// The challenge is used up or was never this cookie's: its cookie is of no more use.
		s.setPreSession(w, asked, "", -time.Second)
	}
	if err != nil {
		return err
	}
	s.endOldSession(r, res.Current.Session.ID)
	s.setSession(w, res.Current.Token)
	writeJSON(w, http.StatusOK, StepAnswer{State: res.Current.Session.State})
	return nil
}
