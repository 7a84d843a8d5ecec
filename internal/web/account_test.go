package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// agent makes c send the User-Agent header ua.
type agent struct {
	ua   string
	next http.RoundTripper
}

func (a agent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", a.ua)
	return a.next.RoundTrip(r)
}

func withAgent(c *testserver.Client, ua string) *testserver.Client {
	next := c.HTTP.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.HTTP.Transport = agent{ua: ua, next: next}
	return c
}

const (
	uaLinuxChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaIPhone      = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// sessionsOf returns the sessions c's user has, as the API lists them.
func sessionsOf(t *testing.T, c *testserver.Client) []map[string]any {
	t.Helper()
	r := c.Get("/api/v1/account/sessions")
	wantStatus(t, r, http.StatusOK)
	var out []map[string]any
	for _, s := range r.JSON(t)["sessions"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// twoDevices signs alice in on a Linux desktop and on an iPhone and returns both clients
// with the iPhone's session id.
func twoDevices(t *testing.T, srv *testserver.Server) (desk, phone *testserver.Client, phoneID string) {
	t.Helper()
	srv.CreateUser(t, "alice", "alice@example.com", "user")
	desk = withAgent(srv.Client(t), uaLinuxChrome)
	secret, _ := srv.Enroll(t, desk, "alice")
	phone = withAgent(srv.Client(t), uaIPhone)
	signIn(t, srv, phone, "alice", secret)
	for _, s := range sessionsOf(t, phone) {
		if s["current"] == true {
			phoneID = s["id"].(string)
		}
	}
	return desk, phone, phoneID
}

func TestDevicesAPI(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	desk, phone, phoneID := twoDevices(t, srv)

	devices := map[string]string{}
	for _, s := range sessionsOf(t, desk) {
		devices[s["id"].(string)] = s["device"].(string)
	}
	if devices[phoneID] != "Safari on iPhone" || len(devices) != 2 {
		t.Fatalf("devices %v, want the phone as Safari on iPhone beside the desktop", devices)
	}

	t.Run("not_ones_own_session", func(t *testing.T) {
		bob, _, _ := enrolled(t, srv, "bob")
		r := bob.PostJSON("/api/v1/account/sessions/"+phoneID+"/sign-out", nil)
		wantStatus(t, r, http.StatusNotFound)
		wantStatus(t, bob.PostJSON("/api/v1/account/sessions/no-such-session/sign-out", nil), http.StatusNotFound)
		wantStatus(t, phone.Get("/api/v1/account/sessions"), http.StatusOK)
	})
	t.Run("the_current_session", func(t *testing.T) {
		wantStatus(t, phone.PostJSON("/api/v1/account/sessions/"+phoneID+"/sign-out", nil), http.StatusBadRequest)
		wantStatus(t, phone.Get("/api/v1/account/sessions"), http.StatusOK)
	})
	t.Run("another_device", func(t *testing.T) {
		wantStatus(t, desk.PostJSON("/api/v1/account/sessions/"+phoneID+"/sign-out", nil), http.StatusNoContent)
		wantStatus(t, phone.Get("/api/v1/account/sessions"), http.StatusUnauthorized)
		if n := len(sessionsOf(t, desk)); n != 1 {
			t.Fatalf("%d sessions left, want the desktop's only", n)
		}
		wantStatus(t, desk.PostJSON("/api/v1/account/sessions/"+phoneID+"/sign-out", nil), http.StatusNotFound)
	})
}

func TestDevicesPage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	desk, phone, phoneID := twoDevices(t, srv)

	r := desk.Get("/account/security")
	wantStatus(t, r, http.StatusOK)
	page := string(r.Body)
	for _, want := range []string{"Chrome on Linux", "This device", "Safari on iPhone",
		`action="/account/sessions/` + phoneID + `/sign-out"`, `aria-label="Sign out Safari on iPhone`} {
		if !strings.Contains(page, want) {
			t.Errorf("security page lacks %q", want)
		}
	}
	if strings.Contains(page, "AppleWebKit") {
		t.Error("security page shows a raw user agent")
	}

	r = postForm(desk, "/account/sessions/"+phoneID+"/sign-out", url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/account/security?done=session") {
		t.Fatalf("redirect to %q", loc)
	}
	wantStatus(t, phone.Get("/api/v1/account/sessions"), http.StatusUnauthorized)
	r = postForm(desk, "/account/sessions/"+phoneID+"/sign-out", url.Values{})
	wantStatus(t, r, http.StatusNotFound)
	if !strings.Contains(string(r.Body), "not one of yours, or it has ended already") {
		t.Errorf("second sign-out of the phone: %s", r.Body)
	}
}

// connect gives the user a consent to a new client "billing" with an offline grant, and a
// grant of a first-party client "wiki", as signing in to them would. It returns billing's
// client id and the grants' ids.
func connect(t *testing.T, srv *testserver.Server, userID string) (billing string, grants []string) {
	t.Helper()
	ctx, now := t.Context(), srv.Clock.Now()
	for _, c := range []*store.OIDCClient{
		{ID: "client-billing", Name: "billing", RedirectURIs: []string{"https://billing.example.com/cb"}, IDTokenAlg: "ES256", CreatedAt: now},
		{ID: "client-wiki", Name: "wiki", FirstParty: true, RedirectURIs: []string{"https://wiki.example.com/cb"}, IDTokenAlg: "ES256", CreatedAt: now},
	} {
		if err := srv.Store.CreateOIDCClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		g := &store.OIDCGrant{ID: "grant-" + c.Name, ClientID: c.ID, UserID: userID, SessionID: "s", Scopes: []string{"openid", "email", "offline_access"},
			AuthTime: now, AMR: []string{"pwd", "otp", "mfa"}, Offline: true, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := srv.Store.CreateOIDCGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		grants = append(grants, g.ID)
	}
	if err := srv.Store.PutOIDCConsent(ctx, &store.OIDCConsent{UserID: userID, ClientID: "client-billing", Scopes: []string{"openid", "email", "offline_access"}, GrantedAt: now}); err != nil {
		t.Fatal(err)
	}
	return "client-billing", grants
}

func TestApplicationsAPI(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	u := srv.CreateUser(t, "alice", "alice@example.com", "user")
	c := srv.Client(t)
	srv.Enroll(t, c, "alice")
	billing, grants := connect(t, srv, u.ID)

	var list web.ApplicationList
	r := c.Get("/api/v1/account/applications")
	wantStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Applications) != 2 {
		t.Fatalf("applications %s, want billing and wiki", r.Body)
	}
	b, w := list.Applications[0], list.Applications[1]
	if b.ClientID != billing || b.Name != "billing" || b.ConsentedAt == nil || b.LastUsedAt == nil || len(b.Scopes) != 3 {
		t.Errorf("billing: %+v", b)
	}
	if w.Name != "wiki" || w.ConsentedAt != nil || w.LastUsedAt == nil {
		t.Errorf("wiki (first-party, no consent): %+v", w)
	}

	bob, _, _ := enrolled(t, srv, "bob")
	wantStatus(t, bob.PostJSON("/api/v1/account/applications/"+billing+"/revoke", nil), http.StatusNotFound)
	wantStatus(t, c.PostJSON("/api/v1/account/applications/no-such-client/revoke", nil), http.StatusNotFound)
	if _, err := srv.Store.GetOIDCGrant(t.Context(), grants[0]); err != nil {
		t.Fatalf("another user's removal ended alice's grant: %v", err)
	}

	r = c.PostJSON("/api/v1/account/applications/"+billing+"/revoke", nil)
	wantStatus(t, r, http.StatusOK)
	if n := r.JSON(t)["grants_ended"]; n != float64(1) {
		t.Errorf("grants_ended %v, want 1", n)
	}
	if _, err := srv.Store.GetOIDCGrant(t.Context(), grants[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("billing's grant after removal: %v", err)
	}
	if _, err := srv.Store.GetOIDCConsent(t.Context(), u.ID, billing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("billing's consent after removal: %v", err)
	}
	if _, err := srv.Store.GetOIDCGrant(t.Context(), grants[1]); err != nil {
		t.Errorf("wiki's grant went with billing's: %v", err)
	}
	wantStatus(t, c.PostJSON("/api/v1/account/applications/"+billing+"/revoke", nil), http.StatusNotFound)
	wantStatus(t, c.Get("/api/v1/account/sessions"), http.StatusOK)
}

func TestApplicationsPage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	u := srv.CreateUser(t, "alice", "alice@example.com", "user")
	c := srv.Client(t)
	srv.Enroll(t, c, "alice")
	billing, _ := connect(t, srv, u.ID)

	r := c.Get("/account/security")
	wantStatus(t, r, http.StatusOK)
	page := string(r.Body)
	for _, want := range []string{"Connected applications", "billing", "wiki", "your e-mail address",
		"Trusted by your organisation", `action="/account/applications/` + billing + `/revoke"`, `aria-label="Remove access for billing"`} {
		if !strings.Contains(page, want) {
			t.Errorf("security page lacks %q", want)
		}
	}
	r = postForm(c, "/account/applications/"+billing+"/revoke", url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	r = c.Get(r.Header.Get("Location"))
	wantStatus(t, r, http.StatusOK)
	if page := string(r.Body); !strings.Contains(page, "access is removed") || strings.Contains(page, `/account/applications/`+billing+`/revoke`) {
		t.Errorf("after removal the page does not say so, or still offers billing")
	}
	wantStatus(t, postForm(c, "/account/applications/"+billing+"/revoke", url.Values{}), http.StatusNotFound)
}

func TestProfileAPI(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"a_name_trimmed", `{"display_name":"  Alice Lovelace  "}`, http.StatusOK, "Alice Lovelace"},
		{"accents_composed", `{"display_name":"Zoe\u0301 Müller 李"}`, http.StatusOK, "Zoé Müller 李"},
		{"cleared", `{"display_name":""}`, http.StatusOK, ""},
		{"a_control_character", `{"display_name":"Alice\u0007"}`, http.StatusBadRequest, ""},
		{"a_direction_override", `{"display_name":"Alice \u202egnp.exe"}`, http.StatusBadRequest, ""},
		{"too_long", `{"display_name":"` + strings.Repeat("a", 101) + `"}`, http.StatusBadRequest, ""},
		{"not_json", `display_name=Alice`, http.StatusBadRequest, ""},
		// A body without the name must not clear the one saved (it did).
		{"no_field", `{}`, http.StatusBadRequest, ""},
		{"null", `{"display_name":null}`, http.StatusBadRequest, ""},
		{"a_misspelt_field", `{"displayname":"Alice"}`, http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.PostJSON("/api/v1/account/profile", tc.body)
			wantStatus(t, r, tc.status)
			if tc.status == http.StatusOK {
				if got := r.JSON(t)["display_name"]; got != tc.want {
					t.Errorf("display_name %q, want %q", got, tc.want)
				}
			} else if r.JSON(t)["code"] != "bad_request" {
				t.Errorf("answer %s", r.Body)
			}
		})
	}
	wantStatus(t, c.PostJSON("/api/v1/account/profile", `{"display_name":"Ada"}`), http.StatusOK)
	wantStatus(t, c.PostJSON("/api/v1/account/profile", `{}`), http.StatusBadRequest)
	if u := mustUser(t, srv, "alice"); u.DisplayName != "Ada" {
		t.Errorf("after a body without the field the name is %q, want Ada", u.DisplayName)
	}
	anon := srv.Client(t)
	wantStatus(t, anon.PostJSON("/api/v1/account/profile", `{"display_name":"Eve"}`), http.StatusUnauthorized)
}

