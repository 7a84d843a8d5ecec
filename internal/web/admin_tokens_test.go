package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// issueToken creates an API token at the console with scopes and returns its secret.
func issueToken(t *testing.T, srv *testserver.Server, scopes ...string) string {
	t.Helper()
	c, err := srv.Tokens.Create(context.Background(), apitoken.NewToken{Name: "test " + strings.Join(scopes, ","), Scopes: scopes},
		audit.Meta{IP: "console"})
	if err != nil {
		t.Fatal(err)
	}
	return c.Secret
}

// withBearer sends a request with Authorization: Bearer tok and no cookie.
func withBearer(t *testing.T, srv *testserver.Server, tok, method, path string, body []byte) *testserver.Response {
	t.Helper()
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	res := rawDo(srv, srv.Client(t), method, path, ct, body, http.Header{"Authorization": {"Bearer " + tok}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	return &testserver.Response{Status: res.status, Header: res.header, Body: res.body}
}

func wantBearerChallenge(t *testing.T, r *testserver.Response, status int, errCode string) {
	t.Helper()
	code := "unauthenticated"
	if status == http.StatusForbidden {
		code = "forbidden"
	}
	wantProblem(t, r, status, code)
	if ch := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="`+errCode+`"`) {
		t.Fatalf("WWW-Authenticate %q, want a Bearer challenge with error=%q", ch, errCode)
	}
}

// TestAPITokensOverHTTP: an administrator's session creates, lists and revokes tokens
// through the API; the secret is in the 201 answer only; a revoked or expired token is
// refused with an RFC 6750 challenge; no token manages tokens.
func TestAPITokensOverHTTP(t *testing.T) {
	srv, root := adminServer(t)

	r := root.PostJSON("/api/v1/admin/tokens", map[string]any{"name": "nightly export", "scopes": []string{"audit:read", "users:read"},
		"expires_at": srv.Clock.Now().Add(2 * time.Hour).Format(time.RFC3339)})
	wantStatus(t, r, http.StatusCreated)
	created := decode[web.APITokenCreated](t, r)
	if !regexp.MustCompile(`^tf_[A-Za-z0-9_-]{43}$`).MatchString(created.Token) || created.Status != "active" ||
		!slices.Equal(created.Scopes, []string{"users:read", "audit:read"}) || created.CreatedBy == nil || *created.CreatedBy.Username != "root" ||
		r.Header.Get("Location") != "/api/v1/admin/tokens/"+created.ID {
		t.Fatalf("created %+v (Location %q)", created, r.Header.Get("Location"))
	}

	list := root.Get("/api/v1/admin/tokens")
	wantStatus(t, list, http.StatusOK)
	page := decode[web.Page[web.APIToken]](t, list)
	if len(page.Items) != 1 || page.Items[0].ID != created.ID || page.NextCursor != nil || strings.Contains(string(list.Body), created.Token) {
		t.Fatalf("list %s: want the one token, never its secret", list.Body)
	}

	// The token reads the audit log: its scope.
	r = withBearer(t, srv, created.Token, http.MethodGet, "/api/v1/admin/audit?event=api_token.created", nil)
	wantStatus(t, r, http.StatusOK)
	events := decode[web.Page[web.AuditEntry]](t, r)
	if len(events.Items) != 1 || *events.Items[0].Actor != "root" || strings.Contains(string(r.Body), created.Token) {
		t.Fatalf("audit %s: want api_token.created by root, without the secret", r.Body)
	}
	if tok, _ := srv.Tokens.Get(context.Background(), created.ID); !tok.LastUsedAt.Equal(srv.Clock.Now().Truncate(time.Millisecond)) {
		t.Fatalf("last used %v, want the use just made at %v", tok.LastUsedAt, srv.Clock.Now())
	}

	// No token manages tokens, whatever its scopes.
	all := issueToken(t, srv, "users:read", "users:write", "audit:read", "clients:write", "cases:read")
	wantBearerChallenge(t, withBearer(t, srv, all, http.MethodGet, "/api/v1/admin/tokens", nil), http.StatusForbidden, "insufficient_scope")
	wantBearerChallenge(t, withBearer(t, srv, all, http.MethodPost, "/api/v1/admin/tokens", []byte(`{"name":"x","scopes":["users:read"]}`)),
		http.StatusForbidden, "insufficient_scope")
	wantBearerChallenge(t, withBearer(t, srv, all, http.MethodDelete, "/api/v1/admin/tokens/"+created.ID, nil), http.StatusForbidden, "insufficient_scope")

	// Bad input.
	for _, body := range []string{`{"name":"","scopes":["users:read"]}`, `{"name":"x","scopes":[]}`, `{"name":"x","scopes":["root"]}`,
		`{"name":"x","scopes":["users:read"],"expires_at":"2001-01-01T00:00:00Z"}`, `{"name":"x","scopes":["users:read"],"expires_at":"tomorrow"}`,
		`{"name":"x","scopes":"users:read"}`, `not json`, `{"name":"` + strings.Repeat("n", 101) + `","scopes":["users:read"]}`,
		`{"name":"\u202e\u200b","scopes":["users:read"]}`} {
		wantProblem(t, root.PostJSON("/api/v1/admin/tokens", body), http.StatusBadRequest, "bad_request")
	}
	// A time that cannot be read is named as the field it is.
	for _, at := range []string{`"tomorrow"`, `"2030-02-30T00:00:00Z"`, `"10000-01-01T00:00:00Z"`, `123`} {
		r := root.PostJSON("/api/v1/admin/tokens", `{"name":"x","scopes":["users:read"],"expires_at":`+at+`}`)
		wantProblem(t, r, http.StatusBadRequest, "bad_request")
		if d, _ := r.JSON(t)["detail"].(string); !strings.Contains(d, `"expires_at"`) {
			t.Errorf("expires_at %s: detail %q does not name the field", at, d)
		}
	}
	wantProblem(t, root.Do(http.MethodDelete, "/api/v1/admin/tokens/nope", "", nil), http.StatusNotFound, "not_found")
	for _, q := range []string{"?limit=0", "?limit=501", "?limit=x", "?cursor=%00", "?cursor=" + strings.Repeat("A", 600)} {
		wantProblem(t, root.Get("/api/v1/admin/tokens"+q), http.StatusBadRequest, "bad_request")
	}

	// Revoked: refused at once, with the challenge of RFC 6750.
	r = root.Do(http.MethodDelete, "/api/v1/admin/tokens/"+created.ID, "", nil)
	wantStatus(t, r, http.StatusOK)
	if got := decode[web.APIToken](t, r); got.Status != "revoked" || got.RevokedAt == nil {
		t.Fatalf("revoked: %s", r.Body)
	}
	wantProblem(t, root.Do(http.MethodDelete, "/api/v1/admin/tokens/"+created.ID, "", nil), http.StatusConflict, "conflict")
	wantBearerChallenge(t, withBearer(t, srv, created.Token, http.MethodGet, "/api/v1/admin/audit", nil), http.StatusUnauthorized, "invalid_token")

	// Expired: refused once its time is up.
	short := decode[web.APITokenCreated](t, root.PostJSON("/api/v1/admin/tokens", map[string]any{"name": "short", "scopes": []string{"audit:read"},
		"expires_at": srv.Clock.Now().Add(time.Hour).Format(time.RFC3339)}))
	wantStatus(t, withBearer(t, srv, short.Token, http.MethodGet, "/api/v1/admin/audit", nil), http.StatusOK)
	srv.Clock.Advance(time.Hour)
	wantBearerChallenge(t, withBearer(t, srv, short.Token, http.MethodGet, "/api/v1/admin/audit", nil), http.StatusUnauthorized, "invalid_token")

	// Unknown and malformed tokens, and other schemes.
	for _, tok := range []string{"tf_" + strings.Repeat("A", 43), "tf_short", "", strings.Repeat("x", 5000)} {
		wantBearerChallenge(t, withBearer(t, srv, tok, http.MethodGet, "/api/v1/admin/audit", nil), http.StatusUnauthorized, "invalid_token")
	}
}

// TestTokenNeedsTheRoutesScope walks every admin API route: a token holding every scope
// but the route's is refused with 403 insufficient_scope; one holding it gets past the
// check. Console pages never take a token: the browser is sent to the sign-in.
func TestTokenNeedsTheRoutesScope(t *testing.T) {
	srv, _ := adminServer(t)
	tokens := map[string]string{}
	for _, sc := range admin.Scopes {
		var others []string
		for _, o := range admin.Scopes {
			if o != sc {
				others = append(others, string(o))
			}
		}
		tokens["without "+string(sc)] = issueToken(t, srv, others...)
		tokens["with "+string(sc)] = issueToken(t, srv, string(sc))
	}
	all := issueToken(t, srv, "users:read", "users:write", "audit:read", "clients:write", "cases:read")
	for _, rt := range web.AdminRoutes(t) {
		method, path := web.Probe(rt.Pattern)
		var body []byte
		if method != http.MethodGet {
			body = []byte("{}")
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			if !strings.HasPrefix(path, "/api/") {
				res := rawDo(srv, srv.Client(t), method, path, "application/x-www-form-urlencoded", body, http.Header{"Authorization": {"Bearer " + all}})
				if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
					t.Errorf("console page with a token: %d to %q, want the sign-in", res.status, res.header.Get("Location"))
				}
				return
			}
			if rt.Scope == "session" {
				wantBearerChallenge(t, withBearer(t, srv, all, method, path, body), http.StatusForbidden, "insufficient_scope")
				return
			}
			wantBearerChallenge(t, withBearer(t, srv, tokens["without "+rt.Scope], method, path, body), http.StatusForbidden, "insufficient_scope")
			if r := withBearer(t, srv, tokens["with "+rt.Scope], method, path, body); r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden {
				t.Errorf("token with %s: %d %s", rt.Scope, r.Status, r.Body)
			}
		})
	}
}

// TestTokensNeverOnUserEndpoints: a token with every scope is no session: the user-facing
// API answers as to a request without one.
func TestTokensNeverOnUserEndpoints(t *testing.T) {
	srv, _ := adminServer(t)
	all := issueToken(t, srv, "users:read", "users:write", "audit:read", "clients:write", "cases:read")
	for _, rq := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/session", ""},
		{http.MethodGet, "/api/v1/account/sessions", ""},
		{http.MethodGet, "/api/v1/account/applications", ""},
		{http.MethodPost, "/api/v1/account/password", `{"current_password":"x","new_password":"violet submarine orchestra 58"}`},
		{http.MethodPost, "/api/v1/account/mfa/recovery-code", `{"code":"123456"}`},
		{http.MethodPost, "/api/v1/account/sessions/sign-out-others", `{}`},
	} {
		t.Run(rq.method+" "+rq.path, func(t *testing.T) {
			var body []byte
			if rq.body != "" {
				body = []byte(rq.body)
			}
			wantProblem(t, withBearer(t, srv, all, rq.method, rq.path, body), http.StatusUnauthorized, "unauthenticated")
		})
	}
}

// TestTokensConsole: the console creates a token with scopes and an expiry, shows its
// secret once, and revokes it; forms from another origin are refused.
func TestTokensConsole(t *testing.T) {
	srv, root := adminServer(t)
	wantPage(t, root.Get("/admin/tokens"), http.StatusOK, "No API tokens yet", `name="scopes" value="audit:read"`)

	r := postForm(root, "/admin/tokens", url.Values{"name": {"ci"}, "expires": {"30d"}})
	wantPage(t, r, http.StatusBadRequest, "at least one scope", `aria-invalid="true"`)
	r = postForm(root, "/admin/tokens", url.Values{"name": {"ci"}, "scopes": {"audit:read"}, "expires": {"5y"}})
	wantPage(t, r, http.StatusBadRequest, "how long the token works")

	r = postForm(root, "/admin/tokens", url.Values{"name": {"ci"}, "scopes": {"audit:read", "users:read"}, "expires": {"30d"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/tokens/created" {
		t.Fatalf("create: %d to %q: %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	r = root.Get("/admin/tokens/created")
	wantPage(t, r, http.StatusOK, "not shown again")
	secret := regexp.MustCompile(`tf_[A-Za-z0-9_-]{43}`).FindString(string(r.Body))
	if secret == "" {
		t.Fatalf("created page shows no token: %s", r.Body)
	}
	// Shown once: the page does not show it again.
	if r := root.Get("/admin/tokens/created"); r.Status != http.StatusSeeOther || strings.Contains(string(r.Body), secret) {
		t.Fatalf("second visit: %d %s", r.Status, r.Body)
	}
	wantStatus(t, withBearer(t, srv, secret, http.MethodGet, "/api/v1/admin/audit", nil), http.StatusOK)
	list := root.Get("/admin/tokens")
	wantPage(t, list, http.StatusOK, "ci", "active", "<dd>root</dd>")
	if strings.Contains(string(list.Body), secret) {
		t.Fatal("the list shows the secret")
	}
	tokens, _ := srv.Tokens.List(context.Background())
	id := tokens[0].ID

	// A revoke form posted from another origin is refused; from the console it works.
	res := rawDo(srv, root, http.MethodPost, "/admin/tokens/"+id+"/revoke", "application/x-www-form-urlencoded", nil,
		http.Header{"Origin": {"https://evil.example"}})
	if res.status != http.StatusForbidden {
		t.Fatalf("cross-origin revoke: %d", res.status)
	}
	res = rawDo(srv, root, http.MethodPost, "/admin/tokens", "application/x-www-form-urlencoded",
		[]byte(url.Values{"name": {"evil"}, "scopes": {"users:write"}, "expires": {"never"}}.Encode()), http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if res.status != http.StatusForbidden {
		t.Fatalf("cross-site create: %d", res.status)
	}
	wantStatus(t, withBearer(t, srv, secret, http.MethodGet, "/api/v1/admin/audit", nil), http.StatusOK)
	r = postForm(root, "/admin/tokens/"+id+"/revoke", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/tokens?done=revoked" {
		t.Fatalf("revoke: %d %q", r.Status, r.Header.Get("Location"))
	}
	wantPage(t, root.Get("/admin/tokens?done=revoked"), http.StatusOK, "was revoked", "revoked")
	wantBearerChallenge(t, withBearer(t, srv, secret, http.MethodGet, "/api/v1/admin/audit", nil), http.StatusUnauthorized, "invalid_token")
	wantPage(t, postForm(root, "/admin/tokens/"+id+"/revoke", nil), http.StatusConflict, "revoked already")
	tokens, _ = srv.Tokens.List(context.Background())
	if len(tokens) != 1 {
		t.Fatalf("%d tokens after the cross-site create, want 1", len(tokens))
	}
}

// TestTokenReadsSupportCases: a token with cases:read reads the case list and a case, as
// an agent's session does; a token without the scope is refused, and no token changes a
// case.
func TestTokenReadsSupportCases(t *testing.T) {
	srv := newServer(t)
	ref := supOpen(t, srv, "sid@example.com")
	reader := issueToken(t, srv, "cases:read")
	other := issueToken(t, srv, "users:read", "users:write", "audit:read", "clients:write")

	r := withBearer(t, srv, reader, http.MethodGet, "/api/v1/support/cases", nil)
	wantStatus(t, r, http.StatusOK)
	if list := decode[web.CaseList](t, r); len(list.Cases) != 1 || list.Cases[0].Reference != ref {
		t.Fatalf("cases %s", r.Body)
	}
	r = withBearer(t, srv, reader, http.MethodGet, "/api/v1/support/cases/"+ref, nil)
	wantStatus(t, r, http.StatusOK)
	if c := decode[web.Case](t, r); c.Reference != ref {
		t.Fatalf("case %s", r.Body)
	}
	wantProblem(t, withBearer(t, srv, reader, http.MethodGet, "/api/v1/support/cases/TF-NOPE00", nil), http.StatusNotFound, "not_found")
	wantBearerChallenge(t, withBearer(t, srv, other, http.MethodGet, "/api/v1/support/cases", nil), http.StatusForbidden, "insufficient_scope")
	wantBearerChallenge(t, withBearer(t, srv, "tf_"+strings.Repeat("B", 43), http.MethodGet, "/api/v1/support/cases/"+ref, nil),
		http.StatusUnauthorized, "invalid_token")
	for _, path := range []string{"/notes", "/assign", "/resolve"} {
		wantProblem(t, withBearer(t, srv, reader, http.MethodPost, "/api/v1/support/cases/"+ref+path, []byte(`{"text":"x"}`)),
			http.StatusUnauthorized, "unauthenticated")
	}
	// Pages never take a token.
	res := rawDo(srv, srv.Client(t), http.MethodGet, "/support/cases", "", nil, http.Header{"Authorization": {"Bearer " + reader}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("agent console page with a token: %d", res.status)
	}
}

// TestTokensConsoleSpeaksTheLanguage: the token page and its errors come in the browser's
// language.
func TestTokensConsoleSpeaksTheLanguage(t *testing.T) {
	srv, root := adminServer(t)
	h := http.Header{"Accept-Language": {"de"}}
	res := rawDo(srv, root, http.MethodPost, "/admin/tokens", "application/x-www-form-urlencoded",
		[]byte(url.Values{"name": {"ci"}, "expires": {"30d"}}.Encode()), h)
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "mindestens eine Berechtigung") ||
		!strings.Contains(string(res.body), "Token erstellen") {
		t.Fatalf("German token page: %d %s", res.status, res.body)
	}
	res = rawDo(srv, root, http.MethodGet, "/admin/audit?since=hier", "", nil, http.Header{"Accept-Language": {"fr"}})
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "since doit être une date") {
		t.Fatalf("French audit page: %d %s", res.status, res.body)
	}
}

// TestTokenActionsAreAuditedWithTheToken: what a token changes is audited with the actor
// token:ID, which the audit log names after the token.
func TestTokenActionsAreAuditedWithTheToken(t *testing.T) {
	srv, root := adminServer(t)
	ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
	created := decode[web.APITokenCreated](t, root.PostJSON("/api/v1/admin/tokens", map[string]any{"name": "ops bot", "scopes": []string{"users:write"}}))
	r := withBearer(t, srv, created.Token, http.MethodPatch, "/api/v1/admin/users/"+ada.ID, []byte(`{"disabled":true}`))
	wantStatus(t, r, http.StatusOK)
	events := auditPage(t, root, "user="+url.QueryEscape("token:"+created.ID))
	if len(events.Items) == 0 {
		t.Fatal("no event with the token as actor")
	}
	for _, e := range events.Items {
		if *e.ActorID != "token:"+created.ID || e.Actor == nil || *e.Actor != "token ops bot" {
			t.Errorf("event %s: actor %v (%v), want the token", e.Event, *e.ActorID, e.Actor)
		}
	}
	if got := eventNames(events); !strings.Contains(got, "user.disabled") {
		t.Errorf("events by the token: %s, want user.disabled", got)
	}
}

// TestCommandLineTokenCannotFileAReset: a token made at the command line has no account
// behind it, and an MFA reset is filed on a support case by an administrator's account: it
// is refused with a 403 that says so and what to use instead, after a reason to mend (400)
// and an unknown account (404) are told. The user's MFA stays.
func TestCommandLineTokenCannotFileAReset(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	ada := srv.CreateUser(t, "ada-cli", "ada-cli@example.com", "user")
	srv.Enroll(t, srv.Client(t), "ada-cli")
	tok := issueToken(t, srv, "users:write")
	path := "/api/v1/admin/users/" + ada.ID + "/reset-mfa"
	body := func(reason string) []byte { return []byte(`{"reason":"` + reason + `"}`) }
	wantProblem(t, withBearer(t, srv, tok, "POST", path, body("")), http.StatusBadRequest, "bad_request")
	wantProblem(t, withBearer(t, srv, tok, "POST", path, body(strings.Repeat("x", 1001))), http.StatusBadRequest, "bad_request")
	wantProblem(t, withBearer(t, srv, tok, "POST", "/api/v1/admin/users/no-such-user/reset-mfa", body("Lost phone.")), http.StatusNotFound, "not_found")
	r := withBearer(t, srv, tok, "POST", path, body("Lost phone."))
	wantProblem(t, r, http.StatusForbidden, "forbidden")
	if !strings.Contains(string(r.Body), "command line") || !strings.Contains(string(r.Body), "twofold user reset-mfa") {
		t.Errorf("the refusal does not say why and what to use: %s", r.Body)
	}
	if f, err := srv.Store.GetSecondFactors(context.Background(), ada.ID); err != nil || !f.TOTP {
		t.Errorf("the refused reset touched the factors: %+v, %v", f, err)
	}
}
