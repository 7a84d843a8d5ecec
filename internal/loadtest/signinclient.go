package loadtest

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// signInTimeout bounds one request of a sign-in client, as http.Client.Timeout does for
// the other scenarios' clients.
const signInTimeout = 30 * time.Second

// signInConn is a sign-in client's own HTTP/1.1 connection to the server, kept alive
// from request to request: the request is written and the answer read by the worker's
// goroutine alone. The sign-in scenarios use it instead of net/http's client, whose
// transport hands every request to a writing and a reading goroutine and back, and whose
// cookie jar and timeout add per request: on 2 cores, whatever CPU the load generator
// spends is taken from the server's hashes, which the scenarios measure against the raw
// bound. The requests are what a browser's fetch sends and the server checks them all.
type signInConn struct {
	ctx  context.Context // the whole run: ending it closes the connection
	host string          // host:port
	c    net.Conn
	br   *bufio.Reader
	buf  []byte // the request being written
	stop func() bool
}

func newSignInConn(ctx context.Context, base string) (*signInConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	return &signInConn{ctx: ctx, host: u.Host}, nil
}

// post sends a POST of the JSON body to path with the cookies of the jar, reads the whole
// answer, keeps the cookies it sets in the jar and returns its status and Retry-After.
// A connection the server closes, or one that failed, is dialled again at the next post.
func (h *signInConn) post(path string, body []byte, jar *cookies, forwarded string) (status int, retry time.Duration, err error) {
	if h.c == nil {
		if err := h.dial(); err != nil {
			return 0, 0, err
		}
	}
	status, retry, keep, err := h.roundTrip(path, body, jar, forwarded)
	if err != nil || !keep {
		h.close()
	}
	return status, retry, err
}

func (h *signInConn) dial() error {
	var d net.Dialer
	c, err := d.DialContext(h.ctx, "tcp", h.host)
	if err != nil {
		return err
	}
	h.c, h.br = c, bufio.NewReader(c)
	h.stop = context.AfterFunc(h.ctx, func() { c.Close() })
	return nil
}

func (h *signInConn) close() {
	if h.c != nil {
		h.stop()
		h.c.Close()
		h.c, h.br = nil, nil
	}
}

func (h *signInConn) roundTrip(path string, body []byte, jar *cookies, forwarded string) (status int, retry time.Duration, keep bool, err error) {
	if err := h.c.SetDeadline(time.Now().Add(signInTimeout)); err != nil {
		return 0, 0, false, err
	}
	b := append(h.buf[:0], "POST "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, h.host...)
	b = append(b, "\r\nUser-Agent: twofold-load\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n"...)
	if len(jar.list) > 0 {
		b = append(b, "Cookie: "...)
		for i, c := range jar.list {
			if i > 0 {
				b = append(b, "; "...)
			}
			b = append(b, c.Name...)
			b = append(b, '=')
			b = append(b, c.Value...)
		}
		b = append(b, "\r\n"...)
	}
	if forwarded != "" {
		b = append(b, "X-Forwarded-For: "...)
		b = append(b, forwarded...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, body...)
	h.buf = b
	if _, err := h.c.Write(b); err != nil {
		return 0, 0, false, err
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		return 0, 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, 0, false, err
	}
	jar.set(resp.Cookies())
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		retry = time.Duration(s) * time.Second
	}
	return resp.StatusCode, retry, !resp.Close, nil
}

// post is send over a sign-in client's own connection.
func (w *worker) post(h *signInConn, i int, ep endpoint, body []byte, jar *cookies) answer {
	t0 := time.Now()
	a := answer{status: transportError}
	if st, retry, err := h.post(ep.path, body, jar, w.forwarded); err == nil {
		a = answer{status: st, retry: retry}
	}
	w.recs[i].add(a.status, time.Since(t0))
	return a
}

// cookies are the cookies one browser holds for the server: each set replaces the one
// of its name; an expired one (Max-Age < 0) goes.
type cookies struct {
	list []*http.Cookie
}

func (j *cookies) set(set []*http.Cookie) {
	for _, c := range set {
		kept := j.list[:0]
		for _, o := range j.list {
			if o.Name != c.Name {
				kept = append(kept, o)
			}
		}
		j.list = kept
		if c.MaxAge >= 0 && (c.Expires.IsZero() || c.Expires.After(time.Now())) {
			j.list = append(j.list, c)
		}
	}
}
