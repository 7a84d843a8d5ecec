// Package cli holds twofold's command line: serve, migrate, user and audit commands.
package cli
