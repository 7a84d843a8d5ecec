package web_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/web"
)

// decodeInto decodes r's JSON body into v, failing the test unless r has status.
func decodeInto(t *testing.T, r *testserver.Response, status int, v any) {
	t.Helper()
	wantStatus(t, r, status)
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("answer is not the expected JSON: %v: %s", err, r.Body)
	}
}

func patchJSON(c *testserver.Client, path string, body string) *testserver.Response {
	return c.Do(http.MethodPatch, path, "application/json", []byte(body))
}

// addClientAPI registers a confidential client named name through the admin API.
func addClientAPI(t *testing.T, c *testserver.Client, name string) web.AdminClient {
	t.Helper()
	var got web.AdminClient
	decodeInto(t, c.PostJSON("/api/v1/admin/clients", web.NewAdminClient{Name: name,
		RedirectURIs: []string{"https://" + name + ".example.com/callback"}}), http.StatusCreated, &got)
	return got
}

// TestAdminClientsAPI walks a client's life through the admin API: the secret is in the
// answers of the registration and of the rotation only.
func TestAdminClientsAPI(t *testing.T) {
	srv, root := adminServer(t)
	var added web.AdminClient
	r := root.PostJSON("/api/v1/admin/clients", web.NewAdminClient{Name: "billing",
		RedirectURIs: []string{"https://billing.example.com/callback", "http://localhost:8080/cb"}, IDTokenAlg: "rs256"})
	decodeInto(t, r, http.StatusCreated, &added)
	if added.ClientID == "" || added.ClientSecret == "" || added.Public || added.IDTokenAlg != "RS256" || len(added.RedirectURIs) != 2 {
		t.Fatalf("created %+v, want a confidential RS256 client with its secret", added)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/admin/clients/"+added.ClientID {
		t.Errorf("Location %q", loc)
	}
	path := "/api/v1/admin/clients/" + added.ClientID

	t.Run("reads never show the secret", func(t *testing.T) {
		for _, p := range []string{path, "/api/v1/admin/clients"} {
			r := root.Get(p)
			wantStatus(t, r, http.StatusOK)
			if strings.Contains(string(r.Body), added.ClientSecret) || strings.Contains(string(r.Body), "client_secret") {
				t.Errorf("GET %s shows the secret: %s", p, r.Body)
			}
		}
	})
	t.Run("edit redirect URIs and first party", func(t *testing.T) {
		var got web.AdminClient
		decodeInto(t, patchJSON(root, path, `{"redirect_uris":["https://billing.example.com/new"],"first_party":true}`), http.StatusOK, &got)
		if !got.FirstParty || len(got.RedirectURIs) != 1 || got.RedirectURIs[0] != "https://billing.example.com/new" || got.Name != "billing" {
			t.Errorf("after the edit: %+v", got)
		}
		var again web.AdminClient
		decodeInto(t, root.Get(path), http.StatusOK, &again)
		if !again.FirstParty || again.RedirectURIs[0] != "https://billing.example.com/new" {
			t.Errorf("stored: %+v", again)
		}
	})
	t.Run("rotate the secret", func(t *testing.T) {
		var got web.AdminClient
		decodeInto(t, root.PostJSON(path+"/rotate-secret", nil), http.StatusOK, &got)
		if got.ClientSecret == "" || got.ClientSecret == added.ClientSecret {
			t.Errorf("rotation answered secret %q, want a new one", got.ClientSecret)
		}
	})
	t.Run("a public client has no secret to rotate", func(t *testing.T) {
		var pub web.AdminClient
		decodeInto(t, root.PostJSON("/api/v1/admin/clients", web.NewAdminClient{Name: "spa", Public: true,
			RedirectURIs: []string{"http://127.0.0.1:5173/cb"}}), http.StatusCreated, &pub)
		if pub.ClientSecret != "" {
			t.Errorf("a public client got a secret")
		}
		wantProblem(t, root.PostJSON("/api/v1/admin/clients/"+pub.ClientID+"/rotate-secret", nil), http.StatusConflict, "conflict")
	})
	t.Run("remove", func(t *testing.T) {
		r := root.Do(http.MethodDelete, path, "", nil)
		wantStatus(t, r, http.StatusNoContent)
		wantProblem(t, root.Get(path), http.StatusNotFound, "not_found")
		wantProblem(t, root.Do(http.MethodDelete, path, "", nil), http.StatusNotFound, "not_found")
		wantProblem(t, patchJSON(root, path, `{"first_party":false}`), http.StatusNotFound, "not_found")
		wantProblem(t, root.PostJSON(path+"/rotate-secret", nil), http.StatusNotFound, "not_found")
	})
	events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range events {
		seen[e.Event] = e.ActorID
	}
	for _, ev := range []string{"oidc.client_added", "oidc.client_changed", "oidc.client_secret_rotated", "oidc.client_removed"} {
		if actor, ok := seen[ev]; !ok || actor == "" {
			t.Errorf("audit %s: actor %q (recorded %v), want the administrator", ev, actor, ok)
		}
	}
}

