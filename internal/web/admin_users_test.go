package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// apiDo sends a JSON request of method with body (nil: none) and returns the answer.
func apiDo(c *testserver.Client, method, path string, body any) *testserver.Response {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	return c.Do(method, path, "application/json", b)
}

// decodeAs decodes r's body into a value of T.
func decodeAs[T any](t *testing.T, r *testserver.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("status %d: %v: %s", r.Status, err, r.Body)
	}
	return v
}

// listUsers gets a page of the admin user list with query q.
func listUsers(t *testing.T, c *testserver.Client, q url.Values) web.Page[web.AdminUser] {
	t.Helper()
	r := c.Get("/api/v1/admin/users?" + q.Encode())
	wantStatus(t, r, http.StatusOK)
	return decodeAs[web.Page[web.AdminUser]](t, r)
}

func usernames(items []web.AdminUser) []string {
	var out []string
	for _, u := range items {
		out = append(out, u.Username)
	}
	return out
}

// TestAdminUsersAPI walks the users part of the admin API with an administrator's session.
func TestAdminUsersAPI(t *testing.T) {
	srv, root := adminServerWith(t, testserver.Options{Throttle: throttle.Policy{MaxFailures: 3}})
	ada := mfaClient(t, srv, "ada", "user")
	srv.CreateUser(t, "bob", "bob@example.com", "support")
	adaID, bobID := mustUser(t, srv, "ada").ID, mustUser(t, srv, "bob").ID

	t.Run("list_search_and_filters", func(t *testing.T) {
		p := listUsers(t, root, nil)
		if got := usernames(p.Items); !slices.Equal(got, []string{"bob", "ada", "root"}) || p.NextCursor != nil {
			t.Fatalf("list %v, next %v", got, p.NextCursor)
		}
		for q, want := range map[string][]string{
			"query=ADA":          {"ada"},
			"query=bob%40ex":     {"bob"},
			"role=support":       {"bob"},
			"mfa=app":            {"ada", "root"},
			"mfa=none":           {"bob"},
			"status=active":      {"bob", "ada", "root"},
			"status=disabled":    nil,
			"mfa=key":            nil,
			"query=nobody":       nil,
			"role=admin&mfa=app": {"root"},
		} {
			v, _ := url.ParseQuery(q)
			if got := usernames(listUsers(t, root, v).Items); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", q, got, want)
			}
		}
		u := listUsers(t, root, url.Values{"query": {"ada"}}).Items[0]
		if u.ID != adaID || u.Email != "ada@example.com" || u.Role != "user" || u.Status != "active" || !u.MFA.TOTP ||
			u.MFA.WebAuthn != 0 || u.MFARequired != "yes" || u.CreatedAt.IsZero() || u.LastSignInAt == nil {
			t.Errorf("ada: %+v", u)
		}
	})

	t.Run("bad_input_is_400", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=501", "limit=x", "cursor=nonsense!", "cursor=Zm9v", "role=god",
			"status=sleeping", "mfa=sms", "query=" + strings.Repeat("a", 201), "query=%00", "query=%ff"} {
			wantProblem(t, root.Get("/api/v1/admin/users?"+q), http.StatusBadRequest, "bad_request")
		}
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/admin/users", map[string]any{"username": "x"}},
			{"POST", "/api/v1/admin/users", map[string]any{"username": "x", "email": "x@example.com", "invite": false}},
			{"POST", "/api/v1/admin/users", map[string]any{"username": "x", "email": "x@example.com", "role": "god"}},
			{"POST", "/api/v1/admin/users", map[string]any{"username": "x y", "email": "x@example.com"}},
			{"POST", "/api/v1/admin/users", map[string]any{"username": "x", "email": "not-an-address"}},
			{"POST", "/api/v1/admin/users", "[1]"},
			{"PATCH", "/api/v1/admin/users/" + adaID, map[string]any{"rol": "admin"}},
			{"PATCH", "/api/v1/admin/users/" + adaID, map[string]any{"role": "god"}},
			{"PATCH", "/api/v1/admin/users/" + adaID, map[string]any{"disabled": "yes"}},
			{"PATCH", "/api/v1/admin/users/" + adaID, map[string]any{"mfa_required": "sometimes"}},
			{"PATCH", "/api/v1/admin/users/" + adaID, nil},
			{"POST", "/api/v1/admin/users/" + adaID + "/reset-mfa", map[string]any{"reason": ""}},
			{"POST", "/api/v1/admin/users/" + adaID + "/reset-mfa", map[string]any{"reason": 7}},
		} {
			r := apiDo(root, tc.method, tc.path, tc.body)
			if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s %s %v: %d %s", tc.method, tc.path, tc.body, r.Status, r.Body)
			}
		}
	})

	t.Run("unknown_ids_are_404", func(t *testing.T) {
		for _, id := range []string{"00000000-0000-0000-0000-000000000000", "x", strings.Repeat("a", 300), "%00", "%ff"} {
			for _, tc := range []struct{ method, suffix string }{{"GET", ""}, {"PATCH", ""}, {"DELETE", ""},
				{"POST", "/sign-out"}, {"POST", "/unlock"}, {"POST", "/password-reset"}, {"POST", "/reset-mfa"}} {
				var body any
				if tc.method == "PATCH" {
					body = map[string]any{"role": "user"}
				}
				if tc.suffix == "/reset-mfa" {
					body = map[string]any{"reason": "asked by phone"}
				}
				wantProblem(t, apiDo(root, tc.method, "/api/v1/admin/users/"+id+tc.suffix, body), http.StatusNotFound, "not_found")
			}
		}
	})

	t.Run("invite", func(t *testing.T) {
		r := apiDo(root, "POST", "/api/v1/admin/users", map[string]any{"username": "ivy", "email": "ivy@example.com", "role": "support", "invite": true})
		wantStatus(t, r, http.StatusCreated)
		u := decodeAs[web.AdminUser](t, r)
		if u.Username != "ivy" || u.Role != "support" || u.Status != "invited" || u.EmailVerified {
			t.Fatalf("invited: %+v", u)
		}
		if m := srv.LastMailTo(t, "ivy@example.com"); !strings.Contains(m.Text, "/invite?token=") {
			t.Fatalf("invitation mail: %s", m.Text)
		}
		wantProblem(t, apiDo(root, "POST", "/api/v1/admin/users", map[string]any{"username": "ivy", "email": "ivy2@example.com"}), http.StatusConflict, "conflict")
		wantProblem(t, apiDo(root, "POST", "/api/v1/admin/users/"+u.ID+"/password-reset", nil), http.StatusConflict, "conflict")
		if got := usernames(listUsers(t, root, url.Values{"status": {"invited"}}).Items); !slices.Equal(got, []string{"ivy"}) {
			t.Fatalf("invited: %v", got)
		}
	})

	t.Run("details", func(t *testing.T) {
		r := root.Get("/api/v1/admin/users/" + adaID)
		wantStatus(t, r, http.StatusOK)
		d := decodeAs[web.AdminUserDetails](t, r)
		if d.Username != "ada" || len(d.Sessions) == 0 || d.Sessions[0].IP == "" || d.Sessions[0].CreatedAt.IsZero() {
			t.Fatalf("details: %s", r.Body)
		}
		kinds := []string{}
		for _, f := range d.Factors {
			kinds = append(kinds, f.Kind)
		}
		if !slices.Equal(kinds, []string{"totp", "recovery_code"}) {
			t.Fatalf("factors %v", kinds)
		}
		if d.Cases == nil || d.Invitation != nil {
			t.Fatalf("cases %v, invitation %v", d.Cases, d.Invitation)
		}
	})

	t.Run("patch", func(t *testing.T) {
		r := apiDo(root, "PATCH", "/api/v1/admin/users/"+bobID, map[string]any{"role": "admin", "mfa_required": "no"})
		wantStatus(t, r, http.StatusOK)
		if u := decodeAs[web.AdminUser](t, r); u.Role != "admin" || u.MFARequired != "no" {
			t.Fatalf("patched: %+v", u)
		}
		r = apiDo(root, "PATCH", "/api/v1/admin/users/"+bobID, map[string]any{"role": "user", "mfa_required": "default", "disabled": true})
		if u := decodeAs[web.AdminUser](t, r); r.Status != http.StatusOK || u.Role != "user" || u.MFARequired != "default" || u.Status != "disabled" {
			t.Fatalf("patched: %d %+v", r.Status, u)
		}
		r = apiDo(root, "PATCH", "/api/v1/admin/users/"+bobID, map[string]any{"disabled": false})
		if u := decodeAs[web.AdminUser](t, r); u.Status != "active" {
			t.Fatalf("enabled: %+v", u)
		}
	})

	t.Run("an_admin_keeps_themselves", func(t *testing.T) {
		rootID := mustUser(t, srv, "root").ID
		for _, body := range []map[string]any{{"role": "user"}, {"disabled": true}} {
			wantProblem(t, apiDo(root, "PATCH", "/api/v1/admin/users/"+rootID, body), http.StatusConflict, "last_admin")
		}
		wantProblem(t, apiDo(root, "DELETE", "/api/v1/admin/users/"+rootID, nil), http.StatusConflict, "last_admin")
		if r := apiDo(root, "PATCH", "/api/v1/admin/users/"+rootID, map[string]any{"mfa_required": "yes"}); r.Status != http.StatusOK {
			t.Fatalf("own MFA requirement: %d %s", r.Status, r.Body)
		}
	})

	t.Run("sign_out_ends_every_session", func(t *testing.T) {
		wantStatus(t, ada.Get("/api/v1/session"), http.StatusOK)
		wantStatus(t, apiDo(root, "POST", "/api/v1/admin/users/"+adaID+"/sign-out", nil), http.StatusNoContent)
		wantStatus(t, ada.Get("/api/v1/session"), http.StatusUnauthorized)
	})

	t.Run("locked_and_unlocked", func(t *testing.T) {
		c := srv.Client(t)
		for range 3 {
			c.PostJSON("/api/v1/login", map[string]string{"username": "bob", "password": "wrong password here"})
		}
		if got := usernames(listUsers(t, root, url.Values{"status": {"locked"}}).Items); !slices.Equal(got, []string{"bob"}) {
			t.Fatalf("locked: %v", got)
		}
		wantStatus(t, apiDo(root, "POST", "/api/v1/admin/users/"+bobID+"/unlock", nil), http.StatusNoContent)
		if got := usernames(listUsers(t, root, url.Values{"status": {"locked"}}).Items); len(got) != 0 {
			t.Fatalf("still locked: %v", got)
		}
		c.Login("bob", "authenticated")
	})

	t.Run("password_reset_link", func(t *testing.T) {
		wantStatus(t, apiDo(root, "POST", "/api/v1/admin/users/"+adaID+"/password-reset", nil), http.StatusAccepted)
		if m := srv.LastMailTo(t, "ada@example.com"); !strings.Contains(m.Text, "/password/reset?token=") {
			t.Fatalf("reset mail: %s", m.Text)
		}
	})

	t.Run("reset_mfa", func(t *testing.T) {
		r := apiDo(root, "POST", "/api/v1/admin/users/"+adaID+"/reset-mfa", map[string]any{"reason": "Ada called from her desk phone."})
		wantStatus(t, r, http.StatusOK)
		if a := decodeAs[web.MFAResetAnswer](t, r); a.Status != "done" || a.Case != "" {
			t.Fatalf("reset: %s", r.Body)
		}
		if u := listUsers(t, root, url.Values{"query": {"ada"}}).Items[0]; u.MFA.TOTP {
			t.Fatal("ada still has an authenticator")
		}
	})

	t.Run("delete", func(t *testing.T) {
		wantStatus(t, apiDo(root, "DELETE", "/api/v1/admin/users/"+bobID, nil), http.StatusNoContent)
		wantProblem(t, root.Get("/api/v1/admin/users/"+bobID), http.StatusNotFound, "not_found")
	})

	t.Run("every_action_is_audited_with_the_actor", func(t *testing.T) {
		rootID := mustUser(t, srv, "root").ID
		events, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: adaID})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range events {
			if e.ActorID == rootID {
				seen[e.Event] = true
			}
		}
		for _, want := range []string{"session.all_ended", "password.reset_requested", "support.mfa_reset"} {
			if !seen[want] {
				t.Errorf("no %s by root in ada's events: %v", want, seen)
			}
		}
	})
}

