package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// A form's POST answers with a redirect to a GET page (post, redirect, get), so a reload
// never posts again and no result lives at a POST URL. What the page must show but a URL
// must not carry (a fresh recovery code, the proof of a second factor, a confirmed
// address) travels in a result: sealed with AES-GCM under its kind in a short-lived cookie
// that only this server can read, and that the page reading it keeps until it expires.

// resultTTL is how long a result lasts: long enough to read the page, short enough that a
// shared computer forgets it soon.
const resultTTL = 10 * time.Minute

// resultPurpose names the key that seals results.
const resultPurpose = "web-result"

type sealedResult struct {
	Expires int64           `json:"exp"` // Unix seconds
	Value   json.RawMessage `json:"v"`
}

func (s *Server) resultCookieName() string {
	if s.secure {
		return "__Host-twofold_result"
	}
	return "twofold_result"
}

// setResult hands the browser v as the result of kind, for the page it is sent to next.
func (s *Server) setResult(w http.ResponseWriter, kind string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b, err := json.Marshal(sealedResult{Expires: s.auth.Now().Add(resultTTL).Unix(), Value: raw})
	if err != nil {
		return err
	}
	sealed, err := s.results.Seal(b, []byte(kind))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.resultCookieName(), Value: base64.RawURLEncoding.EncodeToString(sealed), Path: "/",
		MaxAge: int(resultTTL / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// result reads the browser's result of kind into v. It reports false when there is none,
// it is of another kind, it expired, or it does not open (forged or from another key).
func (s *Server) result(r *http.Request, kind string, v any) bool {
	c, err := r.Cookie(s.resultCookieName())
	if err != nil {
		return false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return false
	}
	b, err := s.results.Open(sealed, []byte(kind))
	if err != nil {
		return false
	}
	var sr sealedResult
	if json.Unmarshal(b, &sr) != nil || s.auth.Now().Unix() >= sr.Expires {
		return false
	}
	return json.Unmarshal(sr.Value, v) == nil
}
