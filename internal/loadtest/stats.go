package loadtest

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// transportError is the status recorded for a request that got no HTTP answer.
const transportError = 0

// recorder collects one worker's observations of one endpoint; workers never share one.
type recorder struct {
	latencies []time.Duration
	statuses  map[int]int
}

func (r *recorder) add(status int, d time.Duration) {
	if r.statuses == nil {
		r.statuses = map[int]int{}
	}
	r.latencies = append(r.latencies, d)
	r.statuses[status]++
}

// Endpoint is what one scenario saw of one request kind.
type Endpoint struct {
	Name     string        `json:"name"`     // "POST /api/v1/login"
	Expected int           `json:"expected"` // the status every request should get
	Busy     bool          `json:"busy_ok"`  // 503 busy is an expected answer too (a burst beyond the queue)
	Statuses map[int]int   `json:"statuses"` // count by status; 0 is a transport error
	Requests int           `json:"requests"`
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
	Max      time.Duration `json:"max_ns"`
}

// Unexpected counts requests that got another status than Expected (or no answer).
func (e *Endpoint) Unexpected() int {
	n := 0
	for st, c := range e.Statuses {
		if st != e.Expected && (!e.Busy || st != http.StatusServiceUnavailable) {
			n += c
		}
	}
	return n
}

// ServerErrors counts 5xx answers and transport errors.
func (e *Endpoint) ServerErrors() int {
	n := 0
	for st, c := range e.Statuses {
		if st >= 500 || st == transportError {
			n += c
		}
	}
	return n
}

// merge folds the workers' recorders of one endpoint into its summary.
func merge(ep endpoint, recs []*recorder) *Endpoint {
	e := &Endpoint{Name: ep.name, Expected: ep.expected, Busy: ep.busyOK, Statuses: map[int]int{}}
	var all []time.Duration
	for _, r := range recs {
		all = append(all, r.latencies...)
		for st, c := range r.statuses {
			e.Statuses[st] += c
		}
	}
	slices.Sort(all)
	e.Requests = len(all)
	e.P50, e.P90, e.P99 = quantile(all, 0.50), quantile(all, 0.90), quantile(all, 0.99)
	if len(all) > 0 {
		e.Max = all[len(all)-1]
	}
	return e
}

