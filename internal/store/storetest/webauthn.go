package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var webauthnTests = []subtest{
	{"CreateListGetRoundTrip", testWebAuthnRoundTrip},
	{"CredentialIDIsUniqueAcrossUsers", testWebAuthnDuplicate},
	{"RenameAndDeleteOnlyTheUsersOwn", testWebAuthnOwnOnly},
	{"DeleteEveryKeyOfOneUser", testWebAuthnDeleteUserKeys},
	{"DeletedUserTakesItsKeys", testWebAuthnDeletedUser},
	{"CounterMustIncrease", testWebAuthnCounter},
	{"UseOfRemovedKeyNotFound", testWebAuthnUseRemoved},
	{"ChallengeConsumedOnce", testChallengeOnce},
	{"ChallengeOfOtherKindOrBindingLeftAlone", testChallengeBinding},
	{"ExpiredChallengeRefusedAndSweptAway", testChallengeExpired},
	{"ChallengeDataBounded", testChallengeBounded},
	{"ConsumeChallengeOneWinnerOf20", testRaceChallenge},
	{"UseCounterOneWinnerOf20", testRaceWebAuthnCounter},
}

// webauthnFixture returns an unsaved security key of userID called name.
func webauthnFixture(t testing.TB, userID, name string) *store.WebAuthnCredential {
	t.Helper()
	return &store.WebAuthnCredential{
		ID: randomID(t), UserID: userID, CredentialID: randomBytes(t, 32), PublicKey: randomBytes(t, 77),
		AttestationFormat: "none", SignCount: 7, AAGUID: randomBytes(t, 16), Transports: []string{"usb", "nfc"},
		UserVerified: true, BackupEligible: true, BackupState: false, Discoverable: true,
		Name: name, CreatedAt: at(0),
	}
}

func mustCreateWebAuthn(t testing.TB, s store.Store, c *store.WebAuthnCredential) *store.WebAuthnCredential {
	t.Helper()
	wantNoErr(t, "CreateWebAuthnCredential", s.CreateWebAuthnCredential(t.Context(), c))
	return c
}

func testWebAuthnRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	a := mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "YubiKey"))
	b := webauthnFixture(t, u.ID, "Laptop")
	b.CreatedAt, b.Transports, b.AAGUID, b.Discoverable, b.UserVerified, b.BackupEligible = at(time.Minute), nil, make([]byte, 16), false, false, false
	mustCreateWebAuthn(t, s, b)
	mustCreateWebAuthn(t, s, webauthnFixture(t, mustCreateUser(t, s, "bob").ID, "Bob's"))

	list, err := s.ListWebAuthnCredentials(ctx, u.ID)
	wantNoErr(t, "ListWebAuthnCredentials", err)
	if len(list) != 2 {
		t.Fatalf("ListWebAuthnCredentials: %d keys, want 2", len(list))
	}
	wantSame(t, "first key", &list[0], a)
	wantSame(t, "second key", &list[1], b)
	n, err := s.CountWebAuthnCredentials(ctx, u.ID)
	wantNoErr(t, "CountWebAuthnCredentials", err)
	if n != 2 {
		t.Errorf("CountWebAuthnCredentials = %d, want 2", n)
	}
	got, err := s.GetWebAuthnCredential(ctx, a.CredentialID)
	wantNoErr(t, "GetWebAuthnCredential", err)
	wantSame(t, "key by credential ID", got, a)
	_, err = s.GetWebAuthnCredential(ctx, randomBytes(t, 32))
	wantErr(t, "GetWebAuthnCredential(unknown)", err, store.ErrNotFound)
	none, err := s.ListWebAuthnCredentials(ctx, randomID(t))
	wantNoErr(t, "ListWebAuthnCredentials(nobody)", err)
	if len(none) != 0 {
		t.Errorf("an unknown user has %d keys", len(none))
	}
}

func testWebAuthnDuplicate(t *testing.T, s store.Store) {
	u, v := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	a := mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "one"))
	for _, owner := range []string{u.ID, v.ID} {
		dup := webauthnFixture(t, owner, "again")
		dup.CredentialID = a.CredentialID
		err := s.CreateWebAuthnCredential(t.Context(), dup)
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "credential" || !errors.Is(err, store.ErrConflict) {
			t.Errorf("same credential ID again: got %v, want a *ConflictError for field credential", err)
		}
	}
}

func testWebAuthnOwnOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, v := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	a := mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "one"))
	wantErr(t, "rename another user's key", s.RenameWebAuthnCredential(ctx, v.ID, a.ID, "mine"), store.ErrNotFound)
	wantErr(t, "delete another user's key", s.DeleteWebAuthnCredential(ctx, v.ID, a.ID), store.ErrNotFound)
	for label, v := range notText {
		wantErr(t, "rename to "+label, s.RenameWebAuthnCredential(ctx, u.ID, a.ID, v), store.ErrInvalidText)
		bad := webauthnFixture(t, u.ID, v)
		wantErr(t, "create named "+label, s.CreateWebAuthnCredential(ctx, bad), store.ErrInvalidText)
	}
	wantNoErr(t, "RenameWebAuthnCredential", s.RenameWebAuthnCredential(ctx, u.ID, a.ID, "Blue key"))
	got, err := s.GetWebAuthnCredential(ctx, a.CredentialID)
	wantNoErr(t, "GetWebAuthnCredential", err)
	if got.Name != "Blue key" {
		t.Errorf("name = %q after the rename", got.Name)
	}
	wantNoErr(t, "DeleteWebAuthnCredential", s.DeleteWebAuthnCredential(ctx, u.ID, a.ID))
	wantErr(t, "delete it again", s.DeleteWebAuthnCredential(ctx, u.ID, a.ID), store.ErrNotFound)
	_, err = s.GetWebAuthnCredential(ctx, a.CredentialID)
	wantErr(t, "GetWebAuthnCredential(deleted)", err, store.ErrNotFound)
}

func testWebAuthnDeleteUserKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, v := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "one"))
	mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "two"))
	mustCreateWebAuthn(t, s, webauthnFixture(t, v.ID, "bob's"))
	n, err := s.DeleteUserWebAuthnCredentials(ctx, u.ID)
	wantNoErr(t, "DeleteUserWebAuthnCredentials", err)
	if n != 2 {
		t.Errorf("deleted %d keys, want 2", n)
	}
	if c, _ := s.CountWebAuthnCredentials(ctx, u.ID); c != 0 {
		t.Errorf("alice keeps %d keys", c)
	}
	if c, _ := s.CountWebAuthnCredentials(ctx, v.ID); c != 1 {
		t.Errorf("bob has %d keys, want 1 (untouched)", c)
	}
}

func testWebAuthnDeletedUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	a := mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "one"))
	wantNoErr(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
	_, err := s.GetWebAuthnCredential(ctx, a.CredentialID)
	wantErr(t, "key of a deleted user", err, store.ErrNotFound)
}

func testWebAuthnCounter(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	a := mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "one")) // counter 7
	wantErr(t, "same counter", s.UseWebAuthnCredential(ctx, u.ID, a.ID, 7, false, at(time.Minute)), store.ErrNotFound)
	wantErr(t, "lower counter", s.UseWebAuthnCredential(ctx, u.ID, a.ID, 3, false, at(time.Minute)), store.ErrNotFound)
	wantErr(t, "counter back to 0", s.UseWebAuthnCredential(ctx, u.ID, a.ID, 0, false, at(time.Minute)), store.ErrNotFound)
	wantErr(t, "another user's key", s.UseWebAuthnCredential(ctx, mustCreateUser(t, s, "bob").ID, a.ID, 8, false, at(time.Minute)), store.ErrNotFound)
	wantNoErr(t, "higher counter", s.UseWebAuthnCredential(ctx, u.ID, a.ID, 8, true, at(2*time.Minute)))
	got, err := s.GetWebAuthnCredential(ctx, a.CredentialID)
	wantNoErr(t, "GetWebAuthnCredential", err)
	if got.SignCount != 8 || !got.BackupState || !got.LastUsedAt.Equal(at(2*time.Minute)) {
		t.Errorf("after use: counter %d, backup state %v, last used %v", got.SignCount, got.BackupState, got.LastUsedAt)
	}
	wantNoErr(t, "large counter", s.UseWebAuthnCredential(ctx, u.ID, a.ID, 1<<32-1, true, at(3*time.Minute)))
	if got, _ := s.GetWebAuthnCredential(ctx, a.CredentialID); got.SignCount != 1<<32-1 {
		t.Errorf("counter = %d, want %d", got.SignCount, uint32(1<<32-1))
	}

	// An authenticator without a counter always says 0: accepted while the stored one is 0.
	z := webauthnFixture(t, u.ID, "passkey")
	z.SignCount = 0
	mustCreateWebAuthn(t, s, z)
	for i := range 2 {
		wantNoErr(t, "zero counter", s.UseWebAuthnCredential(ctx, u.ID, z.ID, 0, false, at(time.Duration(i)*time.Minute)))
	}
	wantNoErr(t, "a counter appears", s.UseWebAuthnCredential(ctx, u.ID, z.ID, 1, false, at(3*time.Minute)))
	wantErr(t, "and goes back to 0", s.UseWebAuthnCredential(ctx, u.ID, z.ID, 0, false, at(4*time.Minute)), store.ErrNotFound)
}

func testWebAuthnUseRemoved(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	a := mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "one"))
	wantNoErr(t, "DeleteWebAuthnCredential", s.DeleteWebAuthnCredential(ctx, u.ID, a.ID))
	wantErr(t, "use a removed key", s.UseWebAuthnCredential(ctx, u.ID, a.ID, 100, false, at(time.Minute)), store.ErrNotFound)
}