func TestProfilePage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	r := postForm(c, "/account/profile", url.Values{"display_name": {"Alice <b>Lovelace</b>"}})
	wantStatus(t, r, http.StatusSeeOther)
	r = c.Get(r.Header.Get("Location"))
	wantStatus(t, r, http.StatusOK)
	page := string(r.Body)
	if !strings.Contains(page, `value="Alice &lt;b&gt;Lovelace&lt;/b&gt;"`) || !strings.Contains(page, "Your name is saved") {
		t.Errorf("the page does not show the saved name escaped, or says nothing")
	}
	r = postForm(c, "/account/profile", url.Values{})
	wantStatus(t, r, http.StatusBadRequest)
	if u := mustUser(t, srv, "alice"); u.DisplayName != "Alice <b>Lovelace</b>" {
		t.Errorf("a form without the field changed the name to %q", u.DisplayName)
	}
	r = postForm(c, "/account/profile", url.Values{"display_name": {strings.Repeat("a", 101)}})
	wantStatus(t, r, http.StatusBadRequest)
	page = string(r.Body)
	if !strings.Contains(page, `id="display_name-error"`) || !strings.Contains(page, "at most 100 characters") {
		t.Errorf("a long name is not refused next to the field")
	}
	// The sections, in their order, each reachable from the list at the top.
	last := 0
	for _, id := range []string{"sign-in", "password", "devices", "applications", "email", "profile"} {
		at := strings.Index(page, `class="card" id="`+id+`"`)
		if at < last || !strings.Contains(page, `href="#`+id+`"`) {
			t.Errorf("section %s missing, out of order or not linked", id)
		}
		last = at
	}
}
