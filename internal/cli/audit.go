package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

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
		Args:  cobra.NoArgs,
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
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", when(ev.At), ev.Event, name(ev.ActorID), name(ev.SubjectID), dash(ev.IP), dash(ev.Detail))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "only events where this user (username or e-mail) acted or was acted upon")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many events")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
