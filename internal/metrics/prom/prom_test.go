package prom

import (
	"testing"
	"time"
)

// BenchmarkRouteAnswered is what the metrics add to a request: one route's counter and
// duration histogram, resolved at registration.
func BenchmarkRouteAnswered(b *testing.B) {
	m := New(Options{})
	r := m.Route("GET /api/v1/session")
	r.Answered("GET", 401, time.Millisecond) // the series exist, as after the first request
	r.Answered("GET", 200, time.Millisecond)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			r.Answered("GET", 200, 30*time.Microsecond)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Answered("GET", 200, 30*time.Microsecond)
			}
		})
	})
}
