package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
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
	busyOK   bool // 503 busy is expected too (a burst beyond the hash queue)
}

var (
	epLogin     = endpoint{"POST /api/v1/login", http.MethodPost, "/api/v1/login", http.StatusOK, false}
	epTOTP      = endpoint{"POST /api/v1/login/totp", http.MethodPost, "/api/v1/login/totp", http.StatusOK, false}
	epBurstPass = endpoint{"POST /api/v1/login", http.MethodPost, "/api/v1/login", http.StatusOK, true}
	epBurstCode = endpoint{"POST /api/v1/login/totp", http.MethodPost, "/api/v1/login/totp", http.StatusOK, true}
	epSession   = endpoint{"GET /api/v1/session", http.MethodGet, "/api/v1/session", http.StatusOK, false}
	epWrong     = endpoint{"POST /api/v1/login (wrong)", http.MethodPost, "/api/v1/login", http.StatusUnauthorized, false}
)

// worker is one load goroutine: its own random source and recorders, one per endpoint.
type worker struct {
	id   int
	base string
	rng  *rand.Rand
	recs []*recorder
	// forwarded names the client address in X-Forwarded-For (servers that believe the
	// loopback proxy); "" sends none.
	forwarded string
}

// answer is what do saw: the status, and Retry-After of a 503 busy.
type answer struct {
	status int
	retry  time.Duration
}

// do sends one request to endpoint ep (index i of the scenario's endpoints) and records
// its status and latency. The request runs to its end even after the scenario's time is
// up; only ctx (the whole run) cancels it.
func (w *worker) do(ctx context.Context, c *http.Client, i int, ep endpoint, body any) int {
	return w.send(ctx, c, i, ep, body).status
}

func (w *worker) send(ctx context.Context, c *http.Client, i int, ep endpoint, body any) answer {
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
	if w.forwarded != "" {
		req.Header.Set("X-Forwarded-For", w.forwarded)
	}
	t0 := time.Now()
	a := answer{status: transportError}
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil {
			a.status = resp.StatusCode
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			a.retry = time.Duration(s) * time.Second
		}
	}
	w.recs[i].add(a.status, time.Since(t0))
	return a
}

// randomAddress is a client address out of 10.0.0.0/8: the scenarios with the production
// rate limits name one per request, as many clients behind a proxy would.
func (w *worker) randomAddress() string {
	v := w.rng.Uint32()
	return fmt.Sprintf("10.%d.%d.%d", byte(v>>16), byte(v>>8), byte(v))
}

