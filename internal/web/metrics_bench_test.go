package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// BenchmarkRequestMetrics measures a request through the whole handler (access log and
// metrics, rate limits, CSRF, the route) with the metrics off and on: to GET /healthz,
// whose handler does next to nothing, and to GET /api/v1/session with a signed-in
// session. The difference between off and on is what the metrics cost a request.
func BenchmarkRequestMetrics(b *testing.B) {
	for _, path := range []string{"/healthz", "/api/v1/session"} {
		for _, on := range []bool{false, true} {
			name := path[1:] + "/off"
			if on {
				name = path[1:] + "/on"
			}
			b.Run(name, func(b *testing.B) {
				s := testserver.New(b, testserver.Options{Metrics: on})
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.RemoteAddr = "192.0.2.1:1234"
				if path == "/api/v1/session" {
					c, _, _ := enrolled(b, s, "ada")
					req.AddCookie(&http.Cookie{Name: cookieName, Value: sessionToken(b, s, c)})
				}
				h := s.HTTP.Config.Handler
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}
