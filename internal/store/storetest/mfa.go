package storetest

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var totpTests = []subtest{
	{"PutAndGet", testTOTPPutGet},
	{"PutReplaces", testTOTPPutReplaces},
	{"AcceptStepStrictlyIncreasing", testTOTPAcceptStep},
	{"AcceptStepWithoutCredentialNotFound", testTOTPAcceptNoCredential},
	{"Delete", testTOTPDelete},
	{"SecondFactors", testSecondFactors},
}

var pendingTests = []subtest{
	{"PutAndGet", testPendingPutGet},
	{"Expiry", testPendingExpiry},
	{"PutReplaces", testPendingPutReplaces},
	{"ClaimOnlyTheSessionsOwnSecret", testPendingClaim},
	{"OrphanedEndsWithItsSession", testPendingOrphaned},
}

var recoveryTests = []subtest{
	{"PutAndGet", testRecoveryPutGet},
	{"ConsumeWrongHashNotFound", testRecoveryConsumeWrong},
	{"ConsumeSwapsHash", testRecoveryConsume},
	{"ConsumeIsPerUser", testRecoveryConsumePerUser},
	{"Delete", testRecoveryDelete},
}

func totpFixture(t testing.TB, userID string) *store.TOTPCredential {
	t.Helper()
	return &store.TOTPCredential{UserID: userID, SecretEnc: randomBytes(t, 48), LastStep: 100, CreatedAt: at(0)}
}

func mustPutTOTP(t testing.TB, s store.Store, userID string) *store.TOTPCredential {
	t.Helper()
	c := totpFixture(t, userID)
	wantNoErr(t, "PutTOTP", s.PutTOTP(t.Context(), c))
	return c
}

func getTOTP(t testing.TB, s store.Store, userID string) *store.TOTPCredential {
	t.Helper()
	c, err := s.GetTOTP(t.Context(), userID)
	wantNoErr(t, "GetTOTP", err)
	return c
}

func testTOTPPutGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	_, err := s.GetTOTP(ctx, u.ID)
	wantErr(t, "GetTOTP before PutTOTP", err, store.ErrNotFound)

	c := mustPutTOTP(t, s, u.ID)
	got := getTOTP(t, s, u.ID)
	wantSame(t, "GetTOTP", got, c)
	if !got.LastUsedAt.IsZero() {
		t.Errorf("LastUsedAt = %v, want zero before any code is used", got.LastUsedAt)
	}
	other := mustCreateUser(t, s, "bob")
	_, err = s.GetTOTP(ctx, other.ID)
	wantErr(t, "GetTOTP(other user)", err, store.ErrNotFound)
}

func testTOTPPutReplaces(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	mustPutTOTP(t, s, u.ID)
	wantNoErr(t, "AcceptTOTPStep", s.AcceptTOTPStep(t.Context(), u.ID, 200, at(time.Minute)))

	repl := &store.TOTPCredential{UserID: u.ID, SecretEnc: randomBytes(t, 48), LastStep: 150, CreatedAt: at(time.Hour)}
	wantNoErr(t, "PutTOTP(replacement)", s.PutTOTP(t.Context(), repl))
	wantSame(t, "GetTOTP after replacement", getTOTP(t, s, u.ID), repl)
}

func testTOTPAcceptStep(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustPutTOTP(t, s, u.ID) // LastStep 100: the confirming code's step

	steps := []struct {
		step int64
		ok   bool
		why  string
	}{
		{100, false, "the step that confirmed the setup"},
		{99, false, "an older step"},
		{101, true, "the next step"},
		{101, false, "a replay"},
		{103, true, "a later step"},
		{102, false, "a step older than the last accepted one"},
		{103, false, "a replay of the last accepted step"},
	}
	last := c.LastStep
	for i, st := range steps {
		now := at(time.Duration(i+1) * time.Second)
		err := s.AcceptTOTPStep(ctx, u.ID, st.step, now)
		if st.ok {
			wantNoErr(t, "AcceptTOTPStep: "+st.why, err)
			c.LastStep, c.LastUsedAt, last = st.step, now, st.step
		} else {
			wantErr(t, "AcceptTOTPStep: "+st.why, err, store.ErrNotFound)
		}
		wantSame(t, "credential after "+st.why, getTOTP(t, s, u.ID), c)
	}
	if last != 103 {
		t.Fatalf("test table is wrong: last accepted step %d", last)
	}
}

