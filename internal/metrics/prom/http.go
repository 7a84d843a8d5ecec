package prom

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/twofold-id/twofold/internal/metrics"
)

// Route implements metrics.Recorder: the recorder of the route registered as pattern
// ("GET /login", "/api/"). Its series carry the pattern's path as route and the method
// apart, so a route's label never holds a path a client chose.
func (m *Metrics) Route(pattern string) metrics.RouteRecorder {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	r := &route{m: m, path: path}
	r.entries.Store(&[]routeEntry{})
	if method != "" {
		// The route's duration series exist from the start.
		m.durations.WithLabelValues(path, methodLabel(method))
	}
	return r
}

// route records one route's requests. Its entries, one per method and status seen, are
// resolved once and read without a lock: a request pays a short scan and two atomic
// adds, no label lookup and no allocation.
type route struct {
	m       *Metrics
	path    string
	mu      sync.Mutex // held to add an entry
	entries atomic.Pointer[[]routeEntry]
}

type routeEntry struct {
	method string
	status int
	count  prometheus.Counter
	took   prometheus.Observer
}

// Answered implements metrics.RouteRecorder.
func (r *route) Answered(method string, status int, took time.Duration) {
	method = methodLabel(method)
	for i, es := 0, *r.entries.Load(); i < len(es); i++ {
		if e := &es[i]; e.status == status && e.method == method {
			e.count.Inc()
			e.took.Observe(took.Seconds())
			return
		}
	}
	e := r.add(method, status)
	e.count.Inc()
	e.took.Observe(took.Seconds())
}

// add resolves the series of a method and status the route had not answered yet.
func (r *route) add(method string, status int) routeEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.entries.Load()
	for _, e := range old {
		if e.status == status && e.method == method {
			return e // added meanwhile
		}
	}
	e := routeEntry{method: method, status: status,
		count: r.m.requests.WithLabelValues(r.path, method, strconv.Itoa(status)),
		took:  r.m.durations.WithLabelValues(r.path, method)}
	es := append(old[:len(old):len(old)], e)
	r.entries.Store(&es)
	return e
}

// methodLabel maps a request method to one of a fixed few, so that a client cannot add
// series by inventing methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	}
	return "other"
}
