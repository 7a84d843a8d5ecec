package app

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Listen opens the TCP listener for addr that serves at most n connections at once. A
// connection beyond them is closed as soon as it is accepted, so a flood of idle
// connections costs one descriptor each for an instant instead of exhausting them, and
// the connections already open keep being served. (x/net/netutil.LimitListener waits
// instead, leaving the excess to pile up in the kernel's queue.) Refusals are logged as a
// warning at most once a minute, with their count.
func Listen(addr string, n int, log *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return LimitListener(ln, n, log), nil
}

// LimitListener wraps ln so that at most n of its connections are open at once; n
// below 1 means 1.
func LimitListener(ln net.Listener, n int, log *slog.Logger) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max(1, n)), log: log}
}

type limitListener struct {
	net.Listener
	slots chan struct{} // one element per open connection
	log   *slog.Logger

	mu       sync.Mutex
	refused  int       // since the last warning
	warnedAt time.Time // zero: never
}

// refuse counts a refused connection and warns when the last warning is a minute old.
func (l *limitListener) refuse() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refused++
	if now := time.Now(); l.warnedAt.IsZero() || now.Sub(l.warnedAt) >= time.Minute {
		l.log.Warn("connections refused: server.max_connections are open", "max_connections", cap(l.slots), "refused", l.refused)
		l.refused, l.warnedAt = 0, now
	}
}

// Accept returns the next connection within the limit, closing those beyond it.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			// Count and warn before the reset, so the warning is in the log by the time
			// the refused client sees its connection end.
			l.refuse()
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // reset: no FIN_WAIT state kept for a refused connection
			}
			_ = c.Close()
		}
	}
}

// limitedConn gives its slot back when closed, once however often Close is called.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