// challengeFixture returns an unsaved assertion challenge bound to boundTo, drawn at
// created and valid 5 minutes.
func challengeFixture(t testing.TB, userID, boundTo string, created time.Time) *store.WebAuthnChallenge {
	t.Helper()
	return &store.WebAuthnChallenge{ChallengeHash: randomBytes(t, 32), Kind: store.ChallengeAssertion, BoundTo: boundTo,
		UserID: userID, Data: []byte(`{"challenge":"abc"}`), CreatedAt: created, ExpiresAt: created.Add(5 * time.Minute)}
}

func mustCreateChallenge(t testing.TB, s store.Store, c *store.WebAuthnChallenge) *store.WebAuthnChallenge {
	t.Helper()
	wantNoErr(t, "CreateWebAuthnChallenge", s.CreateWebAuthnChallenge(t.Context(), c))
	return c
}

func testChallengeOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateChallenge(t, s, challengeFixture(t, u.ID, "session-1", at(0)))
	got, err := s.ConsumeWebAuthnChallenge(ctx, c.ChallengeHash, c.Kind, c.BoundTo, at(time.Minute))
	wantNoErr(t, "ConsumeWebAuthnChallenge", err)
	wantSame(t, "challenge", got, c)
	_, err = s.ConsumeWebAuthnChallenge(ctx, c.ChallengeHash, c.Kind, c.BoundTo, at(time.Minute))
	wantErr(t, "consume again", err, store.ErrNotFound)
	dup := challengeFixture(t, "", "x", at(0))
	mustCreateChallenge(t, s, dup)
	if err := s.CreateWebAuthnChallenge(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("the same challenge twice: got %v, want ErrConflict", err)
	}
}

func testChallengeBinding(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mustCreateChallenge(t, s, challengeFixture(t, "", "session-1", at(0)))
	_, err := s.ConsumeWebAuthnChallenge(ctx, c.ChallengeHash, store.ChallengeRegistration, c.BoundTo, at(time.Minute))
	wantErr(t, "other kind", err, store.ErrNotFound)
	_, err = s.ConsumeWebAuthnChallenge(ctx, c.ChallengeHash, store.ChallengePasskey, c.BoundTo, at(time.Minute))
	wantErr(t, "passkey kind", err, store.ErrNotFound)
	_, err = s.ConsumeWebAuthnChallenge(ctx, c.ChallengeHash, c.Kind, "session-2", at(time.Minute))
	wantErr(t, "other binding", err, store.ErrNotFound)
	_, err = s.ConsumeWebAuthnChallenge(ctx, c.ChallengeHash, c.Kind, c.BoundTo, at(time.Minute))
	wantNoErr(t, "the right kind and binding after the refusals", err)
}

func testChallengeExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := mustCreateChallenge(t, s, challengeFixture(t, "", "s", at(0)))
	live := mustCreateChallenge(t, s, challengeFixture(t, "", "s", at(4*time.Minute)))
	_, err := s.ConsumeWebAuthnChallenge(ctx, old.ChallengeHash, old.Kind, old.BoundTo, at(5*time.Minute))
	wantErr(t, "consume at its expiry", err, store.ErrNotFound)
	if _, err := s.DeleteExpired(ctx, at(5*time.Minute), at(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeWebAuthnChallenge(ctx, old.ChallengeHash, old.Kind, old.BoundTo, at(-time.Minute))
	wantErr(t, "an expired challenge after housekeeping", err, store.ErrNotFound)
	_, err = s.ConsumeWebAuthnChallenge(ctx, live.ChallengeHash, live.Kind, live.BoundTo, at(5*time.Minute))
	wantNoErr(t, "a live challenge survives housekeeping", err)
}

func testChallengeBounded(t *testing.T, s store.Store) {
	c := challengeFixture(t, "", "s", at(0))
	c.Data = make([]byte, store.MaxChallengeData+1)
	wantErr(t, "oversized data", s.CreateWebAuthnChallenge(t.Context(), c), store.ErrInvalidText)
}

func testRaceChallenge(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mustCreateChallenge(t, s, challengeFixture(t, "", "session-1", at(0)))
	errs := race(20, func(int) error {
		_, err := s.ConsumeWebAuthnChallenge(ctx, c.ChallengeHash, c.Kind, c.BoundTo, at(time.Minute))
		return err
	})
	oneWinner(t, "ConsumeWebAuthnChallenge", errs)
}

func testRaceWebAuthnCounter(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	a := mustCreateWebAuthn(t, s, webauthnFixture(t, u.ID, "one"))
	errs := race(20, func(i int) error {
		return s.UseWebAuthnCredential(ctx, u.ID, a.ID, 8, false, at(time.Duration(i)*time.Millisecond))
	})
	oneWinner(t, "UseWebAuthnCredential", errs)
}
