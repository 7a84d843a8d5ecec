package mailtest

import (
	"context"
	"sync"

	"github.com/twofold-id/twofold/internal/mail"
)

// Recorder is a Mailer that keeps every message in memory.
type Recorder struct {
	mu   sync.Mutex
	msgs []mail.Message
	// Err, when set, is what Send returns (the message is still recorded).
	Err error
}

// SetErr sets what Send returns from now on (nil: success).
func (r *Recorder) SetErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Err = err
}

// Send records m.
func (r *Recorder) Send(_ context.Context, m *mail.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, *m)
	return r.Err
}

// Messages returns the recorded messages, oldest first.
func (r *Recorder) Messages() []mail.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mail.Message(nil), r.msgs...)
}
