package config_test

import (
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
)

// TestMetricsSettings: the metrics listener is off by default, set from the file or the
// environment, and never the public listener; pprof needs it.
func TestMetricsSettings(t *testing.T) {
	if c := config.Default(); c.Server.MetricsAddr != "" || c.Server.Pprof {
		t.Fatalf("metrics on by default: %+v", c.Server)
	}
	c := mustLoad(t, "server:\n  metrics_addr: 127.0.0.1:9464\n  pprof: true\n", noEnv)
	if c.Server.MetricsAddr != "127.0.0.1:9464" || !c.Server.Pprof {
		t.Fatalf("from the file: %+v", c.Server)
	}
	c = mustLoad(t, "", env(map[string]string{"TWOFOLD_SERVER_METRICS_ADDR": "[::1]:9000", "TWOFOLD_SERVER_PPROF": "1"}))
	if c.Server.MetricsAddr != "[::1]:9000" || !c.Server.Pprof {
		t.Fatalf("from the environment: %+v", c.Server)
	}
	if _, err := config.Load("", env(map[string]string{"TWOFOLD_SERVER_PPROF": "maybe"})); err == nil ||
		!strings.Contains(err.Error(), "TWOFOLD_SERVER_PPROF") {
		t.Fatalf("TWOFOLD_SERVER_PPROF=maybe: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*config.Config)
		bad    string // fragment of the problem; empty when valid
	}{
		{"metrics on", func(c *config.Config) { c.Server.MetricsAddr = "127.0.0.1:9464" }, ""},
		{"metrics and pprof", func(c *config.Config) { c.Server.MetricsAddr, c.Server.Pprof = "127.0.0.1:9464", true }, ""},
		{"pprof without metrics", func(c *config.Config) { c.Server.Pprof = true }, "server.pprof"},
		{"metrics not host:port", func(c *config.Config) { c.Server.MetricsAddr = "9464" }, "server.metrics_addr"},
		{"metrics on the public listener", func(c *config.Config) { c.Server.MetricsAddr = c.Server.Addr }, "server.metrics_addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.change(c)
			err := c.Validate()
			if tc.bad == "" && err != nil {
				t.Fatalf("valid setting refused: %v", err)
			}
			if tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)) {
				t.Fatalf("problem = %v, want one about %s", err, tc.bad)
			}
		})
	}
}
