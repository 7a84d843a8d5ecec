package oidc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// wantCode fails unless err is an application error with code.
func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Code != code {
		t.Errorf("%s: got %v, want an apperr %s", what, err, code)
	}
}

// TestAdminRotateSecret: after a rotation the new secret works at the token endpoint and
// the old one is refused, for a code exchange and for a refresh alike.
func TestAdminRotateSecret(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())
	oldSecret := app.conf.ClientSecret

	rc, err := srv.OIDCAdmin.RotateSecret(t.Context(), app.client.Client.ID, auditMeta)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Secret == "" || rc.Secret == oldSecret {
		t.Fatalf("rotation gave secret %q, want a new one", rc.Secret)
	}

	t.Run("the old secret is refused", func(t *testing.T) {
		a := app.newRequest()
		code := app.code(b, a)
		if got := tokenError(t, mustFail(app.exchange(code, a))); got != "invalid_client" {
			t.Errorf("code exchange with the old secret: %s, want invalid_client", got)
		}
		if got := tokenError(t, mustFail(app.refresh(tok.RefreshToken))); got != "invalid_client" {
			t.Errorf("refresh with the old secret: %s, want invalid_client", got)
		}
	})
	t.Run("the new secret works", func(t *testing.T) {
		app.conf.ClientSecret = rc.Secret
		app.client = rc
		app.tokens(b, app.newRequest())
		if _, err := app.refresh(tok.RefreshToken); err != nil {
			t.Errorf("refresh with the new secret: %v", err)
		}
	})
	t.Run("a public client has no secret to rotate", func(t *testing.T) {
		pub := newRP(t, srv, "spa", clientOpts{public: true})
		_, err := srv.OIDCAdmin.RotateSecret(t.Context(), pub.client.Client.ID, auditMeta)
		wantCode(t, "rotate a public client's secret", err, apperr.CodeConflict)
	})
	t.Run("unknown client", func(t *testing.T) {
		_, err := srv.OIDCAdmin.RotateSecret(t.Context(), "no-such-client", auditMeta)
		wantCode(t, "rotate an unknown client's secret", err, apperr.CodeNotFound)
	})
}

// TestAdminRemoveClient: a removed client's access tokens no longer introspect (nor reach
// userinfo) and its refresh tokens no longer refresh.
func TestAdminRemoveClient(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	other := newRP(t, srv, "wiki", offline)
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())
	otherTok, _ := other.tokens(b, other.newRequest())
	if m := introspect(t, srv, app.client, tok.AccessToken); m["active"] != true {
		t.Fatalf("access token before the removal: %v, want active", m)
	}

	c, err := srv.OIDCAdmin.Remove(t.Context(), app.client.Client.ID, auditMeta)
	if err != nil || c.Name != "tenant-app" {
		t.Fatalf("remove: %v, %v", c, err)
	}
	form := url.Values{"token": {tok.AccessToken}}
	if status, m := postForm(t, srv, oidc.IntrospectionPath, form, app.client.Client.ID, app.client.Secret); status != http.StatusUnauthorized {
		t.Errorf("introspection by the removed client: %d %v, want 401", status, m)
	}
	if m := introspect(t, srv, other.client, tok.AccessToken); m["active"] != false {
		t.Errorf("access token of the removed client, introspected by another: %v, want inactive", m)
	}
	if status, _ := userinfo(t, srv, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo with the removed client's access token: %d, want 401", status)
	}
	if _, err := app.refresh(tok.RefreshToken); err == nil {
		t.Error("the removed client's refresh token still refreshes")
	}
	if m := introspect(t, srv, other.client, otherTok.AccessToken); m["active"] != true {
		t.Errorf("another client's access token: %v, want it kept", m)
	}
	_, err = srv.OIDCAdmin.Remove(t.Context(), app.client.Client.ID, auditMeta)
	wantCode(t, "remove again", err, apperr.CodeNotFound)
	wantAudit(t, srv, oidc.EventClientRemoved, "tenant-app")
}

func wantAudit(t testing.TB, srv *testserver.Server, event, detailPart string) {
	t.Helper()
	events, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Event == event && strings.Contains(e.Detail, detailPart) {
			return
		}
	}
	t.Errorf("no %s audit event about %q in %v", event, detailPart, events)
}

