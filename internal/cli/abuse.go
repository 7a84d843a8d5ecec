package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// userSignOut ends every session of a user (issue 5).
func (e *env) userSignOut() *cobra.Command {
	return &cobra.Command{
		Use:   "sign-out NAME",
		Short: "End every session of a user at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				u, err := a.auth.FindUser(ctx, args[0])
				if err != nil {
					return err
				}
				n, err := a.auth.SignOutEverywhere(ctx, u, consoleMeta)
				if err != nil {
					return err
				}
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
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				u, err := a.auth.FindUser(ctx, args[0])
				if err != nil {
					return err
				}
				pw, second, err := a.auth.Budgets(ctx, u)
				if err != nil {
					return err
				}
				if err := a.auth.Unlock(ctx, u, consoleMeta); err != nil {
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

// throttlePolicy is the failure budget configured under limits.
func throttlePolicy(cfg *config.Config) throttle.Policy {
	l := cfg.Limits
	return throttle.Policy{FreeAttempts: l.FreeAttempts, FirstDelay: l.FirstDelay, MaxDelay: l.MaxDelay, MaxFailures: l.MaxFailures}
}

// rateLimits are the per-client-address limits configured under limits.
func rateLimits(cfg *config.Config) web.RateLimits {
	l := cfg.Limits
	return web.RateLimits{SignInPerSecond: l.SignInPerSecond, SignInBurst: l.SignInBurst, APIPerSecond: l.APIPerSecond, APIBurst: l.APIBurst}
}
