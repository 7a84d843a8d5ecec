package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
)

// MaxAge is how long the queue keeps trying to deliver a mail before it marks it failed.
const MaxAge = 24 * time.Hour

// queueBoxPurpose names the key that seals queued messages: they may hold one-time links,
// which must not lie in the database in clear.
const queueBoxPurpose = "mail-queue"

// Enqueuer is the part of the store a mail is queued in: the transaction of the event
// that causes it.
type Enqueuer interface {
	EnqueueMail(ctx context.Context, m *store.QueuedMail) error
	AfterCommit(fn func())
}

// Queue writes mail into the durable queue, from which a Sender delivers it. A Queue is
// safe for concurrent use.
type Queue struct {
	box  *secrets.Box
	now  func() time.Time
	wake chan struct{}
}

// NewQueue seals messages with a key derived from keys; now may be nil (time.Now).
func NewQueue(keys *secrets.Keyring, now func() time.Time) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{box: keys.Box(queueBoxPurpose), now: now, wake: make(chan struct{}, 1)}
}

// Enqueue writes m into the queue through tx, the transaction of the event that causes
// the mail: the mail exists exactly when the event commits. It never talks to a mail
// server; once tx commits, the Sender of this process is woken to deliver it.
func (q *Queue) Enqueue(ctx context.Context, tx Enqueuer, m *Message) error {
	if m.To == "" {
		return errors.New("mail: no recipient")
	}
	plain, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("mail: encode message: %w", err)
	}
	sealed, err := q.box.Seal(plain, additionalData(m.Kind, m.To))
	if err != nil {
		return fmt.Errorf("mail: seal message: %w", err)
	}
	now := q.now()
	qm := &store.QueuedMail{Kind: m.Kind, To: m.To, Message: sealed, CreatedAt: now, NextAttemptAt: now,
		GiveUpAt: now.Add(MaxAge)}
	if err := tx.EnqueueMail(ctx, qm); err != nil {
		return fmt.Errorf("mail: queue %s to %s: %w", m.Kind, m.To, err)
	}
	tx.AfterCommit(q.Wake)
	return nil
}

// Wake tells the Sender that mail may be due; it never blocks.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// open unseals a queued mail's message.
func (q *Queue) open(qm *store.QueuedMail) (*Message, error) {
	plain, err := q.box.Open(qm.Message, additionalData(qm.Kind, qm.To))
	if err != nil {
		return nil, fmt.Errorf("mail: open queued mail %d: %w", qm.ID, err)
	}
	var m Message
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, fmt.Errorf("mail: decode queued mail %d: %w", qm.ID, err)
	}
	return &m, nil
}

// additionalData binds a sealed message to its row's kind and recipient, so a message
// copied to another row does not open.
func additionalData(kind, to string) []byte { return []byte("mail\x00" + kind + "\x00" + to) }

// Woken receives when mail may be due: after a commit that queued mail. The Sender of
// this process is its only reader.
func (q *Queue) Woken() <-chan struct{} { return q.wake }

// RetryStore is the storage Retry uses.
type RetryStore interface {
	WithTx(ctx context.Context, fn func(store.Store) error) error
}

// Errors of Retry: no mail has the id, or the mail with it has not failed.
var (
	ErrNoMail    = errors.New("mail: no mail with this id")
	ErrNotFailed = errors.New("mail: the mail with this id has not failed")
)

// Retry queues a failed mail again, due now, with MaxAge from now to be delivered, and
// audits it (mail.retried) in the same transaction. ErrNoMail when no mail has the id,
// ErrNotFailed when it has not failed.
func (q *Queue) Retry(ctx context.Context, st RetryStore, id int64, m audit.Meta) error {
	now := q.now()
	return st.WithTx(ctx, func(tx store.Store) error {
		qm, err := tx.GetMail(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoMail
		}
		if err != nil {
			return err
		}
		if err := tx.RetryMail(ctx, id, now, now.Add(MaxAge)); errors.Is(err, store.ErrNotFound) {
			return ErrNotFailed
		} else if err != nil {
			return err
		}
		tx.AfterCommit(q.Wake)
		return audit.Record(ctx, tx, now, audit.MailRetried, "", m,
			fmt.Sprintf("mail=%d kind=%s after %d attempts", qm.ID, qm.Kind, qm.Attempts))
	})
}
