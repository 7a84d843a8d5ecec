package web

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

type credentialsBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type codeBody struct {
	Code string `json:"code"`
}

type passwordBody struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var b credentialsBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		s.writeProblem(w, r, err)
		return
	}
	if err := required([2]string{"username", b.Username}, [2]string{"password", b.Password}); err != nil {
		s.writeProblem(w, r, err)
		return
	}
	res, err := s.auth.Login(r.Context(), b.Username, b.Password, meta(r))
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	s.endOldSession(r, res.Current.Session.ID)
	s.setSession(w, res.Current.Token)
	methods := res.Methods
	if methods == nil {
		methods = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": res.Current.Session.State, "methods": methods})
}

// apiCurrent resolves the session or writes a 401.
func (s *Server) apiCurrent(w http.ResponseWriter, r *http.Request) (*auth.Current, bool) {
	cur, err := s.current(r)
	if err != nil {
		s.writeProblem(w, r, err)
		return nil, false
	}
	return cur, true
}

// apiAuthenticated resolves a fully authenticated session or writes a 401.
func (s *Server) apiAuthenticated(w http.ResponseWriter, r *http.Request) (*auth.Current, bool) {
	cur, ok := s.apiCurrent(w, r)
	if ok && cur.Session.State != store.StateAuthenticated {
		s.writeProblem(w, r, apperr.ErrUnauthenticated)
		return nil, false
	}
	return cur, ok
}

// apiCode decodes {"code"} and checks it is present.
func (s *Server) apiCode(w http.ResponseWriter, r *http.Request, optional bool) (string, bool) {
	var b codeBody
	if err := decodeJSON(w, r, &b, optional); err != nil {
		s.writeProblem(w, r, err)
		return "", false
	}
	if !optional {
		if err := required([2]string{"code", b.Code}); err != nil {
			s.writeProblem(w, r, err)
			return "", false
		}
	}
	return b.Code, true
}

func (s *Server) apiLoginTOTP(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiCurrent(w, r)
	if !ok {
		return
	}
	code, ok := s.apiCode(w, r, false)
	if !ok {
		return
	}
	tok, err := s.auth.VerifyTOTP(r.Context(), cur, code, meta(r))
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	s.setSession(w, tok)
	writeJSON(w, http.StatusOK, map[string]string{"state": store.StateAuthenticated})
}

func (s *Server) apiLoginRecovery(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiCurrent(w, r)
	if !ok {
		return
	}
	code, ok := s.apiCode(w, r, false)
	if !ok {
		return
	}
	tok, fresh, err := s.auth.UseRecoveryCode(r.Context(), cur, code, meta(r))
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	s.setSession(w, tok)
	writeJSON(w, http.StatusOK, map[string]string{"state": store.StateAuthenticated, "recovery_code": fresh})
}

type userJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Role     string `json:"role"`
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiCurrent(w, r)
	if !ok {
		return
	}
	st, err := s.auth.Status(r.Context(), cur.User)
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	amr := cur.Session.AMR
	if amr == nil {
		amr = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"state": cur.Session.State,
		"user":  userJSON{ID: cur.User.ID, Username: cur.User.Username, Email: cur.User.Email, Role: cur.User.Role},
		"amr":   amr,
		"mfa":   map[string]bool{"totp": st.TOTP, "required": st.Required},
	})
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	if cur, err := s.current(r); err == nil {
		if err := s.auth.Logout(r.Context(), cur, meta(r)); err != nil {
			s.writeProblem(w, r, err)
			return
		}
	}
	s.clearSession(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiBeginTOTP(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiCurrent(w, r)
	if !ok {
		return
	}
	code, ok := s.apiCode(w, r, true)
	if !ok {
		return
	}
	setup, err := s.auth.BeginTOTPSetup(r.Context(), cur, code, meta(r))
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{
		"secret":      setup.Secret,
		"otpauth_uri": setup.URI,
		"qr_png":      base64.StdEncoding.EncodeToString(setup.QRPNG),
		"expires_at":  setup.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

func (s *Server) apiConfirmTOTP(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiCurrent(w, r)
	if !ok {
		return
	}
	code, ok := s.apiCode(w, r, false)
	if !ok {
		return
	}
	tok, rc, err := s.auth.ConfirmTOTPSetup(r.Context(), cur, code, meta(r))
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	s.setSession(w, tok)
	writeJSON(w, http.StatusOK, map[string]string{"recovery_code": rc, "state": store.StateAuthenticated})
}

func (s *Server) apiNewRecoveryCode(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiAuthenticated(w, r)
	if !ok {
		return
	}
	code, ok := s.apiCode(w, r, false)
	if !ok {
		return
	}
	rc, err := s.auth.NewRecoveryCode(r.Context(), cur, code, meta(r))
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"recovery_code": rc})
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiAuthenticated(w, r)
	if !ok {
		return
	}
	var b passwordBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		s.writeProblem(w, r, err)
		return
	}
	if err := required([2]string{"current_password", b.CurrentPassword}, [2]string{"new_password", b.NewPassword}); err != nil {
		s.writeProblem(w, r, err)
		return
	}
	if err := s.auth.ChangePassword(r.Context(), cur, b.CurrentPassword, b.NewPassword, meta(r)); err != nil {
		s.writeProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type sessionJSON struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	State      string    `json:"state"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiAuthenticated(w, r)
	if !ok {
		return
	}
	list, err := s.auth.Sessions(r.Context(), cur)
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, x := range list {
		out = append(out, sessionJSON{ID: x.ID, Current: x.ID == cur.Session.ID, State: x.State,
			CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, IP: x.IP, UserAgent: x.UserAgent})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (s *Server) apiSignOutOthers(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.apiAuthenticated(w, r)
	if !ok {
		return
	}
	n, err := s.auth.SignOutOthers(r.Context(), cur, meta(r))
	if err != nil {
		s.writeProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"ended": n})
}
