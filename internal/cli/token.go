package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/apitoken"
)

func (e *env) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens for the admin API"}
	cmd.AddCommand(e.tokenCreate(), e.tokenList(), e.tokenRevoke())
	return cmd
}

func (e *env) tokenCreate() *cobra.Command {
	var scopes []string
	var expires string
	cmd := &cobra.Command{
		Use:   "create NAME --scope SCOPE... [--expires 90d]",
		Short: "Create an API token and print it once (scopes: " + apitoken.ScopeList(", ") + ")",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAppOnly(cmd, func(ctx context.Context, a *app) error {
				exp, err := apitoken.ParseExpiry(expires, a.Auth.Now())
				if err != nil {
					return fmt.Errorf("--expires: %w", err)
				}
				c, err := a.Tokens.Create(ctx, apitoken.NewToken{Name: args[0], Scopes: scopes, ExpiresAt: exp}, consoleMeta)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "Created API token %s (%s) with scopes %s, expires %s.\n", c.Token.ID, c.Token.Name,
					strings.Join(c.Token.Scopes, " "), neverOr(c.Token.ExpiresAt.IsZero(), when(c.Token.ExpiresAt)))
				fmt.Fprintln(e.stdout, "Copy it now: it is not shown again.")
				fmt.Fprintln(e.stdout, c.Secret)
				return nil
			})
		},
	}
	cmd.Flags().StringSliceVar(&scopes, "scope", nil, "a scope the token gets (repeat or separate with commas): "+apitoken.ScopeList(", "))
	cmd.Flags().StringVar(&expires, "expires", "", "lifetime such as 90d, 12h or 30m (default: never)")
	return mayCreate(cmd)
}

func (e *env) tokenList() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withAppOnly(cmd, func(ctx context.Context, a *app) error {
				tokens, err := a.Tokens.List(ctx)
				if err != nil {
					return err
				}
				now := a.Auth.Now()
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tSTATUS\tCREATED\tBY\tEXPIRES\tLAST USED")
				for _, t := range tokens {
					by := "console"
					if t.CreatedBy != "" {
						by = t.CreatedBy
						if u, err := a.Store.GetUser(ctx, t.CreatedBy); err == nil {
							by = u.Username
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), apitoken.Status(&t, now),
						when(t.CreatedAt), by, neverOr(t.ExpiresAt.IsZero(), when(t.ExpiresAt)), when(t.LastUsedAt))
				}
				return tw.Flush()
			})
		},
	}
}

func (e *env) tokenRevoke() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token for good",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAppOnly(cmd, func(ctx context.Context, a *app) error {
				t, err := a.Tokens.Revoke(ctx, args[0], consoleMeta)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "Revoked API token %s (%s).\n", t.ID, t.Name)
				return nil
			})
		},
	}
}

func neverOr(never bool, s string) string {
	if never {
		return "never"
	}
	return s
}
