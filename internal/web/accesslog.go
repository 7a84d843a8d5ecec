package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/twofold-id/twofold/internal/logging"
)

// accessLog gives every request an id and logs one line when it is answered: method,
// route pattern, status, duration, client address and request id; the route's metrics
// count it. It logs the route's pattern, never the path or the query, which can hold
// tokens and codes. The id is the request's X-Request-Id when that is short and plain
// (logging.ValidRequestID), else a fresh one; it is sent back in X-Request-Id and is on
// every line logged with the request's context. From here on the request's context is its
// requestState.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !logging.ValidRequestID(id) {
			id = logging.NewRequestID()
		}
		st := &requestState{Context: r.Context(), w: statusWriter{ResponseWriter: w}, s: s, req: r, id: [1]string{id}}
		// The header holds the state's own one-element slice: one allocation fewer, and an
		// append to a full slice copies it.
		w.Header()["X-Request-Id"] = st.id[:]
		r = r.WithContext(st)
		next.ServeHTTP(&st.w, r)
		took := time.Since(start)
		route, rec := st.route, st.metrics
		if route == "" {
			// Answered before a route ran (rate limited, cross-origin): the route it asked for.
			_, route = s.mux.Handler(r)
			if rec = s.routeMetrics[route]; rec == nil {
				rec = s.unmatched
			}
		}
		status := st.w.Status()
		rec.Answered(r.Method, status, took)
		ip := st.ip
		if ip == "" {
			ip = clientIP(r)
		}
		s.log.LogAttrs(st, slog.LevelInfo, "request",
			slog.String("method", shownMethod(r)), // any token, as long as the request line
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", took),
			slog.String("client", ip))
	})
}

// statusWriter remembers the status of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets handlers that assert http.Flusher flush through the wrapper.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status sent: 200 when the handler wrote nothing.
func (w *statusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
