package auth_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

func (s recordingStore) TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (bool, int, error) {
	s.r.add("TakeFromWindow")
	return s.Store.TakeFromWindow(ctx, name, start, limit)
}

func (s recordingStore) InvalidateLinkTokens(ctx context.Context, purpose, userID string, now time.Time) (int, error) {
	s.r.add("InvalidateLinkTokens(" + purpose + ")")
	return s.Store.InvalidateLinkTokens(ctx, purpose, userID, now)
}

func (s recordingStore) CreateLinkToken(ctx context.Context, l *store.LinkToken) error {
	s.r.add("CreateLinkToken(" + l.Purpose + ")")
	return s.Store.CreateLinkToken(ctx, l)
}

// mailbox is a Notifier that keeps the notices it is given.
type mailbox struct {
	mu      sync.Mutex
	notices []auth.Notice
	sent    chan struct{}
}

func newMailbox() *mailbox { return &mailbox{sent: make(chan struct{}, 100)} }

func (m *mailbox) Notify(_ context.Context, _ auth.NoticeTx, _ *store.Account, n auth.Notice) error {
	m.mu.Lock()
	m.notices = append(m.notices, n)
	m.mu.Unlock()
	m.sent <- struct{}{}
	return nil
}

func (m *mailbox) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.notices) }

// TestForgotPasswordDoesTheSameWork: asking for a reset link tells nothing about the
// account. An unknown name, an unknown address, a name that is not text, a disabled
// account, an account that had its three links this hour, and an account that gets a link
// all make the same store calls in the same order and hash nothing; only the last is mailed.
func TestForgotPasswordDoesTheSameWork(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 2, time.Second)
	hasher.Observe(func(w password.Work) { rec.add("argon2id") })
	box := newMailbox()
	plain, _ := newService(t, auth.Options{})
	svc, _ := newService(t, auth.Options{Store: recordingStore{fullStore(plain), rec}, Hasher: hasher, Notifier: box})
	for _, name := range []string{"alice", "bob", "carol"} {
		if _, err := svc.CreateUser(ctx, auth.NewUser{Username: name, Email: name + "@example.com", Password: "correct horse battery staple 9"}, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
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

	cases := []struct{ name, login string }{
		{"unknown_name", "mallory"},
		{"unknown_e-mail", "mallory@example.com"},
		{"name_that_is_not_text", "mal\x00lory"},
		{"empty_name", ""},
		{"disabled_account", "carol"},
		{"invited_account_without_a_password", "ivy"},
		{"account_over_its_hourly_links", "bob@example.com"},
		{"account_that_gets_a_link", "alice"},
	}
	var want []string
	for _, tc := range cases {
		rec.take()
		if err := svc.RequestPasswordReset(ctx, tc.login, auth.Meta{IP: "192.0.2.1"}); err != nil {
			t.Fatalf("%s: RequestPasswordReset = %v, want nil", tc.name, err)
		}
		got := rec.take()
		if slices.Contains(got, "argon2id") {
			t.Errorf("%s hashed a password: %v", tc.name, got)
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
	<-box.sent // alice's link
	if got := box.count() - mailed; got != 1 {
		t.Errorf("%d notices for the cases, want 1 (alice's link)", got)
	}
	box.mu.Lock()
	last := box.notices[len(box.notices)-1]
	box.mu.Unlock()
	if last.Kind != auth.NoticeResetLink || last.Link == "" || fmt.Sprint(last.ExpiresAt.Sub(last.At)) != "30m0s" {
		t.Errorf("alice's notice = %+v, want a reset link valid 30 minutes", last)
	}
}

// EnqueueMail is recorded too: a mail written to the queue in the request's transaction
// is a store call that only a real link would make.
func (s recordingStore) EnqueueMail(ctx context.Context, m *store.QueuedMail) error {
	s.r.add("EnqueueMail")
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
