package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/store"
)

func (e *env) mailCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mail",
		Short: "See and retry the outgoing mail queue",
	}
	cmd.AddCommand(e.mailList(), e.mailRetry())
	return cmd
}

func (e *env) mailList() *cobra.Command {
	var failed bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--failed] [--limit N]",
		Short: "List queued, sent and failed mail, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit must be at least 1")
			}
			// Listing only reads: it delivers nothing.
			return e.withAppOnly(cmd, func(ctx context.Context, a *app) error {
				f := store.MailFilter{Limit: limit}
				if failed {
					f.Status = store.MailFailed
				}
				list, err := a.Store.ListMail(ctx, f)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tKIND\tTO\tATTEMPTS\tQUEUED\tNEXT OR DONE\tLAST ERROR")
				for _, m := range list {
					at := m.FinishedAt
					if m.Status == store.MailPending {
						at = m.NextAttemptAt
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", m.ID, m.Status, m.Kind, m.To, m.Attempts,
						when(m.CreatedAt), when(at), dash(oneLine(m.LastError)))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&failed, "failed", false, "only mail the queue gave up on")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many mails")
	return cmd
}

func (e *env) mailRetry() *cobra.Command {
	return &cobra.Command{
		Use:   "retry ID",
		Short: "Queue a failed mail again (audited mail.retried)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id < 1 {
				return fmt.Errorf("mail id %s is not a number from `twofold mail list`", apperr.Quote(args[0]))
			}
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				if err := a.Mail.Retry(ctx, a.Store, id, consoleMeta); errors.Is(err, mail.ErrNoMail) {
					return fmt.Errorf("there is no mail %d (see `twofold mail list`)", id)
				} else if errors.Is(err, mail.ErrNotFailed) {
					return fmt.Errorf("mail %d has not failed: only a failed mail is queued again (see `twofold mail list --failed`)", id)
				} else if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "mail %d is queued again\n", id)
				return nil
			})
		},
	}
}

// oneLine keeps an error from a mail server on one line of a table.
func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
