package auth_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

func (s recordingStore) TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (bool, int, error) {
	s.add("TakeFromWindow")
	return s.Store.TakeFromWindow(ctx, name, start, limit)
}

func (s recordingStore) InvalidateLinkTokens(ctx context.Context, purpose, userID string, now time.Time) (int, error) {
	s.add("InvalidateLinkTokens(" + purpose + ")")
	return s.Store.InvalidateLinkTokens(ctx, purpose, userID, now)
}

func (s recordingStore) CreateLinkToken(ctx context.Context, l *store.LinkToken) error {
	s.add("CreateLinkToken(" + l.Purpose + ")")
	return s.Store.CreateLinkToken(ctx, l)
}

func (s recordingStore) LockUser(ctx context.Context, id string) (*store.User, error) {
	s.add("LockUser")
	return s.Store.LockUser(ctx, id)
}

// changedAfterRead is a store that runs (*change)(), when set, right after each read of an
// account by login: what another request could do between the forgotten-password page's
// read and its transaction.
type changedAfterRead struct {
	recordingStore
	change *func()
}

func (s changedAfterRead) GetUserByLogin(ctx context.Context, norm string) (*store.User, error) {
	u, err := s.recordingStore.GetUserByLogin(ctx, norm)
	if *s.change != nil {
		(*s.change)()
	}
	return u, err
}

// mailbox is a Notifier that keeps the notices it is given, and the address of each.
type mailbox struct {
	mu      sync.Mutex
	notices []auth.Notice
	to      []string
	sent    chan struct{}
}

func newMailbox() *mailbox { return &mailbox{sent: make(chan struct{}, 100)} }

func (m *mailbox) Notify(_ context.Context, _ auth.NoticeTx, a *store.Account, n auth.Notice) error {
	m.mu.Lock()
	m.notices = append(m.notices, n)
	m.to = append(m.to, a.Email)
	m.mu.Unlock()
	m.sent <- struct{}{}
	return nil
}

func (m *mailbox) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.notices) }

// since returns the addresses of the notices from the i-th on.
func (m *mailbox) since(i int) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.to[i:])
}

