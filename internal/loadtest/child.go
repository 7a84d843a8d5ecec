package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	twofold "github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/throttle"
)

// childEnv carries the spec of a server process: when it is set, the harness binary is
// that server (runChild) instead of the load generator. The server runs in a process of
// its own so that its CPU time and memory can be read from /proc apart from the load's.
const childEnv = "TWOFOLD_LOAD_SERVER"

// childSpec is what a server process is started with.
type childSpec struct {
	DataDir     string           `json:"data_dir"`
	DatabaseURL string           `json:"database_url"`
	MasterKey   []byte           `json:"master_key"`
	Argon2      password.Params  `json:"argon2"`
	Throttle    *throttle.Policy `json:"throttle"` // nil: the configured failure budgets
	// ProductionLimits keeps the configured per-address rate limits; otherwise they are
	// raised (raisedLimits).
	ProductionLimits bool `json:"production_limits"`
	// TrustLoopbackProxy believes X-Forwarded-For from 127.0.0.1, as behind a reverse
	// proxy: the harness names many client addresses that way.
	TrustLoopbackProxy bool  `json:"trust_loopback_proxy"`
	ClockMS            int64 `json:"clock_ms"`
	// HashQueue and MaxHashes override password.hash_queue and
	// password.max_concurrent_hashes when not 0.
	HashQueue int    `json:"hash_queue"`
	MaxHashes int    `json:"max_hashes"`
	LogLevel  string `json:"log_level"`
	// Profile is a file the server writes a CPU profile of the measured part to ("": none).
	Profile string `json:"profile"`
	// Floor makes the process a bare net/http server that gives every GET /api/v1/session
	// this answer, with no database and no middleware (the floor scenario), instead of a
	// twofold server; the fields above but Profile are then unused.
	Floor *floorAnswer `json:"floor,omitempty"`
}

// childReady is the line a server process prints on stdout once it serves.
type childReady struct {
	URL     string `json:"url"`
	Control string `json:"control"`
}

// config is the configuration of the server process: `twofold serve`'s defaults with the
// spec's changes.
func (s *childSpec) config() *config.Config {
	cfg := config.Default()
	cfg.DataDir = s.DataDir
	cfg.Database.URL = s.DatabaseURL
	cfg.Server.Addr = listenAddr
	if s.TrustLoopbackProxy {
		cfg.Server.TrustedProxies = []string{"127.0.0.1/32"}
	}
	if s.HashQueue != 0 {
		cfg.Password.HashQueue = s.HashQueue
	}
	if s.MaxHashes != 0 {
		cfg.Password.MaxConcurrentHashes = s.MaxHashes
	}
	if s.LogLevel != "" {
		cfg.Log.Level = s.LogLevel
	}
	return cfg
}

// runChild is the server process: it serves spec's server on 127.0.0.1, wired as
// `twofold serve` wires it, with a clock that only the harness moves (POST /clock on a
// control listener of its own, also on 127.0.0.1), until its standard input closes.
func runChild(raw string, stdin io.Reader, stdout, stderr io.Writer) int {
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintf(stderr, "twofold-load server: bad spec: %v\n", err)
		return 2
	}
	serve := serveChild
	if spec.Floor != nil {
		serve = serveFloor
	}
	if err := serve(&spec, stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "twofold-load server: %v\n", err)
		return 1
	}
	return 0
}

