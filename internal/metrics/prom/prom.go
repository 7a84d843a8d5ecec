package prom

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/twofold-id/twofold/internal/metrics"
)

// Namespace prefixes every metric of twofold's own.
const Namespace = "twofold"

// Options configure the metrics. Every field is optional.
type Options struct {
	// HashQueue reports the password hashes waiting for a free hasher and those running.
	HashQueue func() (waiting, running int)
	// MailQueue reads the mail queue's state, once per scrape.
	MailQueue func(ctx context.Context) (metrics.MailQueue, error)
	// DBPool reads the database connection pool's statistics.
	DBPool func() sql.DBStats
	// SessionCache reads the session cache's lookups answered from memory and the others;
	// on is false where the database has no such cache.
	SessionCache func() (hits, misses uint64, on bool)
	// SessionBarriers reads how many barriers the session cache sent; ok is false where
	// it sends none (SQLite).
	SessionBarriers func() (n uint64, ok bool)
	// Log receives what a scrape could not read.
	Log *slog.Logger
}

// Metrics is a metrics.Recorder on a Prometheus registry of its own (never the global
// default one), with the Go runtime and process collectors.
type Metrics struct {
	reg *prometheus.Registry

	signIns      *prometheus.CounterVec
	enrollments  *prometheus.CounterVec
	recoveryUses prometheus.Counter
	mfaResets    prometheus.Counter
	cases        prometheus.Counter
	tokens       *prometheus.CounterVec
	reuses       prometheus.Counter
	hashWait     prometheus.Histogram
	busy         prometheus.Counter
	dbErrors     *prometheus.CounterVec
	mailFailures *prometheus.CounterVec
	requests     *prometheus.CounterVec
	durations    *prometheus.HistogramVec

	// Children resolved once: events pay an array index, not a label lookup.
	signIn      map[metrics.Step]map[metrics.Result]prometheus.Counter
	dbError     [2]prometheus.Counter // [unavailable]
	mailFailure [2]prometheus.Counter // [gave up]
}

var _ metrics.Recorder = (*Metrics)(nil)

// Label values that are known ahead: their series exist (at 0) from the start, so that
// rates and alerts see the first event.
var (
	steps   = []metrics.Step{metrics.StepPassword, metrics.StepTOTP, metrics.StepRecoveryCode, metrics.StepWebAuthn, metrics.StepPasskey}
	results = []metrics.Result{metrics.OK, metrics.Invalid, metrics.Throttled, metrics.Busy, metrics.Failed}
	factors = []metrics.Factor{metrics.FactorTOTP, metrics.FactorWebAuthn}
	grants  = []metrics.Grant{metrics.GrantAuthorizationCode, metrics.GrantRefreshToken}
)