func testTOTPAcceptNoCredential(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	err := s.AcceptTOTPStep(t.Context(), u.ID, 1, base)
	wantErr(t, "AcceptTOTPStep without credential", err, store.ErrNotFound)
	err = s.AcceptTOTPStep(t.Context(), randomID(t), 1, base)
	wantErr(t, "AcceptTOTPStep(unknown user)", err, store.ErrNotFound)
}

func testTOTPDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	other := mustCreateUser(t, s, "bob")
	mustPutTOTP(t, s, u.ID)
	keep := mustPutTOTP(t, s, other.ID)

	wantNoErr(t, "DeleteTOTP", s.DeleteTOTP(ctx, u.ID))
	_, err := s.GetTOTP(ctx, u.ID)
	wantErr(t, "GetTOTP after DeleteTOTP", err, store.ErrNotFound)
	wantErr(t, "AcceptTOTPStep after DeleteTOTP", s.AcceptTOTPStep(ctx, u.ID, 500, base), store.ErrNotFound)
	wantSame(t, "other user's credential", getTOTP(t, s, other.ID), keep)
}

func pendingFixture(t testing.TB, userID string) *store.PendingTOTP {
	t.Helper()
	return &store.PendingTOTP{UserID: userID, SessionID: "session-1", SecretEnc: randomBytes(t, 48), CreatedAt: at(0), ExpiresAt: at(10 * time.Minute)}
}

func testPendingPutGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	_, err := s.GetPendingTOTP(ctx, u.ID, base)
	wantErr(t, "GetPendingTOTP before PutPendingTOTP", err, store.ErrNotFound)

	p := pendingFixture(t, u.ID)
	wantNoErr(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, p))
	got, err := s.GetPendingTOTP(ctx, u.ID, at(time.Minute))
	wantNoErr(t, "GetPendingTOTP", err)
	wantSame(t, "GetPendingTOTP", got, p)
}

func testPendingExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	p := pendingFixture(t, u.ID)
	wantNoErr(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, p))

	_, err := s.GetPendingTOTP(ctx, u.ID, p.ExpiresAt.Add(-time.Millisecond))
	wantNoErr(t, "GetPendingTOTP just before expiry", err)
	for _, now := range []time.Time{p.ExpiresAt, p.ExpiresAt.Add(time.Second), p.ExpiresAt.Add(24 * time.Hour)} {
		_, err := s.GetPendingTOTP(ctx, u.ID, now)
		wantErr(t, "GetPendingTOTP at "+now.Sub(p.ExpiresAt).String()+" after expiry", err, store.ErrNotFound)
	}
}

func testPendingPutReplaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	wantNoErr(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, pendingFixture(t, u.ID)))
	repl := &store.PendingTOTP{UserID: u.ID, SessionID: "session-2", SecretEnc: randomBytes(t, 48), CreatedAt: at(time.Hour), ExpiresAt: at(time.Hour + 10*time.Minute)}
	wantNoErr(t, "PutPendingTOTP(replacement)", s.PutPendingTOTP(ctx, repl))
	got, err := s.GetPendingTOTP(ctx, u.ID, at(time.Hour))
	wantNoErr(t, "GetPendingTOTP", err)
	wantSame(t, "GetPendingTOTP after replacement", got, repl)
}

func testPendingClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	p := pendingFixture(t, u.ID)
	wantNoErr(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, p))
	wantErr(t, "ClaimPendingTOTP by another session", s.ClaimPendingTOTP(ctx, u.ID, "other-session", p.SecretEnc), store.ErrNotFound)
	wantErr(t, "ClaimPendingTOTP of another secret", s.ClaimPendingTOTP(ctx, u.ID, p.SessionID, randomBytes(t, 48)), store.ErrNotFound)
	wantNoErr(t, "ClaimPendingTOTP", s.ClaimPendingTOTP(ctx, u.ID, p.SessionID, p.SecretEnc))
	wantErr(t, "ClaimPendingTOTP a second time", s.ClaimPendingTOTP(ctx, u.ID, p.SessionID, p.SecretEnc), store.ErrNotFound)
	_, err := s.GetPendingTOTP(ctx, u.ID, base)
	wantErr(t, "GetPendingTOTP after the claim", err, store.ErrNotFound)
}

