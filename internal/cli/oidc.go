package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
)

func (e *env) clientCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "Manage OpenID Connect clients (applications that sign users in through twofold)"}
	cmd.AddCommand(e.clientAdd(), e.clientList(), e.clientShow(), e.clientEdit(), e.clientRotateSecret(), e.clientRemove())
	return cmd
}

// clientJSON is a client as --json prints it.
type clientJSON struct {
	ClientID               string    `json:"client_id"`
	ClientSecret           string    `json:"client_secret,omitempty"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	FirstParty             bool      `json:"first_party"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	IDTokenAlg             string    `json:"id_token_signed_response_alg"`
	CreatedAt              time.Time `json:"created_at"`
}

func toClientJSON(c *store.OIDCClient, secret string) clientJSON {
	j := clientJSON{ClientID: c.ID, ClientSecret: secret, Name: c.Name, Public: c.Public, FirstParty: c.FirstParty,
		RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, IDTokenAlg: c.IDTokenAlg, CreatedAt: c.CreatedAt}
	if j.RedirectURIs == nil {
		j.RedirectURIs = []string{}
	}
	if j.PostLogoutRedirectURIs == nil {
		j.PostLogoutRedirectURIs = []string{}
	}
	return j
}

func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// withClient runs fn in the app on the client that ref names (its name or client_id).
func (e *env) withClient(cmd *cobra.Command, ref string, fn func(ctx context.Context, a *app, c *store.OIDCClient) error) error {
	return e.withApp(cmd, func(ctx context.Context, a *app) error {
		c, err := a.OIDCAdmin.Find(ctx, ref)
		if err != nil {
			return err
		}
		return fn(ctx, a, c)
	})
}

func (e *env) clientAdd() *cobra.Command {
	var nc oidc.NewClient
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add NAME --redirect-uri URI... [--public] [--post-logout-redirect-uri URI] [--first-party] [--id-token-alg ES256|RS256] [--json]",
		Short: "Register a client; prints its client_id and (confidential clients) the client_secret, which is shown only now",
		Long: "Register an OpenID Connect client. Redirect URIs are matched exactly; give --redirect-uri once per URI,\n" +
			"or list more URIs after the first: --redirect-uri URI1 URI2.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc.Name = args[0]
			if len(args) > 1 {
				if len(nc.RedirectURIs) == 0 {
					return fmt.Errorf("unexpected argument %s: redirect URIs follow --redirect-uri", apperr.Quote(args[1]))
				}
				nc.RedirectURIs = append(nc.RedirectURIs, args[1:]...)
			}
			nc.IDTokenAlg = strings.ToUpper(nc.IDTokenAlg)
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				rc, err := a.OIDCAdmin.Add(ctx, nc, consoleMeta)
				if err != nil {
					return err
				}
				if asJSON {
					return e.printJSON(toClientJSON(rc.Client, rc.Secret))
				}
				fmt.Fprintf(e.stdout, "client_id: %s\n", rc.Client.ID)
				if rc.Secret != "" {
					fmt.Fprintf(e.stdout, "client_secret: %s\n", rc.Secret)
					fmt.Fprintln(e.stderr, "The client secret is shown only now: store it in the application's configuration.")
				}
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVar(&nc.RedirectURIs, "redirect-uri", nil, "redirect URI, matched exactly (repeat for several; required)")
	cmd.Flags().StringArrayVar(&nc.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "where RP-initiated logout may return (repeatable)")
	cmd.Flags().BoolVar(&nc.Public, "public", false, "a public client (no secret, PKCE S256 required): single-page and native apps")
	cmd.Flags().BoolVar(&nc.FirstParty, "first-party", false, "a trusted application of your own: no consent page")
	cmd.Flags().StringVar(&nc.IDTokenAlg, "id-token-alg", oidc.AlgES256, "ID token signature: ES256 or RS256")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the client as JSON")
	return mayCreate(cmd)
}

func (e *env) clientList() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List clients",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				clients, err := a.OIDCAdmin.Clients(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]clientJSON, 0, len(clients))
					for i := range clients {
						out = append(out, toClientJSON(&clients[i], ""))
					}
					return e.printJSON(out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tCLIENT ID\tTYPE\tCONSENT\tREDIRECT URIS")
				for _, c := range clients {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.ID, onOff(c.Public, "public", "confidential"),
						onOff(c.FirstParty, "first-party", "asked"), strings.Join(c.RedirectURIs, " "))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the clients as JSON")
	return cmd
}

func (e *env) clientShow() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME|CLIENT_ID [--json]",
		Short: "Show one client (never its secret, which is not stored)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withClient(cmd, args[0], func(ctx context.Context, a *app, c *store.OIDCClient) error {
				if asJSON {
					return e.printJSON(toClientJSON(c, ""))
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "name:\t%s\n", c.Name)
				fmt.Fprintf(tw, "client_id:\t%s\n", c.ID)
				fmt.Fprintf(tw, "type:\t%s\n", onOff(c.Public, "public (PKCE S256 required, no secret)", "confidential (client_secret_basic or client_secret_post)"))
				fmt.Fprintf(tw, "consent:\t%s\n", onOff(c.FirstParty, "first-party, not asked", "asked once per user"))
				fmt.Fprintf(tw, "redirect uris:\t%s\n", strings.Join(c.RedirectURIs, " "))
				fmt.Fprintf(tw, "post-logout redirect uris:\t%s\n", strings.Join(c.PostLogoutRedirectURIs, " "))
				fmt.Fprintf(tw, "id token algorithm:\t%s\n", c.IDTokenAlg)
				fmt.Fprintf(tw, "created:\t%s\n", when(c.CreatedAt))
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the client as JSON")
	return cmd
}

