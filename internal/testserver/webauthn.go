package testserver

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/twofold-id/twofold/internal/testutil/softkey"
)

// WebAuthnOrigin is the origin the server accepts from security keys and passkeys
// (webauthn.rp_origins in force): without a public URL, http://localhost:<port>.
func (s *Server) WebAuthnOrigin() string { return s.app.Config.WebAuthnOrigins()[0] }

// NewKey returns a software authenticator that answers for this server's origin, verifies
// its user and makes passkeys.
func (s *Server) NewKey() *softkey.Authenticator { return softkey.New(s.WebAuthnOrigin()) }

// BeginKey posts to a begin call (register, login/webauthn, login/passkey) and returns the
// options, failing the test unless the answer is 200.
func (c *Client) BeginKey(path string) []byte {
	c.t.Helper()
	r := c.PostJSON(path, map[string]any{})
	if r.Status != http.StatusOK {
		c.t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
	}
	return r.Body
}

// FinishKey posts the authenticator's answer (and at registration, name) to a finish call.
func (c *Client) FinishKey(path, name string, credential []byte) *Response {
	c.t.Helper()
	body := map[string]any{"credential": json.RawMessage(credential)}
	if name != "" {
		body["name"] = name
	}
	return c.PostJSON(path, body)
}

// RegisterKey adds a credential of key to the signed-in (or enrolling) user of c through
// the API, and returns the finish call's answer (201 {"id","name","recovery_code"?}) and
// the credential, failing the test when the authenticator refuses the options.
func (c *Client) RegisterKey(key *softkey.Authenticator, name string) (*Response, *softkey.Credential) {
	c.t.Helper()
	opts := c.BeginKey("/api/v1/account/mfa/webauthn/register")
	answer, cred, err := key.Create(opts)
	if err != nil {
		c.t.Fatalf("the authenticator refused the creation options: %v", err)
	}
	return c.FinishKey("/api/v1/account/mfa/webauthn/register/finish", name, answer), cred
}

// EnrollKey signs username in (enrollment required) and adds a passkey of key in the
// forced enrollment; it returns the first recovery code. The client is left signed in
// with the password alone (amr pwd): registering is not a sign-in with the key.
func (s *Server) EnrollKey(t testing.TB, c *Client, username string, key *softkey.Authenticator) string {
	t.Helper()
	c.Login(username, "enrollment_required")
	r, _ := c.RegisterKey(key, "")
	if r.Status != http.StatusCreated {
		t.Fatalf("register a key: %d %s", r.Status, r.Body)
	}
	var added struct {
		RecoveryCode string `json:"recovery_code"`
	}
	if err := json.Unmarshal(r.Body, &added); err != nil {
		t.Fatal(err)
	}
	return added.RecoveryCode
}

// KeySignIn takes c through the password and the key steps of username; the answer of
// the finish call is returned.
func (c *Client) KeySignIn(username string, key *softkey.Authenticator) *Response {
	c.t.Helper()
	c.Login(username, "mfa_required")
	opts := c.BeginKey("/api/v1/login/webauthn")
	answer, err := key.Get(opts)
	if err != nil {
		c.t.Fatalf("the authenticator refused the request options: %v", err)
	}
	return c.FinishKey("/api/v1/login/webauthn/finish", "", answer)
}

// PasskeySignIn signs c in with a passkey of key alone and returns the finish call's answer.
func (c *Client) PasskeySignIn(key *softkey.Authenticator) *Response {
	c.t.Helper()
	opts := c.BeginKey("/api/v1/login/passkey")
	answer, err := key.Get(opts)
	if err != nil {
		c.t.Fatalf("the authenticator refused the request options: %v", err)
	}
	return c.FinishKey("/api/v1/login/passkey/finish", "", answer)
}
