package store

import (
	"context"
	"time"
)

// Invitation is an account created by invitation: it has no password until the invitation
// is accepted through the link mailed to it.
type Invitation struct {
	UserID    string
	InvitedBy string // the user who invited; empty for the console
	CreatedAt time.Time
	// ExpiresAt is when the current link stops working; a resent invitation moves it.
	ExpiresAt time.Time
	// AcceptedAt is when the invitee set a password; zero while not accepted.
	AcceptedAt time.Time
}

// Accepted reports whether the invitation was accepted.
func (i *Invitation) Accepted() bool { return !i.AcceptedAt.IsZero() }

// InvitationStore keeps invitations.
type InvitationStore interface {
	// CreateInvitation stores a new invitation; a second one for the same user is a
	// *ConflictError.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// GetInvitation returns the user's invitation, or ErrNotFound when the account was not
	// invited.
	GetInvitation(ctx context.Context, userID string) (*Invitation, error)
	// RenewInvitation moves the expiry of an invitation that is not accepted, in one
	// conditional update; ErrNotFound when there is none or it was accepted.
	RenewInvitation(ctx context.Context, userID string, expiresAt time.Time) error
	// AcceptInvitation marks the invitation accepted at now, in one conditional update,
	// only while it is not accepted and not expired by now; ErrNotFound otherwise. Of
	// parallel acceptances exactly one wins.
	AcceptInvitation(ctx context.Context, userID string, now time.Time) error
}
