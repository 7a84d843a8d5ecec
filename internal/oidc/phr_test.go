package oidc_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestKeySessionClaims: a session that passed a security key or passkey says so to
// applications: amr per RFC 8176 (hwk, user when the key verified the user, mfa) and the
// phishing-resistant class in acr, or the class the application asked for when it meets
// it; a session with a code is the multi-factor class and never the phishing-resistant one.
func TestKeySessionClaims(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	for _, tc := range []struct {
		name      string
		amr       []string
		acrValues string
		wantACR   string
	}{
		{"password and key with user verification", []string{"pwd", "hwk", "user", "mfa"}, "", oidc.ACRPhishingResistant},
		{"password and key without user verification", []string{"pwd", "hwk", "mfa"}, "", oidc.ACRPhishingResistant},
		{"passkey", []string{"hwk", "user", "mfa"}, "", oidc.ACRPhishingResistant},
		{"passkey, application asks phr", []string{"hwk", "user", "mfa"}, oidc.ACRPhishingResistant, oidc.ACRPhishingResistant},
		{"passkey, application asks mfa", []string{"hwk", "user", "mfa"}, oidc.ACRMFA, oidc.ACRMFA},
		{"passkey, application asks PAPE multi-factor", []string{"hwk", "user", "mfa"}, oidc.ACRMultiFactorPAPE, oidc.ACRMultiFactorPAPE},
		{"code stepped up with a key", []string{"pwd", "otp", "mfa", "hwk", "user"}, oidc.ACRPhishingResistant + " " + oidc.ACRMFA, oidc.ACRPhishingResistant},
		{"code", []string{"pwd", "otp", "mfa"}, "", oidc.ACRMFA},
		{"code, application accepts phr or mfa", []string{"pwd", "otp", "mfa"}, oidc.ACRPhishingResistant + " " + oidc.ACRMFA, oidc.ACRMFA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetSessionAMR(t, "ada", tc.amr...)
			var opts []oauth2.AuthCodeOption
			if tc.acrValues != "" {
				opts = append(opts, oauth2.SetAuthURLParam("acr_values", tc.acrValues))
			}
			a := app.newRequest(opts...)
			tok, id := app.tokens(b, a)
			c := claimsOf(t, id)
			if c.ACR != tc.wantACR || !slices.Equal(c.AMR, tc.amr) {
				t.Errorf("ID token acr %q amr %v, want %q %v", c.ACR, c.AMR, tc.wantACR, tc.amr)
			}
			m := introspect(t, srv, app.client, tok.AccessToken)
			if m["acr"] != tc.wantACR || fmt.Sprint(m["amr"]) != fmt.Sprint(tc.amr) {
				t.Errorf("introspection acr %v amr %v, want %q %v", m["acr"], m["amr"], tc.wantACR, tc.amr)
			}
			refreshed, err := app.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if got := claimsOf(t, app.verify(refreshed, nil)); got.ACR != tc.wantACR || !slices.Equal(got.AMR, tc.amr) {
				t.Errorf("refreshed ID token acr %q amr %v, want %q %v", got.ACR, got.AMR, tc.wantACR, tc.amr)
			}
		})
	}
}

// TestDiscoveryListsTheClasses: applications learn from discovery that they may ask for
// multi-factor and for phishing-resistant sign-in.
func TestDiscoveryListsTheClasses(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	d := srv.Client(t).Get(oidc.DiscoveryPath).JSON(t)
	got := fmt.Sprint(d["acr_values_supported"])
	for _, acr := range []string{oidc.ACRMFA, oidc.ACRPhishingResistant} {
		if !slices.Contains(d["acr_values_supported"].([]any), any(acr)) {
			t.Errorf("acr_values_supported %s lacks %s", got, acr)
		}
	}
}

