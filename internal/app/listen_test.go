package app

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestListenClosesConnectionsBeyondTheCap: with a cap of N, the N+1th connection is
// closed as soon as it is accepted (it does not wait in a queue holding a descriptor),
// the first N keep being served, and a new connection is served once they close.
func TestListenClosesConnectionsBeyondTheCap(t *testing.T) {
	const max = 3
	log := &lockedBuffer{}
	ln, err := Listen("127.0.0.1:0", max, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
		slog.New(slog.DiscardHandler), time.Minute)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()

	var open []net.Conn
	for i := range max {
		c := dial(t, addr)
		if err := roundTrip(c); err != nil {
			t.Fatalf("connection %d of %d was not served: %v", i+1, max, err)
		}
		open = append(open, c)
	}

	if err := refused(addr); err != nil {
		t.Fatalf("connection %d (over the cap of %d): %v", max+1, max, err)
	}

	for i, c := range open {
		if err := roundTrip(c); err != nil {
			t.Fatalf("connection %d stopped being served after the cap was reached: %v", i+1, err)
		}
	}
	if !strings.Contains(log.String(), "server.max_connections") || !strings.Contains(log.String(), "refused=1") {
		t.Errorf("no warning about the refused connection in the log:\n%s", log.String())
	}

	// Once the first N close, the server takes connections again. Closing is seen by the
	// server a moment later, so try until one is served.
	for _, c := range open {
		c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial(t, addr)
		err := roundTrip(c)
		c.Close()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection served 10s after the open ones closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer the server's goroutine writes and the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends one keep-alive request on c and reads the answer.
func roundTrip(c net.Conn) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: twofold.test\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// refused connects to addr and reads until the server closes the connection (the reset
// may even reach the client before its connect returns); an error when it stays open.
func refused(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	switch {
	case err == nil:
		return errors.New("the server sent data instead of closing")
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errors.New("still open after 10s, want closed at once")
	}
	return err
}
