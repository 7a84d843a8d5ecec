package address_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/throttle"
)

// recordingStore logs the store calls a change request makes (audit events by name).
type recordingStore struct {
	store.Store
	mu    *sync.Mutex
	calls *[]string
}

func (s recordingStore) add(c string) { s.mu.Lock(); *s.calls = append(*s.calls, c); s.mu.Unlock() }

func (s recordingStore) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *s.calls
	*s.calls = nil
	return c
}

func (s recordingStore) WithTx(ctx context.Context, fn func(store.Store) error) error {
	s.add("WithTx")
	return s.Store.WithTx(ctx, func(tx store.Store) error { return fn(recordingStore{tx, s.mu, s.calls}) })
}

func (s recordingStore) GetUserByLogin(ctx context.Context, norm string) (*store.User, error) {
	s.add("GetUserByLogin")
	return s.Store.GetUserByLogin(ctx, norm)
}

func (s recordingStore) CreateLinkToken(ctx context.Context, l *store.LinkToken) error {
	s.add("CreateLinkToken(" + l.Purpose + ")")
	return s.Store.CreateLinkToken(ctx, l)
}

func (s recordingStore) InvalidateLinkTokens(ctx context.Context, purpose, userID string, now time.Time) (int, error) {
	s.add("InvalidateLinkTokens(" + purpose + ")")
	return s.Store.InvalidateLinkTokens(ctx, purpose, userID, now)
}

func (s recordingStore) TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (bool, int, error) {
	s.add("TakeFromWindow")
	return s.Store.TakeFromWindow(ctx, name, start, limit)
}

func (s recordingStore) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	s.add("AppendAudit(" + e.Event + ")")
	return s.Store.AppendAudit(ctx, e)
}

func (s recordingStore) ReserveAttempt(ctx context.Context, kind, key string, p throttle.Policy, now time.Time) (*store.ThrottleBudget, bool, error) {
	s.add("ReserveAttempt(" + kind + ")")
	return s.Store.ReserveAttempt(ctx, kind, key, p, now)
}

// fixture is an auth service and an address service on one SQLite store with a fake clock.
type fixture struct {
	auth   *auth.Service
	addr   *address.Service
	rec    recordingStore
	mailer *mailtest.Queue
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rec := recordingStore{db, &sync.Mutex{}, new([]string)}
	svc := testserver.NewServices(t, db, auth.Options{Store: rec})
	return &fixture{auth: svc.Auth, rec: rec, mailer: svc.Mail,
		addr: address.New(address.Options{Store: rec, Auth: svc.Auth, Post: svc.Post(), Now: svc.Clock.Now})}
}

func (f *fixture) signedIn(t *testing.T, name string) *auth.Current {
	t.Helper()
	ctx := context.Background()
	if _, err := f.auth.CreateUser(ctx, auth.NewUser{Username: name, Email: name + "@example.com", Password: testserver.Password}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	res, err := f.auth.Login(ctx, name, testserver.Password, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Current
}

// TestChangeRequestDoesTheSameWorkForTakenAddresses: asking for an address that another
// account uses makes the same store calls, in the same order, as asking for a free one,
// and mails one message to that address either way; only its text differs (a link, or
// a notice that nothing changed), which only the address's owner reads.
func TestChangeRequestDoesTheSameWorkForTakenAddresses(t *testing.T) {
	f := newFixture(t)
	ada := f.signedIn(t, "ada")
	f.signedIn(t, "bob")
	var want []string
	for i, addr := range []string{"free@example.com", "bob@example.com", "BOB@EXAMPLE.COM"} {
		f.rec.take()
		before := len(f.mailer.Messages())
		if err := f.addr.RequestChange(context.Background(), ada, addr, testserver.Password, auth.Meta{}); err != nil {
			t.Fatalf("RequestChange(%s): %v", addr, err)
		}
		got := f.rec.take()
		msgs := f.mailer.Messages()[before:]
		if len(msgs) != 1 || msgs[0].To != addr {
			t.Fatalf("RequestChange(%s) mailed %+v, want one message to the address", addr, msgs)
		}
		wantKind := mail.KindAddressTaken
		if i == 0 {
			wantKind = mail.KindAddressChange
		}
		if msgs[0].Kind != wantKind {
			t.Errorf("RequestChange(%s) mailed %s, want %s", addr, msgs[0].Kind, wantKind)
		}
		if want == nil {
			want = got
			t.Logf("a change request: %v", want)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("RequestChange(%s) does other work than for a free address:\n got  %v\n want %v", addr, got, want)
		}
	}
	if !slices.Contains(want, "GetUserByLogin") || !slices.Contains(want, "CreateLinkToken("+store.LinkEmailChange+")") {
		t.Fatalf("the recorder missed the lookup or the link: %v", want)
	}
}
