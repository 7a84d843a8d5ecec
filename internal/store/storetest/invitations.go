package storetest

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var invitationTests = []subtest{
	{"CreateGetRoundTrip", testInvitationRoundTrip},
	{"OnePerUser", testInvitationOnePerUser},
	{"UnknownIsNotFound", testInvitationUnknown},
	{"AcceptOnlyWhileLive", testInvitationAcceptLive},
	{"RenewOnlyWhileNotAccepted", testInvitationRenew},
	{"GoesWithTheUser", testInvitationDeletedUser},
	{"AcceptOneWinner", testRaceInvitationAccept},
}

func mustInvite(t *testing.T, s store.Store, u *store.User, expires time.Time) *store.Invitation {
	t.Helper()
	inv := &store.Invitation{UserID: u.ID, InvitedBy: "", CreatedAt: at(0), ExpiresAt: expires}
	wantNoErr(t, "CreateInvitation", s.CreateInvitation(t.Context(), inv))
	return inv
}

func testInvitationRoundTrip(t *testing.T, s store.Store) {
	admin := mustCreateUser(t, s, "root")
	u := mustCreateUser(t, s, "ada")
	inv := &store.Invitation{UserID: u.ID, InvitedBy: admin.ID, CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	wantNoErr(t, "CreateInvitation", s.CreateInvitation(t.Context(), inv))
	got, err := s.GetInvitation(t.Context(), u.ID)
	wantNoErr(t, "GetInvitation", err)
	wantSame(t, "GetInvitation", got, inv)
	if got.Accepted() {
		t.Error("a new invitation reports accepted")
	}
}

func testInvitationOnePerUser(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "ada")
	mustInvite(t, s, u, at(time.Hour))
	err := s.CreateInvitation(t.Context(), &store.Invitation{UserID: u.ID, CreatedAt: at(1), ExpiresAt: at(2 * time.Hour)})
	wantErr(t, "second CreateInvitation", err, store.ErrConflict)
}

func testInvitationUnknown(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "ada")
	_, err := s.GetInvitation(t.Context(), u.ID)
	wantErr(t, "GetInvitation of an account never invited", err, store.ErrNotFound)
	wantErr(t, "AcceptInvitation of an account never invited", s.AcceptInvitation(t.Context(), u.ID, at(0)), store.ErrNotFound)
	wantErr(t, "RenewInvitation of an account never invited", s.RenewInvitation(t.Context(), u.ID, at(time.Hour)), store.ErrNotFound)
}

func testInvitationAcceptLive(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "ada")
	mustInvite(t, s, u, at(time.Hour))
	wantErr(t, "AcceptInvitation at its expiry", s.AcceptInvitation(ctx, u.ID, at(time.Hour)), store.ErrNotFound)
	wantNoErr(t, "AcceptInvitation before its expiry", s.AcceptInvitation(ctx, u.ID, at(time.Minute)))
	got, err := s.GetInvitation(ctx, u.ID)
	wantNoErr(t, "GetInvitation", err)
	if !got.AcceptedAt.Equal(at(time.Minute)) || !got.Accepted() {
		t.Errorf("AcceptedAt = %v, want %v", got.AcceptedAt, at(time.Minute))
	}
	wantErr(t, "AcceptInvitation a second time", s.AcceptInvitation(ctx, u.ID, at(2*time.Minute)), store.ErrNotFound)
}

func testInvitationRenew(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "ada")
	mustInvite(t, s, u, at(time.Hour))
	// An expired invitation can be renewed, and then accepted.
	wantNoErr(t, "RenewInvitation after expiry", s.RenewInvitation(ctx, u.ID, at(3*time.Hour)))
	wantNoErr(t, "AcceptInvitation after renewal", s.AcceptInvitation(ctx, u.ID, at(2*time.Hour)))
	wantErr(t, "RenewInvitation of an accepted invitation", s.RenewInvitation(ctx, u.ID, at(5*time.Hour)), store.ErrNotFound)
	got, err := s.GetInvitation(ctx, u.ID)
	wantNoErr(t, "GetInvitation", err)
	if !got.ExpiresAt.Equal(at(3 * time.Hour)) {
		t.Errorf("ExpiresAt = %v after a refused renewal, want %v", got.ExpiresAt, at(3*time.Hour))
	}
}

func testInvitationDeletedUser(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "ada")
	mustInvite(t, s, u, at(time.Hour))
	wantNoErr(t, "DeleteUser", s.DeleteUser(t.Context(), u.ID))
	_, err := s.GetInvitation(t.Context(), u.ID)
	wantErr(t, "GetInvitation after DeleteUser", err, store.ErrNotFound)
}

func testRaceInvitationAccept(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "ada")
	mustInvite(t, s, u, at(time.Hour))
	errs := race(parallel, func(int) error { return s.AcceptInvitation(t.Context(), u.ID, at(time.Minute)) })
	oneWinner(t, "AcceptInvitation", errs)
}