// drive runs n workers that call step until the scenario's time is up, step returns
// false, or a worker made max calls, and returns the time from start until the last worker
// ended. When forwarded is set, every worker names a client address of its own per request
// (randomAddress).
func drive(ctx context.Context, c Config, base string, n, eps int, forwarded bool, step func(ctx context.Context, w *worker) bool) (time.Duration, [][]*recorder) {
	deadline, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	recs := make([][]*recorder, eps)
	workers := make([]*worker, n)
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
			for k := 0; k < c.MaxRequests && deadline.Err() == nil; k++ {
				if forwarded {
					w.forwarded = w.randomAddress()
				}
				if !step(deadline, w) {
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), recs
}

// measured runs the scenario body against in and adds the server's CPU time over the run,
// its peak memory and the harness process's own CPU time over the run (its clients') to
// the result body returns.
func measured(in *instance, body func() (*Result, error)) (*Result, error) {
	if in.profiled {
		if err := in.proc.post("/profile/start"); err != nil {
			return nil, err
		}
	}
	// The hashes' totals before the server's CPU time and after, so that the control
	// requests asking for them are not in it.
	h0, err := in.proc.hashes()
	if err != nil {
		return nil, err
	}
	u0, err := in.proc.usage()
	if err != nil {
		return nil, err
	}
	if in.clientProfile != "" {
		f, err := os.Create(in.clientProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile() // a second stop does nothing
	}
	self0, err := selfCPU()
	if err != nil {
		return nil, err
	}
	var pg0 map[int]time.Duration
	if in.pg != nil {
		if pg0, err = in.pg.cpu(context.Background()); err != nil {
			return nil, err
		}
	}
	r, err := body()
	if err != nil {
		return nil, err
	}
	self1, err := selfCPU()
	if err != nil {
		return nil, err
	}
	r.ClientCPU = self1 - self0
	if in.clientProfile != "" {
		pprof.StopCPUProfile()
	}
	if in.profiled {
		if err := in.proc.post("/profile/stop"); err != nil {
			return nil, err
		}
	}
	u1, err := in.proc.usage()
	if err != nil {
		return nil, err
	}
	h1, err := in.proc.hashes()
	if err != nil {
		return nil, err
	}
	r.addServer(u0, u1)
	r.ServerHashes, r.ServerHashCPU = h1.Hashes-h0.Hashes, h1.CPU-h0.CPU
	if in.pg != nil {
		pg1, err := in.pg.cpu(context.Background())
		if err != nil {
			return nil, err
		}
		r.DatabaseCPU = since(pg0, pg1)
		started := 0
		for pid := range pg1 {
			if _, ok := pg0[pid]; !ok {
				started++
			}
		}
		r.Notes = append(r.Notes, fmt.Sprintf("PostgreSQL CPU: %d backends, %d of them started during the scenario (their start-up is counted)", len(pg1), started))
	}
	return r, nil
}

// runScenario runs the scenario name, which is not a sign-in scenario (Run runs those
// between measurements of the raw bound).
func runScenario(ctx context.Context, name string, b *backend, users []user, c Config) ([]*Result, error) {
	one := func(r *Result, err error) ([]*Result, error) {
		if err != nil {
			return nil, err
		}
		return []*Result{r}, nil
	}
	switch name {
	case ScenarioFloor:
		return one(floor(ctx, b, users, c))
	case ScenarioSession, ScenarioSessionTouch:
		return one(session(ctx, b, users, c, name))
	case ScenarioWrongPassword:
		return one(wrongPassword(ctx, b, users, c))
	case ScenarioRefresh:
		return one(refresh(ctx, b, users, c))
	case ScenarioCodeFlow:
		return one(codeFlow(ctx, b, users, c))
	case ScenarioCodeExchange:
		return codeExchange(ctx, b, users, c)
	case ScenarioAudit:
		return one(auditListing(ctx, b, b.seedUser, c))
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

// signIn: the full JSON sign-in, password then authenticator code, by n clients at once,
// on a fresh server process (so its peak memory is this scenario's). Each user signs in
// at most once per TOTP step (the rota moves the clock when all have), each with cookies
// of its own that keep the last session, as a returning browser does. A 503 busy (only
// expected in the burst scenarios) makes the client wait its Retry-After, as a
// well-behaved client does. The clients are lean (signInConn) and share one P of the
// harness's runtime, so that idle processors of the load generator do not spin for work
// on the cores the server hashes on.
func signIn(ctx context.Context, b *backend, users []user, c Config, name string, n int) (*Result, error) {
	in, err := b.start(serverOptions{name: name})
	if err != nil {
		return nil, err
	}
	defer in.stop()
	conns := make([]*signInConn, n)
	for i := range conns {
		if conns[i], err = newSignInConn(ctx, in.URL); err != nil {
			return nil, err
		}
		defer conns[i].close()
	}
	jars := make([]cookies, len(users))
	logins := make([][]byte, len(users))
	for i, u := range users {
		if logins[i], err = json.Marshal(credentials{u.name, userPassword}); err != nil {
			return nil, err
		}
	}
	pass, code := epLogin, epTOTP
	if name != ScenarioSignIn {
		pass, code = epBurstPass, epBurstCode
	}
	r := newRota(b.clock, len(users))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	return measured(in, func() (*Result, error) {
		var completed atomic.Int64
		elapsed, recs := drive(ctx, c, in.URL, n, 2, false, func(deadline context.Context, w *worker) bool {
			i, step, ok := r.acquire(deadline)
			if !ok {
				return false
			}
			h, jar := conns[w.id], &jars[i]
			a := w.post(h, 0, pass, logins[i], jar)
			if a.status == http.StatusOK {
				body := append(append([]byte(`{"code":"`), totp.Code(users[i].secret, step)...), `"}`...)
				a = w.post(h, 1, code, body, jar)
				if a.status == http.StatusOK {
					completed.Add(1)
				}
			}
			r.release(i)
			if a.status == http.StatusServiceUnavailable {
				sleep(deadline, a.retry)
			}
			return true
		})
		notes := []string{fmt.Sprintf("production failure budget; each user signs in at most once per TOTP step: the clock moved %d steps", r.steps())}
		if n > len(users) {
			notes = append(notes, fmt.Sprintf("only %d users: at most that many sign in at once", len(users)))
		}
		return &Result{Name: name, Concurrency: n, Elapsed: elapsed, Completed: int(completed.Load()),
			Endpoints: []*Endpoint{merge(pass, recs[0]), merge(code, recs[1])}, Notes: notes}, nil
	})
}

// credentials is the body of POST /api/v1/login.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// browsers signs n users in over HTTP (password and code, in a fresh TOTP step), each
// with a client of its own sharing tr, and returns the clients. With forwarded, each
// names a client address of its own.
func browsers(ctx context.Context, b *backend, in *instance, users []user, n int, tr *http.Transport, forwarded bool) ([]*http.Client, error) {
	n = min(n, len(users))
	b.clock.nextStep() // a step in which no user has used a code yet
	step := totp.Step(b.clock.Now())
	clients := make([]*http.Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		clients[i] = newClient(tr)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			w := &worker{base: in.URL, recs: []*recorder{{}}}
			if forwarded {
				w.forwarded = fmt.Sprintf("10.255.%d.%d", byte(i>>8), byte(i))
			}
			u := users[i]
			// A busy server (on a loaded machine) is asked again after its Retry-After.
			a := answer{status: http.StatusServiceUnavailable}
			for try := 0; try < 30 && a.status == http.StatusServiceUnavailable; try++ {
				if a = w.send(ctx, clients[i], 0, epLogin, map[string]string{"username": u.name, "password": userPassword}); a.status == http.StatusServiceUnavailable {
					sleep(ctx, a.retry)
				}
			}
			if a.status != http.StatusOK {
				errs[i] = fmt.Errorf("sign in %s: status %d", u.name, a.status)
				return
			}
			if st := w.do(ctx, clients[i], 0, epTOTP, map[string]string{"code": totp.Code(u.secret, step)}); st != http.StatusOK {
				errs[i] = fmt.Errorf("code of %s: status %d", u.name, st)
			}
		}()
	}
	wg.Wait()
	return clients, errors.Join(errs...)
}

// session: GET /api/v1/session with one authenticated session per user (up to
// sessionUsers), signed in over HTTP beforehand; clients pick a session at random for each
// request and name a random client address, with the production rate limits. name is
// ScenarioSession, or ScenarioSessionTouch for the same while sessions are touched
// (touchingChecks).
func session(ctx context.Context, b *backend, users []user, c Config, name string) (*Result, error) {
	in, err := b.start(serverOptions{name: name, productionLimits: true})
	if err != nil {
		return nil, err
	}
	defer in.stop()
	tr := newTransport(c.Clients)
	defer tr.CloseIdleConnections()
	clients, err := browsers(ctx, b, in, users, sessionUsers, tr, true)
	if err != nil {
		return nil, err
	}
	if name == ScenarioSessionTouch {
		return touchingChecks(ctx, b, in, clients, c)
	}
	return sessionChecks(ctx, c, in, clients, ScenarioSession,
		fmt.Sprintf("%d sessions, picked at random; production rate limits, each request from a random address in 10.0.0.0/8 (X-Forwarded-For from a trusted proxy on 127.0.0.1); the clock stands still, so a session's last-seen time is written at most once", len(clients)))
}

// touchingChecks: the session scenario's checks while the clock moves a minute every second, so each
// session's last-seen time comes due once a second and the server writes it (at once on
// PostgreSQL, in a batch every 5 seconds on SQLite): 128 sessions touched a second are the
// writes of about 7,700 signed-in users who make a request a minute, however many instances
// serve them. As a deployment's users' are, the sessions' last-seen times are spread over
// the minute beforehand (one request each, the clock moved a 128th of a minute between
// them), and the clock moves in steps of a hundredth of that minute, so the touches come
// spread over each second, not all at once.
func touchingChecks(ctx context.Context, b *backend, in *instance, clients []*http.Client, c Config) (*Result, error) {
	b.clock.advance(touchDue)
	for i, cl := range clients {
		a, err := fetchSession(ctx, cl, in.URL, fmt.Sprintf("10.1.%d.%d", i/250, i%250+1))
		if err != nil {
			return nil, err
		}
		if a.Status != http.StatusOK {
			return nil, fmt.Errorf("session %d before the scenario: status %d", i, a.Status)
		}
		b.clock.advance(touchDue / time.Duration(len(clients)))
	}
	const steps = 100 // clock moves per second
	every := max(min(time.Second, c.Duration/4)/steps, time.Millisecond)
	stop, moved := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		defer func() { moved <- n }()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				b.clock.advance(touchDue / steps)
				n++
			}
		}
	}()
	var n int
	defer func() { // also when the checks panic: no clock moves once the server is gone
		if stop != nil {
			close(stop)
			<-moved
		}
	}()
	r, err := sessionChecks(ctx, c, in, clients, ScenarioSessionTouch, "")
	close(stop)
	n, stop = <-moved, nil
	if err != nil {
		return nil, err
	}
	r.Notes = []string{fmt.Sprintf("%d sessions, picked at random, as in the session scenario, their last-seen times spread over a minute; the clock moved %v every %v (%d times, %v in all), so each session's last-seen time came due every %v",
		len(clients), touchDue/steps, every, n, time.Duration(n)*touchDue/steps, every*steps)}
	return r, nil
}

