// Package deploy holds the deployment files (the systemd unit, the Prometheus alert rules
// and the Grafana dashboard) and the tests that check them.
package deploy
