package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// FuzzAPIDecode posts arbitrary bodies to the two sign-in calls that read user input
// before anyone is signed in. Whatever arrives, the answer is never a server error, and
// every refusal is a problem document.
func FuzzAPIDecode(f *testing.F) {
	srv := testserver.New(f, testserver.Options{})
	alice := srv.CreateUser(f, "alice", "alice@example.com", "user")
	secret, recoveryCode := srv.Enroll(f, srv.Client(f), "alice")
	// The seeds hold only used codes: a valid one would end the half-signed-in session
	// and leave /api/v1/login/totp answering 401 before it reads the body.
	half := srv.Client(f)
	half.Login("alice", "mfa_required")
	// The half-signed-in session's cookie, sent by hand: the client helpers may not be
	// used inside the fuzz function.
	cookie := &http.Cookie{Name: cookieName, Value: sessionToken(f, srv, half)}

	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `0`, `{"code":`, `{"code":"123456"}`, `{"code":123456}`,
		`{"code":"١٢٣٤٥٦"}`, `{"code":"１２３４５６"}`, `{"code":"` + srv.Code(secret, -1) + `"}`,
		`{"code":"` + recoveryCode + `"}`, `{"username":"alice","password":"` + testserver.Password + `"}`,
		`{"username":"ａｌｉｃｅ","password":""}`, `{"username":["alice"],"password":{}}`,
		`{"username":"alice","password":"x"}{"x":1}`, "{\"username\":\"\xff\",\"password\":\"\x00\"}",
		`{"username":"alice","password":"x","username":"bob"}`, `{"code":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}

	// A wrong password or code spends a slot of alice's budgets; when they run out (429),
	// they are reset and the call made again, so that an input reaches the password and
	// code checks rather than the throttle. (Unknown usernames have budgets of their own.)
	reset := func(t *testing.T) {
		for _, kind := range []string{store.BudgetPassword, store.BudgetSecondFactor} {
			if err := srv.Store.ResetBudget(context.Background(), kind, alice.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The server's handler is called in process: no connection or client per execution.
	handler := srv.HTTP.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/api/v1/login", "/api/v1/login/totp"} {
			post := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if path == "/api/v1/login/totp" {
					req.AddCookie(cookie)
				}
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				return rec
			}
			resp := post()
			if resp.Code == http.StatusTooManyRequests {
				reset(t)
				resp = post()
			}
			status, b := resp.Code, resp.Body.Bytes()
			if status >= 500 {
				t.Fatalf("%s with %q: %d %s", path, body, status, b)
			}
			if status >= 400 {
				var p struct {
					Type, Title, Detail, Code string
					Status                    int
				}
				if ct := resp.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("%s with %q: %d with Content-Type %q", path, body, status, ct)
				}
				if err := json.Unmarshal(b, &p); err != nil || p.Type == "" || p.Title == "" || p.Detail == "" ||
					p.Code == "" || p.Status != status {
					t.Fatalf("%s with %q: bad problem document %s (%v)", path, body, b, err)
				}
			}
		}
	})
}
