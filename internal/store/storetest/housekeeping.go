package storetest

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var housekeepingTests = []subtest{
	{"DeleteExpiredRemovesOnlyDeadRows", testDeleteExpired},
}

func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	now := at(24 * time.Hour)
	idleBefore := now.Add(-time.Hour)

	// Sessions: one expired, one authenticated but idle too long, one partial session
	// idle as long (partial sessions end by expiry only), and one live.
	expired := sessionFixture(t, alice.ID, at(0))
	expired.ExpiresAt = now
	idle := sessionFixture(t, alice.ID, at(20*time.Hour))
	idle.LastSeenAt = idleBefore.Add(-time.Millisecond)
	partial := sessionFixture(t, alice.ID, now.Add(-2*time.Hour))
	partial.State, partial.AMR, partial.ExpiresAt = store.StateMFARequired, []string{"pwd"}, now.Add(time.Minute)
	live := sessionFixture(t, alice.ID, at(20*time.Hour))
	live.LastSeenAt = idleBefore
	for _, x := range []*store.SessionRecord{expired, idle, partial, live} {
		wantNoErr(t, "CreateSession", s.CreateSession(ctx, x))
	}

	// Pending secrets: alice's expired, bob's still valid.
	oldPending := &store.PendingTOTP{UserID: alice.ID, SecretEnc: randomBytes(t, 48), CreatedAt: now.Add(-time.Hour), ExpiresAt: now}
	newPending := &store.PendingTOTP{UserID: bob.ID, SecretEnc: randomBytes(t, 48), CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	wantNoErr(t, "PutPendingTOTP(expired)", s.PutPendingTOTP(ctx, oldPending))
	wantNoErr(t, "PutPendingTOTP(valid)", s.PutPendingTOTP(ctx, newPending))

	// Setup tokens: one expired, one valid.
	oldToken, newToken := randomBytes(t, 32), randomBytes(t, 32)
	wantNoErr(t, "CreateSetupToken(expired)", s.CreateSetupToken(ctx, oldToken, now.Add(-time.Second)))
	wantNoErr(t, "CreateSetupToken(valid)", s.CreateSetupToken(ctx, newToken, now.Add(time.Hour)))

	// Rows that never expire stay whatever their age.
	cred := mustPutTOTP(t, s, alice.ID)
	rc := mustPutRecovery(t, s, alice.ID)
	mustAppend(t, s, store.AuditEvent{At: at(0), Event: "user.created", SubjectID: alice.ID})

	n, err := s.DeleteExpired(ctx, now, idleBefore)
	wantNoErr(t, "DeleteExpired", err)
	if n != 4 {
		t.Errorf("DeleteExpired = %d, want 4 (expired session, idle session, expired pending secret, expired setup token)", n)
	}
	for name, x := range map[string]*store.SessionRecord{"expired": expired, "idle": idle} {
		_, err := s.GetSessionByToken(ctx, x.TokenHash)
		wantErr(t, "GetSessionByToken("+name+" session)", err, store.ErrNotFound)
	}
	wantSame(t, "partial session", getSession(t, s, partial.TokenHash), partial)
	wantSame(t, "live session", getSession(t, s, live.TokenHash), live)
	if n, err := s.DeleteOrphanedPendingTOTP(ctx, alice.ID); err != nil || n != 0 {
		t.Errorf("DeleteOrphanedPendingTOTP(expired, already removed) = %d, %v; want 0", n, err)
	}
	got, err := s.GetPendingTOTP(ctx, bob.ID, now)
	wantNoErr(t, "GetPendingTOTP(valid)", err)
	wantSame(t, "valid pending secret", got, newPending)
	wantNoErr(t, "CheckSetupToken(valid)", s.CheckSetupToken(ctx, newToken, now))
	wantSame(t, "credential", getTOTP(t, s, alice.ID), cred)
	wantSame(t, "recovery code", getRecovery(t, s, alice.ID), rc)
	if events := listAudit(t, s, store.AuditFilter{}); len(events) != 1 {
		t.Errorf("audit events after DeleteExpired = %d, want 1 (audit rows are never removed)", len(events))
	}

	n, err = s.DeleteExpired(ctx, now, idleBefore)
	wantNoErr(t, "DeleteExpired again", err)
	if n != 0 {
		t.Errorf("DeleteExpired a second time = %d, want 0", n)
	}
}
