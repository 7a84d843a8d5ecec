package storetest

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var sessionTests = []subtest{
	{"CreateAndGetByToken", testSessionCreateGet},
	{"GetWithUserAndAuthenticator", testSessionUser},
	{"StepUpOnlyWithCurrentToken", testSessionStepUp},
	{"Touch", testSessionTouch},
	{"NoticeSetAndClear", testSessionNotice},
	{"SecondFactorProofKeptAndMoved", testSessionSecondFactor},
	{"Delete", testSessionDelete},
	{"DeleteUserSessionsExcept", testSessionDeleteUser},
	{"EndedSessionsNoteTheAction", testSessionEndedNote},
	{"ListExcludesExpiredNewestFirst", testSessionList},
}

func getSession(t testing.TB, s store.Store, tokenHash []byte) *store.SessionRecord {
	t.Helper()
	x, err := s.GetSessionByToken(t.Context(), tokenHash)
	wantNoErr(t, "GetSessionByToken", err)
	return x
}

func testSessionCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	x := sessionFixture(t, u.ID, at(0))
	x.State, x.AMR = store.StateMFARequired, []string{"pwd"}
	x.ExpiresAt = at(10 * time.Minute)
	wantNoErr(t, "CreateSession", s.CreateSession(ctx, x))
	got := getSession(t, s, x.TokenHash)
	wantSame(t, "GetSessionByToken", got, x)
	if got.NoticeEnc != nil {
		t.Errorf("NoticeEnc = %x, want nil for a session without notice", got.NoticeEnc)
	}

	y := sessionFixture(t, u.ID, at(time.Minute))
	y.AMR = []string{"pwd", "otp", "mfa"}
	y.NoticeEnc = randomBytes(t, 40)
	y.SecondFactorAt = at(time.Minute)
	wantNoErr(t, "CreateSession(second)", s.CreateSession(ctx, y))
	wantSame(t, "GetSessionByToken(second)", getSession(t, s, y.TokenHash), y)

	_, err := s.GetSessionByToken(ctx, randomBytes(t, 32))
	wantErr(t, "GetSessionByToken(unknown)", err, store.ErrNotFound)
}

func testSessionUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Every account field set, so a column read into the wrong field or not at all shows.
	u := userFixture(t, "alice")
	u.EmailVerified, u.DisplayName, u.Language = true, "Alice Liddell", "de"
	u.Role, u.MFAOverride, u.LastLoginAt = store.RoleSupport, store.MFAOverrideYes, at(time.Hour)
	wantNoErr(t, "CreateUser", s.CreateUser(ctx, u))
	x := sessionFixture(t, u.ID, at(0))
	x.AMR, x.NoticeEnc, x.SecondFactorAt = []string{"pwd", "otp", "mfa"}, randomBytes(t, 40), at(time.Second)
	x.LastSeenAt = at(2 * time.Second) // every time of the session differs from the others
	wantNoErr(t, "CreateSession", s.CreateSession(ctx, x))

	got, err := s.GetSessionUser(ctx, x.TokenHash)
	wantNoErr(t, "GetSessionUser", err)
	wantSame(t, "GetSessionUser session", &got.Session, &x.Session)
	wantSame(t, "GetSessionUser account", &got.User, &u.Account)
	if got.HasTOTP {
		t.Error("HasTOTP = true for a user without an authenticator")
	}

	mustPutTOTP(t, s, u.ID)
	got, err = s.GetSessionUser(ctx, x.TokenHash)
	wantNoErr(t, "GetSessionUser(with authenticator)", err)
	if !got.HasTOTP {
		t.Error("HasTOTP = false for a user with an authenticator")
	}
	if got.WebAuthnKeys != 0 {
		t.Errorf("WebAuthnKeys = %d for a user without security keys", got.WebAuthnKeys)
	}
	for _, name := range []string{"key one", "key two"} {
		wantNoErr(t, "CreateWebAuthnCredential", s.CreateWebAuthnCredential(ctx, webauthnFixture(t, u.ID, name)))
	}
	got, err = s.GetSessionUser(ctx, x.TokenHash)
	wantNoErr(t, "GetSessionUser(with security keys)", err)
	if got.WebAuthnKeys != 2 {
		t.Errorf("WebAuthnKeys = %d, want 2", got.WebAuthnKeys)
	}
	wantNoErr(t, "SetUserDisabled", s.SetUserDisabled(ctx, u.ID, true, at(time.Minute)))
	got, err = s.GetSessionUser(ctx, x.TokenHash)
	wantNoErr(t, "GetSessionUser(disabled)", err)
	if !got.User.Disabled {
		t.Error("User.Disabled = false after SetUserDisabled")
	}

	_, err = s.GetSessionUser(ctx, randomBytes(t, 32))
	wantErr(t, "GetSessionUser(unknown)", err, store.ErrNotFound)
	wantNoErr(t, "DeleteSession", s.DeleteSession(ctx, x.ID))
	_, err = s.GetSessionUser(ctx, x.TokenHash)
	wantErr(t, "GetSessionUser(deleted)", err, store.ErrNotFound)
}

