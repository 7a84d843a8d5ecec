package mail_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

var errBoom = errors.New("the event failed")

func openDB(t *testing.T) *sqlstore.DB {
	return openSQLite(t, filepath.Join(t.TempDir(), "twofold.db"))
}

func testKeys(t *testing.T) *secrets.Keyring {
	t.Helper()
	k, err := secrets.NewKeyring(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func linkMessage(t *testing.T) *mail.Message {
	t.Helper()
	return compose(t, mail.KindEmailVerification, mail.Data{Name: "ada",
		Link: "https://id.example.com/verify?token=SECRET-TOKEN", ExpiresAt: when})
}

// TestEnqueueRollsBackWithItsTransaction: a mail queued in a transaction that fails is
// never written, and the sender is not woken for it.
func TestEnqueueRollsBackWithItsTransaction(t *testing.T) {
	db := openDB(t)
	q := mail.NewQueue(testKeys(t), func() time.Time { return when })
	err := db.WithTx(t.Context(), func(tx store.Store) error {
		if err := q.Enqueue(t.Context(), tx, linkMessage(t)); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want %v", err, errBoom)
	}
	list, err := db.ListMail(t.Context(), store.MailFilter{})
	if err != nil || len(list) != 0 {
		t.Fatalf("queue after rollback: %d mails, %v; want none", len(list), err)
	}
	select {
	case <-q.Woken():
		t.Errorf("the sender was woken for a mail that was rolled back")
	default:
	}
}

// TestEnqueueSealsTheMessage: a committed mail is pending, due now, wakes the sender,
// and its body (which holds a one-time link) is not in the database in clear.
func TestEnqueueSealsTheMessage(t *testing.T) {
	db := openDB(t)
	q := mail.NewQueue(testKeys(t), func() time.Time { return when })
	m := linkMessage(t)
	err := db.WithTx(t.Context(), func(tx store.Store) error { return q.Enqueue(t.Context(), tx, m) })
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-q.Woken():
	default:
		t.Errorf("the sender was not woken after the commit")
	}
	list, err := db.ListMail(t.Context(), store.MailFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("queue: %d mails, %v; want 1", len(list), err)
	}
	got := list[0]
	if got.Kind != m.Kind || got.To != m.To || got.Status != store.MailPending ||
		!got.NextAttemptAt.Equal(when) || !got.GiveUpAt.Equal(when.Add(mail.MaxAge)) {
		t.Errorf("queued mail %+v", got)
	}
	if bytes.Contains(got.Message, []byte("SECRET-TOKEN")) || bytes.Contains(got.Message, []byte(m.Subject)) {
		t.Errorf("the queued message is stored in clear")
	}
}
