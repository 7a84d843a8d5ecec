package auth_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// fate is what a row of the table does to one thing the user holds.
type fate bool

const (
	stays fate = false
	ends  fate = true
)

func (f fate) String() string {
	if f == ends {
		return "ends"
	}
	return "stays"
}

// holdings is what each test user holds when the action comes: this session (the one
// the action comes from), another session, an OIDC grant bound to each, an offline grant
// obtained through each, and a pending authenticator setup drawn by one of the sessions.
type holdings struct {
	srv         *testserver.Server
	user        *store.User
	secret      []byte
	this, other *testserver.Client
	thisID      string
	otherID     string
	grants      map[string]string // column -> grant id
	resetToken  string            // a live password reset link
}

// The columns of docs/security.md's table, in its order.
var columns = []string{"this session", "other session", "grant of this session", "grant of another session",
	"offline grant of this session", "offline grant of another session", "pending setup", "live reset link"}

// TestWhatEndsWhen walks the table of docs/security.md row by row: each row acts through
// the entry point people use (the API, the support desk, the console's service call) and
// checks every column. The pending setup is drawn once by this session and once by the
// other: it ends with the session that drew it.
func TestWhatEndsWhen(t *testing.T) {
	type row struct {
		name string
		act  func(t *testing.T, h *holdings)
		// The fate of each column but the pending setup, which follows its session.
		this, other, grantThis, grantOther, offlineThis, offlineOther fate
		// setupUsed: the action confirms a setup of this session, so none is left.
		setupUsed bool
		resetLink fate
	}
	userRow := func(name string, act func(t *testing.T, h *holdings)) row {
		return row{name: name, act: act, other: ends, grantOther: ends, offlineOther: ends}
	}
	logoutRow := func(name string, act func(t *testing.T, h *holdings)) row {
		return row{name: name, act: act, this: ends, grantThis: ends}
	}
	adminRow := func(name string, act func(t *testing.T, h *holdings)) row {
		return row{name: name, act: act, this: ends, other: ends, grantThis: ends, grantOther: ends, offlineThis: ends, offlineOther: ends, resetLink: ends}
	}
	replace := userRow("authenticator replaced", func(t *testing.T, h *holdings) {
		h.srv.NextStep()
		r := h.this.PostJSON("/api/v1/account/mfa/totp", map[string]string{"code": h.srv.Code(h.secret, 0)})
		wantStatus(t, r, http.StatusCreated)
		next := testserver.DecodeSecret(t, r.JSON(t)["secret"].(string))
		wantStatus(t, h.this.PostJSON("/api/v1/account/mfa/totp/confirm", map[string]string{"code": h.srv.Code(next, 0)}), http.StatusOK)
	})
	replace.setupUsed = true
	rows := []row{
		logoutRow("logout", func(t *testing.T, h *holdings) {
			wantStatus(t, h.this.PostJSON("/api/v1/logout", nil), http.StatusNoContent)
		}),
		logoutRow("RP-initiated logout", func(t *testing.T, h *holdings) {
			end(t, h, auth.RPLogout, h.thisID)
		}),
		logoutRow("a new sign-in replaces the session", func(t *testing.T, h *holdings) {
			h.this.Login(h.user.Username, "mfa_required")
		}),
		userRow("sign out other sessions", func(t *testing.T, h *holdings) {
			wantStatus(t, h.this.PostJSON("/api/v1/account/sessions/sign-out-others", nil), http.StatusOK)
		}),
		{name: "sign out one other session", act: func(t *testing.T, h *holdings) {
			wantStatus(t, h.this.PostJSON("/api/v1/account/sessions/"+h.otherID+"/sign-out", nil), http.StatusNoContent)
		}, other: ends, grantOther: ends},
		{name: "an application's access removed", act: func(t *testing.T, h *holdings) {
			wantStatus(t, h.this.PostJSON("/api/v1/account/applications/client-1/revoke", nil), http.StatusOK)
		}, grantThis: ends, grantOther: ends, offlineThis: ends, offlineOther: ends},
		{name: "password change", act: func(t *testing.T, h *holdings) {
			wantStatus(t, h.this.PostJSON("/api/v1/account/password", map[string]string{"current_password": testserver.Password,
				"new_password": "an entirely different passphrase 42"}), http.StatusNoContent)
		}, other: ends, grantOther: ends, offlineOther: ends, resetLink: ends},
		replace,
		adminRow("password reset by link", func(t *testing.T, h *holdings) {
			end(t, h, auth.PasswordReset, "")
		}),
		adminRow("MFA reset", func(t *testing.T, h *holdings) {
			if _, err := h.srv.Support.ResetAtConsole(t.Context(), h.user, "lost phone, identity checked in person", "", auth.Meta{IP: "console"}); err != nil {
				t.Fatal(err)
			}
		}),
		adminRow("user sign-out", func(t *testing.T, h *holdings) {
			end(t, h, auth.SignOutEverywhere, "")
		}),
		adminRow("disable", func(t *testing.T, h *holdings) {
			if err := h.srv.Auth.SetDisabled(t.Context(), h.user, true, auth.Meta{IP: "console"}); err != nil {
				t.Fatal(err)
			}
		}),
		adminRow("delete", func(t *testing.T, h *holdings) {
			if err := h.srv.Auth.DeleteUser(t.Context(), h.user, auth.Meta{IP: "console"}); err != nil {
				t.Fatal(err)
			}
		}),
	}
	for _, r := range rows {
		for _, drawnBy := range []string{"this session", "other session"} {
			t.Run(r.name+"/setup drawn by "+drawnBy, func(t *testing.T) {
				h := hold(t, drawnBy == "this session")
				r.act(t, h)
				pending := r.this
				if drawnBy == "other session" {
					pending = r.other
				}
				if r.setupUsed {
					pending = ends
				}
				want := []fate{r.this, r.other, r.grantThis, r.grantOther, r.offlineThis, r.offlineOther, pending, r.resetLink}
				got := h.fates(t)
				for i, c := range columns {
					if got[i] != want[i] {
						t.Errorf("%s %s, want it %s", c, got[i], want[i])
					}
				}
			})
		}
	}
}

