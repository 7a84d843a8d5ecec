package address_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/storetest"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestAddressChangeBesideAPasswordReset: a user confirms a change of address while a
// password reset runs for the account. The change holds its link and the account's row,
// then ends the account's reset links; the reset held its link and waited for the
// account's row: on PostgreSQL the two deadlocked and the database ended one (503). Both
// now take the account's lock first: the reset waits for the change, and then finds its
// link ended (it was mailed to the old address), while the change goes through.
func TestAddressChangeBesideAPasswordReset(t *testing.T) {
	ctx := context.Background()
	db := testserver.Postgres(t)
	gate := storetest.NewGate(db, "SetUserEmail")
	svc := testserver.NewServices(t, db, auth.Options{Store: gate})
	a, clock := svc.Auth, svc.Clock
	addr := address.New(address.Options{Store: gate, Auth: a, Post: svc.Post(), Now: clock.Now})
	u, err := a.CreateUser(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com", Password: testserver.Password}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(l links.Link) string {
		t.Helper()
		tok, err := links.Issue(ctx, db, rand.Reader, clock.Now(), l)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	resetTok := issue(links.Link{Purpose: store.LinkPasswordReset, UserID: u.ID, Email: u.Email, TTL: time.Hour})
	changeTok := issue(links.Link{Purpose: store.LinkEmailChange, UserID: u.ID, Email: "alice@example.net",
		Payload: map[string]string{"email_norm": "alice@example.net"}, TTL: time.Hour})

	errChange, errReset := gate.Race(t,
		func() error {
			_, err := addr.Confirm(ctx, changeTok, auth.Meta{})
			return err
		},
		func() error {
			_, err := a.ResetPassword(ctx, auth.ResetRequest{Token: resetTok, NewPassword: "correct horse battery staple 7"}, auth.Meta{})
			return err
		})
	storetest.NoDeadlock(t, "the change of address", errChange)
	storetest.NoDeadlock(t, "the password reset", errReset)
	if errChange != nil {
		t.Errorf("the change of address: %v", errChange)
	}
	if !errors.Is(errReset, links.ErrInvalid) {
		t.Errorf("the password reset after the change: %v, want %v (the change ended the link mailed to the old address)", errReset, links.ErrInvalid)
	}
	got, err := db.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "alice@example.net" {
		t.Errorf("address after the change: %q", got.Email)
	}
	if ok, _, err := svc.Hasher.Verify(ctx, testserver.Password, got.PasswordHash); err != nil || !ok {
		t.Errorf("the old password no longer works (%v): the reset went through after the change ended its link", err)
	}
}
