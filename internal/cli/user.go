package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// consoleMeta marks actions taken at the server console in the audit log.
var consoleMeta = auth.Meta{IP: "console", UserAgent: "twofold-cli"}

// withApp loads the configuration, opens the app for one command and closes it after.
// Mail the command queued is delivered before it returns. Unless cmd was marked with
// mayCreate, a data directory without a database is refused (requireDatabase).
func (e *env) withApp(cmd *cobra.Command, fn func(ctx context.Context, a *app) error) error {
	return e.runApp(cmd, true, createsMissing(cmd), fn)
}

// withAppOnly is withApp for a command that only reads: it delivers no mail.
func (e *env) withAppOnly(cmd *cobra.Command, fn func(ctx context.Context, a *app) error) error {
	return e.runApp(cmd, false, createsMissing(cmd), fn)
}

// runApp is withApp: flushMail delivers the mail fn queued, create lets the command start
// a new installation.
func (e *env) runApp(cmd *cobra.Command, flushMail, create bool, fn func(ctx context.Context, a *app) error) error {
	cfg, err := e.loadConfig(nil)
	if err != nil {
		return err
	}
	if !create {
		if err := requireDatabase(cfg); err != nil {
			return err
		}
	}
	log := newLogger(e.stderr, cfg)
	a, err := openApp(cmd.Context(), cfg, log, e.getenv("TWOFOLD_MASTER_KEY"), false)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := fn(cmd.Context(), a); err != nil || !flushMail {
		return err
	}
	// Mail the command queued goes out now rather than at a server's next poll; what
	// cannot be delivered stays queued for the server's sender to retry.
	if err := a.FlushMail(cmd.Context()); err != nil {
		log.Warn("queued mail not sent yet", "err", err)
	}
	return nil
}

// withUser is withApp for a command about one user, found by username or e-mail. The user
// must exist, so the installation must too: it never starts one, even for a command marked
// with mayCreate (user invite --resend).
func (e *env) withUser(cmd *cobra.Command, name string, fn func(ctx context.Context, a *app, u *store.User) error) error {
	return e.runApp(cmd, true, false, func(ctx context.Context, a *app) error {
		u, err := a.Auth.FindUser(ctx, name)
		if err != nil {
			return err
		}
		return fn(ctx, a, u)
	})
}

func (e *env) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage user accounts"}
	cmd.AddCommand(e.userAdd(), e.userInvite(), e.userList(), e.userShow(),
		e.userToggle("disable", true), e.userToggle("enable", false),
		e.userSetRole(), e.userSetMFARequired(), e.userSetPassword(), e.userSignOut(), e.userUnlock(), e.userResetMFA(), e.userDelete())
	return cmd
}

func (e *env) userAdd() *cobra.Command {
	var email, role string
	var fromStdin, verified bool
	cmd := &cobra.Command{
		Use:   "add NAME --email ADDR [--email-verified] [--role user|support|admin] [--password-stdin]",
		Short: "Create a user (asks for the password twice unless --password-stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if email == "" {
				return errors.New("--email is required")
			}
			if !store.ValidRole(role) {
				return fmt.Errorf("unknown role %s: use user, support or admin", apperr.Quote(role))
			}
			pw, err := e.readPassword(fromStdin)
			if err != nil {
				return err
			}
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				u, err := a.Auth.CreateUser(ctx, auth.NewUser{Username: args[0], Email: email, Role: role,
					Password: pw, EmailVerified: verified}, consoleMeta)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "created user %s <%s> with role %s", u.Username, u.Email, u.Role)
				if u.EmailVerified {
					fmt.Fprint(e.stdout, "; address verified")
				}
				fmt.Fprintln(e.stdout)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	cmd.Flags().BoolVar(&verified, "email-verified", false, "mark the address as verified: you know the user owns it")
	cmd.Flags().StringVar(&role, "role", store.RoleUser, "role: user, support or admin")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	return mayCreate(cmd)
}

func (e *env) userSetPassword() *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "set-password NAME [--password-stdin]",
		Short: "Set a user's password; every session and application token of the user ends",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				pw, err := e.readPassword(fromStdin)
				if err != nil {
					return err
				}
				ended, err := a.Auth.SetPassword(ctx, u, pw, consoleMeta)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "set the password of %s; ended %d %s and %d application %s\n", u.Username,
					ended.Sessions, onOff(ended.Sessions == 1, "session", "sessions"),
					ended.Grants, onOff(ended.Grants == 1, "grant", "grants"))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	return cmd
}

// readPassword reads the first line of stdin, or prompts twice without echo on a terminal.
func (e *env) readPassword(fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 64<<10)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", errors.New("no password on standard input")
		}
		return line, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("standard input is not a terminal: pass the password with --password-stdin")
	}
	fmt.Fprint(e.stderr, "Password: ")
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(e.stderr, "Password again: ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(first) != string(second) {
		return "", errors.New("the passwords do not match")
	}
	return string(first), nil
}