// TestForgotPasswordDoesTheSameWork: asking for a reset link tells nothing about the
// account. An unknown name, an unknown address, a name that is not text, a disabled
// account, an account disabled after the request read it, an account that had its three
// links this hour, an account that gets a link and one whose address changed after the
// read all make the same store calls in the same order (the account's row locked in the
// link's transaction, or an id no account has) and hash nothing; only the last two are
// mailed, the last at its new address. On SQLite and PostgreSQL.
func TestForgotPasswordDoesTheSameWork(t *testing.T) {
	eachDatabase(t, func(t *testing.T, srv *testserver.Server) {
		ctx := context.Background()
		rec := &recorder{}
		hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 2, time.Second)
		hasher.Observe(func(w password.Work) { rec.add("argon2id") })
		box := newMailbox()
		var change func()
		svc, _ := newService(t, auth.Options{Store: changedAfterRead{recordingStore{Store: srv.Store, r: rec}, &change}, Hasher: hasher, Notifier: box})
		ids := map[string]string{}
		for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
			u, err := svc.CreateUser(ctx, auth.NewUser{Username: name, Email: name + "@example.com", Password: "correct horse battery staple 9"}, auth.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			ids[name] = u.ID
		}
		carol, err := svc.FindUser(ctx, "carol")
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SetDisabled(ctx, carol, true, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
		invitedIvy(t, svc)
		for range auth.ResetLinksPerHour { // bob had his links this hour
			if err := svc.RequestPasswordReset(ctx, "bob", auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			<-box.sent
		}
		mailed := box.count()

		cases := []struct {
			name, login string
			change      func()
		}{
			{"unknown_name", "mallory", nil},
			{"unknown_e-mail", "mallory@example.com", nil},
			{"name_that_is_not_text", "mal\x00lory", nil},
			{"empty_name", "", nil},
			{"disabled_account", "carol", nil},
			{"account_disabled_after_the_read", "dave", func() {
				if err := srv.Store.SetUserDisabled(ctx, ids["dave"], true, srv.Clock.Now()); err != nil {
					t.Fatal(err)
				}
			}},
			{"invited_account_without_a_password", "ivy", nil},
			{"account_over_its_hourly_links", "bob@example.com", nil},
			{"account_that_gets_a_link", "alice", nil},
			{"address_changed_after_the_read", "erin", func() {
				if err := srv.Store.SetUserEmail(ctx, ids["erin"], "erin@new.example", "erin@new.example", true, srv.Clock.Now()); err != nil {
					t.Fatal(err)
				}
			}},
		}
		var want []string
		for _, tc := range cases {
			rec.take()
			change = tc.change
			if err := svc.RequestPasswordReset(ctx, tc.login, auth.Meta{IP: "192.0.2.1"}); err != nil {
				t.Fatalf("%s: RequestPasswordReset = %v, want nil", tc.name, err)
			}
			change = nil
			got := rec.take()
			if slices.Contains(got, "argon2id") {
				t.Errorf("%s hashed a password: %v", tc.name, got)
			}
			if !slices.Contains(got, "tx.LockUser") {
				t.Errorf("%s locked no account row: %v", tc.name, got)
			}
			if want == nil {
				want = got
				t.Logf("a reset request: %v", want)
				continue
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s does other work than %s:\n got  %v\n want %v", tc.name, cases[0].name, got, want)
			}
		}
		for len(box.sent) > 0 {
			<-box.sent
		}
		if got, wantTo := box.since(mailed), []string{"alice@example.com", "erin@new.example"}; !slices.Equal(got, wantTo) {
			t.Errorf("the cases' notices went to %v, want %v (alice's link, and erin's at her new address)", got, wantTo)
		}
		box.mu.Lock()
		last := box.notices[len(box.notices)-1]
		box.mu.Unlock()
		if last.Kind != auth.NoticeResetLink || last.Link == "" || fmt.Sprint(last.ExpiresAt.Sub(last.At)) != "30m0s" {
			t.Errorf("the last notice = %+v, want a reset link valid 30 minutes", last)
		}
	})
}

// TestForgotPasswordDecidesOnTheFreshRow: the forgotten-password link is decided on the
// account as the link's transaction sees it, not as the request's first read found it. The
// link (its mail and its stored address) goes to an address changed since the read, never
// to the old one, and works; an account disabled since the read gets no link, and that
// request spends none of the account's hourly links. On SQLite and PostgreSQL.
func TestForgotPasswordDecidesOnTheFreshRow(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T, srv *testserver.Server) (*auth.Service, *testserver.Clock, *mailbox, *func(), *store.User) {
		box := newMailbox()
		change := new(func())
		svc, clock := newService(t, auth.Options{Store: changedAfterRead{recordingStore{Store: srv.Store, r: &recorder{}}, change}, Notifier: box})
		return svc, clock, box, change, srv.CreateUser(t, "bob", "bob@example.com", store.RoleUser)
	}
	t.Run("address_changed_meanwhile", func(t *testing.T) {
		eachDatabase(t, func(t *testing.T, srv *testserver.Server) {
			svc, clock, box, change, bob := setup(t, srv)
			*change = func() {
				*change = nil
				if err := srv.Store.SetUserEmail(ctx, bob.ID, "bob@new.example", "bob@new.example", true, srv.Clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if err := svc.RequestPasswordReset(ctx, "bob", auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			if got := box.since(0); !slices.Equal(got, []string{"bob@new.example"}) {
				t.Fatalf("the reset link went to %v, want [bob@new.example] (the address bob has now)", got)
			}
			box.mu.Lock()
			link := box.notices[0].Link
			box.mu.Unlock()
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			l, err := links.Peek(ctx, srv.Store, store.LinkPasswordReset, u.Query().Get("token"), clock.Now())
			if err != nil {
				t.Fatalf("the link mailed does not work: %v", err)
			}
			if l.Email != "bob@new.example" || l.UserID != bob.ID {
				t.Errorf("the link is stored for %s at %q, want bob at bob@new.example", l.UserID, l.Email)
			}
		})
	})
	t.Run("disabled_meanwhile", func(t *testing.T) {
		eachDatabase(t, func(t *testing.T, srv *testserver.Server) {
			svc, _, box, change, bob := setup(t, srv)
			*change = func() {
				*change = nil
				if err := srv.Store.SetUserDisabled(ctx, bob.ID, true, srv.Clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if err := svc.RequestPasswordReset(ctx, "bob", auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			if got := box.since(0); len(got) > 0 {
				t.Errorf("an account disabled since the read was mailed a reset link at %v", got)
			}
			rows, err := srv.Store.ListAudit(ctx, store.AuditFilter{UserID: bob.ID, Event: audit.PasswordResetRequested})
			if err != nil || len(rows) != 1 || rows[0].Detail != "account disabled: no link sent" {
				t.Errorf("audit of the request: %+v %v, want one row saying the account is disabled", rows, err)
			}
			if err := srv.Store.SetUserDisabled(ctx, bob.ID, false, srv.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			mailed := box.count()
			for range auth.ResetLinksPerHour + 1 {
				if err := svc.RequestPasswordReset(ctx, "bob", auth.Meta{}); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(box.since(mailed)); got != auth.ResetLinksPerHour {
				t.Errorf("%d links of %d requests once enabled again, want the hour's %d (the refused request spent one)",
					got, auth.ResetLinksPerHour+1, auth.ResetLinksPerHour)
			}
		})
	})
}

// EnqueueMail is recorded too: a mail written to the queue in the request's transaction
// is a store call that only a real link would make.
func (s recordingStore) EnqueueMail(ctx context.Context, m *store.QueuedMail) error {
	s.add("EnqueueMail")
	return s.Store.EnqueueMail(ctx, m)
}

// invitedIvy creates ivy by invitation: an account without a password.
func invitedIvy(t *testing.T, svc *auth.Service) *store.User {
	t.Helper()
	ctx := context.Background()
	var u *store.User
	err := fullStore(svc).WithTx(ctx, func(st store.Store) error {
		var err error
		u, err = svc.CreateInvitedUser(ctx, st, auth.NewUser{Username: "ivy", Email: "ivy@example.com"}, auth.Meta{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestResetOfAnInvitedAccount: an account without a password (its invitation not accepted
// yet) gets no reset link, the invitation being its way in; a link it holds from before
// sets a password instead of failing on the missing hash.
func TestResetOfAnInvitedAccount(t *testing.T) {
	ctx := context.Background()
	box := newMailbox()
	svc, clock := newService(t, auth.Options{Notifier: box})
	u := invitedIvy(t, svc)
	if err := svc.RequestPasswordReset(ctx, "ivy", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if n := box.count(); n != 0 {
		t.Errorf("the invited account was mailed %d notices, want none", n)
	}
	var tok string
	err := fullStore(svc).WithTx(ctx, func(st store.Store) error {
		var err error
		tok, err = links.Issue(ctx, st, rand.Reader, clock.Now(),
			links.Link{Purpose: store.LinkPasswordReset, UserID: u.ID, Email: u.Email, TTL: auth.ResetLinkTTL})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ResetPassword(ctx, auth.ResetRequest{Token: tok, NewPassword: testserver.Password}, auth.Meta{}); err != nil {
		t.Fatalf("ResetPassword of an account without a password = %v, want nil", err)
	}
	if _, err := svc.Login(ctx, "ivy", testserver.Password, auth.Meta{}); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}
}
