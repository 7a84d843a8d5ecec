package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// BenchmarkRequestMetrics measures a request through the whole handler (access log and
// metrics, rate limits, CSRF, the route) to GET /healthz, whose handler does next to
// nothing, with the metrics off and on: the difference is what the metrics cost a request.
func BenchmarkRequestMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			s := testserver.New(b, testserver.Options{Metrics: on})
			h := s.HTTP.Config.Handler
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			req.RemoteAddr = "192.0.2.1:1234"
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
