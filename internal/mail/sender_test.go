package mail_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testutil"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration)     { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }
func newClock() *clock                   { return &clock{now: when} }
func quiet() *slog.Logger                { return slog.New(slog.DiscardHandler) }
func flush(t *testing.T, s *mail.Sender) { t.Helper(); mustNil(t, "Flush", s.Flush(t.Context())) }

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// smtpMailer is a mailer for the test SMTP server.
func smtpMailer(t *testing.T, srv *mailtest.Server) *mail.SMTP {
	t.Helper()
	m, err := mail.NewSMTP(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, Security: mail.SecurityNone,
		From: "twofold <no-reply@example.com>"})
	mustNil(t, "NewSMTP", err)
	return m
}

// enqueue queues one message to to in a transaction of its own.
func enqueue(t *testing.T, db *sqlstore.DB, q *mail.Queue, to string) {
	t.Helper()
	m, err := mail.Compose(mail.KindPasswordChanged, to, mail.Data{Name: "ada", At: when})
	mustNil(t, "Compose", err)
	mustNil(t, "Enqueue", db.WithTx(t.Context(), func(tx store.Store) error { return q.Enqueue(t.Context(), tx, m) }))
}

func onlyMail(t *testing.T, db *sqlstore.DB) store.QueuedMail {
	t.Helper()
	list, err := db.ListMail(t.Context(), store.MailFilter{})
	mustNil(t, "ListMail", err)
	if len(list) != 1 {
		t.Fatalf("queue holds %d mails, want 1", len(list))
	}
	return list[0]
}

// TestSenderRetriesUntilTheServerAccepts: while the SMTP server refuses, the mail stays
// queued and is retried after a backoff; once the server accepts, it is delivered once.
func TestSenderRetriesUntilTheServerAccepts(t *testing.T) {
	db, c := openDB(t), newClock()
	srv := mailtest.StartServer(t, mailtest.ServerOptions{})
	srv.SetRefusing(true)
	q := mail.NewQueue(testKeys(t), c.Now)
	s := mail.NewSender(mail.SenderOptions{Store: db, Queue: q, Mailer: smtpMailer(t, srv), Log: quiet(), Now: c.Now})
	enqueue(t, db, q, "ada@example.com")

	flush(t, s)
	m := onlyMail(t, db)
	if m.Status != store.MailPending || m.Attempts != 1 || !strings.Contains(m.LastError, "451") ||
		!m.NextAttemptAt.Equal(when.Add(mail.Backoff(1))) {
		t.Fatalf("after a refused attempt: %+v", m)
	}
	srv.SetRefusing(false)
	flush(t, s) // the retry is not due yet
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("the retry ran before its backoff: %d delivered", n)
	}
	c.Add(mail.Backoff(1))
	flush(t, s)
	c.Add(time.Hour)
	flush(t, s)
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("the server received %d messages, want exactly 1", n)
	}
	m = onlyMail(t, db)
	if m.Status != store.MailSent || m.Attempts != 2 || m.Message != nil {
		t.Errorf("after delivery: %+v", m)
	}
	got := mailtest.MustParse(t, srv.Messages()[0].Data)
	if !strings.Contains(got.To, "ada@example.com") || !strings.Contains(got.Text, "ada") {
		t.Errorf("delivered %q to %q", got.Text, got.To)
	}
}

// TestSenderGivesUpAfterMaxAge: a mail the server refuses for MaxAge is marked failed,
// and the failure is audited.
func TestSenderGivesUpAfterMaxAge(t *testing.T) {
	db, c := openDB(t), newClock()
	srv := mailtest.StartServer(t, mailtest.ServerOptions{})
	srv.SetRefusing(true)
	q := mail.NewQueue(testKeys(t), c.Now)
	failures := &failureCount{}
	s := mail.NewSender(mail.SenderOptions{Store: db, Queue: q, Mailer: smtpMailer(t, srv), Log: quiet(), Now: c.Now, Metrics: failures})
	enqueue(t, db, q, "ada@example.com")
	attempts := 0
	for range 100 {
		flush(t, s)
		m := onlyMail(t, db)
		attempts = m.Attempts
		if m.Status != store.MailPending {
			break
		}
		if m.NextAttemptAt.After(when.Add(mail.MaxAge)) {
			t.Fatalf("next attempt %s is past the give-up time", m.NextAttemptAt)
		}
		c.Set(m.NextAttemptAt)
	}
	m := onlyMail(t, db)
	if m.Status != store.MailFailed || !c.Now().Equal(when.Add(mail.MaxAge)) || m.Message == nil {
		t.Fatalf("after %d attempts at %s: %+v, want failed at %s with the message kept", attempts, c.Now(), m, when.Add(mail.MaxAge))
	}
	t.Logf("%d attempts over %s", attempts, mail.MaxAge)
	if failures.retry != attempts-1 || failures.gaveUp != 1 {
		t.Errorf("failures counted: %d to retry and %d given up, want %d and 1", failures.retry, failures.gaveUp, attempts-1)
	}
	events, err := db.ListAudit(t.Context(), store.AuditFilter{})
	mustNil(t, "ListAudit", err)
	if len(events) != 1 || events[0].Event != audit.MailFailed || !strings.Contains(events[0].Detail, fmt.Sprintf("mail=%d", m.ID)) {
		t.Errorf("audit: %+v, want one %s naming mail %d", events, audit.MailFailed, m.ID)
	}
	c.Add(48 * time.Hour)
	flush(t, s)
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("a failed mail was delivered")
	}
}

