package web_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil/softkey"
)

// FuzzWebAuthnFinish posts arbitrary credentials to the three finish calls: whatever the
// bytes (broken JSON, base64url, CBOR, COSE), the answer is a 4xx, never a 500.
func FuzzWebAuthnFinish(f *testing.F) {
	key := softkey.New("http://localhost")
	reg, cred, err := key.Create([]byte(`{"publicKey": {"challenge": "AAAAAAAAAAAAAAAAAAAAAA", "rp": {"id": "localhost"}, "user": {"id": "dXNlcg"}}}`))
	if err != nil {
		f.Fatal(err)
	}
	get := key.GetWith("AAAAAAAAAAAAAAAAAAAAAA", cred)
	for _, seed := range [][]byte{reg, get, reg[:len(reg)/2], get[:len(get)-10], []byte(`{}`), []byte(`null`), []byte(`"x"`),
		[]byte(`{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "attestationObject": "oWNmbXQ"}}`),
		[]byte(`{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0", "authenticatorData": "AAAA", "signature": "MEQ"}}`),
		[]byte(`{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "attestationObject": "v2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YUX_"}}`),
	} {
		f.Add(seed)
	}
	srv := testserver.New(f, testserver.Options{Throttle: manyAttempts})
	srv.CreateUser(f, "alice", "alice@example.com", "user")
	owner := srv.Client(f)
	srv.EnrollKey(f, owner, "alice", srv.NewKey())
	mfa := srv.Client(f)
	mfa.Login("alice", "mfa_required")
	anyone := srv.Client(f)
	f.Fuzz(func(t *testing.T, credential []byte) {
		body, err := json.Marshal(map[string]any{"credential": json.RawMessage(credential)})
		if err != nil {
			body = append(append([]byte(`{"credential": `), credential...), '}')
		}
		for _, call := range []struct {
			jar  *testserver.Client
			path string
		}{
			{owner, "/api/v1/account/mfa/webauthn/register/finish"},
			{mfa, "/api/v1/login/webauthn/finish"},
			{anyone, "/api/v1/login/passkey/finish"},
		} {
			c := srv.Client(t) // bound to t, with the session of call.jar
			c.HTTP = call.jar.HTTP
			r := c.PostJSON(call.path, body)
			if r.Status >= 500 || r.Status < 400 {
				t.Fatalf("%s with %q: %d %s", call.path, credential, r.Status, r.Body)
			}
			if r.Status != http.StatusBadRequest && r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden &&
				r.Status != http.StatusTooManyRequests && r.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("%s with %q: unexpected %d %s", call.path, credential, r.Status, r.Body)
			}
		}
	})
}
