package web

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// The JSON answers of the account API; tests decode into the same types.

// LoginAnswer answers POST /api/v1/login: the session's state and the methods of the
// next step.
type LoginAnswer struct {
	State   string   `json:"state"`
	Methods []string `json:"methods"`
}

// StepAnswer answers a finished sign-in step: the session's new state, and the fresh
// recovery code when the step used up the old one or set up the first authenticator.
type StepAnswer struct {
	State        string `json:"state"`
	RecoveryCode string `json:"recovery_code,omitempty"`
}

// SessionAnswer answers GET /api/v1/session.
type SessionAnswer struct {
	State string    `json:"state"`
	User  User      `json:"user"`
	AMR   []string  `json:"amr"`
	MFA   MFAStatus `json:"mfa"`
}

// MFAStatus says whether the user has an authenticator, how many security keys and
// passkeys, and whether the policy requires a second factor.
type MFAStatus struct {
	TOTP     bool `json:"totp"`
	WebAuthn int  `json:"webauthn"`
	Required bool `json:"required"`
}

// TOTPSetup answers POST /api/v1/account/mfa/totp: the pending authenticator setup.
type TOTPSetup struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRPNG      string `json:"qr_png"`
	ExpiresAt  string `json:"expires_at"`
}

// RecoveryCode answers POST /api/v1/account/mfa/recovery-code.
type RecoveryCode struct {
	RecoveryCode string `json:"recovery_code"`
}

// SessionList answers GET /api/v1/account/sessions.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}

// SessionsEnded answers POST /api/v1/account/sessions/sign-out-others.
type SessionsEnded struct {
	Ended int `json:"ended"`
}

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

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	var b credentialsBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if err := required([2]string{"username", b.Username}, [2]string{"password", b.Password}); err != nil {
		return err
	}
	// The session the browser held ends with the sign-in, in its transaction.
	res, err := s.auth.LoginReplacing(r.Context(), b.Username, b.Password, s.heldToken(r), meta(r))
	if err != nil {
		return err
	}
	s.setSession(w, res.Current.Token)
	methods := res.Methods
	if methods == nil {
		methods = []string{}
	}
	writeJSON(w, http.StatusOK, LoginAnswer{State: res.Current.Session.State, Methods: methods})
	return nil
}

// apiCode decodes {"code"} and checks it is present.
func apiCode(w http.ResponseWriter, r *http.Request, optional bool) (string, error) {
	var b codeBody
	if err := decodeJSON(w, r, &b, optional); err != nil {
		return "", err
	}
	if !optional {
		if err := required([2]string{"code", b.Code}); err != nil {
			return "", err
		}
	}
	return b.Code, nil
}

func (s *Server) apiLoginTOTP(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	code, err := apiCode(w, r, false)
	if err != nil {
		return err
	}
	tok, err := s.auth.VerifyTOTP(r.Context(), cur, code, meta(r))
	if err != nil {
		return err
	}
	s.setSession(w, tok)
	// authenticated, or enrollment_required when a key must be added first.
	writeJSON(w, http.StatusOK, StepAnswer{State: cur.Session.State})
	return nil
}

func (s *Server) apiLoginRecovery(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	code, err := apiCode(w, r, false)
	if err != nil {
		return err
	}
	tok, fresh, err := s.auth.UseRecoveryCode(r.Context(), cur, code, meta(r))
	if err != nil {
		return err
	}
	s.setSession(w, tok)
	writeJSON(w, http.StatusOK, StepAnswer{State: store.StateAuthenticated, RecoveryCode: fresh})
	return nil
}