func testSessionStepUp(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	x := sessionFixture(t, u.ID, at(0))
	x.State, x.AMR, x.ExpiresAt = store.StateMFARequired, []string{"pwd"}, at(10*time.Minute)
	wantNoErr(t, "CreateSession", s.CreateSession(ctx, x))
	oldHash := x.TokenHash

	up := &store.Session{
		TokenHash:      randomBytes(t, 32),
		State:          store.StateAuthenticated,
		AMR:            []string{"pwd", "otp", "mfa"},
		AuthTime:       at(time.Minute),
		LastSeenAt:     at(time.Minute),
		ExpiresAt:      at(12 * time.Hour),
		SecondFactorAt: at(time.Minute),
	}
	wantNoErr(t, "StepUpSession", s.StepUpSession(ctx, x.ID, oldHash, up))

	_, err := s.GetSessionByToken(ctx, oldHash)
	wantErr(t, "GetSessionByToken(old token)", err, store.ErrNotFound)
	want := *x
	want.TokenHash, want.State, want.AMR = up.TokenHash, up.State, up.AMR
	want.AuthTime, want.LastSeenAt, want.ExpiresAt = up.AuthTime, up.LastSeenAt, up.ExpiresAt
	want.SecondFactorAt = up.SecondFactorAt
	wantSame(t, "session after StepUpSession", getSession(t, s, up.TokenHash), &want)

	again := &store.Session{TokenHash: randomBytes(t, 32), State: store.StateAuthenticated, AMR: []string{"pwd"},
		AuthTime: at(2 * time.Minute), LastSeenAt: at(2 * time.Minute), ExpiresAt: at(12 * time.Hour)}
	err = s.StepUpSession(ctx, x.ID, oldHash, again)
	wantErr(t, "StepUpSession with the old token again", err, store.ErrNotFound)
	_, err = s.GetSessionByToken(ctx, again.TokenHash)
	wantErr(t, "GetSessionByToken(refused step-up token)", err, store.ErrNotFound)
	wantSame(t, "session after a refused step-up", getSession(t, s, up.TokenHash), &want)

	err = s.StepUpSession(ctx, randomID(t), up.TokenHash, again)
	wantErr(t, "StepUpSession(unknown id)", err, store.ErrNotFound)
	other := mustCreateSession(t, s, u.ID, at(0))
	err = s.StepUpSession(ctx, other.ID, up.TokenHash, again)
	wantErr(t, "StepUpSession(another session's token)", err, store.ErrNotFound)
}

func testSessionTouch(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	x := mustCreateSession(t, s, u.ID, at(0))
	wantNoErr(t, "TouchSession", s.TouchSession(ctx, x.ID, at(5*time.Minute)))
	x.LastSeenAt = at(5 * time.Minute)
	wantSame(t, "session after TouchSession", getSession(t, s, x.TokenHash), x)
	wantErr(t, "TouchSession(unknown)", s.TouchSession(ctx, randomID(t), base), store.ErrNotFound)
	seen, err := s.SessionLastSeen(ctx, x.ID)
	wantNoErr(t, "SessionLastSeen", err)
	if !seen.Equal(x.LastSeenAt) {
		t.Errorf("SessionLastSeen = %v, want %v", seen, x.LastSeenAt)
	}
	_, err = s.SessionLastSeen(ctx, randomID(t))
	wantErr(t, "SessionLastSeen(unknown)", err, store.ErrNotFound)
}

func testSessionNotice(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	x := mustCreateSession(t, s, u.ID, at(0))
	notice := randomBytes(t, 60)
	wantNoErr(t, "SetSessionNotice", s.SetSessionNotice(ctx, x.ID, notice))
	x.NoticeEnc = notice
	wantSame(t, "session with notice", getSession(t, s, x.TokenHash), x)

	wantNoErr(t, "SetSessionNotice(nil)", s.SetSessionNotice(ctx, x.ID, nil))
	if got := getSession(t, s, x.TokenHash); got.NoticeEnc != nil {
		t.Errorf("NoticeEnc after clearing = %x, want nil", got.NoticeEnc)
	}
	wantErr(t, "SetSessionNotice(unknown)", s.SetSessionNotice(ctx, randomID(t), notice), store.ErrNotFound)
}

