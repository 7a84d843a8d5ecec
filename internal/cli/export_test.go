package cli

import (
	"github.com/spf13/cobra"
)

// LeafCommands lists the path of every command without subcommands ("user add",
// "audit prune", "serve"), without "twofold", so that a test can require a case for each.
func LeafCommands() []string {
	var paths []string
	var walk func(cmd *cobra.Command, prefix string)
	walk = func(cmd *cobra.Command, prefix string) {
		for _, sub := range cmd.Commands() {
			if !sub.HasSubCommands() {
				paths = append(paths, prefix+sub.Name())
			}
			walk(sub, prefix+sub.Name()+" ")
		}
	}
	walk((&env{}).rootCommand(), "")
	return paths
}