// User is the signed-in user.
type User struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Role          string `json:"role"`
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	amr := cur.Session.AMR
	if amr == nil {
		amr = []string{}
	}
	writeJSON(w, http.StatusOK, SessionAnswer{
		State: cur.Session.State,
		User: User{ID: cur.User.ID, Username: cur.User.Username, Email: cur.User.Email,
			EmailVerified: cur.User.EmailVerified, Role: cur.User.Role},
		AMR: amr,
		MFA: MFAStatus{TOTP: cur.HasTOTP, WebAuthn: cur.WebAuthnKeys, Required: s.auth.MFARequired(cur.User)},
	})
	return nil
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) error {
	if cur, err := s.current(r); err == nil {
		if _, err := s.auth.End(r.Context(), auth.Logout, cur.User.ID, cur.Session.ID, userMeta(r, cur)); err != nil {
			return err
		}
	}
	s.clearSession(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiBeginTOTP(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	code, err := apiCode(w, r, true)
	if err != nil {
		return err
	}
	setup, err := s.auth.BeginTOTPSetup(r.Context(), cur, code, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, TOTPSetup{
		Secret:     setup.Secret,
		OTPAuthURI: setup.URI,
		QRPNG:      base64.StdEncoding.EncodeToString(setup.QRPNG),
		ExpiresAt:  setup.ExpiresAt.UTC().Format(time.RFC3339),
	})
	return nil
}

func (s *Server) apiConfirmTOTP(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	code, err := apiCode(w, r, false)
	if err != nil {
		return err
	}
	tok, rc, err := s.auth.ConfirmTOTPSetup(r.Context(), cur, code, meta(r))
	if err != nil {
		return err
	}
	s.setSession(w, tok)
	writeJSON(w, http.StatusOK, StepAnswer{State: store.StateAuthenticated, RecoveryCode: rc})
	return nil
}

func (s *Server) apiNewRecoveryCode(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	code, err := apiCode(w, r, true)
	if err != nil {
		return err
	}
	rc, err := s.auth.NewRecoveryCode(r.Context(), cur, code, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RecoveryCode{RecoveryCode: rc})
	return nil
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	var b passwordBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if err := required([2]string{"current_password", b.CurrentPassword}, [2]string{"new_password", b.NewPassword}); err != nil {
		return err
	}
	if err := s.auth.ChangePassword(r.Context(), cur, b.CurrentPassword, b.NewPassword, meta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Session is one of the user's sessions.
type Session struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	State      string    `json:"state"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Device     string    `json:"device"` // the user agent as people name it: "Chrome on Linux"
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	list, err := s.auth.Sessions(r.Context(), cur)
	if err != nil {
		return err
	}
	out := make([]Session, 0, len(list))
	for _, x := range list {
		out = append(out, Session{ID: x.ID, Current: x.ID == cur.Session.ID, State: x.State,
			CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, IP: x.IP, UserAgent: x.UserAgent, Device: deviceName(x.UserAgent)})
	}
	writeJSON(w, http.StatusOK, SessionList{Sessions: out})
	return nil
}

// Application is an application the user let in.
type Application struct {
	ClientID    string     `json:"client_id"`
	Name        string     `json:"name"`
	Scopes      []string   `json:"scopes"`
	ConsentedAt *time.Time `json:"consented_at"` // null for a first-party application, which asks no consent
	LastUsedAt  *time.Time `json:"last_used_at"` // null when no grant or token of it is kept
}

// ApplicationList answers GET /api/v1/account/applications.
type ApplicationList struct {
	Applications []Application `json:"applications"`
}

// ApplicationRemoved answers POST /api/v1/account/applications/{client_id}/revoke.
type ApplicationRemoved struct {
	GrantsEnded int `json:"grants_ended"`
}

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func applicationJSON(a store.OIDCApplication) Application {
	return Application{ClientID: a.ClientID, Name: a.Name, Scopes: append([]string{}, a.Scopes...),
		ConsentedAt: timeOrNull(a.ConsentedAt), LastUsedAt: timeOrNull(a.LastUsedAt)}
}

func (s *Server) apiApplications(w http.ResponseWriter, r *http.Request) error {
	list, err := s.auth.Applications(r.Context(), sessionOf(r))
	if err != nil {
		return err
	}
	out := make([]Application, 0, len(list))
	for _, a := range list {
		out = append(out, applicationJSON(a))
	}
	writeJSON(w, http.StatusOK, ApplicationList{Applications: out})
	return nil
}

func (s *Server) apiRemoveApplication(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	e, err := s.auth.EndApplication(r.Context(), cur.User.ID, r.PathValue("client_id"), userMeta(r, cur))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ApplicationRemoved{GrantsEnded: e.Grants})
	return nil
}

// Profile answers POST /api/v1/account/profile.
type Profile struct {
	DisplayName string `json:"display_name"`
}

func (s *Server) apiProfile(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		// A pointer: a body without the field (or with null) changes nothing, where "" clears.
		DisplayName *string `json:"display_name"`
	}
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if b.DisplayName == nil {
		return apperr.New(apperr.CodeBadRequest, `Field "display_name" is required ("" clears the name).`)
	}
	name, err := s.auth.SetDisplayName(r.Context(), sessionOf(r), *b.DisplayName, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Profile{DisplayName: name})
	return nil
}

func (s *Server) apiSignOutSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.SignOutSession(r.Context(), sessionOf(r), r.PathValue("id"), meta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiSignOutOthers(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	ended, err := s.auth.End(r.Context(), auth.SignOutOthers, cur.User.ID, cur.Session.ID, userMeta(r, cur))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, SessionsEnded{Ended: ended.Sessions})
	return nil
}
