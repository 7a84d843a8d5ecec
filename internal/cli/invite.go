package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/store"
)

// userInvite creates an account without a password and mails its owner a link to set one,
// or with --resend mails a fresh link for an invitation not accepted yet.
func (e *env) userInvite() *cobra.Command {
	var email, role string
	var resend bool
	cmd := &cobra.Command{
		Use:   "invite NAME --email ADDR [--role user|support|admin] | invite --resend NAME",
		Short: "Create a user without a password and mail them a link to set one (--resend: a fresh link)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if resend {
				if email != "" || cmd.Flags().Changed("role") {
					return errors.New("--resend takes only the user: the address and role were set by the invitation")
				}
				return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
					sent, err := a.Invite.Resend(ctx, u, consoleMeta)
					if err != nil {
						return err
					}
					return e.reportInvitation(sent, "sent a new invitation link to")
				})
			}
			if email == "" {
				return errors.New("--email is required: the invitation link is mailed there")
			}
			if !store.ValidRole(role) {
				return fmt.Errorf("unknown role %s: use user, support or admin", apperr.Quote(role))
			}
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				sent, err := a.Invite.Invite(ctx, auth.NewUser{Username: args[0], Email: email, Role: role}, consoleMeta)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "created user %s <%s> with role %s, without a password\n", sent.User.Username, sent.User.Email, sent.User.Role)
				return e.reportInvitation(sent, "sent the invitation link to")
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address the invitation goes to (required unless --resend)")
	cmd.Flags().StringVar(&role, "role", store.RoleUser, "role: user, support or admin")
	cmd.Flags().BoolVar(&resend, "resend", false, "mail a fresh link for an invitation not accepted yet; earlier links stop working")
	return mayCreate(cmd)
}

// reportInvitation says where the link went and until when it works. The mail is queued
// with the invitation; a mail server that is down delays it (see `twofold mail list`).
func (e *env) reportInvitation(sent *invite.Sent, did string) error {
	u := sent.User
	fmt.Fprintf(e.stdout, "%s %s; it works once, until %s\n", did, u.Email, when(sent.ExpiresAt))
	return nil
}

// invitationState describes the user's invitation for `user show`.
func invitationState(a *app, u *store.User, inv *store.Invitation) string {
	switch {
	case inv == nil:
		return "none"
	case inv.Accepted():
		return "accepted " + when(inv.AcceptedAt)
	case u.PasswordHash != auth.NoPassword:
		return "not accepted: the password was set another way"
	case !a.Auth.Now().Before(inv.ExpiresAt):
		return "expired " + when(inv.ExpiresAt) + " (twofold user invite --resend sends a new link)"
	}
	return "invited until " + when(inv.ExpiresAt)
}
