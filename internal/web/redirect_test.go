package web_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// returnTricks are values of ?next= (as the server decodes them from the query) that try
// to send the browser to another site after the sign-in. want is the Location the server
// may answer for them: "" means refused (the default landing page).
var returnTricks = []struct {
	name, next, want string
}{
	{"plain path is kept", "/support/cases", "/support/cases"},
	{"path and query are kept", "/oidc/continue?id=a1%2Fb", "/oidc/continue?id=a1%2Fb"},
	{"dot segments are cleaned", "/account/./x/../security", "/account/security"},
	{"fragment is dropped", "/account/security#//evil.example", "/account/security"},
	{"dot then backslash", `/./\evil.example`, ""},
	{"parent then backslash", `/x/../\evil.example`, ""},
	{"slash backslash", `/\evil.example`, ""},
	{"backslash slash", `\/evil.example`, ""},
	{"two backslashes", `\\evil.example`, ""},
	{"backslash in the query", `/account/security?x=\evil`, ""},
	{"encoded backslash", "/%5Cevil.example", ""},
	{"encoded backslash lower case", "/%5cevil.example", ""},
	{"dot then encoded backslash", "/./%5Cevil.example", ""},
	{"doubly encoded backslash", "/%255Cevil.example", ""},
	{"trebly encoded backslash", "/%25255Cevil.example", ""},
	{"protocol relative", "//evil.example", ""},
	{"three slashes", "///evil.example", ""},
	{"slash dot slash slash", "/.//evil.example", "/evil.example"},
	{"parent slash slash", "/..//evil.example", "/evil.example"},
	{"encoded slash", "/%2Fevil.example", ""},
	{"encoded slash lower case", "/%2fevil.example", ""},
	{"two encoded slashes", "/%2F%2Fevil.example", ""},
	{"doubly encoded slash", "/%252Fevil.example", ""},
	{"tab between slashes", "/\t/evil.example", ""},
	{"newline between slashes", "/\n/evil.example", ""},
	{"carriage return between slashes", "/\r/evil.example", ""},
	{"encoded tab", "/%09/evil.example", ""},
	{"encoded newline", "/%0A/evil.example", ""},
	{"encoded NUL", "/%00/evil.example", ""},
	{"leading space", " //evil.example", ""},
	{"absolute URL", "https://evil.example/", ""},
	{"scheme without slashes", "https:evil.example", ""},
	{"scheme with backslashes", `https:\\evil.example`, ""},
	{"javascript URL", "javascript:alert(1)", ""},
	{"encoded javascript URL", "javascript%3Aalert(1)", ""},
	{"user info", "/@evil.example", "/@evil.example"},
	{"fullwidth solidus", "/\uff0fevil.example", ""},
	{"two fullwidth solidi", "\uff0f\uff0fevil.example", ""},
	{"division slash", "/\u2215evil.example", ""},
	{"fullwidth reverse solidus", "/\uff3cevil.example", ""},
	{"encoded fullwidth solidus", "/%EF%BC%8Fevil.example", ""},
	{"over long", "/" + strings.Repeat("a", 4096), ""},
	{"empty", "", ""},
	{"relative path", "evil.example", ""},
}

// onOurHost reports whether a browser that gets loc as a Location on base stays on base's
// host. It reads loc as a browser does: tabs and line breaks removed, leading and trailing
// spaces trimmed, backslashes taken for slashes.
func onOurHost(t *testing.T, base, loc string) bool {
	t.Helper()
	loc = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, strings.Trim(loc, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.Parse(loc)
	return err == nil && u.Scheme == b.Scheme && u.Host == b.Host
}

// wantReturn checks the answer that ends a sign-in: a 303 to want (or to fallback when
// want is ""), on our host.
func wantReturn(t *testing.T, srv *testserver.Server, r *testserver.Response, want, fallback string) {
	t.Helper()
	if want == "" {
		want = fallback
	}
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || loc != want {
		t.Fatalf("got %d Location %q, want 303 %q", r.Status, loc, want)
	}
	if !onOurHost(t, srv.URL, loc) {
		t.Fatalf("Location %q leaves %s", loc, srv.URL)
	}
}

// TestReturnPathStaysOnOurHost: whatever ?next= holds, the browser that signs in ends on
// this server: through the query when already signed in, through the return-path cookie
// after the password step, and through a return-path cookie planted by someone else.
func TestReturnPathStaysOnOurHost(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	signedIn := srv.Client(t)
	signedIn.Login("ada", "authenticated")

	for _, tc := range returnTricks {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("query when signed in", func(t *testing.T) {
				r := signedIn.Get("/login?next=" + url.QueryEscape(tc.next))
				wantReturn(t, srv, r, tc.want, "/account/security")
			})
			t.Run("cookie after the password", func(t *testing.T) {
				c := srv.Client(t)
				wantStatus(t, c.Get("/login?next="+url.QueryEscape(tc.next)), http.StatusOK)
				r := postForm(c, "/login", url.Values{"username": {"ada"}, "password": {testserver.Password}})
				wantReturn(t, srv, r, tc.want, "/account/security")
			})
			t.Run("planted cookie", func(t *testing.T) {
				c := srv.Client(t)
				u, _ := url.Parse(srv.URL)
				c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "twofold_return", Path: "/",
					Value: base64.RawURLEncoding.EncodeToString([]byte(tc.next))}})
				r := postForm(c, "/login", url.Values{"username": {"ada"}, "password": {testserver.Password}})
				wantReturn(t, srv, r, tc.want, "/account/security")
			})
		})
	}
}

// TestReturnPathAfterTheCode: with MFA the return path is used after the code step.
func TestReturnPathAfterTheCode(t *testing.T) {
	srv := newServer(t)
	_, secret, _ := enrolled(t, srv, "ada")
	for _, tc := range []struct{ name, next, want string }{
		{"kept", "/support/cases", "/support/cases"},
		{"dot then encoded backslash", "/./%5Cevil.example", ""},
		{"parent then backslash", `/x/../\evil.example`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := srv.Client(t)
			wantStatus(t, c.Get("/login?next="+url.QueryEscape(tc.next)), http.StatusOK)
			r := postForm(c, "/login", url.Values{"username": {"ada"}, "password": {testserver.Password}})
			if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || loc != "/login/code" {
				t.Fatalf("password step: %d %q", r.Status, loc)
			}
			srv.NextStep()
			r = postForm(c, "/login/code", url.Values{"code": {srv.Code(secret, 0)}})
			wantReturn(t, srv, r, tc.want, "/account/security")
		})
	}
}

// TestReturnPathUsesPublicURL: with server.public_url set, an accepted return path is sent
// as an absolute URL on that origin.
func TestReturnPathUsesPublicURL(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA, PublicURL: "https://id.example.com"})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	c := srv.Client(t)
	c.Login("ada", "authenticated")
	for _, tc := range []struct{ next, want string }{
		{"/support/cases?x=1", "https://id.example.com/support/cases?x=1"},
		{"/a/../b", "https://id.example.com/b"},
		{"/./%5Cevil.example", "/account/security"},
	} {
		r := c.Get("/login?next=" + url.QueryEscape(tc.next))
		if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || loc != tc.want {
			t.Errorf("next=%q: %d Location %q, want 303 %q", tc.next, r.Status, loc, tc.want)
		}
	}
}
