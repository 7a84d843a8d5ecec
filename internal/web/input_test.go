package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// object builds a JSON object with every field set to v.
func object(fields []string, v any) []byte {
	m := map[string]any{}
	for _, f := range fields {
		m[f] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// objectRaw builds a JSON object with every field set to the raw JSON value v.
func objectRaw(fields []string, v string) []byte {
	var parts []string
	for _, f := range fields {
		parts = append(parts, fmt.Sprintf("%q:%s", f, v))
	}
	return []byte("{" + strings.Join(parts, ",") + "}")
}

func TestMalformedInput(t *testing.T) {
	t.Parallel()
	// Every malformed code and password below is an attempt against alice's budgets.
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	alice, secret, _ := enrolled(t, srv, "alice") // authenticated
	// alice's proof of the second factor is no longer recent: a setup without a code is refused.
	srv.Clock.Advance(10*time.Minute + time.Second)
	aliceMFA := srv.Client(t)
	aliceMFA.Login("alice", "mfa_required")
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	bobEnrolling := srv.Client(t)
	bobEnrolling.Login("bob", "enrollment_required")
	wantStatus(t, bobEnrolling.PostJSON("/api/v1/account/mfa/totp", nil), http.StatusCreated)

	endpoints := []struct {
		path   string
		fields []string
		client *testserver.Client
		// optional: an empty body is a request without a code (403 reauthentication_required)
		optional bool
	}{
		{path: "/api/v1/login", fields: []string{"username", "password"}, client: srv.Client(t)},
		{path: "/api/v1/login/totp", fields: []string{"code"}, client: aliceMFA},
		{path: "/api/v1/login/recovery-code", fields: []string{"code"}, client: aliceMFA},
		{path: "/api/v1/account/mfa/totp", fields: []string{"code"}, client: alice, optional: true},
		{path: "/api/v1/account/mfa/totp/confirm", fields: []string{"code"}, client: bobEnrolling},
		{path: "/api/v1/account/mfa/recovery-code", fields: []string{"code"}, client: alice, optional: true},
		{path: "/api/v1/account/password", fields: []string{"current_password", "new_password"}, client: alice},
	}

	const anyClientError = 0
	cases := []struct {
		name string
		body func(fields []string) []byte
		want int // exact status, or anyClientError
		// empty: the body carries no value, which an optional body allows
		empty bool
	}{
		{"broken_JSON", func([]string) []byte { return []byte(`{"code": "12`) }, http.StatusBadRequest, false},
		{"form_encoding_instead_of_JSON", func([]string) []byte { return []byte(`code=123456`) }, http.StatusBadRequest, false},
		{"JSON_array", func([]string) []byte { return []byte(`[]`) }, http.StatusBadRequest, false},
		{"JSON_array_of_strings", func([]string) []byte { return []byte(`["123456","123456"]`) }, http.StatusBadRequest, false},
		{"JSON_string", func([]string) []byte { return []byte(`"123456"`) }, http.StatusBadRequest, false},
		{"JSON_number", func([]string) []byte { return []byte(`123456`) }, http.StatusBadRequest, false},
		{"fields_as_numbers", func(f []string) []byte { return objectRaw(f, "123456") }, http.StatusBadRequest, false},
		{"fields_as_booleans", func(f []string) []byte { return objectRaw(f, "true") }, http.StatusBadRequest, false},
		{"fields_as_objects", func(f []string) []byte { return objectRaw(f, `{"x":"123456"}`) }, http.StatusBadRequest, false},
		{"fields_as_arrays", func(f []string) []byte { return objectRaw(f, `["123456"]`) }, http.StatusBadRequest, false},
		{"two_objects", func(f []string) []byte { return append(object(f, "123456"), object(f, "123456")...) }, http.StatusBadRequest, false},
		{"trailing_garbage", func(f []string) []byte { return append(object(f, "123456"), " x"...) }, http.StatusBadRequest, false},
		{"deeply_nested", func([]string) []byte { return []byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)) }, http.StatusBadRequest, false},
		{"empty_body", func([]string) []byte { return nil }, http.StatusBadRequest, true},
		{"whitespace_body", func([]string) []byte { return []byte(" \r\n\t ") }, http.StatusBadRequest, true},
		{"JSON_null", func([]string) []byte { return []byte(`null`) }, http.StatusBadRequest, true},
		{"empty_object", func([]string) []byte { return []byte(`{}`) }, http.StatusBadRequest, true},
		{"null_fields", func(f []string) []byte { return objectRaw(f, "null") }, http.StatusBadRequest, true},
		{"empty_fields", func(f []string) []byte { return object(f, "") }, http.StatusBadRequest, true},
		{"1_MB_body", func(f []string) []byte { return object(f, strings.Repeat("1", 1<<20)) }, http.StatusRequestEntityTooLarge, false},
		{"1_MB_of_spaces", func([]string) []byte { return []byte(strings.Repeat(" ", 1<<20)) }, http.StatusRequestEntityTooLarge, false},
		{"non-digit_code", func(f []string) []byte { return object(f, "abcdef") }, anyClientError, false},
		{"code_with_a_letter", func(f []string) []byte { return object(f, "12345a") }, anyClientError, false},
		{"fullwidth_digits", func(f []string) []byte { return object(f, "１２３４５６") }, anyClientError, false},
		{"arabic-indic_digits", func(f []string) []byte { return object(f, "٠١٢٣٤٥") }, anyClientError, false},
		{"too_many_digits", func(f []string) []byte { return object(f, "1234567") }, anyClientError, false},
		{"negative_number_as_text", func(f []string) []byte { return object(f, "-12345") }, anyClientError, false},
		{"huge_code_string", func(f []string) []byte { return object(f, strings.Repeat("9", 60_000)) }, anyClientError, false},
		{"NUL_bytes", func(f []string) []byte { return object(f, "\x00\x00\x00\x00\x00\x00") }, anyClientError, false},
		{"invalid_UTF-8", func(f []string) []byte { return objectRaw(f, "\"\xff\xfe\xfd\"") }, anyClientError, false},
		{"control_characters", func(f []string) []byte { return object(f, "\u202e\u200b123456") }, anyClientError, false},
	}

	for _, ep := range endpoints {
		t.Run(strings.TrimPrefix(ep.path, "/api/v1/"), func(t *testing.T) {
			before := sessionState(t, ep.client)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					r := ep.client.Do(http.MethodPost, ep.path, "application/json", tc.body(ep.fields))
					if r.Status < 400 || r.Status > 499 {
						t.Fatalf("status %d, want 4xx: %s", r.Status, r.Body)
					}
					p := problemOf(t, r)
					want := tc.want
					if tc.empty && ep.optional {
						want = http.StatusForbidden
					}
					if want != anyClientError && r.Status != want {
						t.Fatalf("status %d (%s), want %d: %s", r.Status, p["code"], want, r.Body)
					}
				})
			}
			if got := sessionState(t, ep.client); got != before {
				t.Fatalf("malformed input moved the session from %q to %q", before, got)
			}
		})
	}

	t.Run("wrong_type_names_the_field", func(t *testing.T) {
		r := aliceMFA.PostJSON("/api/v1/login/totp", `{"code":123456}`)
		wantProblem(t, r, http.StatusBadRequest, "bad_request")
		if d := problemOf(t, r)["detail"].(string); !strings.Contains(d, `"code"`) {
			t.Fatalf("detail %q does not name the field", d)
		}
	})

	t.Run("empty_field_names_the_field", func(t *testing.T) {
		r := srv.Client(t).PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": ""})
		wantProblem(t, r, http.StatusBadRequest, "bad_request")
		if d := problemOf(t, r)["detail"].(string); !strings.Contains(d, `"password"`) {
			t.Fatalf("detail %q does not name the field", d)
		}
	})

	t.Run("endpoints_without_a_body_ignore_it", func(t *testing.T) {
		c := srv.Client(t)
		signIn(t, srv, c, "alice", secret)
		for _, tc := range []struct {
			path string
			want int
		}{
			{"/api/v1/account/sessions/sign-out-others", http.StatusOK},
			{"/api/v1/logout", http.StatusNoContent},
		} {
			wantStatus(t, c.Do(http.MethodPost, tc.path, "application/json", []byte(`{"broken`)), tc.want)
		}
	})
}

