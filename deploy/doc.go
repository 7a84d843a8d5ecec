// Package deploy holds the deployment files (the systemd unit) and the tests that check them.
package deploy
