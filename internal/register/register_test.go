package register_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/register"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testserver"
)

// calls logs the work a registration request does: each call into the store (audit events
// by name) and each argon2id derivation.
type calls struct {
	mu       sync.Mutex
	log      []string
	payloads [][]byte // of the links stored
}

func (c *calls) add(s string) { c.mu.Lock(); c.log = append(c.log, s); c.mu.Unlock() }

func (c *calls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.log
	c.log = nil
	return out
}

// recordingStore records every store method registration calls, in and out of its
// transactions.
type recordingStore struct {
	store.Store
	c *calls
}

func (s recordingStore) WithTx(ctx context.Context, fn func(store.Store) error) error {
	s.c.add("WithTx")
	return s.Store.WithTx(ctx, func(tx store.Store) error { return fn(recordingStore{tx, s.c}) })
}

func (s recordingStore) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	s.c.add("AppendAudit(" + e.Event + ")")
	return s.Store.AppendAudit(ctx, e)
}

func (s recordingStore) GetUserByLogin(ctx context.Context, norm string) (*store.User, error) {
	s.c.add("GetUserByLogin")
	return s.Store.GetUserByLogin(ctx, norm)
}

func (s recordingStore) GetUser(ctx context.Context, id string) (*store.User, error) {
	s.c.add("GetUser")
	return s.Store.GetUser(ctx, id)
}

func (s recordingStore) GetUserByUsername(ctx context.Context, norm string) (*store.User, error) {
	s.c.add("GetUserByUsername")
	return s.Store.GetUserByUsername(ctx, norm)
}

func (s recordingStore) TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (bool, int, error) {
	s.c.add("TakeFromWindow(" + name + ")")
	return s.Store.TakeFromWindow(ctx, name, start, limit)
}

func (s recordingStore) CreateLinkToken(ctx context.Context, l *store.LinkToken) error {
	s.c.add("CreateLinkToken(" + l.Purpose + ")")
	s.c.mu.Lock()
	s.c.payloads = append(s.c.payloads, l.Payload)
	s.c.mu.Unlock()
	return s.Store.CreateLinkToken(ctx, l)
}

func (s recordingStore) InvalidateLinkTokens(ctx context.Context, purpose, userID string, now time.Time) (int, error) {
	s.c.add("InvalidateLinkTokens")
	return s.Store.InvalidateLinkTokens(ctx, purpose, userID, now)
}

func (s recordingStore) EnqueueMail(ctx context.Context, m *store.QueuedMail) error {
	s.c.add(enqueueMail)
	return s.Store.EnqueueMail(ctx, m)
}

// enqueueMail is the one call that differs between requests: the mail row, written in the
// request's transaction only when there is something to mail.
const enqueueMail = "EnqueueMail"

// withoutMail returns calls without the mail row and how many mail rows they held.
func withoutMail(calls []string) ([]string, int) {
	n := len(calls)
	calls = slices.DeleteFunc(slices.Clone(calls), func(c string) bool { return c == enqueueMail })
	return calls, n - len(calls)
}

func (s recordingStore) CreateUser(ctx context.Context, u *store.User) error {
	s.c.add("CreateUser")
	return s.Store.CreateUser(ctx, u)
}

// fixture is a registration service over a fresh SQLite store that records its work.
type fixture struct {
	svc    *register.Service
	auth   *auth.Service
	calls  *calls
	mailer *mailtest.Queue
}

func newFixture(t *testing.T, mailsPerHour int) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, err := secrets.NewKeyring(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	c := &calls{}
	hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 2, time.Second)
	hasher.Observe(func(w password.Work) { c.add(fmt.Sprintf("argon2id(m=%d)", w.Params.MemoryKiB)) })
	clock := testserver.NewClock()
	rec := recordingStore{db, c}
	a := auth.New(auth.Options{Store: rec, Hasher: hasher, PasswordPolicy: password.DefaultPolicy, Keyring: keys, Now: clock.Now})
	mailer := mailtest.NewQueue(t, db, keys, clock.Now)
	svc := register.New(register.Options{Store: rec, Auth: a, Enabled: true,
		Post: mail.Post{Queue: mailer.Queue, BaseURL: "https://id.example.com"},

		DomainAllowed: func(d string) bool { return d == "example.com" }, PerIPHour: 1000, PerEmailHour: 1000,
		MailsPerHour: mailsPerHour, Now: clock.Now})
	return &fixture{svc: svc, auth: a, calls: c, mailer: mailer}
}