func testPendingOrphaned(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	x := sessionFixture(t, alice.ID, at(0))
	wantNoErr(t, "CreateSession", s.CreateSession(ctx, x))
	p := pendingFixture(t, alice.ID)
	p.SessionID = x.ID
	wantNoErr(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, p))
	// bob's setup was drawn by a session that is gone; it is not alice's to remove.
	wantNoErr(t, "PutPendingTOTP(bob)", s.PutPendingTOTP(ctx, pendingFixture(t, bob.ID)))

	n, err := s.DeleteOrphanedPendingTOTP(ctx, alice.ID)
	wantNoErr(t, "DeleteOrphanedPendingTOTP(session alive)", err)
	if n != 0 {
		t.Errorf("DeleteOrphanedPendingTOTP while its session lives = %d, want 0", n)
	}
	got, err := s.GetPendingTOTP(ctx, alice.ID, base)
	wantNoErr(t, "GetPendingTOTP(session alive)", err)
	wantSame(t, "pending secret of a live session", got, p)

	wantNoErr(t, "DeleteSession", s.DeleteSession(ctx, x.ID))
	n, err = s.DeleteOrphanedPendingTOTP(ctx, alice.ID)
	wantNoErr(t, "DeleteOrphanedPendingTOTP(session ended)", err)
	if n != 1 {
		t.Errorf("DeleteOrphanedPendingTOTP after its session ended = %d, want 1", n)
	}
	_, err = s.GetPendingTOTP(ctx, alice.ID, base)
	wantErr(t, "GetPendingTOTP after its session ended", err, store.ErrNotFound)
	if _, err := s.GetPendingTOTP(ctx, bob.ID, base); err != nil {
		t.Errorf("bob's pending secret: %v, want it kept", err)
	}
}

func mustPutRecovery(t testing.TB, s store.Store, userID string) *store.RecoveryCode {
	t.Helper()
	c := &store.RecoveryCode{UserID: userID, CodeHash: randomBytes(t, 32), CreatedAt: at(0)}
	wantNoErr(t, "PutRecoveryCode", s.PutRecoveryCode(t.Context(), c))
	return c
}

func getRecovery(t testing.TB, s store.Store, userID string) *store.RecoveryCode {
	t.Helper()
	c, err := s.GetRecoveryCode(t.Context(), userID)
	wantNoErr(t, "GetRecoveryCode", err)
	return c
}

func testRecoveryPutGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	_, err := s.GetRecoveryCode(ctx, u.ID)
	wantErr(t, "GetRecoveryCode before PutRecoveryCode", err, store.ErrNotFound)

	c := mustPutRecovery(t, s, u.ID)
	wantSame(t, "GetRecoveryCode", getRecovery(t, s, u.ID), c)

	repl := &store.RecoveryCode{UserID: u.ID, CodeHash: randomBytes(t, 32), CreatedAt: at(time.Hour)}
	wantNoErr(t, "PutRecoveryCode(replacement)", s.PutRecoveryCode(ctx, repl))
	wantSame(t, "GetRecoveryCode after replacement", getRecovery(t, s, u.ID), repl)
}

func testRecoveryConsumeWrong(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	c := mustPutRecovery(t, s, u.ID)
	err := s.ConsumeRecoveryCode(t.Context(), u.ID, randomBytes(t, 32), randomBytes(t, 32), at(time.Hour))
	wantErr(t, "ConsumeRecoveryCode(wrong old hash)", err, store.ErrNotFound)
	wantSame(t, "code after a wrong consumption", getRecovery(t, s, u.ID), c)

	other := mustCreateUser(t, s, "bob")
	err = s.ConsumeRecoveryCode(t.Context(), other.ID, randomBytes(t, 32), randomBytes(t, 32), at(time.Hour))
	wantErr(t, "ConsumeRecoveryCode(user without code)", err, store.ErrNotFound)
}

