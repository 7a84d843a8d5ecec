package auth_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store"
)

func (s recordingStore) CountLinkTokens(ctx context.Context, purpose, userID string, since time.Time) (int, error) {
	s.r.add("CountLinkTokens(" + purpose + ")")
	return s.Store.CountLinkTokens(ctx, purpose, userID, since)
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

func (m *mailbox) Notify(_ context.Context, _ auth.NoticeTx, _ *store.User, n auth.Notice) error {
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