// TestAdminClientsAPIRefusesBadInput: hostile or malformed input is a 4xx with a reason,
// never a 500, and registers or changes nothing.
func TestAdminClientsAPIRefusesBadInput(t *testing.T) {
	_, root := adminServer(t)
	existing := addClientAPI(t, root, "billing")
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("https://a.example.com/%d", i)
	}
	manyJSON, _ := json.Marshal(many)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"javascript redirect", `{"name":"x","redirect_uris":["javascript:alert(document.cookie)"]}`, 400, "bad_request"},
		{"data redirect", `{"name":"x","redirect_uris":["data:text/html,<script>alert(1)</script>"]}`, 400, "bad_request"},
		{"fragment", `{"name":"x","redirect_uris":["https://a.example.com/cb#frag"]}`, 400, "bad_request"},
		{"relative", `{"name":"x","redirect_uris":["/cb"]}`, 400, "bad_request"},
		{"white space", `{"name":"x","redirect_uris":["https://a.example.com/c b"]}`, 400, "bad_request"},
		{"control character", `{"name":"x","redirect_uris":["https://a.example.com/cb\u0000"]}`, 400, "bad_request"},
		{"no host", `{"name":"x","redirect_uris":["https:///cb"]}`, 400, "bad_request"},
		{"public client on plain http elsewhere", `{"name":"x","public":true,"redirect_uris":["http://evil.example.com/cb"]}`, 400, "bad_request"},
		{"private scheme on a confidential client", `{"name":"x","redirect_uris":["com.example.app:/cb"]}`, 400, "bad_request"},
		{"too long", `{"name":"x","redirect_uris":["https://a.example.com/` + strings.Repeat("a", 2100) + `"]}`, 400, "bad_request"},
		{"too many", `{"name":"x","redirect_uris":` + string(manyJSON) + `}`, 400, "bad_request"},
		{"no redirect URI", `{"name":"x"}`, 400, "bad_request"},
		{"no name", `{"redirect_uris":["https://a.example.com/cb"]}`, 400, "bad_request"},
		{"name over two lines", `{"name":"a\nb","redirect_uris":["https://a.example.com/cb"]}`, 400, "bad_request"},
		{"name of invisible characters", `{"name":"\u202e\u200b","redirect_uris":["https://a.example.com/cb"]}`, 400, "bad_request"},
		{"taken name", `{"name":"billing","redirect_uris":["https://a.example.com/cb"]}`, 409, "conflict"},
		{"unknown algorithm", `{"name":"x","redirect_uris":["https://a.example.com/cb"],"id_token_signed_response_alg":"none"}`, 400, "bad_request"},
		{"wrong type", `{"name":"x","redirect_uris":"https://a.example.com/cb"}`, 400, "bad_request"},
		{"not JSON", `name=x`, 400, "bad_request"},
		{"huge body", `{"name":"x","redirect_uris":["https://a.example.com/` + strings.Repeat("a", 70<<10) + `"]}`, 413, "request_too_large"},
	} {
		t.Run("add: "+tc.name, func(t *testing.T) {
			r := root.PostJSON("/api/v1/admin/clients", tc.body)
			wantProblem(t, r, tc.status, tc.code)
			if d := problemOf(t, r)["detail"]; d == "" {
				t.Error("no reason given")
			}
		})
	}
	path := "/api/v1/admin/clients/" + existing.ClientID
	for _, tc := range []struct{ name, body string }{
		{"javascript redirect", `{"redirect_uris":["javascript:alert(1)"]}`},
		{"no redirect URI left", `{"redirect_uris":[]}`},
		{"bad post-logout URI", `{"post_logout_redirect_uris":["vbscript:msgbox(1)"]}`},
		{"public", `{"public":true}`},
		{"secret", `{"client_secret":"mine"}`},
		{"client_id", `{"client_id":"mine"}`},
		{"empty name", `{"name":"  "}`},
	} {
		t.Run("edit: "+tc.name, func(t *testing.T) {
			wantProblem(t, patchJSON(root, path, tc.body), http.StatusBadRequest, "bad_request")
		})
	}
	var after web.AdminClient
	decodeInto(t, root.Get(path), http.StatusOK, &after)
	if after.Name != "billing" || len(after.RedirectURIs) != 1 || after.RedirectURIs[0] != "https://billing.example.com/callback" {
		t.Errorf("refused edits changed the client: %+v", after)
	}
	var list web.Page[web.AdminClient]
	decodeInto(t, root.Get("/api/v1/admin/clients"), http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Errorf("refused registrations registered something: %+v", list.Items)
	}
}

