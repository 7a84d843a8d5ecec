package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestAuthorizeErrorsRelyingPartiesUnderstand: requests twofold does not serve go back to
// the application with the error code the specifications name for them, as long as the
// client and the redirect URI are beyond doubt; relying parties show those codes to
// people (a 400 page at twofold leaves the user stranded).
func TestAuthorizeErrorsRelyingPartiesUnderstand(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	for _, tc := range []struct {
		name, param, value string
		wantError          string // empty: the 400 page
	}{
		{"request_uri", "request_uri", url.QueryEscape("https://app.example/request.jwt"), "request_uri_not_supported"},
		{"request object", "request", "eyJhbGciOiJub25lIn0.e30.", "request_not_supported"},
		{"implicit flow", "response_type", "token", "unsupported_response_type"},
		{"ID token only", "response_type", "id_token", "unsupported_response_type"},
		{"hybrid flow", "response_type", "code+id_token", "unsupported_response_type"},
		{"unknown response type", "response_type", "nonsense", "unsupported_response_type"},
		{"no response type", "response_type", "", "invalid_request"},
		{"account selection without a page", "prompt", "none+select_account", "account_selection_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := b.Get(oidc.AuthorizePath + "?" + rawQuery(replacePair(authorizePairs(app), tc.param, tc.value)...))
			wantErrorRedirect(t, resp, tc.wantError, "st")
		})
	}
	t.Run("unsupported response type to an unregistered URI", func(t *testing.T) {
		pairs := replacePair(authorizePairs(app), "redirect_uri", url.QueryEscape("https://evil.example/cb"))
		wantNoRedirect(t, b.Get(oidc.AuthorizePath+"?"+rawQuery(replacePair(pairs, "response_type", "token")...)))
	})
	t.Run("unsupported response type of an unknown client", func(t *testing.T) {
		pairs := replacePair(authorizePairs(app), "client_id", "nope")
		wantNoRedirect(t, b.Get(oidc.AuthorizePath+"?"+rawQuery(replacePair(pairs, "response_type", "token")...)))
	})
}

// TestACRValuesAreEchoed: an application that asks for multi-factor authentication by
// the OpenID PAPE policy (what generic relying parties send) or by twofold's own class
// finds the class it asked for in the ID token's acr, also after a refresh.
func TestACRValuesAreEchoed(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	for _, tc := range []struct{ acrValues, want string }{
		{oidc.ACRMultiFactorPAPE, oidc.ACRMultiFactorPAPE},
		{oidc.ACRMFA, oidc.ACRMFA},
		{"urn:example:unknown " + oidc.ACRMultiFactorPAPE, oidc.ACRMultiFactorPAPE},
		{"urn:example:unknown", oidc.ACRMFA},
		{"", oidc.ACRMFA},
	} {
		t.Run(tc.acrValues, func(t *testing.T) {
			var opts []oauth2.AuthCodeOption
			if tc.acrValues != "" {
				opts = append(opts, oauth2.SetAuthURLParam("acr_values", tc.acrValues))
			}
			a := app.newRequest(opts...)
			tok, id := app.tokens(b, a)
			if got := claimsOf(t, id).ACR; got != tc.want {
				t.Errorf("acr %q, want %q", got, tc.want)
			}
			if got := introspect(t, srv, app.client, tok.AccessToken)["acr"]; got != tc.want {
				t.Errorf("introspection acr %v, want %q", got, tc.want)
			}
			refreshed, err := app.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if got := claimsOf(t, app.verify(refreshed, nil)).ACR; got != tc.want {
				t.Errorf("refreshed ID token acr %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSelectAccount: prompt=select_account shows who is signed in, with the choice to
// continue as that user or to sign in as another; prompt=none cannot show it.
func TestSelectAccount(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	partner := newRP(t, srv, "partner", clientOpts{thirdParty: true})
	b, _ := signedIn(t, srv, "ada")
	selectAccount := oauth2.SetAuthURLParam("prompt", "select_account")

	// chooser runs the request a in b up to the chooser page and returns the request id.
	chooser := func(t *testing.T, r *rp, a *authRequest) string {
		t.Helper()
		srv.Clock.Advance(time.Second) // the sign-in was before the request: a choice is due
		resp := r.authorize(b, a)
		body := string(resp.Body)
		if resp.Status != http.StatusOK || !strings.Contains(body, "Continue as ada") || !strings.Contains(body, "Use another account") ||
			!strings.Contains(body, `action="/authorize/select"`) {
			t.Fatalf("got %d to %q, want the account chooser: %s", resp.Status, resp.Header.Get("Location"), truncate(body))
		}
		u, _ := url.Parse(lastCallback(t, b, r, a))
		return u.Query().Get("id")
	}
	post := func(path string, form url.Values) *testserver.Response {
		return b.Do(http.MethodPost, path, "application/x-www-form-urlencoded", []byte(form.Encode()))
	}

	t.Run("continue as the signed-in user", func(t *testing.T) {
		a := app.newRequest(selectAccount)
		id := chooser(t, app, a)
		q := callbackQuery(t, post("/authorize/select", url.Values{"id": {id}}))
		if q.Get("code") == "" || q.Get("state") != a.state {
			t.Fatalf("after choosing: %v, want a code and the state", q)
		}
		if _, err := app.exchange(q.Get("code"), a); err != nil {
			t.Fatalf("exchange: %v", err)
		}
	})
	t.Run("continue, then consent, without a second choice", func(t *testing.T) {
		a := partner.newRequest(selectAccount)
		id := chooser(t, partner, a)
		resp := post("/authorize/select", url.Values{"id": {id}})
		if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `action="/authorize/consent"`) {
			t.Fatalf("got %d to %q, want the consent page", resp.Status, resp.Header.Get("Location"))
		}
		consented := post("/authorize/consent", url.Values{"id": {id}, "decision": {"allow"}})
		if consented.Status != http.StatusSeeOther {
			t.Errorf("consent answered %d, want 303 as every form POST", consented.Status)
		}
		q := callbackQuery(t, consented)
		if q.Get("code") == "" {
			t.Fatalf("after consent: %v, want a code", q)
		}
	})
	t.Run("an unknown request", func(t *testing.T) {
		if resp := post("/authorize/select", url.Values{"id": {"nope"}}); resp.Status != http.StatusBadRequest {
			t.Errorf("got %d, want 400", resp.Status)
		}
	})
	t.Run("use another account", func(t *testing.T) {
		a := app.newRequest(selectAccount)
		id := chooser(t, app, a)
		resp := post("/authorize/reauth", url.Values{"id": {id}})
		wantSentTo(t, resp, "/login?next=")
		if s := b.Get("/api/v1/session"); s.Status != http.StatusUnauthorized {
			t.Errorf("session after choosing another account: %d, want 401", s.Status)
		}
	})
	t.Run("no session: straight to the sign-in", func(t *testing.T) {
		wantSentTo(t, app.authorize(srv.Client(t), app.newRequest(selectAccount)), "/login")
	})
}
