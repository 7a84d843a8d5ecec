package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var linkTests = []subtest{
	{"CreateAndPeekRoundTrip", testLinkRoundTrip},
	{"PeekDoesNotConsume", testLinkPeekDoesNotConsume},
	{"ConsumeOnce", testLinkConsumeOnce},
	{"ExpiredRefused", testLinkExpired},
	{"OtherPurposeRefused", testLinkOtherPurpose},
	{"LinkWithoutAccount", testLinkWithoutAccount},
	{"PayloadBounded", testLinkPayloadBounded},
	{"DuplicateHashConflicts", testLinkDuplicate},
	{"RollbackMakesLinkLiveAgain", testLinkRollback},
	{"InvalidateEndsOnlyThatUsersLivePurpose", testLinkInvalidate},
	{"CountSinceCountsEveryIssuedLink", testLinkCount},
	{"LatestIsTheNewest", testLinkLatest},
	{"DeletedUserTakesItsLinks", testLinkDeletedUser},
	{"HousekeepingKeepsLinksADayPastExpiry", testLinkHousekeeping},
	{"ConsumeOneWinnerOf20", testRaceLinkConsume},
}

// linkTokenFixture returns an unsaved live password-reset link for u, issued at created
// and valid 30 minutes.
func linkTokenFixture(t testing.TB, u *store.User, created time.Time) *store.LinkToken {
	t.Helper()
	return &store.LinkToken{TokenHash: randomBytes(t, 32), Purpose: store.LinkPasswordReset, UserID: u.ID,
		Email: u.Email, CreatedAt: created, ExpiresAt: created.Add(30 * time.Minute)}
}

func mustCreateLink(t testing.TB, s store.Store, l *store.LinkToken) *store.LinkToken {
	t.Helper()
	wantNoErr(t, "CreateLinkToken", s.CreateLinkToken(t.Context(), l))
	return l
}

func testLinkRoundTrip(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	l := linkTokenFixture(t, u, at(0))
	l.Payload = []byte(`{"email":"new@example.com"}`)
	mustCreateLink(t, s, l)
	got, err := s.PeekLinkToken(t.Context(), l.Purpose, l.TokenHash, at(time.Minute))
	wantNoErr(t, "PeekLinkToken", err)
	wantSame(t, "link", got, l)
}

func testLinkPeekDoesNotConsume(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	l := mustCreateLink(t, s, linkTokenFixture(t, u, at(0)))
	for i := range 3 {
		got, err := s.PeekLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Duration(i)*time.Minute))
		wantNoErr(t, "PeekLinkToken", err)
		wantSame(t, "peeked link", got, l)
	}
	got, err := s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, at(5*time.Minute))
	wantNoErr(t, "ConsumeLinkToken after peeks", err)
	want := *l
	want.UsedAt = at(5 * time.Minute)
	wantSame(t, "consumed link", got, &want)
}

func testLinkConsumeOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	l := mustCreateLink(t, s, linkTokenFixture(t, u, at(0)))
	_, err := s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Minute))
	wantNoErr(t, "ConsumeLinkToken", err)
	_, err = s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Minute))
	wantErr(t, "ConsumeLinkToken a second time", err, store.ErrNotFound)
	_, err = s.PeekLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Minute))
	wantErr(t, "PeekLinkToken of a used link", err, store.ErrNotFound)
	_, err = s.ConsumeLinkToken(ctx, l.Purpose, randomBytes(t, 32), at(time.Minute))
	wantErr(t, "ConsumeLinkToken of an unknown hash", err, store.ErrNotFound)
	_, err = s.PeekLinkToken(ctx, l.Purpose, randomBytes(t, 32), at(time.Minute))
	wantErr(t, "PeekLinkToken of an unknown hash", err, store.ErrNotFound)
}

func testLinkExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	l := mustCreateLink(t, s, linkTokenFixture(t, u, at(0)))
	_, err := s.PeekLinkToken(ctx, l.Purpose, l.TokenHash, l.ExpiresAt)
	wantErr(t, "PeekLinkToken at expiry", err, store.ErrNotFound)
	_, err = s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, l.ExpiresAt)
	wantErr(t, "ConsumeLinkToken at expiry", err, store.ErrNotFound)
	_, err = s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, l.ExpiresAt.Add(-time.Millisecond))
	wantNoErr(t, "ConsumeLinkToken just before expiry", err)
}