func testRecoveryConsume(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustPutRecovery(t, s, u.ID)
	fresh := randomBytes(t, 32)
	wantNoErr(t, "ConsumeRecoveryCode", s.ConsumeRecoveryCode(ctx, u.ID, c.CodeHash, fresh, at(time.Hour)))
	want := &store.RecoveryCode{UserID: u.ID, CodeHash: fresh, CreatedAt: at(time.Hour)}
	wantSame(t, "code after consumption", getRecovery(t, s, u.ID), want)

	err := s.ConsumeRecoveryCode(ctx, u.ID, c.CodeHash, randomBytes(t, 32), at(2*time.Hour))
	wantErr(t, "ConsumeRecoveryCode(used code again)", err, store.ErrNotFound)
	wantSame(t, "code after a second use of the old one", getRecovery(t, s, u.ID), want)

	next := randomBytes(t, 32)
	wantNoErr(t, "ConsumeRecoveryCode(fresh code)", s.ConsumeRecoveryCode(ctx, u.ID, fresh, next, at(3*time.Hour)))
	wantSame(t, "code after consuming the fresh one", getRecovery(t, s, u.ID),
		&store.RecoveryCode{UserID: u.ID, CodeHash: next, CreatedAt: at(3 * time.Hour)})
}

func testRecoveryConsumePerUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	c := mustPutRecovery(t, s, alice.ID)
	bobs := &store.RecoveryCode{UserID: bob.ID, CodeHash: c.CodeHash, CreatedAt: at(0)} // same hash, other user
	wantNoErr(t, "PutRecoveryCode(bob)", s.PutRecoveryCode(ctx, bobs))

	wantNoErr(t, "ConsumeRecoveryCode(alice)", s.ConsumeRecoveryCode(ctx, alice.ID, c.CodeHash, randomBytes(t, 32), at(time.Hour)))
	wantSame(t, "bob's code after alice consumed hers", getRecovery(t, s, bob.ID), bobs)
}

func testRecoveryDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	other := mustCreateUser(t, s, "bob")
	c := mustPutRecovery(t, s, u.ID)
	keep := mustPutRecovery(t, s, other.ID)
	wantNoErr(t, "DeleteRecoveryCode", s.DeleteRecoveryCode(ctx, u.ID))
	_, err := s.GetRecoveryCode(ctx, u.ID)
	wantErr(t, "GetRecoveryCode after delete", err, store.ErrNotFound)
	err = s.ConsumeRecoveryCode(ctx, u.ID, c.CodeHash, randomBytes(t, 32), at(time.Hour))
	wantErr(t, "ConsumeRecoveryCode after delete", err, store.ErrNotFound)
	wantSame(t, "other user's code", getRecovery(t, s, other.ID), keep)
}

func testSecondFactors(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	want := func(name, userID string, w store.SecondFactors) {
		t.Helper()
		got, err := s.GetSecondFactors(ctx, userID)
		wantNoErr(t, "GetSecondFactors", err)
		if got != w {
			t.Errorf("%s: GetSecondFactors = %+v, want %+v", name, got, w)
		}
	}
	want("a user without factors", alice.ID, store.SecondFactors{})
	want("no such user", randomID(t), store.SecondFactors{})
	mustPutTOTP(t, s, alice.ID)
	want("an authenticator", alice.ID, store.SecondFactors{TOTP: true})
	mustCreateWebAuthn(t, s, webauthnFixture(t, alice.ID, "YubiKey"))
	mustCreateWebAuthn(t, s, webauthnFixture(t, alice.ID, "Laptop"))
	mustPutRecovery(t, s, alice.ID)
	want("every factor", alice.ID, store.SecondFactors{TOTP: true, WebAuthnKeys: 2, RecoveryCode: true})
	want("another user's factors are not theirs", bob.ID, store.SecondFactors{})
	mustPutRecovery(t, s, bob.ID)
	want("a recovery code alone", bob.ID, store.SecondFactors{RecoveryCode: true})
}