func TestAdminUpdateClient(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	ctx := t.Context()
	rc, err := srv.OIDCAdmin.Add(ctx, oidc.NewClient{Name: "billing", RedirectURIs: []string{"https://billing.example.com/cb"}}, auditMeta)
	if err != nil {
		t.Fatal(err)
	}
	id := rc.Client.ID
	if _, err := srv.OIDCAdmin.Add(ctx, oidc.NewClient{Name: "wiki", RedirectURIs: []string{"https://wiki.example.com/cb"}}, auditMeta); err != nil {
		t.Fatal(err)
	}
	ptr := func(v ...string) *[]string { return &v }
	yes := true

	t.Run("redirect URIs and first party change", func(t *testing.T) {
		c, err := srv.OIDCAdmin.Update(ctx, id, oidc.ClientChange{
			RedirectURIs: ptr("https://billing.example.com/new", "http://localhost:8080/cb", "https://billing.example.com/new"),
			FirstParty:   &yes,
		}, auditMeta)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := srv.OIDCAdmin.Client(ctx, id)
		if !c.FirstParty || !stored.FirstParty || len(stored.RedirectURIs) != 2 || stored.RedirectURIs[0] != "https://billing.example.com/new" {
			t.Errorf("stored %+v, want first party and two redirect URIs (duplicate dropped)", stored)
		}
		if stored.SecretHash == nil || stored.Name != "billing" {
			t.Errorf("an edit changed what it did not name: %+v", stored)
		}
		wantAudit(t, srv, oidc.EventClientChanged, "redirect_uris, first_party changed")
	})
	for _, tc := range []struct {
		name string
		ch   oidc.ClientChange
		code string
	}{
		{"no redirect URI", oidc.ClientChange{RedirectURIs: ptr()}, apperr.CodeBadRequest},
		{"javascript scheme", oidc.ClientChange{RedirectURIs: ptr("javascript:alert(1)")}, apperr.CodeBadRequest},
		{"fragment", oidc.ClientChange{RedirectURIs: ptr("https://billing.example.com/cb#x")}, apperr.CodeBadRequest},
		{"relative", oidc.ClientChange{RedirectURIs: ptr("/cb")}, apperr.CodeBadRequest},
		{"white space", oidc.ClientChange{RedirectURIs: ptr("https://billing.example.com/c b")}, apperr.CodeBadRequest},
		{"private scheme on a confidential client", oidc.ClientChange{RedirectURIs: ptr("com.example.app:/cb")}, apperr.CodeBadRequest},
		{"too long", oidc.ClientChange{RedirectURIs: ptr("https://billing.example.com/" + strings.Repeat("a", 3000))}, apperr.CodeBadRequest},
		{"bad post-logout URI", oidc.ClientChange{PostLogoutRedirectURIs: ptr("data:text/html,x")}, apperr.CodeBadRequest},
		{"empty name", oidc.ClientChange{Name: new(string)}, apperr.CodeBadRequest},
		{"taken name", oidc.ClientChange{Name: func() *string { s := "wiki"; return &s }()}, apperr.CodeConflict},
		{"unknown algorithm", oidc.ClientChange{IDTokenAlg: func() *string { s := "none"; return &s }()}, apperr.CodeBadRequest},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			_, err := srv.OIDCAdmin.Update(ctx, id, tc.ch, auditMeta)
			wantCode(t, tc.name, err, tc.code)
		})
	}
	t.Run("unknown client", func(t *testing.T) {
		_, err := srv.OIDCAdmin.Update(ctx, "nope", oidc.ClientChange{FirstParty: &yes}, auditMeta)
		if !errors.Is(err, oidc.ErrNoSuchClient) {
			t.Errorf("got %v, want ErrNoSuchClient", err)
		}
	})
}

