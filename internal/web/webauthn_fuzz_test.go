package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil/softkey"
)

// FuzzWebAuthnFinish posts arbitrary credentials to one of the three finish calls
// (call % 3), each from a session that lets the answer be read: an enrollment session of
// a user without a second factor (register/finish), the password step of a user with a
// key (login/webauthn/finish) and no session at all (login/passkey/finish). No challenge
// is pending, so no answer can be a valid one: whatever the bytes (broken JSON,
// base64url, CBOR, COSE, or a well-formed answer to a challenge nobody asked), the call
// answers a 4xx problem document, never a 500 and never a success.
//
// The server and its sessions are set up once, outside the fuzzed function, and an
// execution makes one call to the server's handler in process (no connection, no client):
// it costs the handler and little else, so the engine gets thousands of executions out of
// the few seconds CI gives it.
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
		for call := range uint8(3) {
			f.Add(call, seed)
		}
	}
	srv := testserver.New(f, testserver.Options{Throttle: manyAttempts})
	alice := srv.CreateUser(f, "alice", "alice@example.com", "user")
	srv.EnrollKey(f, srv.Client(f), "alice", srv.NewKey())
	mfa := srv.Client(f)
	mfa.Login("alice", "mfa_required")
	srv.CreateUser(f, "bob", "bob@example.com", "user")
	enrolling := srv.Client(f)
	enrolling.Login("bob", "enrollment_required")
	calls := []struct {
		path, session string
	}{
		{"/api/v1/account/mfa/webauthn/register/finish", sessionToken(f, srv, enrolling)},
		{"/api/v1/login/webauthn/finish", sessionToken(f, srv, mfa)},
		{"/api/v1/login/passkey/finish", ""},
	}
	// Every refused answer that could be read spends a slot of a failure budget: alice's for
	// the key step, the client address's for an unknown passkey. When one runs out (429),
	// both are reset and the call made again, so that every input reaches the same checks.
	// The address is httptest.NewRequest's.
	budgets := []struct{ kind, key string }{{store.BudgetSecondFactor, alice.ID}, {store.BudgetPassword, "passkey:192.0.2.1"}}
	handler := srv.HTTP.Config.Handler
	f.Fuzz(func(t *testing.T, which uint8, credential []byte) {
		body, err := json.Marshal(map[string]any{"credential": json.RawMessage(credential)})
		if err != nil {
			body = append(append([]byte(`{"credential": `), credential...), '}')
		}
		post := func(path, session string) *testserver.Response {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if session != "" {
				req.AddCookie(&http.Cookie{Name: cookieName, Value: session})
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			return &testserver.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		}
		call := calls[which%3]
		r := post(call.path, call.session)
		if r.Status == http.StatusTooManyRequests {
			for _, b := range budgets {
				if err := srv.Store.ResetBudget(context.Background(), b.kind, b.key); err != nil {
					t.Fatal(err)
				}
			}
			if r = post(call.path, call.session); r.Status == http.StatusTooManyRequests {
				t.Fatalf("%s: still throttled once the budgets were reset: %s", call.path, r.Body)
			}
		}
		switch r.Status {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%s with %q: %d %s", call.path, credential, r.Status, r.Body)
		}
		problemOf(t, r)
	})
}
