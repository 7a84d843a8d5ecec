package config

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twofold-id/twofold/internal/apperr"
)

// applyMetricsEnv reads TWOFOLD_SERVER_METRICS_ADDR and TWOFOLD_SERVER_PPROF.
func (c *Config) applyMetricsEnv(getenv func(string) string) []error {
	if v := getenv("TWOFOLD_SERVER_METRICS_ADDR"); v != "" {
		c.Server.MetricsAddr = v
	}
	if v := getenv("TWOFOLD_SERVER_PPROF"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return []error{fmt.Errorf("TWOFOLD_SERVER_PPROF: %s is not true or false", apperr.Quote(v))}
		}
		c.Server.Pprof = b
	}
	return nil
}

// validateMetrics checks the metrics listener: a host:port of its own, never the public
// listener's, and pprof only on it.
func (c *Config) validateMetrics() []error {
	var p []error
	s := c.Server
	if s.MetricsAddr == "" {
		if s.Pprof {
			p = append(p, fmt.Errorf("server.pprof: needs server.metrics_addr (pprof is served there, never on the public listener)"))
		}
		return p
	}
	if _, port, err := net.SplitHostPort(s.MetricsAddr); err != nil {
		p = append(p, fmt.Errorf("server.metrics_addr: %s is not host:port", apperr.Quote(s.MetricsAddr)))
	} else if s.MetricsAddr == s.Addr && port != "0" {
		p = append(p, fmt.Errorf("server.metrics_addr: %s is server.addr: the metrics need a listener of their own", apperr.Quote(s.MetricsAddr)))
	}
	return p
}