func TestUnknownAPIPath(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c := srv.Client(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/nope"},
		{http.MethodPost, "/api/v1/nope"},
		{http.MethodGet, "/api/v2/session"},
		{http.MethodPost, "/api/v1/login/sms"},
		{http.MethodGet, "/api/"},
	} {
		t.Run(tc.method+"_"+tc.path, func(t *testing.T) {
			wantProblem(t, c.Do(tc.method, tc.path, "application/json", []byte(`{}`)), http.StatusNotFound, "not_found")
		})
	}
	t.Run("wrong_method_on_a_known_path", func(t *testing.T) {
		r := c.Do(http.MethodGet, "/api/v1/login", "", nil)
		if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		problemOf(t, r)
	})
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.CreateUser(t, "alice", "alice@example.com", "user")
	for _, tc := range []struct{ name, method, path, body string }{
		{"login_page", http.MethodGet, "/login", ""},
		{"API_answer", http.MethodPost, "/api/v1/login", `{"username":"alice","password":"` + testserver.Password + `"}`},
		{"API_refusal", http.MethodGet, "/api/v1/session", ""},
		{"unknown_API_path", http.MethodGet, "/api/v1/nope", ""},
		{"stylesheet", http.MethodGet, "/static/style.css", ""},
		{"unknown_page", http.MethodGet, "/nope", ""},
		{"health", http.MethodGet, "/healthz", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := srv.Client(t).Do(tc.method, tc.path, "application/json", []byte(tc.body))
			csp := r.Header.Get("Content-Security-Policy")
			if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q lacks frame-ancestors 'none'", csp)
			}
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
		})
	}
}

