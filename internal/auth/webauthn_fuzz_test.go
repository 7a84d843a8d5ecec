package auth_test

import (
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/testutil/softkey"
)

// FuzzWebAuthnAnswer feeds arbitrary bytes to the parsers of registration and sign-in
// answers: they never panic, and whatever they refuse is a bad_request (a 400), never an
// error the server would answer with a 500. What follows the parse (the challenge, the
// origin, the key, the signature) is fuzzed by the web package's FuzzWebAuthnFinish, whose
// answers name challenges the server drew for them.
func FuzzWebAuthnAnswer(f *testing.F) {
	key := softkey.New("http://localhost")
	reg, cred, err := key.Create([]byte(`{"publicKey": {"challenge": "AAAAAAAAAAAAAAAAAAAAAA", "rp": {"id": "localhost"}, "user": {"id": "dXNlcg"}}}`))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{reg, key.GetWith("AAAAAAAAAAAAAAAAAAAAAA", cred), []byte(`{}`), []byte(`null`),
		[]byte(`{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "attestationObject": "v2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YUX_"}}`),
		[]byte(`{"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "MEQ"}}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, parse := range map[string]func([]byte) error{
			"creation":  func(b []byte) error { _, err := auth.ParseCreation(b); return err },
			"assertion": func(b []byte) error { _, err := auth.ParseAssertion(b); return err },
		} {
			if err := parse(data); err != nil {
				if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeBadRequest {
					t.Fatalf("%s(%q): %v, want a bad_request", name, data, err)
				}
			}
		}
	})
}