// touchDue is how long after its last-seen time a session's next request writes it again
// (auth's touchInterval).
const touchDue = time.Minute

// sessionChecks measures in the session checks of the session and floor scenarios: c's
// clients each send GET /api/v1/session with a session of clients picked at random, as
// fast as in answers, for c's duration.
func sessionChecks(ctx context.Context, c Config, in *instance, clients []*http.Client, name, note string) (*Result, error) {
	return measured(in, func() (*Result, error) {
		elapsed, recs := drive(ctx, c, in.URL, c.Clients, 1, true, func(_ context.Context, w *worker) bool {
			w.do(ctx, clients[w.rng.IntN(len(clients))], 0, epSession, nil)
			return true
		})
		e := merge(epSession, recs[0])
		return &Result{Name: name, Concurrency: c.Clients, Elapsed: elapsed, Completed: e.Requests, Endpoints: []*Endpoint{e},
			Notes: []string{note}}, nil
	})
}

// sessionUsers is how many sessions the session scenario spreads its requests over.
const sessionUsers = 128

// wrongPassword: POST /api/v1/login with a wrong password, half for known names and half
// for names that match no account (a fresh one each time, so each has a budget of its own).
func wrongPassword(ctx context.Context, b *backend, users []user, c Config) (*Result, error) {
	in, err := b.start(serverOptions{name: ScenarioWrongPassword, throttle: &wrongPasswordThrottle})
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
	return measured(in, func() (*Result, error) {
		elapsed, recs := drive(ctx, c, in.URL, c.Concurrency, 1, false, func(_ context.Context, w *worker) bool {
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
		e := merge(epWrong, recs[0])
		return &Result{Name: ScenarioWrongPassword, Concurrency: c.Concurrency, Elapsed: elapsed, Completed: e.Requests, Endpoints: []*Endpoint{e}, Notes: notes}, nil
	})
}
