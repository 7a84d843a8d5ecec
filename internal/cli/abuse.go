package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// userSignOut ends every session of a user (issue 5).
func (e *env) userSignOut() *cobra.Command {
	return &cobra.Command{
		Use:   "sign-out NAME",
		Short: "End every session of a user at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				ended, err := a.Auth.End(ctx, auth.SignOutEverywhere, u.ID, "", consoleMeta)
				if err != nil {
					return err
				}
				n := ended.Sessions
				fmt.Fprintf(e.stdout, "ended %d %s of %s\n", n, onOff(n == 1, "session", "sessions"), u.Username)
				return nil
			})
		},
	}
}

// userUnlock resets a user's failure budgets, so a throttled or locked account can sign in.
func (e *env) userUnlock() *cobra.Command {
	return &cobra.Command{
		Use:   "unlock NAME",
		Short: "Forget a user's failed sign-in attempts (password and second factor)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				pw, second, err := a.Auth.Budgets(ctx, u)
				if err != nil {
					return err
				}
				if err := a.Auth.Unlock(ctx, u, consoleMeta); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s unlocked (failed attempts forgotten: password %d, second factor %d)\n",
					u.Username, failures(pw), failures(second))
				return nil
			})
		},
	}
}

func failures(b *store.ThrottleBudget) int {
	if b == nil {
		return 0
	}
	return b.Failures
}
