package web

import (
	"errors"
	"net/http"
	"net/url"
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