// setCookie parses the session cookie an answer sets.
func setCookie(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %q", name, h.Values("Set-Cookie"))
	return nil
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, secret, _ := enrolled(t, srv, "alice")
	c := srv.Client(t)

	check := func(t *testing.T, ck *http.Cookie) {
		t.Helper()
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
			t.Fatalf("cookie %s: want HttpOnly, SameSite=Lax, Path=/, no Domain", ck)
		}
	}
	t.Run("after_the_password", func(t *testing.T) {
		check(t, setCookie(t, c.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": testserver.Password}).Header, cookieName))
	})
	t.Run("after_the_code", func(t *testing.T) {
		srv.NextStep()
		r := c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0)))
		wantStatus(t, r, http.StatusOK)
		check(t, setCookie(t, r.Header, cookieName))
	})
	t.Run("logout_clears_it", func(t *testing.T) {
		ck := setCookie(t, c.PostJSON("/api/v1/logout", nil).Header, cookieName)
		check(t, ck)
		if ck.MaxAge >= 0 || ck.Value != "" {
			t.Fatalf("logout cookie %s does not clear it", ck)
		}
	})

	t.Run("over_HTTPS_it_is_Secure_with_the___Host-_prefix", func(t *testing.T) {
		h, err := web.New(web.Options{Auth: srv.Auth, SecureCookies: true})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "https://id.example/api/v1/login",
			strings.NewReader(`{"username":"alice","password":"`+testserver.Password+`"}`))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("login over HTTPS: %d %s", w.Code, w.Body)
		}
		ck := setCookie(t, w.Header(), "__Host-twofold_session")
		check(t, ck)
		if !ck.Secure {
			t.Fatalf("cookie %s is not Secure", ck)
		}
		if w.Header().Get("Strict-Transport-Security") == "" {
			t.Error("no Strict-Transport-Security over HTTPS")
		}
	})
}

func TestCrossOriginPost(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, secret, _ := enrolled(t, srv, "alice")
	signedIn := srv.Client(t)
	signIn(t, srv, signedIn, "alice", secret)

	loginJSON := []byte(`{"username":"alice","password":"` + testserver.Password + `"}`)
	loginForm := []byte(url.Values{"username": {"alice"}, "password": {testserver.Password}}.Encode())
	requests := []struct {
		name, path, contentType string
		body                    []byte
		client                  *testserver.Client
	}{
		{"API_login", "/api/v1/login", "application/json", loginJSON, srv.Client(t)},
		{"form_login", "/login", "application/x-www-form-urlencoded", loginForm, srv.Client(t)},
		{"API_logout", "/api/v1/logout", "application/json", nil, signedIn},
		{"form_logout", "/logout", "application/x-www-form-urlencoded", nil, signedIn},
		{"API_password_change", "/api/v1/account/password", "application/json",
			[]byte(`{"current_password":"` + testserver.Password + `","new_password":"violet submarine orchestra 58"}`), signedIn},
		{"API_sign_out_others", "/api/v1/account/sessions/sign-out-others", "application/json", nil, signedIn},
	}
	for _, origin := range []struct {
		name   string
		header http.Header
	}{
		{"Sec-Fetch-Site_cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"Sec-Fetch-Site_same-site", http.Header{"Sec-Fetch-Site": {"same-site"}}},
		{"Origin_of_another_host", http.Header{"Origin": {"https://evil.example"}}},
	} {
		for _, rq := range requests {
			t.Run(origin.name+"/"+rq.name+"_is_refused", func(t *testing.T) {
				before := sessionState(t, rq.client)
				res := rawDo(srv, rq.client, http.MethodPost, rq.path, rq.contentType, rq.body, origin.header)
				if res.err != nil {
					t.Fatal(res.err)
				}
				r := &testserver.Response{Status: res.status, Header: res.header, Body: res.body}
				if strings.HasPrefix(rq.path, "/api/") {
					wantProblem(t, r, http.StatusForbidden, "forbidden")
				} else {
					// A page's form gets a page that says what happened, not a JSON document.
					wantPage(t, r, http.StatusForbidden, "sent from another site")
				}
				if sc := res.header.Values("Set-Cookie"); len(sc) != 0 {
					t.Fatalf("refused request set a cookie: %q", sc)
				}
				if got := sessionState(t, rq.client); got != before {
					t.Fatalf("session went from %q to %q", before, got)
				}
			})
		}
	}
	// The password is unchanged and the signed-in session alive after all that.
	if got := sessionState(t, signedIn); got != "authenticated" {
		t.Fatalf("signed-in session: %q", got)
	}
	srv.Client(t).Login("alice", "mfa_required")

	for _, origin := range []struct {
		name   string
		header http.Header
	}{
		{"Sec-Fetch-Site_same-origin", http.Header{"Sec-Fetch-Site": {"same-origin"}}},
		{"Sec-Fetch-Site_none", http.Header{"Sec-Fetch-Site": {"none"}}},
		{"Origin_of_this_host", http.Header{"Origin": {srv.URL}}},
		{"no_origin_headers", nil},
	} {
		t.Run(origin.name+"_is_allowed", func(t *testing.T) {
			res := rawDo(srv, srv.Client(t), http.MethodPost, "/api/v1/login", "application/json", loginJSON, origin.header)
			if res.err != nil || res.status != http.StatusOK {
				t.Fatalf("%d %s %v", res.status, res.body, res.err)
			}
		})
	}
}
