package invite_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// linkGate pauses the first use of a link made in a transaction once armed, right after
// it: the transaction then holds the link's row until goOn closes.
type linkGate struct {
	store.Store
	armed *atomic.Bool
	holds chan struct{}
	goOn  chan struct{}
	inTx  bool
}

func (g linkGate) WithTx(ctx context.Context, fn func(store.Store) error) error {
	return g.Store.WithTx(ctx, func(tx store.Store) error {
		g := g
		g.Store, g.inTx = tx, true
		return fn(g)
	})
}

func (g linkGate) ConsumeLinkToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*store.LinkToken, error) {
	l, err := g.Store.ConsumeLinkToken(ctx, purpose, hash, now)
	if g.inTx && g.armed.CompareAndSwap(true, false) {
		close(g.holds)
		<-g.goOn
	}
	return l, err
}

// TestResendBesideTheAcceptance: an administrator resends an invitation while the invited
// user accepts it. The acceptance held its link and then wanted the invitation; the resend
// renewed the invitation and then wanted to end the account's links: on PostgreSQL the two
// deadlocked and the database ended one (503). Both now take the account's lock first: the
// resend waits for the acceptance and then refuses, as the invitation was accepted.
func TestResendBesideTheAcceptance(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.OpenPostgres(ctx, testutil.PostgresURL(t), sqlstore.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keyring, err := secrets.NewKeyring(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clock := testserver.NewClock()
	gate := linkGate{db, new(atomic.Bool), make(chan struct{}), make(chan struct{}), false}
	a := auth.New(auth.Options{Store: gate, Keyring: keyring, Now: clock.Now, PasswordPolicy: password.DefaultPolicy,
		Hasher:             password.NewHasher(password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 2, time.Second),
		MFARequiredForRole: func(string) bool { return false }})
	q := mailtest.NewQueue(t, db, keyring, clock.Now)
	inv := invite.New(invite.Options{Store: gate, Auth: a, Post: mail.Post{Queue: q.Queue, BaseURL: "https://id.example.com"}, Now: clock.Now})
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

	gate.armed.Store(true)
	accepted := make(chan error, 1)
	go func() {
		_, err := inv.Accept(ctx, tok, "correct horse battery staple 7", auth.Meta{})
		accepted <- err
	}()
	select {
	case <-gate.holds:
	case err := <-accepted:
		t.Fatalf("the acceptance ended before it used the link: %v", err)
	}
	resent := make(chan error, 1)
	go func() {
		_, err := inv.Resend(ctx, u, auth.Meta{})
		resent <- err
	}()
	// Time for the resend to reach the rows it locks. Were it slower, the test would pass
	// without proving the order: it cannot fail for a slow machine.
	time.Sleep(300 * time.Millisecond)
	close(gate.goOn)
	errAccept, errResend := <-accepted, <-resent
	for what, err := range map[string]error{"the acceptance": errAccept, "the resend": errResend} {
		if errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: %v (the database ended it as a deadlock)", what, err)
		}
	}
	if errAccept != nil {
		t.Errorf("the acceptance: %v", errAccept)
	}
	if e, ok := apperr.As(errResend); !ok || e.Code != apperr.CodeConflict {
		t.Errorf("the resend after the acceptance: %v, want %s (accepted already)", errResend, apperr.CodeConflict)
	}
}
