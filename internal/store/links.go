package store

import (
	"context"
	"time"
)

// Purposes of mail links. A link of one purpose is never accepted for another.
const (
	LinkPasswordReset = "password_reset"
	LinkInvitation    = "invitation"
	LinkEmailVerify   = "email_verify"
	LinkEmailChange   = "email_change"
	LinkRegistration  = "registration"
)

// MaxLinkPayload is the largest payload a link may carry, in bytes: links carry a few
// fields a flow needs at consumption (a new address, a role), never a document.
const MaxLinkPayload = 4096

// LinkToken is a single-use link sent by mail (password reset, invitation, address
// verification, registration). Only the SHA-256 of its token is stored.
type LinkToken struct {
	TokenHash []byte
	Purpose   string
	UserID    string // the account it acts on; empty when none exists yet (registration)
	Email     string // the address the link was sent to
	Payload   []byte // small JSON the flow reads at consumption; nil when none
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while the link is live; set when consumed or invalidated
}

// LinkTokenStore holds mail links. Its methods follow the same rules as Store's: atomic
// on their own, sentinel errors. A link is live while it is unused and now is before its
// expiry; only a live link is ever returned by Peek or Consume.
type LinkTokenStore interface {
	// CreateLinkToken stores l. A hash already stored gives a *ConflictError; a payload
	// longer than MaxLinkPayload gives ErrInvalidText.
	CreateLinkToken(ctx context.Context, l *LinkToken) error
	// PeekLinkToken returns the live link of purpose whose hash is tokenHash, or ErrNotFound
	// (unknown, other purpose, used, invalidated or expired). It changes nothing, so the
	// page a link's GET shows may call it as often as mail scanners fetch the link.
	PeekLinkToken(ctx context.Context, purpose string, tokenHash []byte, now time.Time) (*LinkToken, error)
	// ConsumeLinkToken marks the live link used in one conditional update and returns it
	// (UsedAt now set); ErrNotFound like PeekLinkToken. Of any number of parallel consumes
	// exactly one gets the link. Inside WithTx, a rollback makes the link live again: a
	// flow consumes in the transaction that does the work, so a failed step never burns it.
	ConsumeLinkToken(ctx context.Context, purpose string, tokenHash []byte, now time.Time) (*LinkToken, error)
	// InvalidateLinkTokens ends every live link of purpose for userID (marks it used) and
	// returns how many ended: a new link replaces the earlier ones, and a flow that changes
	// what a link was for ends it.
	InvalidateLinkTokens(ctx context.Context, purpose, userID string, now time.Time) (int, error)
	// CountLinkTokens counts the links of purpose issued for userID since since, live or
	// not, for per-account limits. DeleteExpired keeps links for a day after they expire.
	CountLinkTokens(ctx context.Context, purpose, userID string, since time.Time) (int, error)
	// LatestLinkToken returns the most recently issued link of purpose for userID, live or
	// not, or ErrNotFound: what an operator sees about an account's pending link.
	LatestLinkToken(ctx context.Context, purpose, userID string) (*LinkToken, error)
}
