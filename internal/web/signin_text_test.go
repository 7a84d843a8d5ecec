package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// notText are values that are not sign-in text: a NUL (PostgreSQL refuses it in text) and
// bytes that are not UTF-8, alone and after a real value.
func notText(real string) map[string]string {
	return map[string]string{
		"NUL": "\x00", "NUL after": real + "\x00", "NUL inside": real[:1] + "\x00" + real[1:],
		"0xFF": "\xff", "0xFF after": real + "\xff",
	}
}

// jsonBody encodes fields as a JSON object, control characters escaped (a NUL is \u0000)
// and other bytes raw, so invalid UTF-8 reaches the server as sent (encoding/json would
// replace it).
func jsonBody(fields map[string]string) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for k, v := range fields {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:\"", k)
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20:
				fmt.Fprintf(&b, `\u%04x`, c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// TestSignInRefusesNonText: a NUL or bytes that are not UTF-8 in the username, the password
// or a code answer exactly as a wrong value does (401 on the password step, the wrong-code
// answer on the second), on the pages and the API, on SQLite and PostgreSQL: never a 500.
// The one exception: a JSON body that is not UTF-8 is not JSON (RFC 8259, section 8.1), and
// the API refuses it whole, 400, before it reads any value (decodeJSON).
func TestSignInRefusesNonText(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			o := testserver.Options{Throttle: manyAttempts}
			if backend == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			name := "nul-" + backend
			_, secret, recovery := enrolled(t, srv, name)

			apiLogin := func(user, pw string) rawResult {
				return rawDo(srv, srv.Client(t), http.MethodPost, "/api/v1/login", "application/json",
					jsonBody(map[string]string{"username": user, "password": pw}), nil)
			}
			pageLogin := func(user, pw string) int {
				return postForm(srv.Client(t), "/login", url.Values{"username": {user}, "password": {pw}}).Status
			}
			wantAPI := apiLogin(name, "a wrong password 123")
			wantPage := pageLogin(name, "a wrong password 123")
			if wantAPI.status != http.StatusUnauthorized || wantPage != http.StatusUnauthorized {
				t.Fatalf("a wrong password: API %d, page %d; want 401", wantAPI.status, wantPage)
			}
			check := func(what string, got, want int, body []byte) {
				t.Helper()
				if strings.HasPrefix(what, "/api/") || strings.HasPrefix(what, "API ") {
					if strings.Contains(what, "0xFF") {
						want = http.StatusBadRequest
						if !strings.Contains(string(body), "not UTF-8") {
							t.Errorf("%s: %s, want the reason", what, body)
						}
					}
				}
				if got != want {
					t.Errorf("%s: %d, want %d as for a wrong value: %s", what, got, want, body)
				}
			}
			for label, v := range notText(name) {
				r := apiLogin(v, testserver.Password)
				check("API username "+label, r.status, wantAPI.status, r.body)
				check("page username "+label, pageLogin(v, testserver.Password), wantPage, nil)
			}
			for label, v := range notText(testserver.Password) {
				r := apiLogin(name, v)
				check("API password "+label, r.status, wantAPI.status, r.body)
				check("page password "+label, pageLogin(name, v), wantPage, nil)
			}

			// The second step: each attempt starts from a fresh password step.
			apiCode := func(path, field, code string) rawResult {
				c := srv.Client(t)
				c.Login(name, "mfa_required")
				return rawDo(srv, c, http.MethodPost, path, "application/json", jsonBody(map[string]string{field: code}), nil)
			}
			pageCode := func(path, code string) int {
				c := srv.Client(t)
				if r := postForm(c, "/login", url.Values{"username": {name}, "password": {testserver.Password}}); r.Status != http.StatusSeeOther {
					t.Fatalf("page sign-in: %d", r.Status)
				}
				return postForm(c, path, url.Values{"code": {code}}).Status
			}
			wrong := wrongCode(srv, secret)
			for _, step := range []struct{ api, page, real string }{
				{"/api/v1/login/totp", "/login/code", wrong},
				{"/api/v1/login/recovery-code", "/login/recovery", recovery},
			} {
				want := apiCode(step.api, "code", wrong)
				wantPage := pageCode(step.page, wrong)
				if want.status >= 500 || wantPage >= 500 {
					t.Fatalf("a wrong code on %s: API %d, page %d", step.api, want.status, wantPage)
				}
				for label, v := range notText(step.real) {
					r := apiCode(step.api, "code", v)
					check(step.api+" "+label, r.status, want.status, r.body)
					check(step.page+" "+label, pageCode(step.page, v), wantPage, nil)
				}
			}
		})
	}
}
