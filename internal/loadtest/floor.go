package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
)

// floorAnswer is the answer of the floor server to every GET /api/v1/session: one that
// twofold gave, taken from a twofold server just before (fetchSession).
type floorAnswer struct {
	Status int `json:"status"`
	// Header is every header field of twofold's answer but Date, which net/http writes
	// itself; Content-Length among them, so the floor writes the same bytes.
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// ServeHTTP writes the answer to GET /api/v1/session and 404 to anything else: no
// middleware, no database, nothing but net/http.
func (a *floorAnswer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != epSession.path {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	for k, v := range a.Header {
		h[k] = v
	}
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}

// differs says how b differs from a in status, header fields and body ("": not at all).
func (a *floorAnswer) differs(b *floorAnswer) string {
	if a.Status != b.Status {
		return fmt.Sprintf("status %d, not %d", b.Status, a.Status)
	}
	if !bytes.Equal(a.Body, b.Body) {
		return fmt.Sprintf("a body of %d bytes, not the %d of twofold's", len(b.Body), len(a.Body))
	}
	keys := slices.Sorted(maps.Keys(a.Header))
	keys = append(keys, slices.Sorted(maps.Keys(b.Header))...)
	for _, k := range keys {
		if !slices.Equal(a.Header[k], b.Header[k]) {
			return fmt.Sprintf("header %s: %q, not %q", k, b.Header[k], a.Header[k])
		}
	}
	return ""
}

// fetchSession sends the session scenario's request with c to the server at base, naming
// the client address forwarded, and returns the whole answer.
func fetchSession(ctx context.Context, c *http.Client, base, forwarded string) (*floorAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, epSession.method, base+epSession.path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Forwarded-For", forwarded)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	h := resp.Header.Clone()
	h.Del("Date")
	return &floorAnswer{Status: resp.StatusCode, Header: h, Body: body}, nil
}

// serveFloor is the floor scenario's server process: a bare net/http server (no timeouts,
// no connection limit, no memory tuning) on 127.0.0.1 that gives spec.Floor to every GET
// /api/v1/session, until its standard input closes. Its control listener serves profiles;
// it has no clock to move.
func serveFloor(spec *childSpec, stdin io.Reader, stdout, _ io.Writer) error {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return err
	}
	var clockMS atomic.Int64
	return serveUntilStdinCloses(&http.Server{Handler: spec.Floor}, ln, spec.Profile, &clockMS, new(hashCPU), stdin, stdout)
}

// startFloor runs the floor server process with answer a.
func (b *backend) startFloor(a *floorAnswer) (*instance, error) {
	spec := &childSpec{Floor: a}
	var clientProfile string
	spec.Profile, clientProfile = b.profileFiles(ScenarioFloor)
	p, err := startProcess(spec, b.stderr)
	if err != nil {
		return nil, err
	}
	return &instance{URL: p.URL, proc: p, clock: b.clock, profiled: spec.Profile != "", clientProfile: clientProfile}, nil
}

// floor: the session scenario's clients and requests against a bare net/http server in a
// process of its own that gives every request twofold's answer to it (status, header
// fields and body, taken from a twofold server set up as the session scenario's just
// before), with no database and no middleware. Its server CPU per request is what net/http
// and the kernel cost on this machine; the session scenario's, less this, is twofold's own.
func floor(ctx context.Context, b *backend, users []user, c Config) (*Result, error) {
	tr := newTransport(c.Clients)
	defer tr.CloseIdleConnections()
	clients, answer, err := sessionAnswer(ctx, b, users, c.Clients, tr)
	if err != nil {
		return nil, err
	}
	tr.CloseIdleConnections() // their server is gone
	in, err := b.startFloor(answer)
	if err != nil {
		return nil, err
	}
	defer in.stop()
	got, err := fetchSession(ctx, clients[0], in.URL, "10.255.255.1")
	if err != nil {
		return nil, err
	}
	if d := answer.differs(got); d != "" {
		return nil, fmt.Errorf("the floor server answers otherwise than twofold: %s", d)
	}
	return sessionChecks(ctx, c, in, clients, ScenarioFloor,
		fmt.Sprintf("a bare net/http server (no database, no middleware) giving every request twofold's answer to it: status %d, a %d-byte body, header fields %s and Date; the session scenario's clients, each request from a random address in 10.0.0.0/8",
			answer.Status, len(answer.Body), strings.Join(slices.Sorted(maps.Keys(answer.Header)), ", ")))
}

// sessionAnswer signs n users in over HTTP on a twofold server set up as the session
// scenario's, takes its answer to one session check, stops it and returns the signed-in
// clients (their cookies hold for every port of 127.0.0.1) and the answer.
func sessionAnswer(ctx context.Context, b *backend, users []user, n int, tr *http.Transport) ([]*http.Client, *floorAnswer, error) {
	in, err := b.start(serverOptions{name: ScenarioFloor + "-twofold", productionLimits: true})
	if err != nil {
		return nil, nil, err
	}
	defer in.stop()
	clients, err := browsers(ctx, b, in, users, n, tr, true)
	if err != nil {
		return nil, nil, err
	}
	a, err := fetchSession(ctx, clients[0], in.URL, "10.255.255.1")
	if err != nil {
		return nil, nil, err
	}
	if a.Status != epSession.expected {
		return nil, nil, fmt.Errorf("twofold answered the session check with %d", a.Status)
	}
	return clients, a, nil
}
