package testserver

import (
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/totp"
)

// DecodeSecret turns the base32 key the server shows (spaces allowed) back into bytes.
func DecodeSecret(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("secret %q is not base32: %v", s, err)
	}
	return b
}

// Code returns the authenticator code for secret at the server clock's time plus offset
// steps (offset -1 is the previous code, +1 the next one).
func (s *Server) Code(secret []byte, offset int64) string {
	return totp.Code(secret, totp.Step(s.Clock.Now())+offset)
}

// NextStep moves the clock to 10 s into the next TOTP step, so a fresh code exists.
func (s *Server) NextStep() {
	now := s.Clock.Now()
	next := time.Unix((totp.Step(now)+1)*30+10, 0)
	s.Clock.Advance(next.Sub(now))
}

// Login posts username and password and fails the test unless the answer is 200 with
// the wanted state.
func (c *Client) Login(username, wantState string) {
	c.t.Helper()
	r := c.PostJSON("/api/v1/login", map[string]string{"username": username, "password": Password})
	if r.Status != http.StatusOK {
		c.t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	if got := r.JSON(c.t)["state"]; got != wantState {
		c.t.Fatalf("login %s: state %v, want %s", username, got, wantState)
	}
}

// Enroll signs username in (enrollment required), sets up the authenticator through the
// API and returns its secret and the first recovery code. Enrolling is not an MFA sign-in,
// so it then signs the client in again with a code: the client is left with an MFA session
// (amr pwd, otp, mfa). The clock then moves to the next step, so the codes used are in the
// past.
func (s *Server) Enroll(t testing.TB, c *Client, username string) (secret []byte, recoveryCode string) {
	t.Helper()
	c.Login(username, "enrollment_required")
	r := c.PostJSON("/api/v1/account/mfa/totp", nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin setup: %d %s", r.Status, r.Body)
	}
	secret = DecodeSecret(t, r.JSON(t)["secret"].(string))
	r = c.PostJSON("/api/v1/account/mfa/totp/confirm", map[string]string{"code": s.Code(secret, 0)})
	if r.Status != http.StatusOK {
		t.Fatalf("confirm setup: %d %s", r.Status, r.Body)
	}
	recoveryCode, _ = r.JSON(t)["recovery_code"].(string)
	if recoveryCode == "" {
		t.Fatalf("confirm setup gave no recovery code: %s", r.Body)
	}
	s.NextStep()
	c.Login(username, "mfa_required")
	if r := c.PostJSON("/api/v1/login/totp", map[string]string{"code": s.Code(secret, 0)}); r.Status != http.StatusOK {
		t.Fatalf("sign in with a code after the setup: %d %s", r.Status, r.Body)
	}
	s.NextStep()
	return secret, recoveryCode
}

// SetSessionAMR gives every session of username the amr that a sign-in with other methods
// would have given it (a security key: "hwk"), keeping its token, so the browser keeps its
// session. Tests of what the amr decides use it where the sign-in itself is not the point.
func (s *Server) SetSessionAMR(t testing.TB, username string, amr ...string) {
	t.Helper()
	u, err := s.Store.GetUserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.Store.ListUserSessions(t.Context(), u.ID, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		next := x.Session
		next.AMR = amr
		if err := s.Store.StepUpSession(t.Context(), x.ID, x.TokenHash, &next); err != nil {
			t.Fatal(err)
		}
	}
}

// AddKeyRecord stores a security key record for username without a ceremony: enough for
// what only asks whether the user has a key (it signs nothing). It returns the record.
func (s *Server) AddKeyRecord(t testing.TB, username, name string) *store.WebAuthnCredential {
	t.Helper()
	u, err := s.Store.GetUserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		t.Fatal(err)
	}
	c := &store.WebAuthnCredential{ID: uuid.NewString(), UserID: u.ID, CredentialID: id, PublicKey: []byte{0xa0},
		AttestationFormat: "none", Name: name, CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateWebAuthnCredential(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}
