package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Outbox is the Mailer of a server without SMTP: each message becomes an .eml file (the
// standard format every mail program opens) in a directory, and a log line says where.
// The files may hold one-time links, so the directory and files are private to the owner.
type Outbox struct {
	dir  string
	from string
	log  *slog.Logger
	now  func() time.Time
	// seq orders the files this process writes within one instant: the queue delivers in
	// order, possibly several messages at the same time.
	seq atomic.Uint64
}

// NewOutbox writes messages from from into dir, creating it when needed. now may be nil.
func NewOutbox(dir, from string, log *slog.Logger, now func() time.Time) *Outbox {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Outbox{dir: dir, from: from, log: log, now: now}
}

// Dir is where the messages go.
func (o *Outbox) Dir() string { return o.dir }

// Send writes m as <time>-<sequence>-<kind>-<random>.eml; files sort by the time they were
// written, and in the order this process wrote them.
func (o *Outbox) Send(_ context.Context, m *Message) error {
	at := o.now()
	msg, err := build(o.from, m, at)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return fmt.Errorf("mail: render message: %w", err)
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return fmt.Errorf("mail: create outbox: %w", err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	kind := m.Kind
	if kind == "" {
		kind = "message"
	}
	name := fmt.Sprintf("%s-%06d-%s-%s.eml", at.UTC().Format("20060102T150405.000000000Z"), o.seq.Add(1)%1000000, kind,
		hex.EncodeToString(suffix))
	path := filepath.Join(o.dir, name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("mail: write outbox: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mail: write outbox: %w", err)
	}
	o.log.Info("mail written to the outbox (no SMTP server is configured)", "to", m.To, "subject", m.Subject, "file", path)
	return nil
}
