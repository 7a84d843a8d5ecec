package testserver

import (
	"context"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testutil"
)

// Services are what a service-level test (no server, no HTTP) wires its service under
// test to: the account service on cheap hash parameters, one fake clock, the keyring both
// seal with, and a mail queue whose messages Mail.Messages delivers.
type Services struct {
	Auth    *auth.Service
	Clock   *Clock
	Keyring *secrets.Keyring
	Hasher  *password.Hasher
	Mail    *mailtest.Queue
}

// NewServices makes Services. o.Store is the store the account service uses (the test's
// own, or a wrapper of it); mail is queued in and sent from db. Zero fields of o take the
// test defaults: the keyring of an all-zero master key, the fake clock, the cheap hash
// parameters New uses, the default password policy, MFA required of nobody.
func NewServices(t testing.TB, db mail.SenderStore, o auth.Options) *Services {
	t.Helper()
	keyring, err := secrets.NewKeyring(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := &Services{Clock: NewClock(), Keyring: keyring}
	if o.Keyring == nil {
		o.Keyring = keyring
	}
	if o.Now == nil {
		o.Now = s.Clock.Now
	}
	if o.Hasher == nil {
		o.Hasher = password.NewHasher(password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 2, time.Second)
	}
	if o.PasswordPolicy == (password.Policy{}) {
		o.PasswordPolicy = password.DefaultPolicy
	}
	if o.MFARequiredForRole == nil {
		o.MFARequiredForRole = func(string) bool { return false }
	}
	s.Hasher = o.Hasher
	s.Auth = auth.New(o)
	s.Mail = mailtest.NewQueue(t, db, o.Keyring, o.Now)
	return s
}

// Post sends through the services' mail queue, with links to https://id.example.com.
func (s *Services) Post() mail.Post {
	return mail.Post{Queue: s.Mail.Queue, BaseURL: "https://id.example.com"}
}

// Postgres opens a database of its own on the test PostgreSQL (testutil.PostgresURL: the
// test skips, or fails under TWOFOLD_TEST_REQUIRE_ALL, when there is none), closed when t
// ends.
func Postgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenPostgres(context.Background(), testutil.PostgresURL(t), sqlstore.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
