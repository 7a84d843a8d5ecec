package oidc_test

import (
	"fmt"
	"slices"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// setSessionAMR gives every session of username the amr a sign-in with other methods would
// have given it (the token stays the same, so the browser keeps its session).
func setSessionAMR(t testing.TB, srv *testserver.Server, username string, amr ...string) {
	t.Helper()
	u, err := srv.Store.GetUserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	list, err := srv.Store.ListUserSessions(t.Context(), u.ID, srv.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		next := s
		next.AMR = amr
		if err := srv.Store.StepUpSession(t.Context(), s.ID, s.TokenHash, &next); err != nil {
			t.Fatal(err)
		}
	}
}

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
			setSessionAMR(t, srv, "ada", tc.amr...)
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
