package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

// SenderStore is the storage a Sender uses.
type SenderStore interface {
	ClaimMail(ctx context.Context, claim string, now, leaseUntil time.Time, limit int) ([]store.QueuedMail, error)
	MarkMailSent(ctx context.Context, id int64, claim string, now time.Time) error
	DeferMail(ctx context.Context, id int64, claim, errText string, next time.Time) error
	NextMailDue(ctx context.Context) (time.Time, bool, error)
	WithTx(ctx context.Context, fn func(store.Store) error) error
}

// SenderOptions configure a Sender. Store, Queue and Mailer are required.
type SenderOptions struct {
	Store  SenderStore
	Queue  *Queue
	Mailer Mailer
	Log    *slog.Logger
	Now    func() time.Time // nil: time.Now
	// Poll is the longest the sender sleeps without looking at the queue, for mail that
	// other processes queued; 0 means 10 s. Mail queued in this process wakes it at once.
	Poll time.Duration
	// SendTimeout bounds one delivery; 0 means 30 s.
	SendTimeout time.Duration
	// Metrics counts the failed deliveries; nil counts nothing.
	Metrics metrics.Recorder
}

// Batch is how many mails a sender claims at once.
const Batch = 10

// Backoff is how long the sender waits after the attempt-th failed attempt of a mail:
// 30 s, doubling each time, at most an hour.
func Backoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Sender delivers queued mail: it claims due mail with a lease, hands each message to
// the Mailer, and records the outcome. A failed attempt is retried with exponential
// backoff (Backoff) until the mail's give-up time (MaxAge after it was queued), when the
// mail is marked failed and audited. A claim is exclusive, so any number of senders
// (one per instance) never deliver a mail twice while its lease runs; a sender that
// dies leaves its mail to be claimed again when the lease ends.
type Sender struct {
	store   SenderStore
	queue   *Queue
	mailer  Mailer
	log     *slog.Logger
	now     func() time.Time
	poll    time.Duration
	timeout time.Duration
	metrics metrics.Recorder
	// mu is held during a pass over the queue, so Flush waits for one in progress.
	mu sync.Mutex
}

// NewSender returns a sender for o.
func NewSender(o SenderOptions) *Sender {
	s := &Sender{store: o.Store, queue: o.Queue, mailer: o.Mailer, log: o.Log, now: o.Now, poll: o.Poll, timeout: o.SendTimeout,
		metrics: metrics.Or(o.Metrics)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.poll <= 0 {
		s.poll = 10 * time.Second
	}
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	return s
}

// lease is how long a claim holds a batch: long enough to try every mail of it.
func (s *Sender) lease() time.Duration { return Batch*s.timeout + time.Minute }

// Run delivers mail until ctx ends: at once, whenever this process queues mail, when
// the next retry is due, and at least every Poll.
func (s *Sender) Run(ctx context.Context) {
	for {
		if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "mail queue", "err", err)
		}
		wait := s.poll
		if due, ok, err := s.store.NextMailDue(ctx); err == nil && ok {
			wait = min(wait, max(due.Sub(s.now()), 0))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-s.queue.Woken():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Flush delivers every mail that is due now, in the caller's goroutine, after waiting for
// a pass already in progress in this process. Mail another sender holds, or whose retry
// is not yet due, stays. Its error is the queue's storage failing, never a delivery.
func (s *Sender) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ctx.Err() == nil {
		claim, err := newClaim()
		if err != nil {
			return err
		}
		now := s.now()
		batch, err := s.store.ClaimMail(ctx, claim, now, now.Add(s.lease()), Batch)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for i := range batch {
			if err := s.deliver(ctx, &batch[i]); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// deliver makes one attempt at a claimed mail and records its outcome.
func (s *Sender) deliver(ctx context.Context, qm *store.QueuedMail) error {
	// The outcome is recorded even when ctx ends meanwhile: a delivered mail must be
	// marked sent.
	bg := context.WithoutCancel(ctx)
	msg, err := s.queue.open(qm)
	if err != nil {
		// Not readable with this master key: no retry can help.
		s.log.ErrorContext(ctx, "queued mail cannot be read; marked failed", "id", qm.ID, "kind", qm.Kind, "err", err)
		s.metrics.MailFailed(true)
		return s.fail(bg, qm, err.Error())
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.timeout)
	err = s.mailer.Send(sendCtx, msg)
	cancel()
	now := s.now()
	if err == nil {
		if err := s.store.MarkMailSent(bg, qm.ID, qm.Claim, now); errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(ctx, "mail sent after its claim ran out", "id", qm.ID, "kind", qm.Kind)
		} else if err != nil {
			return err
		}
		return nil
	}
	if ctx.Err() != nil {
		// Stopping: the attempt did not finish; the lease lets a sender try again.
		return ctx.Err()
	}
	if !now.Before(qm.GiveUpAt) {
		s.log.ErrorContext(ctx, "mail not delivered; giving up", "id", qm.ID, "kind", qm.Kind, "to", qm.To,
			"attempt", qm.Attempts, "err", err)
		s.metrics.MailFailed(true)
		return s.fail(bg, qm, err.Error())
	}
	next := now.Add(Backoff(qm.Attempts))
	if next.After(qm.GiveUpAt) {
		next = qm.GiveUpAt
	}
	s.log.WarnContext(ctx, "mail not delivered; will retry", "id", qm.ID, "kind", qm.Kind, "to", qm.To,
		"attempt", qm.Attempts, "next", next, "err", err)
	s.metrics.MailFailed(false)
	if err := s.store.DeferMail(bg, qm.ID, qm.Claim, clip(err.Error(), 500), next); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// fail marks a claimed mail failed and audits it in one transaction.
func (s *Sender) fail(ctx context.Context, qm *store.QueuedMail, reason string) error {
	now := s.now()
	err := s.store.WithTx(ctx, func(tx store.Store) error {
		if err := tx.FailMail(ctx, qm.ID, qm.Claim, clip(reason, 500), now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, audit.MailFailed, "", audit.Meta{},
			fmt.Sprintf("mail=%d kind=%s attempts=%d: %s", qm.ID, qm.Kind, qm.Attempts, reason))
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // another sender holds it now
	}
	return err
}

// newClaim returns a fresh claim: each pass claims under a name of its own, so a claim
// that ran out can never be completed by its former holder.
func newClaim() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