func (e *env) clientEdit() *cobra.Command {
	var name, alg string
	var redirects, postLogout []string
	var firstParty bool
	cmd := &cobra.Command{
		Use:   "edit NAME|CLIENT_ID [--name NAME] [--redirect-uri URI...] [--post-logout-redirect-uri URI...] [--first-party=true|false] [--id-token-alg ES256|RS256]",
		Short: "Change a client: the flags given replace what the client has; its tokens stay",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ch oidc.ClientChange
			f := cmd.Flags()
			if f.Changed("name") {
				ch.Name = &name
			}
			if f.Changed("redirect-uri") {
				ch.RedirectURIs = &redirects
			}
			if f.Changed("post-logout-redirect-uri") {
				ch.PostLogoutRedirectURIs = &postLogout
			}
			if f.Changed("first-party") {
				ch.FirstParty = &firstParty
			}
			if f.Changed("id-token-alg") {
				ch.IDTokenAlg = &alg
			}
			if ch == (oidc.ClientChange{}) {
				return fmt.Errorf("nothing to change: give at least one of --name, --redirect-uri, --post-logout-redirect-uri, --first-party, --id-token-alg")
			}
			return e.withClient(cmd, args[0], func(ctx context.Context, a *app, c *store.OIDCClient) error {
				c, err := a.OIDCAdmin.Update(ctx, c.ID, ch, consoleMeta)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "changed client %s (%s)\n", c.Name, c.ID)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a new name")
	cmd.Flags().StringArrayVar(&redirects, "redirect-uri", nil, "the redirect URIs, replacing the current ones (repeat for several)")
	cmd.Flags().StringArrayVar(&postLogout, "post-logout-redirect-uri", nil, "the post-logout redirect URIs, replacing the current ones (repeatable)")
	cmd.Flags().BoolVar(&firstParty, "first-party", false, "a trusted application of your own: no consent page (--first-party=false asks again)")
	cmd.Flags().StringVar(&alg, "id-token-alg", "", "ID token signature: ES256 or RS256")
	return cmd
}

func (e *env) clientRotateSecret() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rotate-secret NAME|CLIENT_ID [--json]",
		Short: "Give a confidential client a new secret, shown only now; the old one stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withClient(cmd, args[0], func(ctx context.Context, a *app, c *store.OIDCClient) error {
				rc, err := a.OIDCAdmin.RotateSecret(ctx, c.ID, consoleMeta)
				if err != nil {
					return err
				}
				if asJSON {
					return e.printJSON(toClientJSON(rc.Client, rc.Secret))
				}
				fmt.Fprintf(e.stdout, "client_id: %s\nclient_secret: %s\n", rc.Client.ID, rc.Secret)
				fmt.Fprintln(e.stderr, "The new client secret is shown only now; the old one no longer works.")
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the client as JSON")
	return cmd
}

func (e *env) clientRemove() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME|CLIENT_ID",
		Short: "Remove a client; every token issued to it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withClient(cmd, args[0], func(ctx context.Context, a *app, c *store.OIDCClient) error {
				c, err := a.OIDCAdmin.Remove(ctx, c.ID, consoleMeta)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "removed client %s (%s)\n", c.Name, c.ID)
				return nil
			})
		},
	}
}

func (e *env) keysCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the OpenID Connect token signing keys"}
	cmd.AddCommand(e.keysRotate(), e.keysList())
	return cmd
}

func (e *env) keysRotate() *cobra.Command {
	var keep time.Duration
	cmd := &cobra.Command{
		Use:   "rotate [--keep DURATION]",
		Short: "Add new signing keys; the previous ones stay in the JWKS for --keep, then go",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case !cmd.Flags().Changed("keep"):
				keep = 0 // the Admin's retention: 24 hours, longer when the ID token lifetime asks for it
			case keep <= 0:
				return fmt.Errorf("--keep %s is too short: keep the previous key at least as long as ID tokens live", keep)
			}
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				keys, err := a.OIDCAdmin.RotateKeys(ctx, keep, consoleMeta)
				if err != nil {
					return err
				}
				for _, k := range keys {
					fmt.Fprintf(e.stdout, "new %s key %s", k.Alg, k.ID)
					if !k.PreviousExpires.IsZero() {
						fmt.Fprintf(e.stdout, "; the previous one stays published until %s", when(k.PreviousExpires))
					}
					fmt.Fprintln(e.stdout)
				}
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&keep, "keep", oidc.DefaultKeyRetention, "how long the replaced keys stay in the JWKS (default 24h, or the ID token lifetime plus a minute when longer)")
	return cmd
}

func (e *env) keysList() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the signing keys published in the JWKS",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				keys, err := a.OIDCAdmin.SigningKeys(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "KEY ID\tALG\tCREATED\tSTATUS")
				for _, k := range keys {
					st := "signing"
					if !k.RetiredAt.IsZero() {
						st = "retired, published until " + when(k.ExpiresAt)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Alg, when(k.CreatedAt), st)
				}
				return tw.Flush()
			})
		},
	}
}
