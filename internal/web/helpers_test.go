package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// cookieName is the session cookie of a server on plain HTTP.
const cookieName = "twofold_session"

// noMFA is the policy under which a password alone signs in.
func noMFA(string) bool { return false }

// newServer starts a test server with MFA required for everyone.
func newServer(t *testing.T) *testserver.Server {
	t.Helper()
	return testserver.New(t, testserver.Options{})
}

// enrolled creates username (e-mail username@example.com) and sets up its authenticator.
// It returns a client left signed in, the secret and the first recovery code. The clock
// is in the step after the confirming code.
func enrolled(t testing.TB, srv *testserver.Server, username string) (*testserver.Client, []byte, string) {
	t.Helper()
	srv.CreateUser(t, username, username+"@example.com", "user")
	c := srv.Client(t)
	secret, rc := srv.Enroll(t, c, username)
	return c, secret, rc
}

// signIn takes c through the password and code steps of an enrolled user. It moves the
// clock to a fresh step first, so the code has not been used yet.
func signIn(t *testing.T, srv *testserver.Server, c *testserver.Client, username string, secret []byte) {
	t.Helper()
	c.Login(username, "mfa_required")
	srv.NextStep()
	r := c.PostJSON("/api/v1/login/totp", map[string]string{"code": srv.Code(secret, 0)})
	if r.Status != http.StatusOK {
		t.Fatalf("sign in %s with a code: %d %s", username, r.Status, r.Body)
	}
}

// wrongCode returns six digits that are not the code of any step from T-2 to T+2.
func wrongCode(srv *testserver.Server, secret []byte) string {
	valid := map[string]bool{}
	for off := int64(-2); off <= 2; off++ {
		valid[srv.Code(secret, off)] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", (123456+i*111111)%1000000)
		if !valid[c] {
			return c
		}
	}
}

// wantProblem fails unless r is an RFC 9457 problem with status and code.
func wantProblem(t *testing.T, r *testserver.Response, status int, code string) {
	t.Helper()
	p := problemOf(t, r)
	if r.Status != status || p["code"] != code {
		t.Fatalf("got %d %s, want %d %s: %s", r.Status, p["code"], status, code, r.Body)
	}
}

// problemOf checks that r is a problem document with every field set and returns it.
func problemOf(t testing.TB, r *testserver.Response) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d: Content-Type %q, want application/problem+json: %s", r.Status, ct, r.Body)
	}
	var p map[string]any
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("status %d: problem is not a JSON object: %v: %s", r.Status, err, r.Body)
	}
	for _, k := range []string{"type", "title", "detail", "code"} {
		if s, _ := p[k].(string); s == "" {
			t.Fatalf("status %d: problem field %q missing or empty: %s", r.Status, k, r.Body)
		}
	}
	if st, _ := p["status"].(float64); int(st) != r.Status {
		t.Fatalf("problem status %v, response status %d: %s", p["status"], r.Status, r.Body)
	}
	return p
}

// wantStatus fails unless r has status.
func wantStatus(t *testing.T, r *testserver.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

// sessionToken returns the session cookie c holds, or "".
func sessionToken(t testing.TB, srv *testserver.Server, c *testserver.Client) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == cookieName {
			return ck.Value
		}
	}
	return ""
}

// clientWithToken returns a new client holding token as its session cookie.
func clientWithToken(t *testing.T, srv *testserver.Server, token string) *testserver.Client {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: token, Path: "/"}})
	return c
}

// sessionState returns the state GET /api/v1/session reports, or "" on a 401.
func sessionState(t *testing.T, c *testserver.Client) string {
	t.Helper()
	r := c.Get("/api/v1/session")
	if r.Status == http.StatusUnauthorized {
		wantProblem(t, r, http.StatusUnauthorized, "unauthenticated")
		return ""
	}
	wantStatus(t, r, http.StatusOK)
	return decode[web.SessionAnswer](t, r).State
}

// decode decodes r's JSON body into the answer type the server writes it from.
func decode[T any](t testing.TB, r *testserver.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("status %d: body is not a %T: %v: %s", r.Status, v, err, r.Body)
	}
	return v
}

// postForm posts url-encoded values, as a browser form does.
func postForm(c *testserver.Client, path string, v url.Values) *testserver.Response {
	return c.Do(http.MethodPost, path, "application/x-www-form-urlencoded", []byte(v.Encode()))
}

// rawResult is an answer to a request made off the test goroutine.
type rawResult struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// rawDo sends a request with c's cookies and extra headers. It does not touch the test,
// so it may run on any goroutine.
func rawDo(srv *testserver.Server, c *testserver.Client, method, path, contentType string, body []byte, header http.Header) rawResult {
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		return rawResult{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return rawResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawResult{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// rawPostJSON posts v as JSON with c's cookies; safe on any goroutine.
func rawPostJSON(srv *testserver.Server, c *testserver.Client, path string, v any) rawResult {
	b, err := json.Marshal(v)
	if err != nil {
		return rawResult{err: err}
	}
	return rawDo(srv, c, http.MethodPost, path, "application/json", b, nil)
}

// codeJSON is the body {"code": code}.
func codeJSON(code string) map[string]string { return map[string]string{"code": code} }

// disable disables username's account.
func disable(t testing.TB, srv *testserver.Server, username string) {
	t.Helper()
	ctx := context.Background()
	u, err := srv.Auth.FindUser(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Auth.SetDisabled(ctx, u, true, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
}

// contains fails unless body holds every one of want.
func contains(t *testing.T, r *testserver.Response, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(r.Body), w) {
			t.Fatalf("status %d: body does not contain %q:\n%s", r.Status, w, r.Body)
		}
	}
}

// sessionBench starts a server with an enrolled, signed-in user and returns the server's
// handler and the user's session token.
func sessionBench(b *testing.B) (*testserver.Server, http.Handler, string) {
	b.Helper()
	srv := testserver.New(b, testserver.Options{})
	c, _, _ := enrolled(b, srv, "ada")
	return srv, srv.HTTP.Config.Handler, sessionToken(b, srv, c)
}