// TestClientNamesHoldNoInvisibleCharacters: the consent page shows a client's name, so a
// name with a direction override or a zero-width character, which could read as another
// application's or as nothing, is refused on the name field, when added and when changed.
func TestClientNamesHoldNoInvisibleCharacters(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	ctx := t.Context()
	rc, err := srv.OIDCAdmin.Add(ctx, oidc.NewClient{Name: "Café – billing", RedirectURIs: []string{"https://billing.example.com/cb"}}, auditMeta)
	if err != nil {
		t.Fatalf("a name of letters, spaces and punctuation: %v", err)
	}
	wantReason := func(t *testing.T, what string, err error) {
		t.Helper()
		if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeBadRequest || e.Field != "name" || !strings.Contains(e.Message, "invisible characters") {
			t.Errorf("%s: got %v, want bad_request on name saying why", what, err)
		}
	}
	for _, name := range []string{
		"\u202e\u200b", "\u200b", "Billing\u202elaer", "Bil\u00adling", "\u2066Billing\u2069", "Billing\ufeff", "Billing\ufffd",
		"\u200dBilling", "Billing\u200d", "Bil\u200d\u200dling", "Billing \u200c app", // joiners that join nothing
	} {
		t.Run(strings.ToValidUTF8(name, "?"), func(t *testing.T) {
			_, err := srv.OIDCAdmin.Add(ctx, oidc.NewClient{Name: name, RedirectURIs: []string{"https://x.example.com/cb"}}, auditMeta)
			wantReason(t, "add", err)
			_, err = srv.OIDCAdmin.Update(ctx, rc.Client.ID, oidc.ClientChange{Name: &name}, auditMeta)
			wantReason(t, "update", err)
		})
	}
	if c, _ := srv.OIDCAdmin.Client(ctx, rc.Client.ID); c.Name != "Café – billing" {
		t.Errorf("a refused change renamed the client to %q", c.Name)
	}
	// A joiner between two visible characters: an emoji sequence, a Persian word.
	for _, name := range []string{"\U0001f469\u200d\U0001f4bb Dev portal", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"} {
		if _, err := srv.OIDCAdmin.Add(ctx, oidc.NewClient{Name: name, RedirectURIs: []string{"https://x.example.com/cb"}}, auditMeta); err != nil {
			t.Errorf("Add(name %q) = %v, want ok", name, err)
		}
	}
}

// TestRedirectURIRules: a redirect URI is one a browser can be sent to and that names only
// the application. Refused, with a message that quotes the URI and says why: a port out of
// 1 to 65535, white space or an invisible character anywhere, a user name or password, a
// scheme the browser runs or renders, and for a public client any scheme but https, http
// on the loopback interface and a private scheme named after a domain the other way round.
func TestRedirectURIRules(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	add := func(uri string, public bool) error {
		_, err := srv.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: "x" + randomValue(t), RedirectURIs: []string{uri}, Public: public}, auditMeta)
		return err
	}
	for _, tc := range []struct {
		uri    string
		public bool
	}{
		{"https://a.example/cb", false},
		{"https://a.example:8443/cb?x=1", false},
		{"http://a.example:8080/cb", false}, // development of a confidential client
		{"https://a.example/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:8080/cb", true},
		{"http://[::1]/cb", true},
		{"http://[::1]:65535/cb", true},
		{"http://localhost:1/cb", true},
		{"com.example.app:/cb", true},
		{"com.example.app:/oauth2redirect/example-provider", true},
		{"Com.Example-1.App:/cb", true},
	} {
		t.Run(fmt.Sprintf("%s (public %t) is accepted", tc.uri, tc.public), func(t *testing.T) {
			if err := add(tc.uri, tc.public); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
	for _, tc := range []struct {
		uri    string
		public bool
		reason string
	}{
		{"https://a.example:99999/cb", false, "port"},
		{"https://a.example:65536/cb", true, "port"},
		{"http://127.0.0.1:0/cb", true, "port"},
		{"https://a.example/cb\u00a0", false, "white space"},
		{"https://a.example/cb\u3000", true, "white space"},
		{"https://a.example/c\u200bb", false, "invisible"},
		{"https://a.example/cb\u202e", false, "invisible"},
		{"https://a.example/cb\u00ad", false, "invisible"},
		{"https://a.example/cb\x7f", false, "invisible"},
		{"https://user:pass@a.example/cb", false, "password"},
		{"https://user@a.example/cb", true, "password"},
		{"http://user:pass@127.0.0.1/cb", true, "password"},
		{"view-source:https://a.example/cb", true, "browsers run or render"},
		{"view-source:https://a.example/cb", false, "browsers run or render"},
		{"javascript:alert(1)", true, "browsers run or render"},
		{"data:text/html,x", true, "browsers run or render"},
		{"file:///etc/passwd", true, "browsers run or render"},
		{"blob:https://a.example/x", true, "browsers run or render"},
		{"about:blank", true, "browsers run or render"},
		{"ftp://a.example/cb", true, "private scheme"},
		{"ws://127.0.0.1/cb", true, "private scheme"},
		{"wss://a.example/cb", true, "private scheme"},
		{"myapp:/cb", true, "private scheme"},
		{"web+app:/cb", true, "private scheme"},
		{"chrome-extension://abc/cb", true, "private scheme"},
		{"com..example:/cb", true, "private scheme"},
		{"ftp://a.example/cb", false, "https"},
		{"wss://a.example/cb", false, "https"},
	} {
		t.Run(fmt.Sprintf("%+q (public %t) is refused", tc.uri, tc.public), func(t *testing.T) {
			err := add(tc.uri, tc.public)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.CodeBadRequest || e.Field != "redirect_uris" {
				t.Fatalf("got %v, want bad_request on redirect_uris", err)
			}
			if !strings.Contains(e.Message, apperr.Quote(tc.uri)) || !strings.Contains(e.Message, tc.reason) {
				t.Errorf("message %q does not quote the URI and say %q", e.Message, tc.reason)
			}
		})
	}
}

// TestClientNamesAreCountedInCharacters: the limit of 64 is of characters, as its message
// says, not of bytes.
func TestClientNamesAreCountedInCharacters(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	uris := []string{"https://x.example.com/cb"}
	if _, err := srv.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: strings.Repeat("é", 64), RedirectURIs: uris}, auditMeta); err != nil {
		t.Errorf("64 characters (128 bytes): %v", err)
	}
	_, err := srv.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: strings.Repeat("e", 65), RedirectURIs: uris}, auditMeta)
	wantCode(t, "65 characters", err, apperr.CodeBadRequest)
}

