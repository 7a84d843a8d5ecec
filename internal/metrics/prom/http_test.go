package prom

import (
	"strconv"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestRouteCountsEveryRequestOnce: parallel requests of a route, with statuses and
// methods it had not answered before, are each counted once under the route's path, the
// method (an invented one as other) and the status.
func TestRouteCountsEveryRequestOnce(t *testing.T) {
	m := New(Options{})
	routes := map[string]string{"GET /api/v1/session": "/api/v1/session", "/": "/"}
	methods := []string{"GET", "POST", "BREW"}
	statuses := []int{200, 401, 503}
	type key struct{ route, method, status string }
	want := map[key]float64{}
	var wg sync.WaitGroup
	for pattern, path := range routes {
		r := m.Route(pattern)
		for i := range 8 {
			for j := range 100 {
				method, status := methods[(i+j)%3], statuses[(i*7+j)%3]
				label := method
				if method == "BREW" {
					label = "other"
				}
				want[key{path, label, strconv.Itoa(status)}]++
			}
			wg.Go(func() {
				for j := range 100 {
					r.Answered(methods[(i+j)%3], statuses[(i*7+j)%3], time.Millisecond)
				}
			})
		}
	}
	wg.Wait()
	for k, n := range want {
		var got dto.Metric
		if err := m.requests.WithLabelValues(k.route, k.method, k.status).Write(&got); err != nil {
			t.Fatal(err)
		}
		if v := got.GetCounter().GetValue(); v != n {
			t.Errorf("requests %+v = %v, want %v", k, v, n)
		}
	}
	if n := countSeries(t, m, "twofold_http_requests_total"); n != len(want) {
		t.Errorf("request series = %d, want %d", n, len(want))
	}
	// One duration series per route and method.
	if n := countSeries(t, m, "twofold_http_request_duration_seconds"); n != 2*len(methods) {
		t.Errorf("duration series = %d, want %d", n, 2*len(methods))
	}
}

func countSeries(t *testing.T, m *Metrics, name string) int {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return len(f.Metric)
		}
	}
	return 0
}