func serveChild(spec *childSpec, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := spec.config()
	if err := cfg.Validate(); err != nil {
		return err
	}
	level := slog.LevelWarn
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil || spec.LogLevel == "" {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var clockMS atomic.Int64
	clockMS.Store(spec.ClockMS)
	now := func() time.Time { return time.UnixMilli(clockMS.Load()).UTC() }
	var hashes hashCPU
	o := twofold.Options{Log: log, MasterKey: spec.MasterKey, Now: now, Argon2: &spec.Argon2, Throttle: spec.Throttle,
		ObserveHashCPU: hashes.observe}
	if !spec.ProductionLimits {
		o.RateLimits = &raisedLimits
	}
	ctx := context.Background()
	a, err := twofold.Open(ctx, cfg, o)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := twofold.Listen(cfg.Server.Addr, cfg.Server.MaxConnections, log)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	prov, err := a.OIDC(base)
	if err != nil {
		ln.Close()
		return err
	}
	h, err := a.Handler(prov)
	if err != nil {
		ln.Close()
		return err
	}
	hs := twofold.HTTPServer(h, log, cfg.Server.IdleTimeout)
	twofold.TuneMemory(cfg, log)
	// Housekeeping (and the batched last-seen times) ends before the store closes.
	hkCtx, stopHK := context.WithCancel(ctx)
	hkDone := make(chan struct{})
	go func() { defer close(hkDone); a.Housekeep(hkCtx, prov, twofold.HousekeepingInterval) }()
	defer func() { stopHK(); <-hkDone }()

	return serveUntilStdinCloses(hs, ln, spec.Profile, &clockMS, &hashes, stdin, stdout)
}

// hashCPU counts the password hashes a server process computed and their CPU time, each
// measured on the thread that computed it (password.Hasher.ObserveCPU).
type hashCPU struct{ n, ns atomic.Int64 }

func (h *hashCPU) observe(d time.Duration) {
	h.ns.Add(int64(d))
	h.n.Add(1)
}

// hashTotals is what GET /hashes on a server's control listener answers.
type hashTotals struct {
	Hashes int           `json:"hashes"`
	CPU    time.Duration `json:"cpu_ns"`
}

// serveUntilStdinCloses serves hs on ln, and a control listener on 127.0.0.1 (GET /hashes
// tells hashes' totals; POST
// /clock?ms= sets clockMS; POST /profile/start and /profile/stop write a CPU profile to
// the file profile), prints the ready line on stdout and serves until stdin closes, then
// shuts hs down.
func serveUntilStdinCloses(hs *http.Server, ln net.Listener, profile string, clockMS *atomic.Int64, hashes *hashCPU, stdin io.Reader, stdout io.Writer) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	cln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		hs.Close()
		return err
	}
	control := &http.Server{Handler: controlHandler(profile, clockMS, hashes), ReadHeaderTimeout: 10 * time.Second}
	go control.Serve(cln)
	defer control.Close()

	if err := json.NewEncoder(stdout).Encode(childReady{URL: "http://" + ln.Addr().String(), Control: "http://" + cln.Addr().String()}); err != nil {
		hs.Close()
		return err
	}
	// The harness closes standard input to stop the server (or dies, which closes it too).
	go func() { _, _ = io.Copy(io.Discard, stdin); errc <- nil }()
	err = <-errc
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// controlHandler is the control listener's handler: POST /clock?ms= stores the time in
// clockMS; POST /profile/start and /profile/stop start and stop a CPU profile written to
// the file profile ("": /profile/start is refused); GET /hashes answers hashes' totals as
// JSON (hashTotals).
func controlHandler(profile string, clockMS *atomic.Int64, hashes *hashCPU) http.Handler {
	var f *os.File
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/hashes":
			// The count first: observe adds a hash's time before counting it, so every
			// hash counted has its time in the sum read after.
			t := hashTotals{Hashes: int(hashes.n.Load())}
			t.CPU = time.Duration(hashes.ns.Load())
			_ = json.NewEncoder(w).Encode(t)
			return
		case r.Method == http.MethodPost && r.URL.Path == "/profile/start" && profile != "":
			out, err := os.Create(profile)
			if err == nil {
				err = pprof.StartCPUProfile(out)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			f = out
			return
		case r.Method == http.MethodPost && r.URL.Path == "/profile/stop":
			if f != nil {
				pprof.StopCPUProfile()
				f.Close()
				f = nil
			}
			return
		}
		v, err := strconv.ParseInt(r.URL.Query().Get("ms"), 10, 64)
		if r.Method != http.MethodPost || r.URL.Path != "/clock" || err != nil {
			http.Error(w, "POST /clock?ms=UNIX_MILLISECONDS", http.StatusBadRequest)
			return
		}
		clockMS.Store(v)
	})
}

// process is a running server process.
type process struct {
	URL     string
	control string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	done    chan error
}

// startProcess starts the harness binary as a server process with spec and waits until
// it serves.
func startProcess(spec *childSpec, stderr io.Writer) (*process, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe) // a test binary serves from TestMain
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case line, ok := <-lines:
		var r childReady
		if !ok || json.Unmarshal([]byte(line), &r) != nil || !strings.HasPrefix(r.URL, "http://127.0.0.1:") {
			p.stop()
			return nil, fmt.Errorf("the server process did not start (%q)", line)
		}
		p.URL, p.control = r.URL, r.Control
		return p, nil
	case <-time.After(2 * time.Minute):
		p.stop()
		return nil, errors.New("the server process did not start within 2 minutes")
	}
}

// post sends a control request.
func (p *process) post(path string) error {
	resp, err := http.Post(p.control+path, "text/plain", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return nil
}

// setClock moves the server's clock to t.
func (p *process) setClock(t time.Time) error {
	resp, err := http.Post(p.control+"/clock?ms="+strconv.FormatInt(t.UnixMilli(), 10), "text/plain", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("set the server's clock: %s", resp.Status)
	}
	return nil
}

// stop ends the server process and waits for it.
func (p *process) stop() error {
	p.stdin.Close()
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		return <-p.done
	}
}

// hashes asks the server process for its hashes' totals so far.
func (p *process) hashes() (hashTotals, error) {
	var t hashTotals
	resp, err := http.Get(p.control + "/hashes")
	if err != nil {
		return t, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return t, fmt.Errorf("/hashes: %s", resp.Status)
	}
	return t, json.NewDecoder(resp.Body).Decode(&t)
}

// usage is the process's CPU time, faults and peak resident memory so far, from /proc.
func (p *process) usage() (procStat, error) {
	return procUsage(p.cmd.Process.Pid)
}

// procStat is what /proc tells of a process so far.
type procStat struct {
	User, System time.Duration // CPU time in user and in kernel mode
	// MinorFaults are page faults served without reading a file (a page the process
	// touched first, or one the Go runtime had given back to the kernel).
	MinorFaults int64
	PeakRSS     int64 // bytes (VmHWM)
}

// CPU is the user and system time.
func (s procStat) CPU() time.Duration { return s.User + s.System }

// clockTicks is the kernel's USER_HZ, the unit of the CPU times in /proc/PID/stat: 100 on
// every Linux platform Go supports.
const clockTicks = 100

func procUsage(pid int) (procStat, error) {
	var u procStat
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name (field 2) may hold spaces; the fields after it follow the last ')'.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return u, fmt.Errorf("short /proc/%d/stat", pid)
	}
	minflt, err1 := strconv.ParseInt(f[7], 10, 64) // field 10
	utime, err2 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err3 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2, err3); err != nil {
		return u, err
	}
	u.User = time.Duration(utime) * time.Second / clockTicks
	u.System = time.Duration(stime) * time.Second / clockTicks
	u.MinorFaults = minflt
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			u.PeakRSS = kb * 1024
			return u, err
		}
	}
	return u, nil
}
