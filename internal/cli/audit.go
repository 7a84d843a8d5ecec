package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func (e *env) auditCommand() *cobra.Command {
	var user string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit [--user NAME] [--limit N]",
		Short: "List security events, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit must be at least 1")
			}
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				f := store.AuditFilter{Limit: limit}
				if user != "" {
					u, err := a.Auth.FindUser(ctx, user)
					if err != nil {
						return err
					}
					f.UserID = u.ID
				}
				events, err := a.Store.ListAudit(ctx, f)
				if err != nil {
					return err
				}
				names := map[string]string{"": "-"}
				name := func(id string) string {
					if n, ok := names[id]; ok {
						return n
					}
					n := id
					if u, err := a.Store.GetUser(ctx, id); err == nil {
						n = u.Username
					}
					names[id] = n
					return n
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TIME\tEVENT\tACTOR\tSUBJECT\tIP\tDETAIL")
				for _, ev := range events {
					detail := ev.Detail
					if ev.Count > 1 { // a counted event: the first one's row, and how often it came
						detail = fmt.Sprintf("%s (%d times)", detail, ev.Count)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", when(ev.At), ev.Event, name(ev.ActorID), name(ev.SubjectID), dash(ev.IP), dash(detail))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "only events where this user (username or e-mail) acted or was acted upon")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many events")
	cmd.AddCommand(e.auditPrune())
	return cmd
}

// auditPrune deletes the events before a date: the one way, besides audit.retention, that
// rows leave the audit log. The prune itself is audited.
func (e *env) auditPrune() *cobra.Command {
	var before string
	cmd := &cobra.Command{
		Use:   "prune --before DATE",
		Short: "Delete the security events before DATE (YYYY-MM-DD, UTC, or RFC 3339); audited",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cutoff, err := parseCutoff(before)
			if err != nil {
				return err
			}
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				n, err := audit.Prune(ctx, a.Store, a.Auth.Now(), cutoff, consoleMeta, true)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "Deleted %d events before %s.\n", n, when(cutoff))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "delete the events before this date (required)")
	return cmd
}

// parseCutoff reads a date (midnight UTC) or an RFC 3339 time.
func parseCutoff(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("--before is required: the events before which date should go?")
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--before %s: want a date such as 2026-01-31 or a time such as 2026-01-31T12:00:00Z", apperr.Quote(s))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
