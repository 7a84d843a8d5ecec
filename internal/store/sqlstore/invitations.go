package sqlstore

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// CreateInvitation stores a new invitation.
func (d *DB) CreateInvitation(ctx context.Context, inv *store.Invitation) error {
	_, err := d.exec(ctx, `INSERT INTO invitations (user_id, invited_by, created_at, expires_at, accepted_at)
		VALUES (?, ?, ?, ?, ?)`, inv.UserID, inv.InvitedBy, ms(inv.CreatedAt), ms(inv.ExpiresAt), ms(inv.AcceptedAt))
	return err
}

// GetInvitation returns the user's invitation.
func (d *DB) GetInvitation(ctx context.Context, userID string) (*store.Invitation, error) {
	inv := store.Invitation{UserID: userID}
	var created, expires, accepted int64
	err := d.queryRow(ctx, `SELECT invited_by, created_at, expires_at, accepted_at FROM invitations WHERE user_id = ?`,
		userID).Scan(&inv.InvitedBy, &created, &expires, &accepted)
	if err != nil {
		return nil, d.wrap(err)
	}
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = fromMS(created), fromMS(expires), fromMS(accepted)
	return &inv, nil
}

// RenewInvitation moves the expiry of an invitation not accepted yet.
func (d *DB) RenewInvitation(ctx context.Context, userID string, expiresAt time.Time) error {
	return d.execOne(ctx, `UPDATE invitations SET expires_at = ? WHERE user_id = ? AND accepted_at = 0`,
		ms(expiresAt), userID)
}

// AcceptInvitation marks a live invitation accepted, once.
func (d *DB) AcceptInvitation(ctx context.Context, userID string, now time.Time) error {
	return d.execOne(ctx, `UPDATE invitations SET accepted_at = ? WHERE user_id = ? AND accepted_at = 0 AND expires_at > ?`,
		ms(now), userID, ms(now))
}