// TestAdminLastAdministrator: an actor other than the administrator themselves (who is
// refused as self-demotion) still never takes away the last enabled administrator; a
// token acting for nobody in particular never touches an administrator at all.
func TestAdminLastAdministrator(t *testing.T) {
	srv, _ := adminServer(t)
	root := mustUser(t, srv, "root")
	svc := admin.New(admin.Options{Store: srv.Store, Auth: srv.Auth, Support: srv.Support, Invite: srv.Invite})
	ctx, other, token := context.Background(), admin.Actor{UserID: "someone-else"}, admin.Actor{TokenID: "t1"}
	user, no := "user", true
	for name, c := range map[string]admin.Change{"demote": {Role: &user}, "disable": {Disabled: &no}} {
		_, err := svc.Update(ctx, other, root.ID, c, auth.Meta{ActorID: other.AuditID()})
		if e, ok := asAppErr(err); !ok || e != "last_admin" {
			t.Errorf("%s the last administrator: %v", name, err)
		}
		_, err = svc.Update(ctx, token, root.ID, c, auth.Meta{ActorID: token.AuditID()})
		if e, ok := asAppErr(err); !ok || e != "token_cannot_manage_admins" {
			t.Errorf("%s the last administrator with a token: %v", name, err)
		}
	}
	if err := svc.Delete(ctx, other, root.ID, "root", auth.Meta{}); err == nil || !strings.Contains(err.Error(), "last_admin") {
		t.Errorf("delete the last administrator: %v", err)
	}
	// With a second administrator the first can go.
	srv.CreateUser(t, "pat", "pat@example.com", "admin")
	if _, err := svc.Update(ctx, other, root.ID, admin.Change{Role: &user}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
}

func asAppErr(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	code, _, ok := strings.Cut(err.Error(), ":")
	return code, ok
}

// TestAdminResetMFAWithApproval: under dual control an administrator's reset waits on a
// case until a second administrator approves it there.
func TestAdminResetMFAWithApproval(t *testing.T) {
	srv, root := adminServerWith(t, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
	pat := mfaClient(t, srv, "pat", "admin")
	mfaClient(t, srv, "ada", "user")
	adaID := mustUser(t, srv, "ada").ID
	r := apiDo(root, "POST", "/api/v1/admin/users/"+adaID+"/reset-mfa", map[string]any{"reason": "Lost phone, checked her ID in person."})
	wantStatus(t, r, http.StatusOK)
	a := decodeAs[web.MFAResetAnswer](t, r)
	if a.Status != "pending_approval" || a.Case == "" {
		t.Fatalf("reset: %s", r.Body)
	}
	if u := listUsers(t, root, url.Values{"query": {"ada"}}).Items[0]; !u.MFA.TOTP {
		t.Fatal("the reset happened before approval")
	}
	wantProblem(t, apiDo(root, "POST", "/api/v1/admin/users/"+adaID+"/reset-mfa", map[string]any{"reason": "again"}), http.StatusConflict, "conflict")
	wantProblem(t, apiDo(root, "POST", "/api/v1/support/cases/"+a.Case+"/reset-mfa/approve", nil), http.StatusForbidden, "forbidden")
	wantStatus(t, apiDo(pat, "POST", "/api/v1/support/cases/"+a.Case+"/reset-mfa/approve", nil), http.StatusOK)
	if u := listUsers(t, root, url.Values{"query": {"ada"}}).Items[0]; u.MFA.TOTP {
		t.Fatal("ada still has an authenticator after the approval")
	}
}

// TestAdminUserListStableUnderInserts pages through the list while accounts are added
// (newer ones, as time goes on): every account that was there is listed once, in order.
func TestAdminUserListStableUnderInserts(t *testing.T) {
	srv, root := adminServer(t)
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7"} {
		srv.Clock.Advance(time.Millisecond)
		srv.CreateUser(t, n, n+"@example.com", "user")
	}
	want := usernames(listUsers(t, root, nil).Items)
	var got []string
	q := url.Values{"limit": {"3"}}
	for i := 0; ; i++ {
		p := listUsers(t, root, q)
		got = append(got, usernames(p.Items)...)
		srv.Clock.Advance(time.Millisecond)
		srv.CreateUser(t, "new"+string(rune('a'+i)), "new"+string(rune('a'+i))+"@example.com", "user")
		if p.NextCursor == nil {
			break
		}
		q.Set("cursor", *p.NextCursor)
	}
	if !slices.Equal(got, want) || len(want) != 8 {
		t.Fatalf("pages %v, want %v", got, want)
	}
}

// TestAdminAPIHostileInput sends hostile text everywhere the users API reads text: every
// answer is a clear 4xx or a success, never a 500.
func TestAdminAPIHostileInput(t *testing.T) {
	srv, root := adminServer(t)
	adaID := srv.CreateUser(t, "ada", "ada@example.com", "user").ID
	hostile := []string{"", "\x00", "\xff\xfe", "' OR 1=1 --", "%", "_", `\`, "../../etc/passwd", strings.Repeat("é", 5000),
		"<script>alert(1)</script>", "\u202e", "a\nb", "null", "{}", "[]"}
	for _, h := range hostile {
		for _, path := range []string{
			"/api/v1/admin/users?query=" + url.QueryEscape(h),
			"/api/v1/admin/users?cursor=" + url.QueryEscape(h),
			"/api/v1/admin/users?limit=" + url.QueryEscape(h),
			"/api/v1/admin/users?role=" + url.QueryEscape(h) + "&status=" + url.QueryEscape(h),
			"/api/v1/admin/users/" + url.PathEscape(h),
			"/admin/users?query=" + url.QueryEscape(h),
			"/admin/users/" + url.PathEscape(h),
		} {
			if r := root.Get(path); r.Status >= 500 {
				t.Errorf("GET %q: %d %s", path, r.Status, r.Body)
			}
		}
		for _, body := range []any{
			map[string]any{"username": h, "email": h, "role": h},
			map[string]any{"role": h},
			map[string]any{"mfa_required": h},
			map[string]any{"reason": h},
			h,
		} {
			for _, call := range [][2]string{{"POST", "/api/v1/admin/users"}, {"PATCH", "/api/v1/admin/users/" + adaID},
				{"POST", "/api/v1/admin/users/" + adaID + "/reset-mfa"}} {
				var b []byte
				if s, ok := body.(string); ok {
					b = []byte(s)
				} else {
					b, _ = json.Marshal(body)
				}
				if r := root.Do(call[0], call[1], "application/json", b); r.Status >= 500 {
					t.Errorf("%s %s %q: %d %s", call[0], call[1], b, r.Status, r.Body)
				}
			}
		}
	}
}

// TestAdminUsersAPIWithAToken drives the users API with API tokens instead of a session:
// reading takes users:read, changing users:write, and the audit log names the token.
func TestAdminUsersAPIWithAToken(t *testing.T) {
	srv, _ := adminServer(t)
	adaID := srv.CreateUser(t, "ada", "ada@example.com", "user").ID
	rootID := mustUser(t, srv, "root").ID
	token := func(scopes ...string) (string, string) {
		made, err := srv.Tokens.Create(context.Background(), apitoken.NewToken{Name: strings.Join(scopes, " "), Scopes: scopes, CreatedBy: rootID}, auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return made.Secret, made.Token.ID
	}
	reader, _ := token("users:read")
	writer, writerID := token("users:write")
	c := srv.Client(t) // no cookie: the token alone
	call := func(tok, method, path string, body any) rawResult {
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		return rawDo(srv, c, method, path, "application/json", b, http.Header{"Authorization": {"Bearer " + tok}})
	}
	if r := call(reader, "GET", "/api/v1/admin/users?query=ada", nil); r.status != http.StatusOK || !strings.Contains(string(r.body), `"username":"ada"`) {
		t.Fatalf("list with users:read: %d %s", r.status, r.body)
	}
	if r := call(reader, "PATCH", "/api/v1/admin/users/"+adaID, map[string]any{"disabled": true}); r.status != http.StatusForbidden {
		t.Fatalf("change with users:read: %d %s", r.status, r.body)
	}
	if r := call(writer, "GET", "/api/v1/admin/users/"+adaID, nil); r.status != http.StatusForbidden {
		t.Fatalf("read with users:write only: %d %s", r.status, r.body)
	}
	if r := call(writer, "PATCH", "/api/v1/admin/users/"+adaID, map[string]any{"disabled": true}); r.status != http.StatusOK {
		t.Fatalf("change with users:write: %d %s", r.status, r.body)
	}
	// No token touches an administrator, not even the one who made it.
	if r := call(writer, "DELETE", "/api/v1/admin/users/"+rootID, nil); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "token_cannot_manage_admins") {
		t.Fatalf("delete root with root's token: %d %s", r.status, r.body)
	}
	events, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: adaID})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(events, func(e store.AuditEvent) bool { return e.Event == "user.disabled" && e.ActorID == "token:"+writerID }) {
		t.Fatalf("no user.disabled by token:%s in %+v", writerID, events)
	}
}