// A session records when it last proved the second factor: none when created without one,
// a new proof replaces the time, a step-up carries the time it is given.
func testSessionSecondFactor(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	x := mustCreateSession(t, s, u.ID, at(0))
	if got := getSession(t, s, x.TokenHash).SecondFactorAt; !got.IsZero() {
		t.Errorf("SecondFactorAt of a session that proved nothing = %v, want zero", got)
	}
	y := mustCreateSession(t, s, u.ID, at(0))

	wantNoErr(t, "SetSessionSecondFactor", s.SetSessionSecondFactor(ctx, x.ID, at(3*time.Minute)))
	x.SecondFactorAt = at(3 * time.Minute)
	wantSame(t, "session after SetSessionSecondFactor", getSession(t, s, x.TokenHash), x)
	wantSame(t, "the other session", getSession(t, s, y.TokenHash), y)

	wantNoErr(t, "SetSessionSecondFactor(later)", s.SetSessionSecondFactor(ctx, x.ID, at(9*time.Minute)))
	x.SecondFactorAt = at(9 * time.Minute)
	wantSame(t, "session after a later proof", getSession(t, s, x.TokenHash), x)

	up := *x
	up.TokenHash, up.AuthTime, up.LastSeenAt = randomBytes(t, 32), at(10*time.Minute), at(10*time.Minute)
	wantNoErr(t, "StepUpSession keeping the proof", s.StepUpSession(ctx, x.ID, x.TokenHash, &up.Session))
	wantSame(t, "session after a step-up that keeps the proof", getSession(t, s, up.TokenHash), &up)

	wantErr(t, "SetSessionSecondFactor(unknown)", s.SetSessionSecondFactor(ctx, randomID(t), at(0)), store.ErrNotFound)
	wantNoErr(t, "DeleteSession", s.DeleteSession(ctx, x.ID))
	wantErr(t, "SetSessionSecondFactor(ended)", s.SetSessionSecondFactor(ctx, x.ID, at(0)), store.ErrNotFound)
}

func testSessionDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	x := mustCreateSession(t, s, u.ID, at(0))
	y := mustCreateSession(t, s, u.ID, at(0))
	wantNoErr(t, "DeleteSession", s.DeleteSession(ctx, x.ID))
	_, err := s.GetSessionByToken(ctx, x.TokenHash)
	wantErr(t, "GetSessionByToken after DeleteSession", err, store.ErrNotFound)
	wantErr(t, "TouchSession after DeleteSession", s.TouchSession(ctx, x.ID, base), store.ErrNotFound)
	wantSame(t, "the other session", getSession(t, s, y.TokenHash), y)
}

func testSessionDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	a1 := mustCreateSession(t, s, alice.ID, at(0))
	a2 := mustCreateSession(t, s, alice.ID, at(time.Second))
	a3 := mustCreateSession(t, s, alice.ID, at(2*time.Second))
	b1 := mustCreateSession(t, s, bob.ID, at(0))

	n, err := s.DeleteUserSessions(ctx, alice.ID, a2.ID)
	wantNoErr(t, "DeleteUserSessions(except a2)", err)
	if n != 2 {
		t.Errorf("DeleteUserSessions(except a2) = %d, want 2", n)
	}
	for _, gone := range []*store.SessionRecord{a1, a3} {
		_, err := s.GetSessionByToken(ctx, gone.TokenHash)
		wantErr(t, "GetSessionByToken(ended session)", err, store.ErrNotFound)
	}
	wantSame(t, "the kept session", getSession(t, s, a2.TokenHash), a2)
	wantSame(t, "another user's session", getSession(t, s, b1.TokenHash), b1)

	n, err = s.DeleteUserSessions(ctx, alice.ID, "")
	wantNoErr(t, "DeleteUserSessions(all)", err)
	if n != 1 {
		t.Errorf("DeleteUserSessions(all) = %d, want 1", n)
	}
	n, err = s.DeleteUserSessions(ctx, alice.ID, "")
	wantNoErr(t, "DeleteUserSessions(none left)", err)
	if n != 0 {
		t.Errorf("DeleteUserSessions with none left = %d, want 0", n)
	}
	wantSame(t, "another user's session", getSession(t, s, b1.TokenHash), b1)
}

