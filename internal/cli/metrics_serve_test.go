package cli

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var metricsAddr = regexp.MustCompile(`serving metrics at /metrics" addr=(\S+)`)

// TestServeMetricsListener: with server.metrics_addr, serve opens a second listener for
// /metrics (and pprof with server.pprof); the public listener serves neither.
func TestServeMetricsListener(t *testing.T) {
	cfg := testConfig(t)
	cfg.Server.MetricsAddr, cfg.Server.Pprof = "127.0.0.1:0", true
	s := startServe(t, cfg)
	m := metricsAddr.FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("serve did not log the metrics listener:\n%s", s.stderr)
	}
	metrics := "http://" + m[1]
	if metrics == s.base {
		t.Fatalf("the metrics share the public listener %s", s.base)
	}
	get(t, s.base+"/healthz")
	code, body := get(t, metrics+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `twofold_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Fatalf("GET /metrics = %d:\n%.3000s", code, body)
	}
	if code, _ := get(t, metrics+"/debug/pprof/"); code != http.StatusOK {
		t.Errorf("GET /debug/pprof/ on the metrics listener = %d", code)
	}
	for _, p := range []string{"/metrics", "/debug/pprof/"} {
		if code, _ := get(t, s.base+p); code != http.StatusNotFound {
			t.Errorf("GET %s on the public listener = %d, want 404", p, code)
		}
	}
}

// TestServeWarnsAboutMetricsOnEveryNetwork: a metrics listener on every network is
// allowed, with a warning at start; one on loopback is not warned about.
func TestServeWarnsAboutMetricsOnEveryNetwork(t *testing.T) {
	for _, tc := range []struct {
		addr string
		warn bool
	}{{":0", true}, {"127.0.0.1:0", false}} {
		cfg := testConfig(t)
		cfg.Server.MetricsAddr = tc.addr
		s := startServe(t, cfg)
		if got := strings.Contains(s.stderr.String(), "server.metrics_addr listens on every network"); got != tc.warn {
			t.Errorf("metrics_addr %s: warned %v, want %v\n%s", tc.addr, got, tc.warn, s.stderr)
		}
	}
}
