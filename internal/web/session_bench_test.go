package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// BenchmarkSessionCheck measures GET /api/v1/session for a signed-in user through the
// whole handler (access log, rate limits, CSRF, the access check, the handler), without
// the network: what every authenticated request costs the server. cpu-ns/op is the
// process's CPU time per request (every goroutine, the garbage collector included), which
// a busy machine disturbs less than the time per request.
func BenchmarkSessionCheck(b *testing.B) {
	_, h, token := sessionBench(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testutil.ProcessCPU()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/session", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		req.AddCookie(&http.Cookie{Name: cookieName, Value: token})
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(testutil.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkSignIn measures a full JSON sign-in (password with the production argon2id
// parameters, then the authenticator code) through the whole handler, without the
// network. Compare it with password.BenchmarkVerifyDefault, the hash alone: the difference
// is what a sign-in costs besides the hash (under callgrind, in instructions).
func BenchmarkSignIn(b *testing.B) {
	params := password.DefaultParams
	srv := testserver.New(b, testserver.Options{Argon2: &params})
	_, secret, _ := enrolled(b, srv, "ada")
	h := srv.HTTP.Config.Handler
	login := []byte(`{"username":"ada","password":"` + testserver.Password + `"}`)
	cpu0 := testutil.ProcessCPU()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		srv.NextStep()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/login", bytes.NewReader(login))
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("login: %d %s", w.Code, w.Body)
		}
		code := []byte(`{"code":"` + srv.Code(secret, 0) + `"}`)
		req = httptest.NewRequest(http.MethodPost, "/api/v1/login/totp", bytes.NewReader(code))
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("Content-Type", "application/json")
		for _, c := range w.Result().Cookies() {
			req.AddCookie(c)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("code: %d %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(testutil.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkSignInBesidesHash is BenchmarkSignIn with the smallest argon2id parameters
// (8 KiB, one pass: its blake2b initialisation dominates, some tens of microseconds), as a
// returning browser signs in: each sign-in ends the session the previous one left.
// cpu-ns/op is then, but for that small hash and the benchmark's own requests, everything
// a full sign-in costs the server besides the hash: JSON, sessions, the throttle
// reservations, audit rows, the database, allocation and collection.
func BenchmarkSignInBesidesHash(b *testing.B) {
	signInBesidesHash(b, testserver.Options{})
}

// BenchmarkSignInBesidesHashPostgres is BenchmarkSignInBesidesHash on PostgreSQL (its own
// schema; TWOFOLD_TEST_POSTGRES_DSN). cpu-ns/op is the server's share; PostgreSQL's
// backends spend about as much again (docs/performance.md, "Scale-out").
func BenchmarkSignInBesidesHashPostgres(b *testing.B) {
	signInBesidesHash(b, testserver.Options{DatabaseURL: testutil.PostgresURL(b)})
}

func signInBesidesHash(b *testing.B, opts testserver.Options) {
	params := password.Params{MemoryKiB: 8, Iterations: 1, Parallelism: 1}
	opts.Argon2 = &params
	srv := testserver.New(b, opts)
	_, secret, _ := enrolled(b, srv, "ada")
	h := srv.HTTP.Config.Handler
	login := []byte(`{"username":"ada","password":"` + testserver.Password + `"}`)
	var session *http.Cookie
	post := func(path string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("Content-Type", "application/json")
		if session != nil {
			req.AddCookie(session)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		for _, c := range w.Result().Cookies() {
			session = c
		}
		return w
	}
	cpu0 := testutil.ProcessCPU()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		srv.NextStep()
		post("/api/v1/login", login)
		post("/api/v1/login/totp", []byte(`{"code":"`+srv.Code(secret, 0)+`"}`))
	}
	b.ReportMetric(float64(testutil.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
