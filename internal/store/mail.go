package store

import (
	"context"
	"time"
)

// Mail queue states.
const (
	MailPending = "pending" // waiting for its next attempt, or being sent under a claim
	MailSent    = "sent"    // handed over; its message is gone
	MailFailed  = "failed"  // given up on; `twofold mail retry` makes it pending again
)

// SentMailKept is how long a sent mail stays listed (without its message) before
// DeleteExpired removes it. Failed and pending mail stays.
const SentMailKept = 30 * 24 * time.Hour

// QueuedMail is one outgoing mail. Message is opaque to the store (the mail package seals
// it); it is nil once the mail was sent.
type QueuedMail struct {
	ID            int64
	Kind          string
	To            string
	Message       []byte
	Status        string
	CreatedAt     time.Time
	NextAttemptAt time.Time
	GiveUpAt      time.Time // a sender marks it failed instead of retrying after this
	Attempts      int       // attempts started: a claim counts one
	LastError     string    // why the last attempt failed; empty when none did
	Claim         string    // the claim of the sender holding it; empty when none does
	ClaimedUntil  time.Time
	FinishedAt    time.Time // when it was sent or given up on; zero while pending
}

// MailFilter selects queued mail for listing; the zero value lists everything, newest first.
type MailFilter struct {
	Status string // empty: every status
	Limit  int    // 0: no limit
}

// MailStore is the durable mail queue. A mail is written in the transaction of the event
// that causes it (EnqueueMail inside WithTx), so it exists exactly when the event does.
// Senders claim due mail with a lease: a claim is exclusive however many instances claim
// at once, and a lease that runs out (its sender died) lets another sender retry.
type MailStore interface {
	// EnqueueMail stores m as pending, due at m.NextAttemptAt, and sets m.ID. Status,
	// attempts, error and claim start empty whatever m holds.
	EnqueueMail(ctx context.Context, m *QueuedMail) error
	// ClaimMail claims up to limit pending mails due by now that no unexpired lease holds,
	// oldest due first: each gets claim, a lease until leaseUntil, and one more attempt.
	// Parallel claims never return the same mail while its lease runs. Never call it
	// inside WithTx (a claim must be visible to the other senders when it returns).
	ClaimMail(ctx context.Context, claim string, now, leaseUntil time.Time, limit int) ([]QueuedMail, error)
	// MarkMailSent marks the mail sent at now and drops its message, only while claim
	// still holds it (ErrNotFound otherwise).
	MarkMailSent(ctx context.Context, id int64, claim string, now time.Time) error
	// DeferMail records errText and makes the mail due again at next, releasing the claim,
	// only while claim still holds it (ErrNotFound otherwise).
	DeferMail(ctx context.Context, id int64, claim, errText string, next time.Time) error
	// FailMail marks the mail failed at now with errText, releasing the claim, only while
	// claim still holds it (ErrNotFound otherwise). The message is kept for a retry.
	FailMail(ctx context.Context, id int64, claim, errText string, now time.Time) error
	// RetryMail makes a failed mail pending again, due at now, with no attempts and a new
	// giveUpAt; ErrNotFound unless the mail exists and failed.
	RetryMail(ctx context.Context, id int64, now, giveUpAt time.Time) error
	// GetMail returns one mail or ErrNotFound.
	GetMail(ctx context.Context, id int64) (*QueuedMail, error)
	// ListMail returns mail newest first.
	ListMail(ctx context.Context, f MailFilter) ([]QueuedMail, error)
	// NextMailDue returns when the earliest pending mail is due (its next attempt, or the
	// end of the lease that holds it, whichever is later); ok false when none is pending.
	NextMailDue(ctx context.Context) (due time.Time, ok bool, err error)
	// MailQueueStats counts the pending and the failed mail, and says when the earliest
	// pending mail is due (as NextMailDue), in one cheap query for the metrics.
	MailQueueStats(ctx context.Context) (MailQueueStats, error)
}

// MailQueueStats is the state of the mail queue (every instance's).
type MailQueueStats struct {
	Pending, Failed int
	// NextDue is when the earliest pending mail is due (NextMailDue); zero when none is.
	NextDue time.Time
}
