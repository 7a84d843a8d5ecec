package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
)

// getStatus fetches url and returns the status and the body.
func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsOnlyOnTheirListener: /metrics and /debug/pprof/ are served on the metrics
// listener (pprof only with server.pprof), never on the public one, however asked.
func TestMetricsOnlyOnTheirListener(t *testing.T) {
	withPprof := testserver.New(t, testserver.Options{Metrics: true, Config: func(c *config.Config) { c.Server.Pprof = true }})
	plain := testserver.New(t, testserver.Options{Metrics: true})
	off := testserver.New(t, testserver.Options{})
	if off.MetricsURL != "" {
		t.Fatalf("metrics listener without server.metrics_addr: %s", off.MetricsURL)
	}
	for _, s := range []*testserver.Server{withPprof, plain, off} {
		for _, p := range []string{"/metrics", "/metrics/", "/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap", "/api/metrics"} {
			if code, body := getStatus(t, s.URL+p); code != http.StatusNotFound {
				t.Errorf("public GET %s = %d, want 404: %.200s", p, code, body)
			}
		}
	}
	code, body := getStatus(t, withPprof.MetricsURL+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, "# TYPE twofold_http_requests_total counter") ||
		!strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_resident_memory_bytes") {
		t.Fatalf("GET /metrics on the metrics listener = %d:\n%.2000s", code, body)
	}
	if code, _ := getStatus(t, withPprof.MetricsURL+"/debug/pprof/"); code != http.StatusOK {
		t.Errorf("GET /debug/pprof/ with server.pprof = %d", code)
	}
	if code, _ := getStatus(t, plain.MetricsURL+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ without server.pprof = %d, want 404", code)
	}
}

// TestMetricsCountRequestsByRoute: requests count under their route's pattern, method and
// status, with their duration; paths no route serves count under the catch-all route, so
// a client cannot add series by asking for new paths.
func TestMetricsCountRequestsByRoute(t *testing.T) {
	s := testserver.New(t, testserver.Options{Metrics: true})
	c := s.Client(t)
	for range 3 {
		c.Get("/healthz")
	}
	c.Get("/api/v1/session") // 401 without a session
	for _, p := range []string{"/no-such-page", "/no/such/page?token=secret", "/api/v1/no-such-endpoint", "/api/v1/no-such-thing"} {
		c.Get(p)
	}
	c.Do("BREW", "/healthz", "", nil)
	sc := s.Scrape(t)
	const reqs = "twofold_http_requests_total"
	for _, tc := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"route", "/healthz", "method", "GET", "status", "200"}, 3},
		{[]string{"route", "/api/v1/session", "method", "GET", "status", "401"}, 1},
		{[]string{"route", "/", "method", "GET", "status", "404"}, 2},
		{[]string{"route", "/api/", "method", "GET", "status", "404"}, 2},
	} {
		if got := sc.Value(reqs, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", reqs, tc.labels, got, tc.want)
		}
	}
	if got := sc.Value("twofold_http_request_duration_seconds", "route", "/healthz", "method", "GET"); got != 3 {
		t.Errorf("duration observations of GET /healthz = %v, want 3", got)
	}
	if got := sc.Value(reqs, "method", "other"); got != 1 {
		t.Errorf("requests with an invented method counted under method=other: %v, want 1", got)
	}
	for _, name := range []string{reqs, "twofold_http_request_duration_seconds"} {
		for _, m := range sc.Series(name) {
			for _, l := range m.Label {
				if v := l.GetValue(); strings.Contains(v, "such") || strings.Contains(v, "token=secret") || v == "BREW" {
					t.Errorf("%s has a label from the request: %s=%q", name, l.GetName(), v)
				}
			}
		}
	}
}