// quantile is the nearest-rank quantile of sorted durations (0 for none).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Result is one scenario's outcome.
type Result struct {
	Name        string        `json:"name"`
	Concurrency int           `json:"concurrency"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	Endpoints   []*Endpoint   `json:"endpoints"`
	// Completed counts whole operations (a sign-in is two requests); Notes say how the
	// scenario was run.
	Completed int      `json:"completed"`
	Notes     []string `json:"notes"`
	// ServerCPU is the CPU time (user and system) the server process used while the
	// scenario ran; PeakRSS its peak resident memory since it started (once the scenario's
	// setup ran in it, if any).
	ServerCPU time.Duration `json:"server_cpu_ns"`
	PeakRSS   int64         `json:"peak_rss_bytes"`
	// ServerSystem is the part of ServerCPU spent in the kernel (system calls, page faults,
	// and the interrupts that came while the server ran), ServerMinorFaults the page faults
	// the server took meanwhile without reading a file.
	ServerSystem      time.Duration `json:"server_system_ns"`
	ServerMinorFaults int64         `json:"server_minor_faults"`
	// ServerHashes are the password hashes the server computed while the scenario ran and
	// ServerHashCPU their CPU time, each measured on the thread that computed it: ServerCPU
	// less ServerHashCPU is everything but the hashes, without the drift between the raw
	// bound's measurement and the scenario's.
	ServerHashes  int           `json:"server_hashes"`
	ServerHashCPU time.Duration `json:"server_hash_cpu_ns"`
	// ClientCPU is the CPU time (user and system) the harness process used while the
	// scenario ran: its clients' work (requests, responses, cookies, codes, latency
	// records), which shares the machine with the server.
	ClientCPU time.Duration `json:"client_cpu_ns"`
	// DatabaseCPU is the CPU time of the PostgreSQL backend processes serving the server's
	// connections while the scenario ran (0: SQLite, or PostgreSQL on another host).
	DatabaseCPU time.Duration `json:"database_cpu_ns,omitempty"`
	// Bound is the share of the raw argon2id bound the sign-ins reached, against the mean
	// of the run's bound before the first scenario and after the last (0: not a sign-in
	// scenario).
	Bound float64 `json:"share_of_bound,omitempty"`
	// CPUBound is the raw hash's CPU time (the run's bound, as Bound) over the server's CPU
	// time per sign-in: the share of a sign-in's CPU that is the hash. A busy shared machine
	// moves throughput, this much less (0: not a sign-in scenario).
	CPUBound float64 `json:"cpu_share_of_bound,omitempty"`
	// AdjacentBefore and AdjacentAfter are the raw argon2id bound measured right before and
	// right after this sign-in scenario, with nothing else run in between (nil: not a
	// sign-in scenario). The machine's speed drifts within a run; these are the bound nearest
	// in time to the sign-ins.
	AdjacentBefore *Bound `json:"adjacent_bound_before,omitempty"`
	AdjacentAfter  *Bound `json:"adjacent_bound_after,omitempty"`
	// AdjacentBound and AdjacentCPUBound are Bound and CPUBound against the mean of
	// AdjacentBefore and AdjacentAfter.
	AdjacentBound    float64 `json:"share_of_adjacent_bound,omitempty"`
	AdjacentCPUBound float64 `json:"cpu_share_of_adjacent_bound,omitempty"`
}

// shareOf is the result's sign-ins a second over the mean of before's and after's hashes a
// second, and the mean of their CPU time per hash over the server's CPU time per sign-in.
func (r *Result) shareOf(before, after *Bound) (throughput, cpuShare float64) {
	if bound := (before.PerSecond() + after.PerSecond()) / 2; bound > 0 {
		throughput = r.PerSecond() / bound
	}
	if op := r.CPUPerOp(); op > 0 {
		cpuShare = float64(before.CPUPerHash()+after.CPUPerHash()) / 2 / float64(op)
	}
	return throughput, cpuShare
}

// addServer sets the server's figures over the scenario from /proc before (u0) and after
// (u1).
func (r *Result) addServer(u0, u1 procStat) {
	r.ServerCPU, r.ServerSystem = u1.CPU()-u0.CPU(), u1.System-u0.System
	r.ServerMinorFaults, r.PeakRSS = u1.MinorFaults-u0.MinorFaults, u1.PeakRSS
}

// BesidesHashPerOp is the server's CPU time per completed operation less its hashes' (0
// when it computed none).
func (r *Result) BesidesHashPerOp() time.Duration {
	if r.ServerHashes == 0 || r.Completed == 0 {
		return 0
	}
	return (r.ServerCPU - r.ServerHashCPU) / time.Duration(r.Completed)
}

// PerSecond is the completed operations per second.
func (r *Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Elapsed.Seconds()
}

// CPUPerOp is the server's CPU time per completed operation.
func (r *Result) CPUPerOp() time.Duration {
	if r.Completed == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Completed)
}

// ClientCPUPerOp is the harness process's CPU time per completed operation.
func (r *Result) ClientCPUPerOp() time.Duration {
	if r.Completed == 0 {
		return 0
	}
	return r.ClientCPU / time.Duration(r.Completed)
}

// DatabaseCPUPerOp is the PostgreSQL backends' CPU time per completed operation.
func (r *Result) DatabaseCPUPerOp() time.Duration {
	if r.Completed == 0 {
		return 0
	}
	return r.DatabaseCPU / time.Duration(r.Completed)
}

// Throughput is e's requests per second over the scenario.
func (r *Result) Throughput(e *Endpoint) float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(e.Requests) / r.Elapsed.Seconds()
}

// Failed reports whether any request got a status the scenario does not expect.
func (r *Result) Failed() bool {
	for _, e := range r.Endpoints {
		if e.Unexpected() > 0 {
			return true
		}
	}
	return false
}

// printResults writes the results as a table, then each scenario's notes, then the
// session scenario against the floor.
func printResults(w io.Writer, results []*Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\trequest\trequests\treq/s\tp50\tp90\tp99\tmax\tstatuses\t")
	for _, r := range results {
		for _, e := range r.Endpoints {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, e.Name, e.Requests, r.Throughput(e),
				ms(e.P50), ms(e.P90), ms(e.P99), ms(e.Max), statuses(e))
		}
	}
	tw.Flush()
	for _, r := range results {
		fmt.Fprintf(w, "%s (%d clients): %d completed in %s (%.1f/s)",
			r.Name, r.Concurrency, r.Completed, r.Elapsed.Round(time.Millisecond), r.PerSecond())
		if r.PeakRSS > 0 {
			fmt.Fprintf(w, "; server CPU %s per operation, peak RSS %.0f MB", cpu(r.CPUPerOp()), float64(r.PeakRSS)/1e6)
		}
		if r.ClientCPU > 0 {
			fmt.Fprintf(w, "; the harness's clients' CPU %s per operation", cpu(r.ClientCPUPerOp()))
		}
		if r.DatabaseCPU > 0 {
			fmt.Fprintf(w, "; PostgreSQL backends' CPU %s per operation", cpu(r.DatabaseCPUPerOp()))
		}
		if r.PeakRSS > 0 && r.Completed > 0 {
			fmt.Fprintf(w, "; of the server's CPU %s system, %.1f minor faults per operation",
				cpu(r.ServerSystem/time.Duration(r.Completed)), float64(r.ServerMinorFaults)/float64(r.Completed))
		}
		if r.ServerHashes > 0 && r.Completed > 0 {
			fmt.Fprintf(w, "; besides its %d hashes (%s CPU each) %s per operation",
				r.ServerHashes, cpu(r.ServerHashCPU/time.Duration(r.ServerHashes)), cpu(r.BesidesHashPerOp()))
		}
		if r.AdjacentBefore != nil {
			fmt.Fprintf(w, "; %.2f of the adjacent raw argon2id bound (throughput), the hash is %.2f of its CPU (against the run's bound: %.2f, %.2f)",
				r.AdjacentBound, r.AdjacentCPUBound, r.Bound, r.CPUBound)
		}
		if r.Failed() {
			fmt.Fprint(w, ", UNEXPECTED STATUSES")
		}
		fmt.Fprintln(w)
		if a, b := r.AdjacentBefore, r.AdjacentAfter; a != nil {
			fmt.Fprintf(w, "  raw argon2id bound right before / after: %.1f / %.1f hashes/s, %s / %s CPU per hash\n",
				a.PerSecond(), b.PerSecond(), cpu(a.CPUPerHash()), cpu(b.CPUPerHash()))
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	printFloor(w, results)
}

// printFloor compares the session scenario with the floor scenario when both ran: what
// net/http and the kernel cost per request on this machine, and what twofold adds.
func printFloor(w io.Writer, results []*Result) {
	var floor, session *Result
	for _, r := range results {
		switch {
		case r.Name == ScenarioFloor && r.Completed > 0:
			floor = r
		case r.Name == ScenarioSession && r.Completed > 0:
			session = r
		}
	}
	if floor == nil || session == nil {
		return
	}
	fmt.Fprintf(w, "session over floor: a session check costs %s of server CPU, a bare net/http answer of the same bytes %s (%.2f of it); twofold adds %s. The clients: %s and %s\n",
		cpu(session.CPUPerOp()), cpu(floor.CPUPerOp()), float64(floor.CPUPerOp())/float64(max(session.CPUPerOp(), 1)),
		cpu(session.CPUPerOp()-floor.CPUPerOp()), cpu(session.ClientCPUPerOp()), cpu(floor.ClientCPUPerOp()))
}

// cpu renders a CPU time per operation in µs below a millisecond, else in ms.
func cpu(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// statuses renders "200:1234" for the expected status and "503:2!" for any other.
func statuses(e *Endpoint) string {
	var b []string
	for _, st := range slices.Sorted(maps.Keys(e.Statuses)) {
		name := fmt.Sprint(st)
		if st == transportError {
			name = "transport-error"
		}
		mark := ""
		if st != e.Expected && (!e.Busy || st != http.StatusServiceUnavailable) {
			mark = "!"
		}
		b = append(b, fmt.Sprintf("%s:%d%s", name, e.Statuses[st], mark))
	}
	return strings.Join(b, " ")
}