// hold signs a fresh user in twice with a second factor, gives each session an OIDC grant
// and an offline grant, draws a pending setup in this session or the other one, and has a
// password reset link mailed.
func hold(t *testing.T, setupInThis bool) *holdings {
	t.Helper()
	srv := testserver.New(t, testserver.Options{})
	h := &holdings{srv: srv, user: srv.CreateUser(t, "ada", "ada@example.com", "user"), grants: map[string]string{}}
	h.this = srv.Client(t)
	h.secret, _ = srv.Enroll(t, h.this, "ada")
	h.other = srv.Client(t)
	h.other.Login("ada", "mfa_required")
	wantStatus(t, h.other.PostJSON("/api/v1/login/totp", map[string]string{"code": srv.Code(h.secret, 0)}), http.StatusOK)
	h.thisID, h.otherID = sessionID(t, h.this), sessionID(t, h.other)

	ctx := t.Context()
	now := srv.Clock.Now()
	client := &store.OIDCClient{ID: "client-1", Name: "billing", RedirectURIs: []string{"https://billing.example.com/cb"}, IDTokenAlg: "ES256", CreatedAt: now}
	if err := srv.Store.CreateOIDCClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	for i, c := range columns[2:6] {
		g := &store.OIDCGrant{ID: c, ClientID: client.ID, UserID: h.user.ID, SessionID: h.thisID, Scopes: []string{"openid"},
			AuthTime: now, AMR: []string{"pwd", "otp", "mfa"}, Offline: i >= 2, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if i%2 == 1 {
			g.SessionID = h.otherID
		}
		if err := srv.Store.CreateOIDCGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		h.grants[c] = g.ID
	}
	drawer := h.other
	if setupInThis {
		drawer = h.this
	}
	srv.NextStep()
	wantStatus(t, drawer.PostJSON("/api/v1/account/mfa/totp", map[string]string{"code": srv.Code(h.secret, 0)}), http.StatusCreated)
	srv.NextStep()
	var err error
	h.resetToken, err = links.Issue(ctx, srv.Store, rand.Reader, srv.Clock.Now(),
		links.Link{Purpose: store.LinkPasswordReset, UserID: h.user.ID, Email: h.user.Email, TTL: auth.ResetLinkTTL})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fates reports, per column, whether it ended.
func (h *holdings) fates(t *testing.T) []fate {
	t.Helper()
	ctx := t.Context()
	sessions, err := h.srv.Store.ListUserSessions(ctx, h.user.ID, h.srv.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	alive := func(id string) fate {
		return fate(!slices.ContainsFunc(sessions, func(s store.SessionRecord) bool { return s.ID == id }))
	}
	out := []fate{alive(h.thisID), alive(h.otherID)}
	for _, c := range columns[2:6] {
		_, err := h.srv.Store.GetOIDCGrant(ctx, h.grants[c])
		out = append(out, fate(err != nil))
	}
	_, err = h.srv.Store.GetPendingTOTP(ctx, h.user.ID, h.srv.Clock.Now())
	out = append(out, fate(err != nil))
	_, err = links.Peek(ctx, h.srv.Store, store.LinkPasswordReset, h.resetToken, h.srv.Clock.Now())
	return append(out, fate(err != nil))
}

// end calls End for an action whose entry point is no request of the user's browser.
func end(t *testing.T, h *holdings, a auth.Action, sessionID string) {
	t.Helper()
	if _, err := h.srv.Auth.End(context.Background(), a, h.user.ID, sessionID, auth.Meta{IP: "test"}); err != nil {
		t.Fatal(err)
	}
}

// sessionID returns the id of the session c holds.
func sessionID(t *testing.T, c *testserver.Client) string {
	t.Helper()
	r := c.Get("/api/v1/account/sessions")
	wantStatus(t, r, http.StatusOK)
	for _, s := range r.JSON(t)["sessions"].([]any) {
		if m := s.(map[string]any); m["current"] == true {
			return m["id"].(string)
		}
	}
	t.Fatalf("no current session in %s", r.Body)
	return ""
}

func wantStatus(t *testing.T, r *testserver.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}
