package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/web"
)

// usersWriteToken makes a users:read users:write token of root's and returns a caller for
// it.
func usersWriteToken(t *testing.T, srv *testserver.Server) func(method, path string, body any) *testserver.Response {
	t.Helper()
	made, err := srv.Tokens.Create(context.Background(),
		apitoken.NewToken{Name: "automation", Scopes: []string{"users:read", "users:write"}, CreatedBy: mustUser(t, srv, "root").ID}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return func(method, path string, body any) *testserver.Response {
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		return withBearer(t, srv, made.Secret, method, path, b)
	}
}

// TestTokenResetRequestStaleOnceTargetPromoted: under dual control a token's MFA reset of
// a user waits on a case. Once the user is an administrator, the request is void: the
// approval is refused (409, the case says why) and the user keeps their factors.
func TestTokenResetRequestStaleOnceTargetPromoted(t *testing.T) {
	srv, root := adminServerWith(t, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
	pat := mfaClient(t, srv, "pat", "admin")
	mfaClient(t, srv, "bob", "user")
	bobID := mustUser(t, srv, "bob").ID
	byToken := usersWriteToken(t, srv)

	r := byToken("POST", "/api/v1/admin/users/"+bobID+"/reset-mfa", map[string]any{"reason": "lost phone, checked in person"})
	wantStatus(t, r, http.StatusOK)
	a := decodeAs[web.MFAResetAnswer](t, r)
	if a.Status != "pending_approval" || a.Case == "" {
		t.Fatalf("token's reset: %s", r.Body)
	}
	// The case names the token as the requester, not root who made it.
	c := apiDo(pat, "GET", "/api/v1/support/cases/"+a.Case, nil)
	wantStatus(t, c, http.StatusOK)
	if !strings.Contains(string(c.Body), `"requested_by":"token automation"`) {
		t.Errorf("case of the token's request: %s, want requested_by token automation", c.Body)
	}
	wantStatus(t, apiDo(root, "PATCH", "/api/v1/admin/users/"+bobID, map[string]any{"role": "admin"}), http.StatusOK)
	approve := apiDo(pat, "POST", "/api/v1/support/cases/"+a.Case+"/reset-mfa/approve", nil)
	wantProblem(t, approve, http.StatusConflict, "conflict")
	if !strings.Contains(problemOf(t, approve)["detail"].(string), "API token") {
		t.Errorf("approval refused without saying why: %s", approve.Body)
	}
	if _, err := srv.Store.GetTOTP(context.Background(), bobID); err != nil {
		t.Errorf("the token's request reset the MFA of bob, now an administrator: %v", err)
	}
}

// TestPromotionEndsPendingInvitationLinks: a token invites an account with the role user
// at an address of the token holder's. When an administrator promotes that pending account
// to admin (or support), the links mailed so far stop working: the token must not make an
// administrator after all. An administrator resends the invitation to the address they
// trust.
func TestPromotionEndsPendingInvitationLinks(t *testing.T) {
	srv, root := adminServer(t)
	byToken := usersWriteToken(t, srv)

	r := byToken("POST", "/api/v1/admin/users", map[string]any{"username": "carol", "email": "carol@attacker.example", "role": "user"})
	wantStatus(t, r, http.StatusCreated)
	carolID := mustUser(t, srv, "carol").ID
	link := srv.LastMailTo(t, "carol@attacker.example").Link("/invite?token=")
	u, err := url.Parse(link)
	if err != nil || !strings.Contains(link, "/invite?token=") {
		t.Fatalf("invitation link %q: %v", link, err)
	}
	tok := u.Query().Get("token")

	wantStatus(t, apiDo(root, "PATCH", "/api/v1/admin/users/"+carolID, map[string]any{"role": "admin"}), http.StatusOK)

	r = accept(srv.Client(t), tok, testserver.Password)
	if r.Status == http.StatusOK {
		t.Errorf("the token's invitation link opened an administrator's account: %d %s", r.Status, r.Body)
	}
	if u := mustUser(t, srv, "carol"); u.Role != store.RoleAdmin || u.PasswordHash != "" {
		t.Errorf("carol after the refused link: role %s, has password %v", u.Role, u.PasswordHash != "")
	}
	// The administrator resends it; the new link works.
	if _, err := srv.Invite.Resend(context.Background(), mustUser(t, srv, "carol"), auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	fresh, err := url.Parse(srv.LastMailTo(t, "carol@attacker.example").Link("/invite?token="))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, accept(srv.Client(t), fresh.Query().Get("token"), testserver.Password), http.StatusOK)
}

// TestTokenCannotFillBothSidesOfDualControl: under dual control an MFA reset needs a
// second person. A users:write token may not invite a support agent (who could approve
// the token's own reset requests, signed in by the token's holder), nor promote a user it
// invited to one.
func TestTokenCannotFillBothSidesOfDualControl(t *testing.T) {
	srv, _ := adminServerWith(t, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
	byToken := usersWriteToken(t, srv)

	wantProblem(t, byToken("POST", "/api/v1/admin/users", map[string]any{"username": "sam2", "email": "sam2@attacker.example", "role": "support"}),
		http.StatusForbidden, "token_cannot_manage_admins")
	if _, err := srv.Auth.FindUser(context.Background(), "sam2"); err == nil {
		t.Error("the token invited a support agent")
	}
	wantStatus(t, byToken("POST", "/api/v1/admin/users", map[string]any{"username": "sam3", "email": "sam3@attacker.example", "role": "user"}),
		http.StatusCreated)
	wantProblem(t, byToken("PATCH", "/api/v1/admin/users/"+mustUser(t, srv, "sam3").ID, map[string]any{"role": "support"}),
		http.StatusForbidden, "token_cannot_manage_admins")
	if u := mustUser(t, srv, "sam3"); u.Role != store.RoleUser {
		t.Errorf("the token made sam3 a %s", u.Role)
	}
}

// TestTokenResetRequestCaseNamesTheToken: the case a token's MFA reset request opens says
// in its description and its first timeline entry that the token asked (by name and id,
// with the administrator who made it), not that the administrator did.
func TestTokenResetRequestCaseNamesTheToken(t *testing.T) {
	srv, _ := adminServerWith(t, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
	pat := mfaClient(t, srv, "pat", "admin")
	mfaClient(t, srv, "bob", "user")
	byToken := usersWriteToken(t, srv)
	tokens, err := srv.Store.ListAPITokens(context.Background())
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens: %v %v", tokens, err)
	}
	tokenID := tokens[0].ID

	r := byToken("POST", "/api/v1/admin/users/"+mustUser(t, srv, "bob").ID+"/reset-mfa", map[string]any{"reason": "lost phone, checked in person"})
	wantStatus(t, r, http.StatusOK)
	c := decodeAs[web.Case](t, apiDo(pat, "GET", "/api/v1/support/cases/"+decodeAs[web.MFAResetAnswer](t, r).Case, nil))
	want := "API token \"automation\" (id " + tokenID + ", created by root)"
	if !strings.Contains(c.Description, "MFA reset requested by "+want+": lost phone, checked in person") ||
		strings.Contains(c.Description, "administrator root") {
		t.Errorf("description of the token's case: %q, want it to name the %s", c.Description, want)
	}
	if len(c.Timeline) == 0 || c.Timeline[0].Kind != "opened" || !strings.Contains(c.Timeline[0].Text, "by "+want) ||
		strings.Contains(c.Timeline[0].Text, "admin console") {
		t.Errorf("timeline of the token's case: %+v, want it opened by the %s", c.Timeline, want)
	}
}

// TestAdminUserPageNamesWhoAskedForAPendingReset: the user's page in the admin console
// names who asked for the MFA reset waiting for approval: the administrator, or the API
// token (and who created it) when a token filed it, in each language, never a bare id.
func TestAdminUserPageNamesWhoAskedForAPendingReset(t *testing.T) {
	srv, root := adminServerWith(t, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
	pat := mfaClient(t, srv, "pat", "admin")
	mfaClient(t, srv, "bob", "user")
	mfaClient(t, srv, "carol", "user")
	bob, carol := mustUser(t, srv, "bob"), mustUser(t, srv, "carol")
	byToken := usersWriteToken(t, srv)
	wantStatus(t, byToken("POST", "/api/v1/admin/users/"+bob.ID+"/reset-mfa", map[string]any{"reason": "lost phone, checked in person"}),
		http.StatusOK)
	wantStatus(t, apiDo(pat, "POST", "/api/v1/admin/users/"+carol.ID+"/reset-mfa", map[string]any{"reason": "lost phone, called back"}),
		http.StatusOK)

	for _, tc := range []struct{ lang, token, person string }{
		{"en", "asked by API token “automation” (created by root)", "asked by pat"},
		{"de", "beantragt von API-Token „automation“ (erstellt von root)", "beantragt von pat"},
		{"fr", "demandée par le jeton d’API « automation » (créé par root)", "demandée par pat"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			lang := http.Header{"Accept-Language": {tc.lang}}
			r := rawDo(srv, root, http.MethodGet, "/admin/users/"+bob.ID, "", nil, lang)
			body := html.UnescapeString(string(r.body))
			if r.status != http.StatusOK || !strings.Contains(body, tc.token) || strings.Contains(body, mustUser(t, srv, "root").ID) {
				t.Errorf("bob's page (%s) does not name the token that asked, %q:\n%s", tc.lang, tc.token, body)
			}
			r = rawDo(srv, root, http.MethodGet, "/admin/users/"+carol.ID, "", nil, lang)
			if body := html.UnescapeString(string(r.body)); r.status != http.StatusOK || !strings.Contains(body, tc.person) {
				t.Errorf("carol's page (%s) does not name pat, who asked, %q:\n%s", tc.lang, tc.person, body)
			}
		})
	}
}

// TestAdminResetAuditSaysWhereItCameFrom: the audit rows of an administrator's MFA reset
// say where it came from: a token's, through the admin API with the token's name and id
// and the administrator who created it; an administrator's in the console, the admin
// console. Under dual control that is the request waiting for approval
// (support.mfa_reset_requested and support.case_opened); without it, the reset done at
// once (support.mfa_reset, with agent= the administrator). On SQLite and PostgreSQL.
func TestAdminResetAuditSaysWhereItCameFrom(t *testing.T) {
	for _, mode := range []struct {
		name     string
		approval bool
		events   []string
	}{
		{"pending", true, []string{audit.SupportResetRequested, audit.SupportCaseOpened}},
		{"immediate", false, []string{audit.SupportMFAReset}},
	} {
		for _, db := range []string{"sqlite", "postgres"} {
			t.Run(mode.name+"/"+db, func(t *testing.T) {
				o := testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: mode.approval}}
				if db == "postgres" {
					o.DatabaseURL = testutil.PostgresURL(t)
				}
				srv, root := adminServerWith(t, o)
				mfaClient(t, srv, "bob", "user")
				mfaClient(t, srv, "carol", "user")
				bob, carol := mustUser(t, srv, "bob"), mustUser(t, srv, "carol")
				byToken := usersWriteToken(t, srv)
				tokens, err := srv.Store.ListAPITokens(context.Background())
				if err != nil || len(tokens) != 1 {
					t.Fatalf("tokens: %v %v", tokens, err)
				}
				wantStatus(t, byToken("POST", "/api/v1/admin/users/"+bob.ID+"/reset-mfa", map[string]any{"reason": "lost phone, checked in person"}),
					http.StatusOK)
				if r := postForm(root, "/admin/users/"+carol.ID+"/reset-mfa", url.Values{"reason": {"lost phone, called back"}}); r.Status != http.StatusSeeOther {
					t.Fatalf("the console's reset: %d %s", r.Status, r.Body)
				}
				for _, tc := range []struct {
					name, userID, want, never string
				}{
					{"token", bob.ID, "(admin API, API token \"automation\", id " + tokens[0].ID + ", created by root)", "admin console"},
					{"console", carol.ID, "(admin console)", "admin API"},
				} {
					for _, event := range mode.events {
						rows, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: tc.userID, Event: event})
						if err != nil || len(rows) != 1 {
							t.Fatalf("%s: %s rows: %+v %v, want one", tc.name, event, rows, err)
						}
						d := rows[0].Detail
						if !strings.Contains(d, tc.want) || strings.Contains(d, tc.never) ||
							(event == audit.SupportMFAReset && !strings.Contains(d, " agent=root ")) {
							t.Errorf("%s: %s detail %q, want %q", tc.name, event, d, tc.want)
						}
					}
				}
			})
		}
	}
}

