// Command twofold is a self-hosted identity server with multi-factor authentication.
package main

import (
	"context"
	"os"

	"github.com/twofold-id/twofold/internal/cli"
)

func main() { os.Exit(cli.Run(context.Background())) }