// TestAdminClientsAPINamesTheRefusedRedirectURI: a redirect URI that can never work or
// that the rules forbid is a 400 whose detail quotes it (invisible characters escaped) and
// says what is wrong with it; nothing is registered.
func TestAdminClientsAPINamesTheRefusedRedirectURI(t *testing.T) {
	_, root := adminServer(t)
	for _, tc := range []struct {
		name, uri string
		public    bool
		detail    string
	}{
		{"port out of range", "https://a.example:99999/cb", false, `"https://a.example:99999/cb": the port must be a number from 1 to 65535`},
		{"port 0", "http://127.0.0.1:0/cb", true, `"http://127.0.0.1:0/cb": the port must be a number from 1 to 65535`},
		{"trailing no-break space", "https://a.example/cb\u00a0", false, `"https://a.example/cb\u00a0": must not hold white space`},
		{"user and password", "https://user:pass@a.example/cb", false, `"https://user:pass@a.example/cb": must not hold a user name or password`},
		{"view-source", "view-source:https://a.example/cb", true, `"view-source:https://a.example/cb": must not use a scheme that browsers run or render`},
		{"ftp for a public client", "ftp://a.example/cb", true, `"ftp://a.example/cb": a public client may use https, http on the loopback interface, or a private scheme`},
		{"wss for a public client", "wss://a.example/cb", true, `"wss://a.example/cb": a public client may use https`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(web.NewAdminClient{Name: "x", Public: tc.public, RedirectURIs: []string{tc.uri}})
			r := root.PostJSON("/api/v1/admin/clients", string(body))
			wantProblem(t, r, http.StatusBadRequest, "bad_request")
			if d, _ := problemOf(t, r)["detail"].(string); !strings.Contains(d, tc.detail) {
				t.Errorf("detail %q, want it to hold %q", d, tc.detail)
			}
		})
	}
	var list web.Page[web.AdminClient]
	decodeInto(t, root.Get("/api/v1/admin/clients"), http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("refused registrations registered something: %+v", list.Items)
	}
}

