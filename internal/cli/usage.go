package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/twofold-id/twofold/internal/apperr"
)

// guardUsage makes every command of the tree answer a wrong command line with an error
// (exit 1) that names what was wrong quoted with apperr.Quote and points to --help: a
// command that only groups others refuses an unknown subcommand instead of printing its
// help and succeeding, and a flag's bad value or unknown name is never repeated raw.
func guardUsage(root *cobra.Command) {
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(helpCommand())
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.HasSubCommands() && !cmd.Runnable() {
			cmd.SuggestionsMinimumDistance = 2
			cmd.Args = cobra.ArbitraryArgs
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
						return fmt.Errorf("unknown command %s for %s: did you mean %s?", apperr.Quote(args[0]), cmd.CommandPath(), s[0])
					}
					return fmt.Errorf("unknown command %s for %s: see %s --help", apperr.Quote(args[0]), cmd.CommandPath(), cmd.CommandPath())
				}
				return cmd.Help()
			}
		}
		if check := cmd.Args; check != nil && cmd.Runnable() {
			cmd.Args = func(c *cobra.Command, args []string) error { return argCount(c, check(c, args)) }
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// helpCommand is cobra's help command, except that an unknown topic fails (cobra's prints
// "Unknown help topic" and succeeds).
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return fmt.Errorf("unknown help topic %s: see %s --help", apperr.Quote(strings.Join(args, " ")), c.Root().CommandPath())
			}
			return cmd.Help()
		},
	}
}

// argCount adds to cobra's "accepts 1 arg(s), received 0" the command's usage.
func argCount(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "requires ") {
		return fmt.Errorf("usage: %s %s (%s; see %s --help)", cmd.CommandPath(), argsOf(cmd), msg, cmd.CommandPath())
	}
	return err
}

// argsOf is what the command's usage line names after the command: "FILE", "ID [ID...]".
func argsOf(cmd *cobra.Command) string {
	if _, args, ok := strings.Cut(cmd.Use, " "); ok {
		return args
	}
	return "no arguments"
}

// noArgs is cobra.NoArgs with the argument quoted.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %s: %s takes none (see %s --help)", apperr.Quote(args[0]), cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}

// flagError rewrites pflag's errors, which repeat a value or flag name whole and raw.
func flagError(cmd *cobra.Command, err error) error {
	help := cmd.CommandPath() + " --help"
	var invalid *pflag.InvalidValueError
	var unknown *pflag.NotExistError
	var syntax *pflag.InvalidSyntaxError
	switch {
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		return fmt.Errorf("--%s %s: want %s", f.Name, apperr.Quote(invalid.GetValue()), flagKind(f.Value.Type()))
	case errors.As(err, &unknown):
		name := "--" + unknown.GetSpecifiedName()
		if s := unknown.GetSpecifiedShortnames(); s != "" {
			name = "-" + s
		}
		return fmt.Errorf("unknown flag %s: see %s", apperr.Quote(name), help)
	case errors.As(err, &syntax):
		return fmt.Errorf("bad flag syntax %s: see %s", apperr.Quote(syntax.GetSpecifiedFlag()), help)
	}
	return fmt.Errorf("%w: see %s", err, help)
}

// flagKind says what a flag of a pflag value type takes.
func flagKind(typ string) string {
	switch typ {
	case "int", "int64":
		return "a whole number"
	case "duration":
		return "a duration such as 24h, 90m or 1h30m"
	case "bool":
		return "true or false"
	}
	return "a " + typ
}