// failureCount counts the failed deliveries a Sender reports.
type failureCount struct {
	metrics.Nop
	retry, gaveUp int
}

func (f *failureCount) MailFailed(gaveUp bool) {
	if gaveUp {
		f.gaveUp++
	} else {
		f.retry++
	}
}

// TestSendersNeverSendOneMailTwice: two instances' senders on one database, flushing at
// once, deliver each of many mails exactly once.
func TestSendersNeverSendOneMailTwice(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (*sqlstore.DB, *sqlstore.DB)
	}{
		{"SQLite", func(t *testing.T) (*sqlstore.DB, *sqlstore.DB) {
			path := filepath.Join(t.TempDir(), "twofold.db")
			return openSQLite(t, path), openSQLite(t, path)
		}},
		{"PostgreSQL", func(t *testing.T) (*sqlstore.DB, *sqlstore.DB) {
			url := testutil.PostgresURL(t)
			return openPostgres(t, url), openPostgres(t, url)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db1, db2 := tc.open(t)
			keys := testKeys(t)
			recs := []*mailtest.Recorder{{}, {}}
			q1, q2 := mail.NewQueue(keys, nil), mail.NewQueue(keys, nil)
			const mails = 200
			for i := range mails {
				enqueue(t, db1, q1, fmt.Sprintf("u%d@example.com", i))
			}
			senders := []*mail.Sender{
				mail.NewSender(mail.SenderOptions{Store: db1, Queue: q1, Mailer: recs[0], Log: quiet()}),
				mail.NewSender(mail.SenderOptions{Store: db2, Queue: q2, Mailer: recs[1], Log: quiet()}),
			}
			var wg sync.WaitGroup
			errs := make([]error, len(senders))
			start := make(chan struct{})
			for i, s := range senders {
				wg.Go(func() { <-start; errs[i] = s.Flush(context.Background()) })
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				mustNil(t, fmt.Sprintf("sender %d", i), err)
			}
			seen := map[string]int{}
			for i, rec := range recs {
				t.Logf("sender %d delivered %d", i, len(rec.Messages()))
				for _, m := range rec.Messages() {
					seen[m.To]++
				}
			}
			for i := range mails {
				if n := seen[fmt.Sprintf("u%d@example.com", i)]; n != 1 {
					t.Errorf("u%d@example.com got %d mails, want 1", i, n)
				}
			}
			pending, err := db2.ListMail(t.Context(), store.MailFilter{Status: store.MailPending})
			mustNil(t, "ListMail", err)
			if len(pending) != 0 {
				t.Errorf("%d still pending", len(pending))
			}
		})
	}
}

func openSQLite(t *testing.T, path string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenSQLite(t.Context(), path)
	mustNil(t, "OpenSQLite", err)
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t *testing.T, url string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenPostgres(t.Context(), url, sqlstore.PoolOptions{MaxOpenConns: 4})
	mustNil(t, "OpenPostgres", err)
	t.Cleanup(func() { db.Close() })
	return db
}

// notifying is a mailer that signals each delivery.
type notifying struct{ sent chan *mail.Message }

func (n notifying) Send(_ context.Context, m *mail.Message) error { n.sent <- m; return nil }

// TestRunWakesOnEnqueue: a running sender delivers mail queued in its own process as
// soon as the transaction commits, not at its next poll (an hour away here).
func TestRunWakesOnEnqueue(t *testing.T) {
	db := openDB(t)
	q := mail.NewQueue(testKeys(t), nil)
	mailer := notifying{sent: make(chan *mail.Message, 10)}
	s := mail.NewSender(mail.SenderOptions{Store: db, Queue: q, Mailer: mailer, Log: quiet(), Poll: time.Hour})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { stop(); <-done }()
	for _, to := range []string{"ada@example.com", "bob@example.com"} {
		enqueue(t, db, q, to)
		select {
		case m := <-mailer.sent:
			if m.To != to {
				t.Errorf("delivered to %s, want %s", m.To, to)
			}
		case <-time.After(time.Minute):
			t.Fatalf("the mail to %s was not delivered: the sender was not woken", to)
		}
	}
}
