package cli

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeAppliesConnectionSettings: server.max_connections and server.idle_timeout reach
// the listener and the HTTP server that `serve` opens.
func TestServeAppliesConnectionSettings(t *testing.T) {
	cfg := testConfig(t)
	cfg.Server.MaxConnections = 2
	cfg.Server.IdleTimeout = 300 * time.Millisecond
	s := startServe(t, cfg)
	addr := strings.TrimPrefix(s.base, "http://")

	first, second := dialServed(t, addr), dialServed(t, addr)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		defer c.Close()
		err = readUntilClosed(c)
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("a third connection with server.max_connections 2: %v", err)
	}

	// Both open connections sit idle: the server closes them after server.idle_timeout
	// (the default of 30s would outlast the 10s this waits).
	for _, c := range []net.Conn{first, second} {
		if err := readUntilClosed(c); err != nil {
			t.Fatalf("idle connection with server.idle_timeout 300ms: %v", err)
		}
	}
	if code, _ := get(t, s.base+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz after the idle connections closed = %d", code)
	}
}

// dialServed opens a connection to addr and has one request answered on it.
func dialServed(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: twofold.test\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a connection within the limit was not served: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c
}

// readUntilClosed waits up to 10s for the server to close c.
func readUntilClosed(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	switch {
	case err == nil:
		return errors.New("the server sent data instead of closing")
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errors.New("still open after 10s")
	}
	return err
}
