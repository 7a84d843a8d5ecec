package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/totp"
)

// wrongPasswordThrottle is the failure budget of the wrong-password scenario: as many free
// attempts as the policy allows (100, the NIST limit), so the scenario measures checked
// attempts rather than 429s. Each known name is also tried at most wrongPerName times.
var wrongPasswordThrottle = func() throttle.Policy {
	p := throttle.Default
	p.FreeAttempts = p.MaxFailures
	return p
}()

const wrongPerName = 99

// endpoint is a request kind of a scenario and the status it should get.
type endpoint struct {
	name     string
	method   string
	path     string
	expected int
}

var (
	epLogin   = endpoint{"POST /api/v1/login", http.MethodPost, "/api/v1/login", http.StatusOK}
	epTOTP    = endpoint{"POST /api/v1/login/totp", http.MethodPost, "/api/v1/login/totp", http.StatusOK}
	epSession = endpoint{"GET /api/v1/session", http.MethodGet, "/api/v1/session", http.StatusOK}
	epWrong   = endpoint{"POST /api/v1/login (wrong)", http.MethodPost, "/api/v1/login", http.StatusUnauthorized}
)

// worker is one load goroutine: its own random source and recorders, one per endpoint.
type worker struct {
	id   int
	base string
	rng  *rand.Rand
	recs []*recorder
}

// do sends one request to endpoint ep (index i of the scenario's endpoints) and records
// its status and latency. The request runs to its end even after the scenario's time is
// up; only ctx (the whole run) cancels it.
func (w *worker) do(ctx context.Context, c *http.Client, i int, ep endpoint, body any) int {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, ep.method, w.base+ep.path, rd)
	if err != nil {
		panic(err) // the harness builds every URL
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	status := transportError
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil {
			status = resp.StatusCode
		}
	}
	w.recs[i].add(status, time.Since(t0))
	return status
}