// HTTPBuckets are the bounds of the request duration histogram, in seconds: session
// checks take well under a millisecond, sign-ins tens of milliseconds of hashing.
var HTTPBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New registers twofold's metrics in a new registry.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	}
	m.signIns = counterVec("sign_ins_total", "Sign-in attempts by step (password, totp, recovery_code, webauthn, passkey) and result (ok, invalid, throttled, busy, error).", "step", "result")
	m.enrollments = counterVec("second_factor_enrollments_total", "Second factors set up (first ones and replacements), by kind.", "kind")
	m.recoveryUses = counter("recovery_code_uses_total", "Recovery codes spent: at a sign-in, to prove the second factor again, or in a password reset.")
	m.mfaResets = counter("mfa_resets_total", "Resets of a user's second factors by the support desk or the console.")
	m.cases = counter("support_cases_opened_total", "Support cases opened on the public support page.")
	m.tokens = counterVec("oidc_tokens_issued_total", "Token responses to applications, by grant (authorization_code, refresh_token).", "grant")
	m.reuses = counter("oidc_refresh_token_reuses_total", "Used refresh tokens that came back; each revoked its token family.")
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "password_hash_wait_seconds",
		Help:    "How long a password hash waited for a free hasher (also those that gave up and were answered busy).",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5}})
	m.busy = counter("busy_responses_total", "Requests answered 503 busy (no password hasher became free in time).")
	m.dbErrors = counterVec("database_errors_total", "Errors of the database, by kind: unavailable (it could not be reached) or error.", "kind")
	m.mailFailures = counterVec("mail_delivery_failures_total", "Failed mail delivery attempts, by outcome: retry (a later attempt follows) or gave_up.", "outcome")
	m.requests = counterVec("http_requests_total", "HTTP requests answered, by route pattern, method and status.", "route", "method", "status")
	m.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern and method.", Buckets: HTTPBuckets}, []string{"route", "method"})

	m.signIn = make(map[metrics.Step]map[metrics.Result]prometheus.Counter, len(steps))
	for _, s := range steps {
		m.signIn[s] = make(map[metrics.Result]prometheus.Counter, len(results))
		for _, r := range results {
			m.signIn[s][r] = m.signIns.WithLabelValues(string(s), string(r))
		}
	}
	for _, f := range factors {
		m.enrollments.WithLabelValues(string(f))
	}
	for _, g := range grants {
		m.tokens.WithLabelValues(string(g))
	}
	m.dbError = [2]prometheus.Counter{m.dbErrors.WithLabelValues("error"), m.dbErrors.WithLabelValues("unavailable")}
	m.mailFailure = [2]prometheus.Counter{m.mailFailures.WithLabelValues("retry"), m.mailFailures.WithLabelValues("gave_up")}

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.signIns, m.enrollments, m.recoveryUses, m.mfaResets, m.cases, m.tokens, m.reuses,
		m.hashWait, m.busy, m.dbErrors, m.mailFailures, m.requests, m.durations,
	)
	if o.HashQueue != nil {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "password_hash_queue_length",
				Help: "Password hashes waiting for a free hasher."},
				func() float64 { w, _ := o.HashQueue(); return float64(w) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "password_hashes_running",
				Help: "Password hashes running now (at most password.max_concurrent_hashes)."},
				func() float64 { _, r := o.HashQueue(); return float64(r) }),
		)
	}
	if o.DBPool != nil {
		m.reg.MustRegister(newPoolCollector(o.DBPool))
	}
	if o.SessionCache != nil {
		m.reg.MustRegister(newSessionCacheCollector(o.SessionCache, o.SessionBarriers))
	}
	if o.MailQueue != nil {
		log := o.Log
		if log == nil {
			log = slog.Default()
		}
		m.reg.MustRegister(newMailQueueCollector(o.MailQueue, log))
	}
	return m
}

// Registry is where the metrics are registered (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics at /metrics and, when pprof is set, net/http/pprof under
// /debug/pprof/. It is for the metrics listener only, never the public one.
func (m *Metrics) Handler(withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// SignIn implements metrics.Recorder.
func (m *Metrics) SignIn(step metrics.Step, result metrics.Result) {
	if c, ok := m.signIn[step][result]; ok {
		c.Inc()
		return
	}
	m.signIns.WithLabelValues(string(step), string(result)).Inc() // a step added since
}

// FactorEnrolled implements metrics.Recorder.
func (m *Metrics) FactorEnrolled(kind metrics.Factor) {
	m.enrollments.WithLabelValues(string(kind)).Inc()
}

// RecoveryCodeUsed implements metrics.Recorder.
func (m *Metrics) RecoveryCodeUsed() { m.recoveryUses.Inc() }

// MFAReset implements metrics.Recorder.
func (m *Metrics) MFAReset() { m.mfaResets.Inc() }

// SupportCaseOpened implements metrics.Recorder.
func (m *Metrics) SupportCaseOpened() { m.cases.Inc() }

// TokenIssued implements metrics.Recorder.
func (m *Metrics) TokenIssued(grant metrics.Grant) { m.tokens.WithLabelValues(string(grant)).Inc() }

// RefreshReused implements metrics.Recorder.
func (m *Metrics) RefreshReused() { m.reuses.Inc() }

// HashWaited implements metrics.Recorder.
func (m *Metrics) HashWaited(wait time.Duration) { m.hashWait.Observe(wait.Seconds()) }

// BusyAnswered implements metrics.Recorder.
func (m *Metrics) BusyAnswered() { m.busy.Inc() }

// DatabaseError implements metrics.Recorder.
func (m *Metrics) DatabaseError(unavailable bool) { m.dbError[b2i(unavailable)].Inc() }

// MailFailed implements metrics.Recorder.
func (m *Metrics) MailFailed(gaveUp bool) { m.mailFailure[b2i(gaveUp)].Inc() }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