func testLinkOtherPurpose(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	l := mustCreateLink(t, s, linkTokenFixture(t, u, at(0)))
	_, err := s.PeekLinkToken(ctx, store.LinkInvitation, l.TokenHash, at(time.Minute))
	wantErr(t, "PeekLinkToken for another purpose", err, store.ErrNotFound)
	_, err = s.ConsumeLinkToken(ctx, store.LinkInvitation, l.TokenHash, at(time.Minute))
	wantErr(t, "ConsumeLinkToken for another purpose", err, store.ErrNotFound)
	_, err = s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Minute))
	wantNoErr(t, "ConsumeLinkToken for its purpose after the refusals", err)
}

func testLinkWithoutAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	l := &store.LinkToken{TokenHash: randomBytes(t, 32), Purpose: store.LinkRegistration, Email: "new@example.com",
		Payload: []byte(`{"username":"newbie"}`), CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	mustCreateLink(t, s, l)
	got, err := s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Minute))
	wantNoErr(t, "ConsumeLinkToken", err)
	want := *l
	want.UsedAt = at(time.Minute)
	wantSame(t, "link without an account", got, &want)
}

func testLinkPayloadBounded(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	l := linkTokenFixture(t, u, at(0))
	l.Payload = make([]byte, store.MaxLinkPayload+1)
	wantErr(t, "CreateLinkToken with an oversized payload", s.CreateLinkToken(t.Context(), l), store.ErrInvalidText)
	l.Payload = l.Payload[:store.MaxLinkPayload]
	wantNoErr(t, "CreateLinkToken with the largest payload", s.CreateLinkToken(t.Context(), l))
}

func testLinkDuplicate(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	l := mustCreateLink(t, s, linkTokenFixture(t, u, at(0)))
	again := *l
	again.Purpose = store.LinkInvitation
	wantErr(t, "CreateLinkToken with a stored hash", s.CreateLinkToken(t.Context(), &again), store.ErrConflict)
}

func testLinkRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	l := mustCreateLink(t, s, linkTokenFixture(t, u, at(0)))
	err := s.WithTx(ctx, func(tx store.Store) error {
		if _, err := tx.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Minute)); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want the function's error", err)
	}
	_, err = s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, at(2*time.Minute))
	wantNoErr(t, "ConsumeLinkToken after a rolled-back consume", err)
}

func testLinkInvalidate(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	first := mustCreateLink(t, s, linkTokenFixture(t, alice, at(0)))
	second := mustCreateLink(t, s, linkTokenFixture(t, alice, at(time.Minute)))
	used := mustCreateLink(t, s, linkTokenFixture(t, alice, at(time.Minute)))
	_, err := s.ConsumeLinkToken(ctx, used.Purpose, used.TokenHash, at(2*time.Minute))
	wantNoErr(t, "ConsumeLinkToken", err)
	otherPurpose := linkTokenFixture(t, alice, at(0))
	otherPurpose.Purpose = store.LinkEmailVerify
	mustCreateLink(t, s, otherPurpose)
	bobs := mustCreateLink(t, s, linkTokenFixture(t, bob, at(0)))

	n, err := s.InvalidateLinkTokens(ctx, store.LinkPasswordReset, alice.ID, at(3*time.Minute))
	wantNoErr(t, "InvalidateLinkTokens", err)
	if n != 2 {
		t.Errorf("InvalidateLinkTokens = %d, want 2 (the live links; the used one was over already)", n)
	}
	for name, l := range map[string]*store.LinkToken{"first": first, "second": second} {
		_, err := s.PeekLinkToken(ctx, l.Purpose, l.TokenHash, at(3*time.Minute))
		wantErr(t, "PeekLinkToken of the invalidated "+name+" link", err, store.ErrNotFound)
	}
	_, err = s.ConsumeLinkToken(ctx, otherPurpose.Purpose, otherPurpose.TokenHash, at(3*time.Minute))
	wantNoErr(t, "ConsumeLinkToken of alice's link of another purpose", err)
	_, err = s.ConsumeLinkToken(ctx, bobs.Purpose, bobs.TokenHash, at(3*time.Minute))
	wantNoErr(t, "ConsumeLinkToken of bob's link", err)
}