func testSessionList(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	now := at(time.Hour)

	list, err := s.ListUserSessions(ctx, alice.ID, now)
	wantNoErr(t, "ListUserSessions(none)", err)
	if len(list) != 0 {
		t.Fatalf("ListUserSessions with no sessions returned %d", len(list))
	}

	oldest := mustCreateSession(t, s, alice.ID, at(0))
	newest := mustCreateSession(t, s, alice.ID, at(30*time.Minute))
	middle := mustCreateSession(t, s, alice.ID, at(10*time.Minute))
	expired := sessionFixture(t, alice.ID, at(20*time.Minute))
	expired.ExpiresAt = now.Add(-time.Millisecond)
	wantNoErr(t, "CreateSession(expired)", s.CreateSession(ctx, expired))
	endsNow := sessionFixture(t, alice.ID, at(25*time.Minute))
	endsNow.ExpiresAt = now
	wantNoErr(t, "CreateSession(expiring now)", s.CreateSession(ctx, endsNow))
	mustCreateSession(t, s, bob.ID, at(40*time.Minute))

	list, err = s.ListUserSessions(ctx, alice.ID, now)
	wantNoErr(t, "ListUserSessions", err)
	wantSame(t, "ListUserSessions", list, []store.SessionRecord{*newest, *middle, *oldest})
}

func testSessionEndedNote(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	a1 := mustCreateSession(t, s, alice.ID, at(0))
	a2 := mustCreateSession(t, s, alice.ID, at(time.Second))
	a3 := mustCreateSession(t, s, alice.ID, at(2*time.Second))
	b1 := mustCreateSession(t, s, bob.ID, at(0))
	now := at(time.Minute)

	n, err := s.MarkSessionsEnded(ctx, alice.ID, a2.ID, "sign_out_others")
	wantNoErr(t, "MarkSessionsEnded(except a2)", err)
	if n != 2 {
		t.Errorf("MarkSessionsEnded(except a2) = %d, want 2", n)
	}
	_, err = s.DeleteUserSessions(ctx, alice.ID, a2.ID)
	wantNoErr(t, "DeleteUserSessions", err)
	for _, ended := range []*store.SessionRecord{a1, a3} {
		got, err := s.EndedSession(ctx, ended.TokenHash, now)
		wantNoErr(t, "EndedSession(ended)", err)
		if got != "sign_out_others" {
			t.Errorf("EndedSession(ended) = %q, want sign_out_others", got)
		}
	}
	for name, kept := range map[string]*store.SessionRecord{"the kept session": a2, "another user's session": b1} {
		_, err := s.EndedSession(ctx, kept.TokenHash, now)
		wantErr(t, "EndedSession("+name+")", err, store.ErrNotFound)
	}
	n, err = s.MarkSessionsEnded(ctx, bob.ID, "", "mfa_reset")
	wantNoErr(t, "MarkSessionsEnded(all of bob)", err)
	if n != 1 {
		t.Errorf("MarkSessionsEnded(all of bob) = %d, want 1", n)
	}
	if got, err := s.EndedSession(ctx, b1.TokenHash, now); err != nil || got != "mfa_reset" {
		t.Errorf("EndedSession(bob's) = %q, %v; want mfa_reset", got, err)
	}
	wantNoErr(t, "MarkSessionEnded(a2)", s.MarkSessionEnded(ctx, a2.ID, "sign_out_session"))
	if got, err := s.EndedSession(ctx, a2.TokenHash, now); err != nil || got != "sign_out_session" {
		t.Errorf("EndedSession(a2) = %q, %v; want sign_out_session", got, err)
	}
	wantErr(t, "MarkSessionEnded(no such session)", s.MarkSessionEnded(ctx, "no-such-session", "sign_out_session"), store.ErrNotFound)
	// A note lasts as long as its session would have, and then goes with the expired rows.
	after := a3.ExpiresAt.Add(time.Second)
	_, err = s.EndedSession(ctx, a1.TokenHash, after)
	wantErr(t, "EndedSession(after the session's end)", err, store.ErrNotFound)
	if _, err := s.DeleteExpired(ctx, after, after); err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	_, err = s.EndedSession(ctx, a3.TokenHash, a3.ExpiresAt.Add(-time.Second))
	wantErr(t, "EndedSession(after DeleteExpired)", err, store.ErrNotFound)

}
