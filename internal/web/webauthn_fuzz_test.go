package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil/softkey"
)

// FuzzWebAuthnFinish posts arbitrary credentials to one of the three finish calls
// (call % 3), each from a session that lets the answer be read: an enrollment session of
// a user without a second factor (register/finish), the password step of a user with a
// key (login/webauthn/finish) and no session at all (login/passkey/finish).
//
// The two sign-in calls answer a real challenge: before each call the harness asks for
// one (the begin call, in the same session or with the passkey cookie it set) and writes
// it into the answer's clientDataJSON, where an answer names its challenge. An answer of
// alice's key to another challenge then passes the challenge, the origin and the key
// lookup and is refused by the signature check (the harness checks that first, and that
// the key's own answer to the pending challenge is accepted), and the engine mutates from
// there. No fuzzed answer is accepted: it would need a signature, by a key the server
// knows, over a challenge drawn after the input was made. Every call answers a 4xx
// problem document, never a 500 and never a success.
//
// Registration has no pending challenge: an answer with "none" attestation carries no
// signature, so a well-formed fuzzed one to a real challenge would rightly add a key.
// There the call checks that whatever the bytes (broken JSON, base64url, CBOR, COSE, or a
// well-formed answer to a challenge nobody asked) it is refused as a 4xx.
//
// The server and its sessions are set up once, outside the fuzzed function, and an
// execution makes its calls to the server's handler in process (no connection, no
// client): it costs the handler and little else.
func FuzzWebAuthnFinish(f *testing.F) {
	srv := testserver.New(f, testserver.Options{Throttle: manyAttempts})
	alice := srv.CreateUser(f, "alice", "alice@example.com", "user")
	aliceKey := srv.NewKey()
	srv.EnrollKey(f, srv.Client(f), "alice", aliceKey)
	mfa := srv.Client(f)
	mfa.Login("alice", "mfa_required")
	srv.CreateUser(f, "bob", "bob@example.com", "user")
	enrolling := srv.Client(f)
	enrolling.Login("bob", "enrollment_required")
	handler := srv.HTTP.Config.Handler

	calls := []fuzzCall{
		{finish: "/api/v1/account/mfa/webauthn/register/finish", session: sessionToken(f, srv, enrolling)},
		{begin: "/api/v1/login/webauthn", finish: "/api/v1/login/webauthn/finish", session: sessionToken(f, srv, mfa)},
		{begin: "/api/v1/login/passkey", finish: "/api/v1/login/passkey/finish"},
	}

	// Seeds: answers of alice's key (to challenges the harness replaces), a registration
	// answer, cut ones and broken ones.
	other := softkey.New("http://localhost")
	reg, _, err := other.Create([]byte(`{"publicKey": {"challenge": "AAAAAAAAAAAAAAAAAAAAAA", "rp": {"id": "localhost"}, "user": {"id": "dXNlcg"}}}`))
	if err != nil {
		f.Fatal(err)
	}
	keyGet, err := aliceKey.Get(mfa.BeginKey("/api/v1/login/webauthn"))
	if err != nil {
		f.Fatal(err)
	}
	passkeyGet, err := aliceKey.Get(srv.Client(f).BeginKey("/api/v1/login/passkey"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{reg, keyGet, passkeyGet, reg[:len(reg)/2], keyGet[:len(keyGet)-10], []byte(`{}`), []byte(`null`),
		[]byte(`{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "attestationObject": "oWNmbXQ"}}`),
		[]byte(`{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0", "authenticatorData": "AAAA", "signature": "MEQ"}}`),
		[]byte(`{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "attestationObject": "v2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YUX_"}}`),
	} {
		for call := range uint8(3) {
			f.Add(call, seed)
		}
	}

	// The harness reaches the signature check, and a valid signature would pass it: alice's
	// answers to other challenges, given the pending one, are refused as invalid_credential
	// (the signature's refusal; the challenge, origin and key checks come before it), and
	// her key's answer to the pending challenge itself is accepted (in a session of its own
	// for the key step, which it completes).
	for _, c := range calls[1:] {
		old := keyGet
		if c.begin == "/api/v1/login/passkey" {
			old = passkeyGet
		}
		r := c.answer(f, handler, func([]byte) []byte { return old })
		if r.Status != http.StatusUnauthorized || problemOf(f, r)["code"] != "invalid_credential" {
			f.Fatalf("%s: alice's answer to another challenge, given the pending one: %d %s, want 401 invalid_credential", c.finish, r.Status, r.Body)
		}
		own := c
		if c.session != "" {
			fresh := srv.Client(f)
			fresh.Login("alice", "mfa_required")
			own.session = sessionToken(f, srv, fresh)
		}
		r = own.answer(f, handler, func(opts []byte) []byte {
			a, err := aliceKey.Get(opts)
			if err != nil {
				f.Fatal(err)
			}
			return a
		})
		if r.Status != http.StatusOK {
			f.Fatalf("%s: alice's key's answer to the pending challenge: %d %s, want 200", c.finish, r.Status, r.Body)
		}
	}

	// Every refused answer that could be read spends a slot of a failure budget: alice's for
	// her key, the client address's for an unknown passkey. When one runs out (429), both
	// are reset and the call made again, so that every input reaches the same checks. The
	// address is httptest.NewRequest's.
	budgets := []struct{ kind, key string }{{store.BudgetSecondFactor, alice.ID}, {store.BudgetPassword, "passkey:192.0.2.1"}}
	f.Fuzz(func(t *testing.T, which uint8, credential []byte) {
		call := calls[which%3]
		answer := func([]byte) []byte { return credential }
		r := call.answer(t, handler, answer)
		if r.Status == http.StatusTooManyRequests {
			for _, b := range budgets {
				if err := srv.Store.ResetBudget(context.Background(), b.kind, b.key); err != nil {
					t.Fatal(err)
				}
			}
			if r = call.answer(t, handler, answer); r.Status == http.StatusTooManyRequests {
				t.Fatalf("%s: still throttled once the budgets were reset: %s", call.finish, r.Body)
			}
		}
		switch r.Status {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%s with %q: %d %s: a fuzzed answer was not refused", call.finish, credential, r.Status, r.Body)
		}
		problemOf(t, r)
	})
}

// fuzzCall is one finish call of FuzzWebAuthnFinish: with a begin call, each answer is
// made to a challenge that call drew just before.
type fuzzCall struct {
	begin, finish string
	session       string // the session cookie's value ("" for none)
}

// answer draws a challenge (when the call has a begin call), has answer make the
// credential from the begin call's options, names the drawn challenge in it and posts it
// to the finish call, in process.
func (c fuzzCall) answer(t testing.TB, h http.Handler, answer func(options []byte) []byte) *testserver.Response {
	t.Helper()
	cookies := []*http.Cookie{}
	if c.session != "" {
		cookies = append(cookies, &http.Cookie{Name: cookieName, Value: c.session})
	}
	var opts []byte
	challenge := ""
	if c.begin != "" {
		r := serveJSON(h, c.begin, []byte(`{}`), cookies)
		if r.Status != http.StatusOK {
			t.Fatalf("POST %s: %d %s", c.begin, r.Status, r.Body)
		}
		var o struct {
			PublicKey struct{ Challenge string } `json:"publicKey"`
		}
		if err := json.Unmarshal(r.Body, &o); err != nil || o.PublicKey.Challenge == "" {
			t.Fatalf("POST %s: no challenge in %s", c.begin, r.Body)
		}
		opts, challenge = r.Body, o.PublicKey.Challenge
		for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
			if ck.Name != cookieName {
				cookies = append(cookies, ck)
			}
		}
	}
	credential := answer(opts)
	if challenge != "" {
		credential = withChallenge(credential, challenge)
	}
	body, err := json.Marshal(map[string]any{"credential": json.RawMessage(credential)})
	if err != nil {
		body = append(append([]byte(`{"credential": `), credential...), '}')
	}
	return serveJSON(h, c.finish, body, cookies)
}

// serveJSON posts body to path on h in process, with cookies.
func serveJSON(h http.Handler, path string, body []byte, cookies []*http.Cookie) *testserver.Response {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for _, ck := range cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return &testserver.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

var (
	clientDataField = regexp.MustCompile(`"clientDataJSON"\s*:\s*"([A-Za-z0-9_-]*)"`)
	challengeField  = regexp.MustCompile(`"challenge"\s*:\s*"[^"\\]*"`)
)

// withChallenge returns credential with the challenge its clientDataJSON names replaced
// by challenge, every other byte as it was; a credential without one readable as such is
// returned unchanged.
func withChallenge(credential []byte, challenge string) []byte {
	m := clientDataField.FindSubmatchIndex(credential)
	if m == nil {
		return credential
	}
	clientData, err := base64.RawURLEncoding.DecodeString(string(credential[m[2]:m[3]]))
	if err != nil {
		return credential
	}
	loc := challengeField.FindIndex(clientData)
	if loc == nil {
		return credential
	}
	named := append(append(append([]byte{}, clientData[:loc[0]]...), `"challenge":"`+challenge+`"`...), clientData[loc[1]:]...)
	out := append([]byte{}, credential[:m[2]]...)
	out = append(out, base64.RawURLEncoding.EncodeToString(named)...)
	return append(out, credential[m[3]:]...)
}