// TestAdminClientsAPIPagination: pages of ?limit= follow one another through next_cursor
// without repeating or skipping a client, also when clients are added meanwhile.
func TestAdminClientsAPIPagination(t *testing.T) {
	srv, root := adminServer(t)
	for _, n := range []string{"a", "b", "c"} {
		addClientAPI(t, root, n)
		srv.Clock.Advance(1e9)
	}
	var first web.Page[web.AdminClient]
	decodeInto(t, root.Get("/api/v1/admin/clients?limit=2"), http.StatusOK, &first)
	if len(first.Items) != 2 || first.NextCursor == nil {
		t.Fatalf("first page: %+v", first)
	}
	addClientAPI(t, root, "d")
	var second web.Page[web.AdminClient]
	decodeInto(t, root.Get("/api/v1/admin/clients?limit=2&cursor="+url.QueryEscape(*first.NextCursor)), http.StatusOK, &second)
	var names []string
	for _, c := range append(first.Items, second.Items...) {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "a,b,c,d" || second.NextCursor != nil {
		t.Errorf("pages gave %v (next %v), want a,b then c,d and no next page", names, second.NextCursor)
	}
	wantProblem(t, root.Get("/api/v1/admin/clients?cursor=nonsense"), http.StatusBadRequest, "bad_request")
	wantProblem(t, root.Get("/api/v1/admin/clients?limit=0"), http.StatusBadRequest, "bad_request")
}

func TestAdminSigningKeysAPI(t *testing.T) {
	_, root := adminServer(t)
	var keys web.Page[web.AdminSigningKey]
	decodeInto(t, root.Get("/api/v1/admin/signing-keys"), http.StatusOK, &keys)
	if len(keys.Items) != 1 || keys.Items[0].Status != "active" || keys.Items[0].Alg != "ES256" || keys.Items[0].PublishedUntil != nil {
		t.Fatalf("keys before a rotation: %+v, want one active ES256 key", keys.Items)
	}
	old := keys.Items[0].KID
	var rotated web.KeysRotated
	decodeInto(t, root.PostJSON("/api/v1/admin/signing-keys/rotate", nil), http.StatusOK, &rotated)
	if len(rotated.Keys) != 1 || rotated.Keys[0].KID == old || rotated.Keys[0].PreviousPublishedUntil == nil {
		t.Fatalf("rotation answered %+v", rotated)
	}
	decodeInto(t, root.Get("/api/v1/admin/signing-keys"), http.StatusOK, &keys)
	status := map[string]web.AdminSigningKey{}
	for _, k := range keys.Items {
		status[k.KID] = k
	}
	if status[old].Status != "retiring" || status[old].PublishedUntil == nil || !status[old].PublishedUntil.Equal(*rotated.Keys[0].PreviousPublishedUntil) {
		t.Errorf("the replaced key: %+v, want retiring until %v", status[old], rotated.Keys[0].PreviousPublishedUntil)
	}
	if status[rotated.Keys[0].KID].Status != "active" {
		t.Errorf("the new key: %+v, want active", status[rotated.Keys[0].KID])
	}
	jwks := root.Get("/.well-known/jwks.json")
	for _, kid := range []string{old, rotated.Keys[0].KID} {
		if !strings.Contains(string(jwks.Body), `"`+kid+`"`) {
			t.Errorf("the JWKS lacks %s: %s", kid, jwks.Body)
		}
	}
	if strings.Contains(string(root.Get("/api/v1/admin/signing-keys").Body), `"d"`) {
		t.Error("the key list shows a private key parameter")
	}
}

// TestAdminSettingsRedactSecrets: the settings, as the API answers them and as the
// console shows them, never hold a secret: not the database or SMTP password, not the
// master key, not a client secret.
func TestAdminSettingsRedactSecrets(t *testing.T) {
	const dbPassword, smtpPassword = "dsn-Pa55word-0b5e", "smtp-Hunter2-77a1"
	u, err := url.Parse(testutil.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), dbPassword) // trust authentication ignores it
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA, DatabaseURL: u.String(), Config: func(c *config.Config) {
		c.Mail = config.Mail{Host: "smtp.invalid", Security: "tls", Username: "mailer", Password: smtpPassword, From: "a@example.com"}
	}})
	root := mfaClient(t, srv, "root", "admin")
	client := addClientAPI(t, root, "billing")
	key := make([]byte, 32) // the test server's master key
	for i := range key {
		key[i] = byte(i)
	}
	secrets := []string{dbPassword, smtpPassword, client.ClientSecret, base64.StdEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key), hex.EncodeToString(key)}

	var got web.Settings
	r := root.Get("/api/v1/admin/settings")
	decodeInto(t, r, http.StatusOK, &got)
	byKey := map[string]web.Setting{}
	for _, s := range got.Settings {
		byKey[s.Key] = s
	}
	if !byKey["mail.password"].Redacted || !byKey["database.url"].Redacted || byKey["mail.username"].Value != "mailer" {
		t.Errorf("settings: mail.password %+v, database.url %+v, mail.username %+v", byKey["mail.password"], byKey["database.url"], byKey["mail.username"])
	}
	pages := map[string][]byte{"GET /api/v1/admin/settings": r.Body}
	if page := root.Get("/admin/settings"); page.Status == http.StatusOK {
		pages["GET /admin/settings"] = page.Body
	}
	for where, body := range pages {
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Errorf("%s shows the secret %q", where, s)
			}
		}
	}
}