func (e *env) userList() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app) error {
				users, err := a.Store.ListUsers(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tE-MAIL\tROLE\tSTATUS\tMFA\tMFA REQUIRED")
				for i := range users {
					u := &users[i]
					st, err := a.Auth.Status(ctx, &u.Account)
					if err != nil {
						return err
					}
					inv, err := a.Invite.State(ctx, u.ID)
					if err != nil {
						return err
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Email, u.Role, listStatus(a, u, inv), onOff(st.TOTP, "active", "none"), onOff(st.Required, "yes", "no"))
				}
				return tw.Flush()
			})
		},
	}
}

func status(u *store.User) string { return onOff(u.Disabled, "disabled", "enabled") }

// listStatus is status, or for an enabled account that waits for its invitation to be
// accepted (no password yet) "invited" ("invited, expired" once its link expired).
func listStatus(a *app, u *store.User, inv *store.Invitation) string {
	if u.Disabled || inv == nil || inv.Accepted() || u.PasswordHash != auth.NoPassword {
		return status(u)
	}
	if !a.Auth.Now().Before(inv.ExpiresAt) {
		return "invited, expired"
	}
	return "invited"
}

func onOff(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func (e *env) userShow() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show one user (by username or e-mail)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				st, err := a.Auth.Status(ctx, &u.Account)
				if err != nil {
					return err
				}
				sessions, err := a.Store.ListUserSessions(ctx, u.ID, a.Auth.Now())
				if err != nil {
					return err
				}
				inv, err := a.Invite.State(ctx, u.ID)
				if err != nil {
					return err
				}
				override := u.MFAOverride
				if override == "" {
					override = "default (policy: " + a.Config.MFA.Required.String() + ")"
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "id:\t%s\n", u.ID)
				fmt.Fprintf(tw, "username:\t%s\n", u.Username)
				fmt.Fprintf(tw, "email:\t%s\n", u.Email)
				fmt.Fprintf(tw, "email verified:\t%s\n", onOff(u.EmailVerified, "yes", "no"))
				fmt.Fprintf(tw, "role:\t%s\n", u.Role)
				fmt.Fprintf(tw, "status:\t%s\n", status(u))
				fmt.Fprintf(tw, "invitation:\t%s\n", invitationState(a, u, inv))
				fmt.Fprintf(tw, "created:\t%s\n", when(u.CreatedAt))
				fmt.Fprintf(tw, "last sign-in:\t%s\n", when(u.LastLoginAt))
				fmt.Fprintf(tw, "mfa required:\t%s (override: %s)\n", onOff(st.Required, "yes", "no"), override)
				if st.TOTP {
					fmt.Fprintf(tw, "authenticator:\tactive since %s, last used %s\n", when(st.Since), when(st.LastUsed))
				} else {
					fmt.Fprintf(tw, "authenticator:\tnone\n")
				}
				fmt.Fprintf(tw, "recovery code:\t%s\n", onOff(st.RecoveryCode, "issued "+when(st.RecoveryCodeDate), "none"))
				fmt.Fprintf(tw, "active sessions:\t%d\n", len(sessions))
				return tw.Flush()
			})
		},
	}
}

func (e *env) userToggle(verb string, disabled bool) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a user" + onOff(disabled, " (ends all their sessions)", ""),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				if err := a.Auth.SetDisabled(ctx, u, disabled, consoleMeta); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s is now %s\n", u.Username, onOff(disabled, "disabled", "enabled"))
				return nil
			})
		},
	}
}

// userDelete deletes an account after the operator typed its username again: the
// deletion cannot be undone.
func (e *env) userDelete() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user for good (asks to type the username to confirm)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				fmt.Fprintf(e.stderr, "This deletes %s <%s> with every session, authenticator and application token; it cannot be undone.\nType the username to confirm: ", u.Username, u.Email)
				line, err := bufio.NewReader(io.LimitReader(e.stdin, 4<<10)).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("read confirmation: %w", err)
				}
				if strings.TrimSpace(line) != u.Username {
					return fmt.Errorf("not deleted: the confirmation %s is not the username %s", apperr.Quote(strings.TrimSpace(line)), u.Username)
				}
				if err := a.Auth.DeleteUser(ctx, u, consoleMeta); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "deleted %s\n", u.Username)
				return nil
			})
		},
	}
}

func (e *env) userSetRole() *cobra.Command {
	return &cobra.Command{
		Use:   "set-role NAME user|support|admin",
		Short: "Change a user's role",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				if err := a.Auth.SetRole(ctx, u, args[1], consoleMeta); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s now has role %s\n", u.Username, args[1])
				return nil
			})
		},
	}
}

func (e *env) userSetMFARequired() *cobra.Command {
	return &cobra.Command{
		Use:   "set-mfa-required NAME yes|no|default",
		Short: "Override the MFA policy for one user (default follows mfa.required)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			value := args[1]
			switch value {
			case "yes", "no":
			case "default":
				value = store.MFAOverrideDefault
			default:
				return fmt.Errorf("%s: use yes, no or default", apperr.Quote(args[1]))
			}
			return e.withUser(cmd, args[0], func(ctx context.Context, a *app, u *store.User) error {
				if err := a.Auth.SetMFAOverride(ctx, u, value, consoleMeta); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "MFA required for %s: %s\n", u.Username, args[1])
				return nil
			})
		},
	}
}