// TestStepUpToAKey: an application asking acr_values=urn:twofold:acr:phr of a session signed
// in with a code gets no code: the browser is asked to confirm with a security key
// ("Confirm with your security key"), and only a session that used a key gets the code (acr
// phr, amr hwk). A user without a key is offered to add one, or to go back: the application
// then gets access_denied saying why. prompt=none gets interaction_required.
func TestStepUpToAKey(t *testing.T) {
	phr := oauth2.SetAuthURLParam("acr_values", oidc.ACRPhishingResistant)
	deny := func(t *testing.T, b *testserver.Client, app *rp, a *authRequest) url.Values {
		t.Helper()
		callback, _ := url.Parse(lastCallback(t, b, app, a))
		resp := b.Do(http.MethodPost, "/authorize/key/deny", "application/x-www-form-urlencoded",
			[]byte(url.Values{"id": {callback.Query().Get("id")}}.Encode()))
		return callbackQuery(t, resp)
	}

	t.Run("a user with a key confirms with it", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{})
		app := newRP(t, srv, "tenant-app", clientOpts{})
		b, _ := signedIn(t, srv, "ada")
		srv.AddKeyRecord(t, "ada", "YubiKey")

		a := app.newRequest(phr)
		page := app.authorize(b, a)
		if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "Confirm with your security key") ||
			!strings.Contains(string(page.Body), `data-webauthn="login"`) {
			t.Fatalf("acr_values=phr with a code session: %d %q, want the page asking for the key", page.Status, page.Header.Get("Location"))
		}
		none := app.newRequest(phr, oauth2.SetAuthURLParam("prompt", "none"))
		if q := callbackQuery(t, app.authorize(b, none)); q.Get("error") != "interaction_required" || q.Get("code") != "" {
			t.Errorf("prompt=none: %v, want interaction_required and no code", q)
		}
		if q := deny(t, b, app, a); q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "did not confirm") {
			t.Errorf("cancel: %v, want access_denied saying the user did not confirm", q)
		}

		// The key confirmed (the session's amr gains hwk): the code, and the class asked for.
		srv.SetSessionAMR(t, "ada", "pwd", "otp", "mfa", "hwk", "user")
		a = app.newRequest(phr)
		_, id := app.tokens(b, a)
		if c := claimsOf(t, id); c.ACR != oidc.ACRPhishingResistant || !contains(c.AMR, "hwk") {
			t.Errorf("after the key: acr %q amr %v, want phr with hwk", c.ACR, c.AMR)
		}
	})
	t.Run("a user without a key may add one or go back", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{})
		app := newRP(t, srv, "tenant-app", clientOpts{})
		b, _ := signedIn(t, srv, "ada")
		a := app.newRequest(phr)
		page := app.authorize(b, a)
		body := string(page.Body)
		if page.Status != http.StatusOK || !strings.Contains(body, "You have no security key") ||
			!strings.Contains(body, `href="/account/security#security-keys"`) || strings.Contains(body, `data-webauthn="login"`) {
			t.Fatalf("acr_values=phr, no key: %d %s", page.Status, body)
		}
		q := deny(t, b, app, a)
		if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "the user has none") {
			t.Errorf("cancel without a key: %v, want access_denied saying the user has no key", q)
		}
	})
	t.Run("an application that also accepts mfa takes the code", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{})
		app := newRP(t, srv, "tenant-app", clientOpts{})
		b, _ := signedIn(t, srv, "ada")
		a := app.newRequest(oauth2.SetAuthURLParam("acr_values", oidc.ACRPhishingResistant+" "+oidc.ACRMFA))
		if _, id := app.tokens(b, a); claimsOf(t, id).ACR != oidc.ACRMFA {
			t.Errorf("acr %q, want mfa", claimsOf(t, id).ACR)
		}
	})
	t.Run("the phishing-resistant policy asks for the key without acr_values", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) { c.MFA.PhishingResistant = []string{store.RoleSupport} }})
		app := newRP(t, srv, "tenant-app", clientOpts{})
		srv.CreateUser(t, "sam", "sam@example.com", store.RoleUser)
		b := srv.Client(t)
		srv.Enroll(t, b, "sam")
		u, _ := srv.Store.GetUserByUsername(t.Context(), "sam")
		if err := srv.Store.SetUserRole(t.Context(), u.ID, store.RoleSupport, srv.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		srv.AddKeyRecord(t, "sam", "YubiKey")
		// sam's session signed in with a code before the policy covered sam.
		if page := app.authorize(b, app.newRequest()); page.Status != http.StatusOK || !strings.Contains(string(page.Body), "Confirm with your security key") {
			t.Fatalf("a code session of a user under the policy: %d %q, want the page asking for the key", page.Status, page.Header.Get("Location"))
		}
		srv.SetSessionAMR(t, "sam", "pwd", "hwk", "mfa")
		if _, id := app.tokens(b, app.newRequest()); claimsOf(t, id).ACR != oidc.ACRPhishingResistant {
			t.Errorf("acr %q, want phr", claimsOf(t, id).ACR)
		}
	})
}