func (f *fixture) user(t *testing.T, name string, disabled bool) {
	t.Helper()
	ctx := context.Background()
	u, err := f.auth.CreateUser(ctx, auth.NewUser{Username: name, Email: name + "@example.com", Password: testserver.Password}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if disabled {
		if err := f.auth.SetDisabled(ctx, u, true, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRegisterDoesTheSameWork: a registration request tells nothing about accounts by the
// work it does. A free address, an address an account uses, a disabled account's address,
// a taken username and a domain that may not register make the same store calls in the
// same order and one argon2id derivation; only what is mailed differs: the queued mail row,
// written in the request's transaction when there is a link or a notice to send, and none
// otherwise. Past the mail cap too (but for the one audit row the first refusal of the
// hour writes).
func TestRegisterDoesTheSameWork(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 5)
	f.user(t, "bob", false)
	f.user(t, "carol", true)
	cases := []struct {
		name, username, email string
		mailedTo              string // "" when nothing is mailed
		kind                  string
	}{
		{"free", "ada", "ada@example.com", "ada@example.com", mail.KindRegistrationLink},
		{"address_of_an_account", "newbob", "bob@example.com", "bob@example.com", mail.KindRegistrationAttempt},
		{"address_of_a_disabled_account", "newcarol", "carol@example.com", "", ""},
		{"username_taken", "bob", "bobby@example.com", "bobby@example.com", mail.KindRegistrationLink},
		{"domain_not_allowed", "dan", "dan@other.test", "", ""},
		{"address_not_text", "eve", "eve\xff@example.com", "", ""},
	}
	var want []string
	for _, tc := range cases {
		f.calls.take()
		before := len(f.mailer.Messages())
		err := f.svc.Register(ctx, register.Request{Username: tc.username, Email: tc.email, Password: testserver.Password}, auth.Meta{IP: "192.0.2.1"})
		if tc.name == "address_not_text" {
			// Refused before any work, like any malformed address.
			if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeBadRequest {
				t.Fatalf("%s: %v, want bad_request", tc.name, err)
			}
			if got := f.calls.take(); len(got) != 0 {
				t.Errorf("%s: did work before refusing: %v", tc.name, got)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, mails := withoutMail(f.calls.take())
		if wantMails := min(len(tc.mailedTo), 1); mails != wantMails {
			t.Errorf("%s queued %d mails, want %d", tc.name, mails, wantMails)
		}
		if want == nil {
			want = got
			t.Logf("a registration request: %v", want)
		} else if !slices.Equal(got, want) {
			t.Errorf("%s does other work than %s:\n got  %v\n want %v", tc.name, cases[0].name, got, want)
		}
		msgs := f.mailer.Messages()[before:]
		switch {
		case tc.mailedTo == "" && len(msgs) != 0:
			t.Errorf("%s: mailed %s to %s", tc.name, msgs[0].Kind, msgs[0].To)
		case tc.mailedTo != "" && (len(msgs) != 1 || msgs[0].To != tc.mailedTo || msgs[0].Kind != tc.kind):
			t.Errorf("%s: mailed %+v, want one %s to %s", tc.name, msgs, tc.kind, tc.mailedTo)
		}
	}
	if n := strings.Count(strings.Join(want, " "), "argon2id"); n != 1 {
		t.Errorf("%d argon2id derivations, want 1: %v", n, want)
	}
	// The cap (5) is spent: the next requests mail nothing and do the same work, but for
	// the first refusal's audit row.
	for i, email := range []string{"x1@example.com", "x2@example.com"} {
		f.calls.take()
		before := len(f.mailer.Messages())
		if err := f.svc.Register(ctx, register.Request{Username: "x", Email: email, Password: testserver.Password}, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
		got, mails := withoutMail(f.calls.take())
		got = slices.DeleteFunc(got, func(c string) bool { return i == 0 && c == "AppendAudit(registration.mail_capped)" })
		if !slices.Equal(got, want) || mails != 0 {
			t.Errorf("past the cap: other work:\n got  %v\n want %v", got, want)
		}
		if len(f.mailer.Messages()) != before {
			t.Error("mail sent past the cap")
		}
	}
}

// TestRegisterOff: a service that is off refuses every call with not_found and does nothing.
func TestRegisterOff(t *testing.T) {
	svc := register.New(register.Options{})
	ctx := context.Background()
	if err := svc.Register(ctx, register.Request{Username: "ada", Email: "ada@example.com", Password: testserver.Password}, auth.Meta{}); !errors.Is(err, register.ErrOff) {
		t.Errorf("Register: %v", err)
	}
	if _, err := svc.Check(ctx, "x"); !errors.Is(err, register.ErrOff) {
		t.Errorf("Check: %v", err)
	}
	if _, err := svc.Confirm(ctx, "x", auth.Meta{}); !errors.Is(err, register.ErrOff) {
		t.Errorf("Confirm: %v", err)
	}
	var none *register.Service
	if none.Enabled() {
		t.Error("a nil service is enabled")
	}
}

// TestLinkCarriesNoPassword: the pending registration lives only in its link, which holds
// the argon2id hash of the password, never the password; the account exists only after
// the confirmation.
func TestLinkCarriesNoPassword(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 100)
	if err := f.svc.Register(ctx, register.Request{Username: "ada", Email: "ada@example.com", Password: testserver.Password}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	f.calls.mu.Lock()
	payloads := f.calls.payloads
	f.calls.mu.Unlock()
	if len(payloads) != 1 {
		t.Fatalf("%d links stored, want 1", len(payloads))
	}
	p := string(payloads[0])
	if strings.Contains(p, testserver.Password) || !strings.Contains(p, `"password_hash":"$argon2id$`) || !strings.Contains(p, `"username":"ada"`) {
		t.Errorf("link payload %s", p)
	}
	if _, err := f.auth.FindUser(ctx, "ada"); err == nil {
		t.Error("the account exists before its link is confirmed")
	}
}
