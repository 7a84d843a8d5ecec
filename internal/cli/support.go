package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

// consoleAgent is who reads cases at the console: whoever runs it holds the database.
var consoleAgent = &store.Account{Username: "(console)", Role: store.RoleAdmin}

func (e *env) caseCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "case", Short: "Read support cases"}
	cmd.AddCommand(e.caseList(), e.caseShow())
	return cmd
}

func (e *env) caseList() *cobra.Command {
	var status, search string
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--status open|waiting_for_user|resolved|rejected] [--search TEXT] [--limit N]",
		Short: "List support cases, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				list, err := a.Support.ListCases(ctx, consoleAgent, support.Filter{Status: status, Search: search, Limit: limit})
				if ae, ok := apperr.As(err); ok && ae.Field == "q" { // the admin console's search field
					return fmt.Errorf("--search %s", strings.TrimPrefix(ae.Message, `Field "q" `))
				}
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "REFERENCE\tOPENED\tSTATUS\tNAME\tE-MAIL\tASSIGNEE")
				for _, c := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Reference, c.CreatedAt.UTC().Format("2006-01-02 15:04"),
						c.Status, singleLine(c.FullName), c.Email, dashIfEmpty(c.Assignee))
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only cases with this status")
	cmd.Flags().StringVar(&search, "search", "", "part of the reference, name, e-mail or organisation")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many cases (1..500)")
	return cmd
}

func (e *env) caseShow() *cobra.Command {
	return &cobra.Command{
		Use:   "show REF",
		Short: "Show a support case: request, matching account, timeline",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				d, err := a.Support.Case(ctx, consoleAgent, args[0])
				if err != nil {
					return err
				}
				e.printCase(d)
				return nil
			})
		},
	}
}

func (e *env) printCase(d *support.Details) {
	c := d.Case
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
	row("reference", c.Reference)
	row("status", c.Status)
	row("opened", when(c.CreatedAt)+" from "+c.IP)
	row("category", c.Category)
	row("name", singleLine(c.FullName))
	row("e-mail", c.Email)
	row("organisation", singleLine(c.Organisation))
	row("phone", dashIfEmpty(c.Phone))
	row("assignee", dashIfEmpty(d.Assignee))
	if c.EmailConfirmedAt.IsZero() {
		row("e-mail ownership", "not confirmed")
	} else {
		row("e-mail ownership", fmt.Sprintf("confirmed for %s at %s from %s", d.ConfirmedAccount, when(c.EmailConfirmedAt), c.EmailConfirmedIP))
	}
	if !c.ClosedAt.IsZero() {
		row("closed", fmt.Sprintf("%s by %s: %s", when(c.ClosedAt), d.ClosedBy, singleLine(c.Resolution)))
	}
	if len(d.Accounts) == 0 {
		row("account", "none uses this e-mail address")
	}
	for _, acc := range d.Accounts {
		mfa := "not set up"
		if acc.MFAActive {
			mfa = "active since " + when(acc.MFASince)
		}
		row("account", fmt.Sprintf("%s (role %s, created %s, last sign-in %s, MFA %s, %d failed attempts in 30 days)",
			acc.Username, acc.Role, when(acc.CreatedAt), when(acc.LastSignInAt), mfa, acc.RecentFailures))
	}
	if p := d.Pending; p != nil {
		row("pending reset", fmt.Sprintf("of %s, asked by %s at %s (%s): waiting for approval", p.Username, p.Requester(), when(p.RequestedAt), p.Verification))
	}
	w.Flush()
	fmt.Fprintf(e.stdout, "\n%s\n\ntimeline:\n", c.Description)
	for _, t := range d.Timeline {
		who := ""
		if t.Actor != "" {
			who = " " + t.Actor + ":"
		}
		fmt.Fprintf(e.stdout, "  %s%s %s\n", when(t.At), who, strings.ReplaceAll(t.Body, "\n", "\n    "))
	}
}

func (e *env) userResetMFA() *cobra.Command {
	var reason, ref string
	cmd := &cobra.Command{
		Use:   "reset-mfa NAME --reason TEXT [--case REF]",
		Short: "Reset a user's MFA: remove the authenticator and recovery code, end every session",
		Long: "Reset a user's MFA after verifying who they are: the authenticator and the recovery code are\n" +
			"removed, every session ends, and the next sign-in sets up a new authenticator (when the policy\n" +
			"requires MFA). The user is told by e-mail; the audit log records the reason. With --case the\n" +
			"user's e-mail must match the case's, and the reset appears on its timeline; a case that\n" +
			"records a reset of the user already, with no second factor set up since, refuses a second\n" +
			"one. Without --reason it asks for one.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				fmt.Fprint(e.stderr, "Reason for the reset (how you verified the user): ")
				line, err := bufio.NewReader(e.stdin).ReadString('\n')
				if err != nil && line == "" {
					return errors.New("--reason is required")
				}
				reason = strings.TrimSpace(line)
			}
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				res, err := a.Support.ResetAtConsole(ctx, u, reason, ref, consoleMeta)
				if err != nil {
					return err
				}
				removed := "nothing"
				if len(res.Removed) > 0 {
					removed = strings.Join(res.Removed, ", ")
				}
				n := res.SessionsEnded
				fmt.Fprintf(e.stdout, "reset the MFA of %s: removed %s; %d %s ended\n", res.Username, removed, n, onOff(n == 1, "session", "sessions"))
				if res.EnrollmentRequired {
					fmt.Fprintln(e.stdout, "the next sign-in sets up a new authenticator")
				} else {
					fmt.Fprintln(e.stdout, "MFA is not required for this user: they sign in with the password alone until they set one up")
				}
				if !res.Notified {
					fmt.Fprintln(e.stdout, "warning: no notice e-mail was queued")
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "how the user's identity was verified (recorded in the audit log)")
	cmd.Flags().StringVar(&ref, "case", "", "support case reference (TF-XXXXXX) whose e-mail must match the user")
	return cmd
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func singleLine(s string) string { return strings.Join(strings.Fields(s), " ") }