func testLinkCount(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	mustCreateLink(t, s, linkTokenFixture(t, alice, at(0)))
	used := mustCreateLink(t, s, linkTokenFixture(t, alice, at(10*time.Minute)))
	mustCreateLink(t, s, linkTokenFixture(t, alice, at(20*time.Minute)))
	mustCreateLink(t, s, linkTokenFixture(t, bob, at(20*time.Minute)))
	_, err := s.ConsumeLinkToken(ctx, used.Purpose, used.TokenHash, at(11*time.Minute))
	wantNoErr(t, "ConsumeLinkToken", err)
	_, err = s.InvalidateLinkTokens(ctx, store.LinkPasswordReset, alice.ID, at(21*time.Minute))
	wantNoErr(t, "InvalidateLinkTokens", err)
	for _, tc := range []struct {
		purpose string
		since   time.Time
		want    int
	}{
		{store.LinkPasswordReset, at(0), 3},
		{store.LinkPasswordReset, at(10 * time.Minute), 2},
		{store.LinkPasswordReset, at(20*time.Minute + time.Millisecond), 0},
		{store.LinkInvitation, at(0), 0},
	} {
		n, err := s.CountLinkTokens(ctx, tc.purpose, alice.ID, tc.since)
		wantNoErr(t, "CountLinkTokens", err)
		if n != tc.want {
			t.Errorf("CountLinkTokens(%s, since %s) = %d, want %d", tc.purpose, tc.since, n, tc.want)
		}
	}
}

func testLinkLatest(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	_, err := s.LatestLinkToken(ctx, store.LinkInvitation, alice.ID)
	wantErr(t, "LatestLinkToken without links", err, store.ErrNotFound)
	older := linkTokenFixture(t, alice, at(0))
	older.Purpose = store.LinkInvitation
	newer := linkTokenFixture(t, alice, at(time.Hour))
	newer.Purpose = store.LinkInvitation
	mustCreateLink(t, s, newer)
	mustCreateLink(t, s, older)
	mustCreateLink(t, s, linkTokenFixture(t, alice, at(2*time.Hour)))
	_, err = s.InvalidateLinkTokens(ctx, store.LinkInvitation, alice.ID, at(time.Hour))
	wantNoErr(t, "InvalidateLinkTokens", err)
	got, err := s.LatestLinkToken(ctx, store.LinkInvitation, alice.ID)
	wantNoErr(t, "LatestLinkToken", err)
	want := *newer
	want.UsedAt = at(time.Hour)
	wantSame(t, "latest invitation", got, &want)
}

func testLinkDeletedUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	l := mustCreateLink(t, s, linkTokenFixture(t, u, at(0)))
	wantNoErr(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
	_, err := s.PeekLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Minute))
	wantErr(t, "PeekLinkToken of a deleted user's link", err, store.ErrNotFound)
	_, err = s.LatestLinkToken(ctx, l.Purpose, u.ID)
	wantErr(t, "LatestLinkToken of a deleted user", err, store.ErrNotFound)
}

func testLinkHousekeeping(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := at(48 * time.Hour)
	old := linkTokenFixture(t, u, now.Add(-25*time.Hour))
	old.ExpiresAt = now.Add(-24*time.Hour - time.Millisecond)
	recent := linkTokenFixture(t, u, now.Add(-2*time.Hour))
	recent.ExpiresAt = now.Add(-time.Hour)
	mustCreateLink(t, s, old)
	mustCreateLink(t, s, recent)
	n, err := s.DeleteExpired(ctx, now, now.Add(-time.Hour))
	wantNoErr(t, "DeleteExpired", err)
	if n != 1 {
		t.Errorf("DeleteExpired = %d, want 1 (the link expired more than a day ago)", n)
	}
	// The link expired an hour ago still counts against the account's limit.
	if c, err := s.CountLinkTokens(ctx, store.LinkPasswordReset, u.ID, at(0)); err != nil || c != 1 {
		t.Errorf("CountLinkTokens after DeleteExpired = %d, %v; want 1", c, err)
	}
}

func testRaceLinkConsume(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	l := mustCreateLink(t, s, linkTokenFixture(t, u, at(0)))
	errs := race(20, func(i int) error {
		_, err := s.ConsumeLinkToken(ctx, l.Purpose, l.TokenHash, at(time.Minute+time.Duration(i)*time.Millisecond))
		return err
	})
	oneWinner(t, "ConsumeLinkToken", errs)
}