// drive runs workers that call step until the scenario's time is up, step returns false,
// or a worker made max calls, and returns the time from start until the last worker ended.
func drive(ctx context.Context, c Config, base string, eps int, step func(ctx context.Context, w *worker) bool) (time.Duration, [][]*recorder) {
	deadline, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	recs := make([][]*recorder, eps)
	workers := make([]*worker, c.Concurrency)
	for i := range workers {
		w := &worker{id: i, base: base, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		for e := range eps {
			r := &recorder{}
			w.recs = append(w.recs, r)
			recs[e] = append(recs[e], r)
		}
		workers[i] = w
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < c.MaxRequests && deadline.Err() == nil; n++ {
				if !step(deadline, w) {
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), recs
}

func runScenario(ctx context.Context, name string, b *backend, users []user, c Config) (*Result, error) {
	switch name {
	case ScenarioSignIn:
		return signIn(ctx, b, users, c)
	case ScenarioSession:
		return session(ctx, b, users, c)
	case ScenarioWrongPassword:
		return wrongPassword(ctx, b, users, c)
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

// signIn: the full JSON sign-in, password then authenticator code. Each user signs in at
// most once per TOTP step (the rota moves the clock when all have), each with a cookie
// jar of its own that keeps the last session, as a returning browser does.
func signIn(ctx context.Context, b *backend, users []user, c Config) (*Result, error) {
	in, err := b.start(nil)
	if err != nil {
		return nil, err
	}
	defer in.stop()
	tr := newTransport(c.Concurrency)
	defer tr.CloseIdleConnections()
	clients := make([]*http.Client, len(users))
	for i := range clients {
		clients[i] = newClient(tr)
	}
	r := newRota(b.clock, len(users))
	var completed atomic.Int64
	elapsed, recs := drive(ctx, c, in.URL, 2, func(deadline context.Context, w *worker) bool {
		i, step, ok := r.acquire(deadline)
		if !ok {
			return false
		}
		defer r.release(i)
		u := users[i]
		if w.do(ctx, clients[i], 0, epLogin, map[string]string{"username": u.name, "password": userPassword}) != http.StatusOK {
			return true
		}
		if w.do(ctx, clients[i], 1, epTOTP, map[string]string{"code": totp.Code(u.secret, step)}) == http.StatusOK {
			completed.Add(1)
		}
		return true
	})
	return &Result{Name: ScenarioSignIn, Elapsed: elapsed, Completed: int(completed.Load()),
		Endpoints: []*Endpoint{merge(epLogin.name, epLogin.expected, recs[0]), merge(epTOTP.name, epTOTP.expected, recs[1])},
		Notes:     []string{fmt.Sprintf("production failure budget; each user signs in at most once per TOTP step: the clock moved %d steps", r.steps())},
	}, nil
}

// session: GET /api/v1/session with one authenticated session per user, made through the
// auth service beforehand; workers pick a user at random for each request.
func session(ctx context.Context, b *backend, users []user, c Config) (*Result, error) {
	in, err := b.start(nil)
	if err != nil {
		return nil, err
	}
	defer in.stop()
	tr := newTransport(c.Concurrency)
	defer tr.CloseIdleConnections()
	base, _ := url.Parse(in.URL)
	clients := make([]*http.Client, len(users))
	b.clock.nextStep() // a step in which no user has used a code yet
	step := totp.Step(b.clock.Now())
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.Concurrency)
	for i, u := range users {
		clients[i] = newClient(tr)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := in.Auth.Login(ctx, u.name, userPassword, setupMeta)
			if err != nil {
				errs[i] = fmt.Errorf("sign in %s: %w", u.name, err)
				return
			}
			tok, err := in.Auth.VerifyTOTP(ctx, res.Current, totp.Code(u.secret, step), setupMeta)
			if err != nil {
				errs[i] = fmt.Errorf("code of %s: %w", u.name, err)
				return
			}
			clients[i].Jar.SetCookies(base, []*http.Cookie{{Name: "twofold_session", Value: tok, Path: "/"}})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	elapsed, recs := drive(ctx, c, in.URL, 1, func(_ context.Context, w *worker) bool {
		w.do(ctx, clients[w.rng.IntN(len(clients))], 0, epSession, nil)
		return true
	})
	e := merge(epSession.name, epSession.expected, recs[0])
	return &Result{Name: ScenarioSession, Elapsed: elapsed, Completed: e.Requests, Endpoints: []*Endpoint{e},
		Notes: []string{fmt.Sprintf("%d sessions, picked at random; the clock stands still, so a session's last-seen time is written at most once", len(users))},
	}, nil
}

// wrongPassword: POST /api/v1/login with a wrong password, half for known names and half
// for names that match no account (a fresh one each time, so each has a budget of its own).
func wrongPassword(ctx context.Context, b *backend, users []user, c Config) (*Result, error) {
	in, err := b.start(&wrongPasswordThrottle)
	if err != nil {
		return nil, err
	}
	defer in.stop()
	tr := newTransport(c.Concurrency)
	defer tr.CloseIdleConnections()
	clients := make([]*http.Client, c.Concurrency)
	for i := range clients {
		clients[i] = newClient(tr)
	}
	tries := make([]atomic.Int64, len(users))
	var known, unknown, exhausted atomic.Int64
	elapsed, recs := drive(ctx, c, in.URL, 1, func(_ context.Context, w *worker) bool {
		name := ""
		if w.rng.IntN(2) == 0 {
			for range 8 { // a few random picks; a name out of budget is skipped
				i := w.rng.IntN(len(users))
				if tries[i].Add(1) <= wrongPerName {
					name = users[i].name
					break
				}
			}
			if name == "" {
				exhausted.Add(1)
			}
		}
		if name != "" {
			known.Add(1)
		} else {
			name = fmt.Sprintf("nobody%d-%d-%d", w.id, unknown.Add(1), w.rng.Uint32())
		}
		w.do(ctx, clients[w.id], 0, epWrong, map[string]string{"username": name, "password": "not the password 12345"})
		return true
	})
	notes := []string{
		fmt.Sprintf("failure budget raised to %d free attempts (the most the policy allows), each known name tried at most %d times; unknown names are all distinct",
			wrongPasswordThrottle.FreeAttempts, wrongPerName),
		fmt.Sprintf("%d attempts on known names, %d on unknown names", known.Load(), unknown.Load()),
	}
	if n := exhausted.Load(); n > 0 {
		notes = append(notes, fmt.Sprintf("%d attempts went to unknown names because the known ones were out of budget", n))
	}
	e := merge(epWrong.name, epWrong.expected, recs[0])
	return &Result{Name: ScenarioWrongPassword, Elapsed: elapsed, Completed: e.Requests, Endpoints: []*Endpoint{e}, Notes: notes}, nil
}
