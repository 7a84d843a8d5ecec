package invite_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/storetest"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestResendBesideTheAcceptance: an administrator resends an invitation while the invited
// user accepts it. The acceptance held its link and then wanted the invitation; the resend
// renewed the invitation and then wanted to end the account's links: on PostgreSQL the two
// deadlocked and the database ended one (503). Both now take the account's lock first: the
// resend waits for the acceptance and then refuses, as the invitation was accepted.
func TestResendBesideTheAcceptance(t *testing.T) {
	ctx := context.Background()
	db := testserver.Postgres(t)
	gate := storetest.NewGate(db, "ConsumeLinkToken")
	svc := testserver.NewServices(t, db, auth.Options{Store: gate})
	clock := svc.Clock
	inv := invite.New(invite.Options{Store: gate, Auth: svc.Auth, Post: svc.Post(), Now: clock.Now})
	sent, err := inv.Invite(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com"}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	u := sent.User
	// A link of our own in place of the mailed one (issuing it ends that one).
	tok, err := links.Issue(ctx, db, rand.Reader, clock.Now(), links.Link{Purpose: store.LinkInvitation, UserID: u.ID, Email: u.Email, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	errAccept, errResend := gate.Race(t,
		func() error {
			_, err := inv.Accept(ctx, tok, "correct horse battery staple 7", auth.Meta{})
			return err
		},
		func() error {
			_, err := inv.Resend(ctx, u, auth.Meta{})
			return err
		})
	storetest.NoDeadlock(t, "the acceptance", errAccept)
	storetest.NoDeadlock(t, "the resend", errResend)
	if errAccept != nil {
		t.Errorf("the acceptance: %v", errAccept)
	}
	if e, ok := apperr.As(errResend); !ok || e.Code != apperr.CodeConflict {
		t.Errorf("the resend after the acceptance: %v, want %s (accepted already)", errResend, apperr.CodeConflict)
	}
}
