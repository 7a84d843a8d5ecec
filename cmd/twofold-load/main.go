// Command twofold-load starts a twofold server on 127.0.0.1 and measures sign-in, session
// and wrong-password load over HTTP (see internal/loadtest and docs/performance.md).
package main

import (
	"os"

	"github.com/twofold-id/twofold/internal/loadtest"
)

func main() { os.Exit(loadtest.Main(os.Args[1:], os.Stdout, os.Stderr)) }