// TestAdminRotateKeysKeepsOldTokensVerifiable: after a rotation the new key signs, and an
// ID token of the old key still verifies through the JWKS until the old key expires, which
// is no earlier than such a token does.
func TestAdminRotateKeysKeepsOldTokensVerifiable(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	before, _ := app.tokens(b, app.newRequest())

	_, err := srv.OIDCAdmin.RotateKeys(t.Context(), 5*time.Minute, auditMeta)
	wantCode(t, "keep shorter than ID tokens live", err, apperr.CodeBadRequest)

	rotated, err := srv.OIDCAdmin.RotateKeys(t.Context(), 0, auditMeta)
	if err != nil || len(rotated) != 1 {
		t.Fatalf("rotate: %v, %v", rotated, err)
	}
	keep := srv.OIDCAdmin.KeyRetention()
	if got := rotated[0].PreviousExpires.Sub(srv.Clock.Now()); got != keep || keep < oidc.DefaultIDTokenLifetime {
		t.Errorf("previous key kept %s (retention %s), want at least the ID token lifetime", got, keep)
	}
	keys, err := srv.OIDCAdmin.SigningKeys(t.Context())
	if err != nil || len(keys) != 2 || !keys[0].RetiredAt.IsZero() || keys[1].RetiredAt.IsZero() {
		t.Fatalf("keys after rotation: %+v, %v: want the new current one, then the retired one", keys, err)
	}
	if keys[0].PrivateEnc != nil {
		t.Error("SigningKeys hands out the sealed private key")
	}
	after, _ := app.tokens(b, app.newRequest())
	if kidOf(t, after) != rotated[0].ID || kidOf(t, before) == rotated[0].ID {
		t.Errorf("new token signed by %s, want the new key %s", kidOf(t, after), rotated[0].ID)
	}
	// Until the old ID token expires, a relying party that fetches the JWKS afresh still
	// finds its key.
	srv.Clock.Advance(oidc.DefaultIDTokenLifetime - time.Second)
	if !jwksHas(t, srv, kidOf(t, before)) {
		t.Error("the previous key left the JWKS before the tokens it signed expired")
	}
	p, err := gooidc.NewProvider(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := before.Extra("id_token").(string)
	if _, err := p.Verifier(&gooidc.Config{ClientID: app.client.Client.ID}).Verify(t.Context(), raw); err != nil {
		t.Errorf("an ID token of the previous key, checked against a fresh JWKS before it expires: %v", err)
	}
	srv.Clock.Advance(keep)
	if jwksHas(t, srv, kidOf(t, before)) {
		t.Error("the previous key is still published after its retention")
	}
	wantAudit(t, srv, oidc.EventKeysRotated, "1 new keys")
}

func jwksHas(t testing.TB, srv *testserver.Server, kid string) bool {
	t.Helper()
	for _, k := range srv.Client(t).Get(oidc.KeysPath).JSON(t)["keys"].([]any) {
		if k.(map[string]any)["kid"] == kid {
			return true
		}
	}
	return false
}
