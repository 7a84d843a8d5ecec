package cli

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// accessLine is an access log line as log.format json writes it.
type accessLine struct {
	Msg       string  `json:"msg"`
	Level     string  `json:"level"`
	Method    string  `json:"method"`
	Route     string  `json:"route"`
	Status    int     `json:"status"`
	Duration  float64 `json:"duration"`
	Client    string  `json:"client"`
	RequestID string  `json:"request_id"`
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestServeAccessLog: with log.format json every line of serve's log is a JSON object, each
// request gets one access line with its route pattern (never the path or query, which hold
// tokens and codes), status, duration, client address and request id; a plain X-Request-Id
// is echoed and used, a hostile one replaced by a generated id, and the request id is on the
// request's other log lines too.
func TestServeAccessLog(t *testing.T) {
	cfg := testConfig(t)
	cfg.Log.Format = "json"
	cfg.Log.Level = "debug"
	cfg.Limits.SignInPerSecond, cfg.Limits.SignInBurst = 0.001, 1
	s := startServe(t, cfg)

	do := func(method, path, requestID string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, s.base+path, strings.NewReader(`{"username":"nobody","password":"SECRET-PASSWORD"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if requestID != "" {
			req.Header.Set("X-Request-Id", requestID)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp
	}

	secret := do("GET", "/setup?token=SECRET&code=123456", "setup-1")
	if got := secret.Header.Get("X-Request-Id"); got != "setup-1" {
		t.Errorf("X-Request-Id sent back = %q, want the request's setup-1", got)
	}
	none := do("GET", "/register/confirm?token=SECRET", "")
	generated := none.Header.Get("X-Request-Id")
	if !generatedID.MatchString(generated) {
		t.Errorf("X-Request-Id generated = %q, want 32 hex digits", generated)
	}
	hostile := strings.Repeat("x", 65)
	var hostileIDs []string
	for _, id := range []string{hostile, "a b", "<script>", "id;drop", "ü-id"} {
		got := do("GET", "/healthz", id).Header.Get("X-Request-Id")
		if !generatedID.MatchString(got) {
			t.Errorf("X-Request-Id %q answered with %q, want a generated id in its place", id, got)
		}
		hostileIDs = append(hostileIDs, got)
	}
	longMethod := strings.Repeat("M", 5000)
	if got := do(longMethod, "/healthz", "long-method").StatusCode; got != http.StatusMethodNotAllowed {
		t.Errorf("a 5,000-byte method = %d, want 405", got)
	}
	do("POST", "/api/v1/login?code=123456", "login-1")
	if got := do("POST", "/api/v1/login?code=123456", "login-2").StatusCode; got != http.StatusTooManyRequests {
		t.Fatalf("second sign-in at a burst of 1 = %d, want 429", got)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}

	log := s.stderr.String()
	for _, leak := range []string{"SECRET", "123456", "?token", hostile, "<script>", "a b", strings.Repeat("M", 21)} {
		if strings.Contains(log, leak) {
			t.Errorf("the log holds %q:\n%s", leak, log)
		}
	}
	access := map[string]accessLine{}
	rateLimitedLine := false
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var l accessLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("log line is not JSON (%v): %s", err, line)
			continue
		}
		if l.Msg == "request" {
			access[l.RequestID] = l
		}
		if l.Msg == "rate limited" && l.RequestID == "login-2" {
			rateLimitedLine = true
		}
	}
	want := map[string]accessLine{
		"setup-1": {Method: "GET", Route: "GET /setup"},
		generated: {Method: "GET", Route: "GET /register/confirm"},
		"login-1": {Method: "POST", Route: "POST /api/v1/login"},
		"login-2": {Method: "POST", Route: "POST /api/v1/login", Status: http.StatusTooManyRequests},
	}
	want["long-method"] = accessLine{Method: strings.Repeat("M", 20) + "…", Route: "/", Status: http.StatusMethodNotAllowed} // the fallback that answers 404 and 405
	for _, id := range hostileIDs {
		want[id] = accessLine{Method: "GET", Route: "GET /healthz", Status: http.StatusOK}
	}
	for id, w := range want {
		l, ok := access[id]
		if !ok {
			t.Errorf("no access line with request_id %q", id)
			continue
		}
		if l.Method != w.Method || l.Route != w.Route || (w.Status != 0 && l.Status != w.Status) ||
			l.Status == 0 || l.Client != "127.0.0.1" || l.Duration <= 0 || l.Level != "INFO" {
			t.Errorf("access line of %s = %+v, want method %s, route %q, status %d, client 127.0.0.1, a duration", id, l, w.Method, w.Route, w.Status)
		}
	}
	if !rateLimitedLine {
		t.Errorf("the rate limiter's line of the refused request does not carry its request id login-2:\n%s", log)
	}
}
