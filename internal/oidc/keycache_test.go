package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestKeyRotationElsewhere: instances keep the current signing key in memory. After a
// rotation by another instance (PostgreSQL: two instances on one database) or by another
// process on the same database (`twofold keys rotate`, here an Admin of its own), every
// JWKS lists the new key at once, the rotating instance signs with it at once, and the
// others within oidc.KeyCacheTime; every ID token any of them signs verifies against every
// instance's JWKS.
func TestKeyRotationElsewhere(t *testing.T) {
	t.Run("another process, SQLite", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{})
		cli := oidc.NewAdmin(oidc.AdminOptions{Store: srv.Store, Keyring: srv.Key, Now: srv.Clock.Now})
		testKeyRotationElsewhere(t, srv, nil, cli)
	})
	t.Run("another instance, PostgreSQL", func(t *testing.T) {
		dsn := testutil.PostgresURL(t)
		clock := testserver.NewClock()
		issuer := "http://twofold.test"
		a := testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock, PublicURL: issuer})
		b := testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock, PublicURL: issuer})
		testKeyRotationElsewhere(t, a, b, b.OIDCAdmin)
	})
}

// testKeyRotationElsewhere rotates through admin, which is not a's; b (nil: none) is the
// instance admin belongs to, which must sign with the new key at once.
func testKeyRotationElsewhere(t *testing.T, a, b *testserver.Server, admin *oidc.Admin) {
	rc, err := a.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: "app", RedirectURIs: []string{redirectURI}, FirstParty: true}, auditMeta)
	if err != nil {
		t.Fatal(err)
	}
	browser, _ := signedIn(t, a, "ada")
	instances := []*testserver.Server{a}
	if b != nil {
		instances = append(instances, b)
	}
	// signedBy exchanges a fresh code at srv and returns the key id of the ID token, which
	// it checks against every instance's JWKS.
	signedBy := func(srv *testserver.Server) string {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		q := url.Values{"client_id": {rc.Client.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
		code := callbackQuery(t, follow(t, browser, oidc.AuthorizePath+"?"+q.Encode())).Get("code")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
		status, m := postForm(t, srv, oidc.TokenPath, form, rc.Client.ID, rc.Secret)
		raw, _ := m["id_token"].(string)
		if status != http.StatusOK || raw == "" {
			t.Fatalf("exchange: %d %v", status, m)
		}
		kid := kidOfRaw(t, raw)
		for _, s := range instances {
			if !jwksHas(t, s, kid) {
				t.Errorf("an ID token signed with %s, which a JWKS does not list", kid)
			}
		}
		return kid
	}
	before := signedBy(a)
	if b != nil && signedBy(b) != before {
		t.Fatal("the instances sign with different keys before any rotation")
	}

	// A key an instance may sign with for KeyCacheTime after its rotation must stay
	// published that much longer than ID tokens live.
	_, err = admin.RotateKeys(t.Context(), oidc.DefaultIDTokenLifetime, auditMeta)
	wantCode(t, "keep as long as ID tokens live, no longer", err, apperr.CodeBadRequest)
	keep := oidc.DefaultIDTokenLifetime + oidc.KeyCacheTime
	rotated, err := admin.RotateKeys(t.Context(), keep, auditMeta)
	if err != nil || len(rotated) != 1 {
		t.Fatalf("rotate: %v, %v", rotated, err)
	}
	next := rotated[0].ID
	for _, s := range instances {
		if !jwksHas(t, s, next) || !jwksHas(t, s, before) {
			t.Errorf("a JWKS right after the rotation does not list both the new key and the previous one")
		}
	}
	if b != nil {
		if kid := signedBy(b); kid != next {
			t.Errorf("the rotating instance signs with %s, want the new key %s at once", kid, next)
		}
	}
	if kid := signedBy(a); kid != before && kid != next {
		t.Errorf("another instance signs with %s, neither the previous key nor the new one", kid)
	}
	// Within the cache time the others move to the new key.
	a.Clock.Advance(oidc.KeyCacheTime)
	if kid := signedBy(a); kid != next {
		t.Errorf("%s after the rotation another instance signs with %s, want the new key %s", oidc.KeyCacheTime, kid, next)
	}
	// The previous key stays published for as long as a token it signed within the cache
	// time lives, and leaves then.
	a.Clock.Advance(oidc.DefaultIDTokenLifetime - time.Second)
	for _, s := range instances {
		if !jwksHas(t, s, before) {
			t.Error("the previous key left a JWKS before every token an instance may have signed with it expired")
		}
	}
	a.Clock.Advance(time.Second)
	if jwksHas(t, a, before) {
		t.Error("the previous key is still published after its retention")
	}
}

// kidOfRaw returns the key id in the header of a raw ID token.
func kidOfRaw(t testing.TB, raw string) string {
	t.Helper()
	head, _, _ := strings.Cut(raw, ".")
	b, _ := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil || h.Kid == "" {
		t.Fatalf("ID token header %q: %v", b, err)
	}
	return h.Kid
}