func TestAdminUserApplicationsAPI(t *testing.T) {
	srv, root := adminServer(t)
	ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
	c := addClientAPI(t, root, "billing")
	if err := srv.Store.PutOIDCConsent(t.Context(), &store.OIDCConsent{UserID: ada.ID, ClientID: c.ClientID,
		Scopes: []string{"openid", "email"}, GrantedAt: srv.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/admin/users/" + ada.ID + "/applications"
	var list web.Page[web.Application]
	decodeInto(t, root.Get(path), http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ClientID != c.ClientID || list.Items[0].ConsentedAt == nil {
		t.Fatalf("applications: %+v", list.Items)
	}
	var removed web.ApplicationRemoved
	decodeInto(t, root.PostJSON(path+"/"+c.ClientID+"/revoke", nil), http.StatusOK, &removed)
	decodeInto(t, root.Get(path), http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("applications after the revocation: %+v", list.Items)
	}
	wantProblem(t, root.PostJSON(path+"/"+c.ClientID+"/revoke", nil), http.StatusNotFound, "not_found")
	wantProblem(t, root.Get("/api/v1/admin/users/nobody/applications"), http.StatusNotFound, "not_found")
	events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{UserID: ada.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || events[0].Event != "oidc.access_removed" || events[0].ActorID == "" || events[0].ActorID == ada.ID {
		t.Errorf("audit: %+v, want oidc.access_removed by the administrator", events)
	}
}

// apiToken makes an API token with scopes through root's session and returns it.
func apiToken(t *testing.T, root *testserver.Client, scopes ...string) string {
	t.Helper()
	r := root.PostJSON("/api/v1/admin/tokens", map[string]any{"name": "script " + strings.Join(scopes, " "), "scopes": scopes})
	wantStatus(t, r, http.StatusCreated)
	tok, _ := r.JSON(t)["token"].(string)
	if !strings.HasPrefix(tok, "tf_") {
		t.Fatalf("token answer: %s", r.Body)
	}
	return tok
}

// TestAdminClientsAPIWithTokens: a script with an API token holding clients:write manages
// applications and keys (audited as the token); a token without it is refused with 403,
// and a user's applications need users:read.
func TestAdminClientsAPIWithTokens(t *testing.T) {
	srv, root := adminServer(t)
	clients := apiToken(t, root, "clients:write")
	users := apiToken(t, root, "users:read")
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	anon := srv.Client(t)

	body := []byte(`{"name":"scripted","redirect_uris":["https://scripted.example.com/cb"]}`)
	r := rawDo(srv, anon, http.MethodPost, "/api/v1/admin/clients", "application/json", body, bearer(clients))
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"client_secret"`) {
		t.Fatalf("add with a clients:write token: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/api/v1/admin/clients", "/api/v1/admin/signing-keys", "/api/v1/admin/settings"} {
		if r := rawDo(srv, anon, http.MethodGet, p, "", nil, bearer(clients)); r.status != http.StatusOK {
			t.Errorf("GET %s with a clients:write token: %d %s", p, r.status, r.body)
		}
		if r := rawDo(srv, anon, http.MethodGet, p, "", nil, bearer(users)); r.status != http.StatusForbidden {
			t.Errorf("GET %s with a users:read token: %d, want 403", p, r.status)
		}
	}
	if r := rawDo(srv, anon, http.MethodPost, "/api/v1/admin/signing-keys/rotate", "", nil, bearer(users)); r.status != http.StatusForbidden {
		t.Errorf("rotate keys with a users:read token: %d, want 403", r.status)
	}
	ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
	if r := rawDo(srv, anon, http.MethodGet, "/api/v1/admin/users/"+ada.ID+"/applications", "", nil, bearer(users)); r.status != http.StatusOK {
		t.Errorf("a user's applications with a users:read token: %d %s", r.status, r.body)
	}
	if r := rawDo(srv, anon, http.MethodPost, "/api/v1/admin/users/"+ada.ID+"/applications/x/revoke", "", nil, bearer(users)); r.status != http.StatusForbidden {
		t.Errorf("revoke with a users:read token: %d, want 403", r.status)
	}
	events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Event == "oidc.client_added" && !strings.HasPrefix(e.ActorID, "token:") {
			t.Errorf("client added by a token audited with actor %q, want token:…", e.ActorID)
		}
	}
}