// TestSupportCasePageNamesTheTokenThatAsked: the support case page names who asked for
// the MFA reset waiting for approval in the page's language: the API token by name (and
// who created it) when a token filed it, the agent when a person did. The token's creator
// is not offered the approval (they may not approve it), another agent is. The support API
// keeps requested_by "token NAME" and adds requested_by_token, omitted for a person.
func TestSupportCasePageNamesTheTokenThatAsked(t *testing.T) {
	srv, root := adminServerWith(t, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
	pat := mfaClient(t, srv, "pat", "admin")
	mfaClient(t, srv, "bob", "user")
	mfaClient(t, srv, "carol", "user")
	bob, carol := mustUser(t, srv, "bob"), mustUser(t, srv, "carol")
	byToken := usersWriteToken(t, srv)
	r := byToken("POST", "/api/v1/admin/users/"+bob.ID+"/reset-mfa", map[string]any{"reason": "lost phone, checked in person"})
	wantStatus(t, r, http.StatusOK)
	tokenCase := decodeAs[web.MFAResetAnswer](t, r).Case
	r = apiDo(pat, "POST", "/api/v1/admin/users/"+carol.ID+"/reset-mfa", map[string]any{"reason": "lost phone, called back"})
	wantStatus(t, r, http.StatusOK)
	personCase := decodeAs[web.MFAResetAnswer](t, r).Case

	for _, tc := range []struct{ lang, token, person, verified, raw, opened, described, tokenDescribed string }{
		{"en", "API token “automation” (created by root) asked on", "pat asked on", "(verified by other means:", "by other:",
			`Case opened through the admin API by API token "automation" (id `,
			"MFA reset requested by administrator pat: lost phone, called back", `MFA reset requested by API token "automation" (id `},
		{"de", "Das API-Token „automation“ (erstellt von root) hat am", "pat hat am", "(geprüft durch andere Mittel:", "durch other",
			`Fall über die Admin-API von dem API-Token "automation" (ID `,
			"Zurücksetzen der MFA beantragt von Administrator pat: lost phone, called back", `Zurücksetzen der MFA beantragt von dem API-Token "automation" (ID `},
		{"fr", "Le jeton d’API « automation » (créé par root) a demandé le", "pat a demandé le", "(vérifié par un autre moyen", "par other",
			`Demande ouverte via l’API d’administration par le jeton d’API "automation" (id `,
			"Réinitialisation de la MFA demandée par l’administrateur pat : lost phone, called back", `Réinitialisation de la MFA demandée par le jeton d’API "automation" (id `},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			lang := http.Header{"Accept-Language": {tc.lang}}
			page := func(c *testserver.Client, ref string) string {
				t.Helper()
				r := rawDo(srv, c, http.MethodGet, "/support/cases/"+ref, "", nil, lang)
				if r.status != http.StatusOK {
					t.Fatalf("case %s (%s): %d %s", ref, tc.lang, r.status, r.body)
				}
				return html.UnescapeString(string(r.body))
			}
			approve := "/reset-mfa/approve"
			body := page(pat, tokenCase)
			if !strings.Contains(body, tc.token) || !strings.Contains(body, approve) {
				t.Errorf("the token's case (%s) to pat: want %q and the approval:\n%s", tc.lang, tc.token, body)
			}
			// The reset card; the timeline keeps the English text it was written in.
			card, _, _ := strings.Cut(body[strings.Index(body, `id="reset-h"`)+1:], "</section>")
			if tc.lang != "en" && strings.Contains(card, "token ") {
				t.Errorf("the token's case (%s) says the English \"token NAME\":\n%s", tc.lang, card)
			}
			// How the requester verified the user is said in the page's language, not as
			// the stored value ("other").
			if !strings.Contains(card, tc.verified) || strings.Contains(card, tc.raw) {
				t.Errorf("the token's case (%s): want %q, not the stored value:\n%s", tc.lang, tc.verified, card)
			}
			// The timeline, too, is in the page's language; the names are as they were.
			timeline, _, _ := strings.Cut(body[strings.Index(body, `id="tl-h"`)+1:], "</ol>")
			if !strings.Contains(timeline, tc.opened) || (tc.lang != "en" && strings.Contains(timeline, "asks to reset")) {
				t.Errorf("the token's case (%s): want a timeline saying %q, all in the page's language:\n%s", tc.lang, tc.opened, timeline)
			}
			// root created the token: ApproveReset refuses root, so the page does not offer it.
			if body := page(root, tokenCase); !strings.Contains(body, tc.token) || strings.Contains(body, approve) {
				t.Errorf("the token's case (%s) to its creator root: want %q and no approval:\n%s", tc.lang, tc.token, body)
			}
			if body := page(root, personCase); !strings.Contains(body, tc.person) || !strings.Contains(body, approve) {
				t.Errorf("pat's case (%s) to root: want %q and the approval:\n%s", tc.lang, tc.person, body)
			}
			// The description twofold wrote is in the page's language too; the reason as typed.
			for ref, want := range map[string]string{personCase: tc.described, tokenCase: tc.tokenDescribed} {
				if d := page(root, ref); !strings.Contains(d, `<p class="description">`+want) {
					t.Errorf("case %s (%s): want the description %q:\n%s", ref, tc.lang, want, d)
				}
			}
			if body := page(pat, personCase); strings.Contains(body, approve) {
				t.Errorf("pat's case (%s) offers pat the approval of pat's own request", tc.lang)
			}
		})
	}

	c := apiDo(pat, "GET", "/api/v1/support/cases/"+tokenCase, nil)
	wantStatus(t, c, http.StatusOK)
	if p := decodeAs[web.Case](t, c).PendingReset; p == nil || p.RequestedBy != "token automation" || p.RequestedByToken != "automation" {
		t.Errorf("the token's case in the API: %s, want requested_by \"token automation\" and requested_by_token \"automation\"", c.Body)
	}
	c = apiDo(root, "GET", "/api/v1/support/cases/"+personCase, nil)
	wantStatus(t, c, http.StatusOK)
	if p := decodeAs[web.Case](t, c).PendingReset; p == nil || p.RequestedBy != "pat" || strings.Contains(string(c.Body), "requested_by_token") {
		t.Errorf("pat's case in the API: %s, want requested_by pat and no requested_by_token", c.Body)
	}
	// The creator of the token may still not approve its request.
	wantStatus(t, apiDo(root, "POST", "/api/v1/support/cases/"+tokenCase+"/reset-mfa/approve", nil), http.StatusForbidden)
}
