package mailtest

import (
	"context"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/secrets"
)

// Queue is a mail queue whose sender delivers to a Recorder, for tests of a service that
// queues mail: pass Queue.Queue to the service, read what was delivered with Messages.
type Queue struct {
	*mail.Queue
	Recorder *Recorder
	t        testing.TB
	sender   *mail.Sender
}

// NewQueue returns a queue on st (the store the service writes to), sealing with keys,
// on the clock now (nil: time.Now).
func NewQueue(t testing.TB, st mail.SenderStore, keys *secrets.Keyring, now func() time.Time) *Queue {
	q := &Queue{Queue: mail.NewQueue(keys, now), Recorder: &Recorder{}, t: t}
	q.sender = mail.NewSender(mail.SenderOptions{Store: st, Queue: q.Queue, Mailer: q.Recorder, Now: now})
	return q
}

// Messages delivers every mail that is due, then returns every message delivered so far,
// oldest first.
func (q *Queue) Messages() []mail.Message {
	q.t.Helper()
	if err := q.sender.Flush(context.Background()); err != nil {
		q.t.Fatalf("flush the mail queue: %v", err)
	}
	return q.Recorder.Messages()
}
