package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
)

// syncBuffer is a bytes.Buffer that the server's goroutines and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testConfig listens on a free loopback port with cheap password hashing.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Password.Argon2 = config.Argon2{MemoryKiB: 8192, Iterations: 1, Parallelism: 1}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// server is a running serve call.
type server struct {
	base           string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
}

// startServe runs e.serve in the background and waits until it is listening.
func startServe(t *testing.T, cfg *config.Config) *server {
	t.Helper()
	return startServeWith(t, cfg, nil)
}

// startServeWith is startServe with the command's environment adjusted by adjust.
func startServeWith(t *testing.T, cfg *config.Config, adjust func(*env)) *server {
	t.Helper()
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	e := &env{stdin: strings.NewReader(""), stdout: s.stdout, stderr: s.stderr, getenv: func(string) string { return "" }}
	if adjust != nil {
		adjust(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	ready := make(chan string, 1)
	go func() { s.done <- e.serve(ctx, cfg, func(base string) { ready <- base }) }()
	select {
	case s.base = <-ready:
	case err := <-s.done:
		cancel()
		t.Fatalf("serve returned before it was ready: %v\nstderr: %s", err, s.stderr)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve was not ready after 30s\nstderr: %s", s.stderr)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
		}
	})
	return s
}

// stop cancels serve's context and returns what serve returned.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not return within 30s of the context ending\nstderr: %s", s.stderr)
		return nil
	}
}

var client = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

var setupLink = regexp.MustCompile(`(http://\S+/setup\?token=\S+)`)

func TestServe(t *testing.T) {
	cfg := testConfig(t)
	s := startServe(t, cfg)
	if !strings.HasPrefix(s.base, "http://127.0.0.1:") || strings.HasSuffix(s.base, ":0") {
		t.Fatalf("ready got base URL %q, want the real loopback port", s.base)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, s.base+path); code != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", path, code, body)
		}
	}

	m := setupLink.FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no setup link on stdout:\n%s", s.stdout)
	}
	link := m[1]
	if !strings.HasPrefix(link, s.base+"/setup?token=") {
		t.Errorf("setup link %q does not point at the server %s", link, s.base)
	}
	code, body := get(t, link)
	if code != http.StatusOK || !strings.Contains(body, "Create the first administrator") {
		t.Fatalf("GET setup link = %d, want 200 with the setup form:\n%s", code, body)
	}
	if code, _ := get(t, s.base+"/setup?token=not-the-token"); code == http.StatusOK {
		t.Error("a made-up setup token was accepted")
	}

	// The link creates the first administrator once.
	token := strings.TrimPrefix(link, s.base+"/setup?token=")
	resp, err := client.PostForm(s.base+"/setup", url.Values{
		"token": {token}, "username": {"root"}, "email": {"root@example.com"},
		"password": {"violet tangerine quarry ledger 7"}, "confirm_password": {"violet tangerine quarry ledger 7"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("POST /setup = %d, want a redirect to the login page", resp.StatusCode)
	}
	if code, _ := get(t, link); code == http.StatusOK {
		t.Error("the setup link still works after the administrator was created")
	}

	if err := s.stop(t); err != nil {
		t.Fatalf("serve returned %v after the context ended, want nil (graceful shutdown)", err)
	}
	if _, err := client.Get(s.base + "/healthz"); err == nil {
		t.Error("the server still answers after serve returned")
	}
	if log := s.stderr.String(); !strings.Contains(log, "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", log)
	}

	t.Run("no setup link once an administrator exists", func(t *testing.T) {
		s := startServe(t, cfg)
		if strings.Contains(s.stdout.String(), "/setup?token=") {
			t.Errorf("a setup link was printed although an administrator exists:\n%s", s.stdout)
		}
		if code, _ := get(t, s.base+"/healthz"); code != http.StatusOK {
			t.Errorf("GET /healthz = %d", code)
		}
		if err := s.stop(t); err != nil {
			t.Fatalf("serve: %v", err)
		}
	})
}

func TestServeRefusesBusyAddress(t *testing.T) {
	first := startServe(t, testConfig(t))
	cfg := testConfig(t)
	cfg.Server.Addr = strings.TrimPrefix(first.base, "http://")
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	err := e.serve(context.Background(), cfg, func(string) { t.Error("ready called for an address in use") })
	if err == nil || !strings.Contains(err.Error(), "listen on "+cfg.Server.Addr) {
		t.Fatalf("serve on a busy address = %v, want a listen error naming it", err)
	}
}
