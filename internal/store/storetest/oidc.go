package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// oidcTests check the OpenID Connect provider's storage (issue 6).
var oidcTests = []subtest{
	{"ClientCreateGetList", testOIDCClients},
	{"ClientNameIsUnique", testOIDCClientNameUnique},
	{"ClientUpdate", testOIDCClientUpdate},
	{"ClientDeleteTakesEverythingIssued", testOIDCClientDelete},
	{"AuthRequestExpires", testOIDCAuthRequestExpires},
	{"AuthRequestCompletesOnce", testOIDCAuthRequestComplete},
	{"CodeSavedOnceOnCompletedRequest", testOIDCSaveCode},
	{"CodeLookupUsesNothingUp", testOIDCCodeLookup},
	{"CodeLookupSaysWhetherTheSessionLives", testOIDCCodeSessionLive},
	{"CodeClaimedOnceBeforeExpiry", testOIDCClaimCode},
	{"UsedCodeRevokesItsGrant", testOIDCUsedCodeRevokes},
	{"ConsentPutAndReplace", testOIDCConsent},
	{"UserApplicationsListedAndRemoved", testOIDCUserApplications},
	{"AccessTokenWithGrantUntilExpiry", testOIDCAccessToken},
	{"RefreshTokenRotatesOnce", testOIDCRefreshRotate},
	{"UserAndSessionGrantsRevoked", testOIDCRevokeUserSession},
	{"OtherGrantsRevokedThisSessionsKept", testOIDCRevokeOther},
	{"SigningKeysOneCurrentPerAlgorithm", testOIDCSigningKeys},
	{"DeleteExpiredOIDC", testOIDCHousekeeping},
	{"ClaimCodeOneWinner", testOIDCRaceClaimCode},
	{"ClaimCodeWithGrantOneWinner", testOIDCRaceClaimCodeWithGrant},
	{"CompleteAuthRequestOneWinner", testOIDCRaceComplete},
	{"RotateRefreshTokenOneWinner", testOIDCRaceRotate},
	{"CurrentSigningKeyOneWinner", testOIDCRaceSigningKey},
}

func clientFixture(t testing.TB, name string) *store.OIDCClient {
	t.Helper()
	return &store.OIDCClient{
		ID:                     randomID(t),
		Name:                   name,
		SecretHash:             randomBytes(t, 32),
		RedirectURIs:           []string{"https://" + name + ".example.com/callback", "http://127.0.0.1:9090/callback"},
		PostLogoutRedirectURIs: []string{"https://" + name + ".example.com/"},
		IDTokenAlg:             "ES256",
		CreatedAt:              at(0),
	}
}

func mustCreateClient(t testing.TB, s store.Store, name string) *store.OIDCClient {
	t.Helper()
	c := clientFixture(t, name)
	wantNoErr(t, "CreateOIDCClient", s.CreateOIDCClient(t.Context(), c))
	return c
}

// authRequestFixture returns an unsaved request of client created at base, living 30 minutes.
func authRequestFixture(t testing.TB, clientID string) *store.OIDCAuthRequest {
	t.Helper()
	return &store.OIDCAuthRequest{
		ID: randomID(t), ClientID: clientID, RedirectURI: "https://app.example.com/callback",
		State: "state with spaces & symbols", Nonce: "n-0S6_WzA2Mj", Scopes: []string{"openid", "email", "offline_access"},
		ResponseType: "code", ResponseMode: "", Prompt: []string{"login"}, MaxAge: 300,
		ACRValues: []string{"urn:twofold:acr:mfa"}, CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256", LoginHint: "alice", CreatedAt: at(0), ExpiresAt: at(30 * time.Minute),
	}
}

func mustCreateAuthRequest(t testing.TB, s store.Store, clientID string) *store.OIDCAuthRequest {
	t.Helper()
	a := authRequestFixture(t, clientID)
	wantNoErr(t, "CreateOIDCAuthRequest", s.CreateOIDCAuthRequest(t.Context(), a))
	return a
}

// completion is what a sign-in records on a request.
func completion(userID, sessionID string) *store.OIDCAuthRequest {
	return &store.OIDCAuthRequest{UserID: userID, SessionID: sessionID, AuthTime: at(time.Minute),
		AMR: []string{"pwd", "otp", "mfa"}, ACR: "urn:twofold:acr:mfa"}
}

// codeReadyRequest stores a completed request with a code (hash returned) valid 60 s from base.
func codeReadyRequest(t testing.TB, s store.Store, clientID, userID string) (*store.OIDCAuthRequest, []byte) {
	t.Helper()
	ctx := t.Context()
	a := mustCreateAuthRequest(t, s, clientID)
	wantNoErr(t, "CompleteOIDCAuthRequest", s.CompleteOIDCAuthRequest(ctx, a.ID, completion(userID, "sess-1"), at(time.Minute)))
	code := randomBytes(t, 32)
	wantNoErr(t, "SaveOIDCAuthCode", s.SaveOIDCAuthCode(ctx, a.ID, code, at(2*time.Minute), at(time.Minute)))
	return a, code
}

func grantFixture(t testing.TB, id, clientID, userID string, offline bool) *store.OIDCGrant {
	t.Helper()
	return &store.OIDCGrant{ID: id, ClientID: clientID, UserID: userID, SessionID: "sess-1",
		Scopes: []string{"openid", "profile"}, AuthTime: at(time.Minute), AMR: []string{"pwd", "otp", "mfa"},
		ACR: "urn:twofold:acr:mfa", Offline: offline, CreatedAt: at(time.Minute), ExpiresAt: at(24 * time.Hour)}
}

func mustCreateGrant(t testing.TB, s store.Store, g *store.OIDCGrant) *store.OIDCGrant {
	t.Helper()
	wantNoErr(t, "CreateOIDCGrant", s.CreateOIDCGrant(t.Context(), g))
	return g
}

func refreshFixture(t testing.TB, grantID string, created time.Time) *store.OIDCRefreshToken {
	t.Helper()
	return &store.OIDCRefreshToken{TokenHash: randomBytes(t, 32), GrantID: grantID, Scopes: []string{"openid", "offline_access"},
		CreatedAt: created, ExpiresAt: created.Add(30 * 24 * time.Hour)}
}

func testOIDCClients(t *testing.T, s store.Store) {
	ctx := t.Context()
	b := mustCreateClient(t, s, "billing")
	a := clientFixture(t, "accounts")
	a.SecretHash, a.Public, a.FirstParty, a.PostLogoutRedirectURIs, a.IDTokenAlg = nil, true, true, nil, "RS256"
	a.CreatedAt = a.CreatedAt.Add(123456 * time.Nanosecond) // not kept: a.CreatedAt says what was
	wantNoErr(t, "CreateOIDCClient(public)", s.CreateOIDCClient(ctx, a))

	got, err := s.GetOIDCClient(ctx, b.ID)
	wantNoErr(t, "GetOIDCClient", err)
	wantSame(t, "GetOIDCClient", got, b)
	got, err = s.GetOIDCClientByName(ctx, "accounts")
	wantNoErr(t, "GetOIDCClientByName", err)
	wantSame(t, "GetOIDCClientByName", got, a)
	if got.SecretHash != nil {
		t.Errorf("public client SecretHash = %x, want nil", got.SecretHash)
	}
	list, err := s.ListOIDCClients(ctx)
	wantNoErr(t, "ListOIDCClients", err)
	if len(list) != 2 || list[0].Name != "accounts" || list[1].Name != "billing" {
		t.Errorf("ListOIDCClients = %v, want accounts then billing", list)
	}
	_, err = s.GetOIDCClient(ctx, "no-such-client")
	wantErr(t, "GetOIDCClient(unknown)", err, store.ErrNotFound)
	_, err = s.GetOIDCClientByName(ctx, "Billing")
	wantErr(t, "GetOIDCClientByName(other case)", err, store.ErrNotFound)
}

func testOIDCClientNameUnique(t *testing.T, s store.Store) {
	mustCreateClient(t, s, "billing")
	err := s.CreateOIDCClient(t.Context(), clientFixture(t, "billing"))
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Field != "name" || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second client named billing: got %v, want a ConflictError on name", err)
	}
}

func testOIDCClientUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	other := mustCreateClient(t, s, "wiki")
	g := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, u.ID, true))

	want := *c
	want.Name, want.SecretHash, want.FirstParty = "invoices", randomBytes(t, 32), true
	want.RedirectURIs, want.PostLogoutRedirectURIs, want.IDTokenAlg = []string{"https://invoices.example.com/cb"}, nil, "RS256"
	changed := want
	changed.Public, changed.CreatedAt = true, at(time.Hour) // never changed by an update
	wantNoErr(t, "UpdateOIDCClient", s.UpdateOIDCClient(ctx, &changed))
	got, err := s.GetOIDCClient(ctx, c.ID)
	wantNoErr(t, "GetOIDCClient(updated)", err)
	wantSame(t, "GetOIDCClient(updated)", got, &want)
	if _, err := s.GetOIDCGrant(ctx, g.ID); err != nil {
		t.Errorf("grant of the updated client: %v, want it kept", err)
	}

	clash := *got
	clash.Name = other.Name
	var ce *store.ConflictError
	if err := s.UpdateOIDCClient(ctx, &clash); !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("UpdateOIDCClient to another client's name: got %v, want a ConflictError on name", err)
	}
	unknown := *got
	unknown.ID = "no-such-client"
	wantErr(t, "UpdateOIDCClient(unknown)", s.UpdateOIDCClient(ctx, &unknown), store.ErrNotFound)
}

func testOIDCClientDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	other := mustCreateClient(t, s, "wiki")
	a := mustCreateAuthRequest(t, s, c.ID)
	g := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, u.ID, true))
	keep := mustCreateGrant(t, s, grantFixture(t, randomID(t), other.ID, u.ID, true))
	rt := refreshFixture(t, g.ID, at(time.Minute))
	wantNoErr(t, "CreateOIDCRefreshToken", s.CreateOIDCRefreshToken(ctx, rt))
	wantNoErr(t, "PutOIDCConsent", s.PutOIDCConsent(ctx, &store.OIDCConsent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid"}, GrantedAt: at(0)}))

	wantNoErr(t, "DeleteOIDCClient", s.DeleteOIDCClient(ctx, c.ID))
	wantErr(t, "DeleteOIDCClient(again)", s.DeleteOIDCClient(ctx, c.ID), store.ErrNotFound)
	_, err := s.GetOIDCClient(ctx, c.ID)
	wantErr(t, "GetOIDCClient(deleted)", err, store.ErrNotFound)
	_, err = s.GetOIDCAuthRequest(ctx, a.ID, at(0))
	wantErr(t, "GetOIDCAuthRequest of a deleted client", err, store.ErrNotFound)
	_, err = s.GetOIDCGrant(ctx, g.ID)
	wantErr(t, "GetOIDCGrant of a deleted client", err, store.ErrNotFound)
	_, err = s.GetOIDCRefreshToken(ctx, rt.TokenHash)
	wantErr(t, "GetOIDCRefreshToken of a deleted client", err, store.ErrNotFound)
	_, err = s.GetOIDCConsent(ctx, u.ID, c.ID)
	wantErr(t, "GetOIDCConsent of a deleted client", err, store.ErrNotFound)
	if _, err := s.GetOIDCGrant(ctx, keep.ID); err != nil {
		t.Errorf("grant of another client: %v, want it kept", err)
	}
}

func testOIDCAuthRequestExpires(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "billing")
	a := mustCreateAuthRequest(t, s, c.ID)
	b := authRequestFixture(t, c.ID)
	b.Scopes, b.Prompt, b.ACRValues, b.MaxAge, b.State, b.CodeChallenge, b.CodeChallengeMethod = []string{"openid"}, nil, nil, -1, "", "", ""
	wantNoErr(t, "CreateOIDCAuthRequest(minimal)", s.CreateOIDCAuthRequest(ctx, b))

	got, err := s.GetOIDCAuthRequest(ctx, a.ID, at(29*time.Minute))
	wantNoErr(t, "GetOIDCAuthRequest", err)
	wantSame(t, "GetOIDCAuthRequest", got, a)
	got, err = s.GetOIDCAuthRequest(ctx, b.ID, at(0))
	wantNoErr(t, "GetOIDCAuthRequest(minimal)", err)
	wantSame(t, "GetOIDCAuthRequest(minimal)", got, b)

	_, err = s.GetOIDCAuthRequest(ctx, a.ID, at(30*time.Minute))
	wantErr(t, "GetOIDCAuthRequest at its expiry", err, store.ErrNotFound)
	_, err = s.GetOIDCAuthRequest(ctx, "unknown", at(0))
	wantErr(t, "GetOIDCAuthRequest(unknown)", err, store.ErrNotFound)
}

func testOIDCAuthRequestComplete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	a := mustCreateAuthRequest(t, s, c.ID)
	done := completion(u.ID, "sess-1")
	wantNoErr(t, "CompleteOIDCAuthRequest", s.CompleteOIDCAuthRequest(ctx, a.ID, done, at(time.Minute)))
	got, err := s.GetOIDCAuthRequest(ctx, a.ID, at(time.Minute))
	wantNoErr(t, "GetOIDCAuthRequest", err)
	want := *a
	want.UserID, want.SessionID, want.AuthTime, want.AMR, want.ACR = done.UserID, done.SessionID, done.AuthTime, done.AMR, done.ACR
	wantSame(t, "completed request", got, &want)

	err = s.CompleteOIDCAuthRequest(ctx, a.ID, completion(u.ID, "sess-2"), at(2*time.Minute))
	wantErr(t, "CompleteOIDCAuthRequest(again)", err, store.ErrNotFound)
	late := mustCreateAuthRequest(t, s, c.ID)
	err = s.CompleteOIDCAuthRequest(ctx, late.ID, done, at(30*time.Minute))
	wantErr(t, "CompleteOIDCAuthRequest(expired)", err, store.ErrNotFound)
	err = s.CompleteOIDCAuthRequest(ctx, "unknown", done, at(0))
	wantErr(t, "CompleteOIDCAuthRequest(unknown)", err, store.ErrNotFound)
}

func testOIDCSaveCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	open := mustCreateAuthRequest(t, s, c.ID)
	err := s.SaveOIDCAuthCode(ctx, open.ID, randomBytes(t, 32), at(2*time.Minute), at(time.Minute))
	wantErr(t, "SaveOIDCAuthCode on a request nobody signed in to", err, store.ErrNotFound)

	a, code := codeReadyRequest(t, s, c.ID, u.ID)
	err = s.SaveOIDCAuthCode(ctx, a.ID, randomBytes(t, 32), at(2*time.Minute), at(time.Minute))
	wantErr(t, "SaveOIDCAuthCode(second code)", err, store.ErrNotFound)
	got, err := s.GetOIDCAuthRequest(ctx, a.ID, at(time.Minute))
	wantNoErr(t, "GetOIDCAuthRequest", err)
	if string(got.CodeHash) != string(code) || !got.CodeExpiresAt.Equal(at(2*time.Minute)) || !got.CodeUsedAt.IsZero() {
		t.Errorf("code hash %x expires %s used %s, want %x, %s, unused", got.CodeHash, got.CodeExpiresAt, got.CodeUsedAt, code, at(2*time.Minute))
	}
}

func testOIDCCodeLookup(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	a, code := codeReadyRequest(t, s, c.ID, u.ID)
	for range 2 {
		got, err := s.GetOIDCAuthRequestByCode(ctx, code, at(90*time.Second))
		wantNoErr(t, "GetOIDCAuthRequestByCode", err)
		if got.ID != a.ID || got.UserID != u.ID || string(got.CodeHash) != string(code) || !got.CodeUsedAt.IsZero() {
			t.Errorf("looked up request %s of %s with code %x used at %s, want %s of %s, unused", got.ID, got.UserID, got.CodeHash, got.CodeUsedAt, a.ID, u.ID)
		}
	}
	_, err := s.ClaimOIDCAuthCode(ctx, code, at(90*time.Second))
	wantNoErr(t, "ClaimOIDCAuthCode after lookups", err)
	got, err := s.GetOIDCAuthRequestByCode(ctx, code, at(90*time.Second))
	wantNoErr(t, "GetOIDCAuthRequestByCode(used)", err)
	if !got.CodeUsedAt.Equal(at(90 * time.Second)) {
		t.Errorf("used code's request: used at %s, want %s", got.CodeUsedAt, at(90*time.Second))
	}
	_, err = s.GetOIDCAuthRequestByCode(ctx, randomBytes(t, 32), at(90*time.Second))
	wantErr(t, "GetOIDCAuthRequestByCode(unknown)", err, store.ErrNotFound)
}

// testOIDCCodeSessionLive: the code lookup says whether the session that signed in is
// still authenticated and unexpired, and of the code's user.
func testOIDCCodeSessionLive(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	other := mustCreateUser(t, s, "bob")
	c := mustCreateClient(t, s, "billing")
	live := sessionFixture(t, u.ID, at(0)) // expires at(12h)
	pending := sessionFixture(t, u.ID, at(0))
	pending.State = store.StateMFARequired
	bobs := sessionFixture(t, other.ID, at(0))
	for _, x := range []*store.SessionRecord{live, pending, bobs} {
		wantNoErr(t, "CreateSession", s.CreateSession(ctx, x))
	}
	for _, tc := range []struct {
		name, session string
		now           time.Duration
		want          bool
	}{
		{"authenticated", live.ID, time.Minute, true},
		{"expired", live.ID, 12 * time.Hour, false},
		{"password step only", pending.ID, time.Minute, false},
		{"another user's", bobs.ID, time.Minute, false},
		{"unknown", "sess-1", time.Minute, false},
	} {
		a := mustCreateAuthRequest(t, s, c.ID)
		wantNoErr(t, "CompleteOIDCAuthRequest", s.CompleteOIDCAuthRequest(ctx, a.ID, completion(u.ID, tc.session), at(time.Minute)))
		code := randomBytes(t, 32)
		wantNoErr(t, "SaveOIDCAuthCode", s.SaveOIDCAuthCode(ctx, a.ID, code, at(2*time.Minute), at(time.Minute)))
		got, err := s.GetOIDCAuthRequestByCode(ctx, code, at(tc.now))
		wantNoErr(t, "GetOIDCAuthRequestByCode", err)
		if got.SessionLive != tc.want {
			t.Errorf("%s session: SessionLive %v, want %v", tc.name, got.SessionLive, tc.want)
		}
	}
	wantNoErr(t, "DeleteSession", s.DeleteSession(ctx, live.ID))
	a := mustCreateAuthRequest(t, s, c.ID)
	wantNoErr(t, "CompleteOIDCAuthRequest", s.CompleteOIDCAuthRequest(ctx, a.ID, completion(u.ID, live.ID), at(time.Minute)))
	code := randomBytes(t, 32)
	wantNoErr(t, "SaveOIDCAuthCode", s.SaveOIDCAuthCode(ctx, a.ID, code, at(2*time.Minute), at(time.Minute)))
	if got, err := s.GetOIDCAuthRequestByCode(ctx, code, at(time.Minute)); err != nil || got.SessionLive {
		t.Errorf("ended session: %v, %v, want SessionLive false", got, err)
	}
}

func testOIDCClaimCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	a, code := codeReadyRequest(t, s, c.ID, u.ID)
	got, err := s.ClaimOIDCAuthCode(ctx, code, at(90*time.Second))
	wantNoErr(t, "ClaimOIDCAuthCode", err)
	if got.ID != a.ID || got.UserID != u.ID || !got.CodeUsedAt.Equal(at(90*time.Second)) {
		t.Errorf("claimed request %s of user %s used at %s, want %s of %s at %s", got.ID, got.UserID, got.CodeUsedAt, a.ID, u.ID, at(90*time.Second))
	}
	_, err = s.ClaimOIDCAuthCode(ctx, code, at(91*time.Second))
	wantErr(t, "ClaimOIDCAuthCode(second use)", err, store.ErrNotFound)

	_, late := codeReadyRequest(t, s, c.ID, u.ID)
	_, err = s.ClaimOIDCAuthCode(ctx, late, at(2*time.Minute))
	wantErr(t, "ClaimOIDCAuthCode(at its expiry)", err, store.ErrNotFound)
	_, err = s.ClaimOIDCAuthCode(ctx, randomBytes(t, 32), at(time.Minute))
	wantErr(t, "ClaimOIDCAuthCode(unknown)", err, store.ErrNotFound)
}

func testOIDCUsedCodeRevokes(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	a, code := codeReadyRequest(t, s, c.ID, u.ID)
	n, err := s.RevokeOIDCGrantOfUsedCode(ctx, code)
	wantNoErr(t, "RevokeOIDCGrantOfUsedCode(unused)", err)
	if n != 0 {
		t.Errorf("RevokeOIDCGrantOfUsedCode(unused code) = %d, want 0", n)
	}
	_, err = s.ClaimOIDCAuthCode(ctx, code, at(time.Minute))
	wantNoErr(t, "ClaimOIDCAuthCode", err)
	g := mustCreateGrant(t, s, grantFixture(t, a.ID, c.ID, u.ID, true))
	wantNoErr(t, "CreateOIDCRefreshToken", s.CreateOIDCRefreshToken(ctx, refreshFixture(t, g.ID, at(time.Minute))))
	n, err = s.RevokeOIDCGrantOfUsedCode(ctx, code)
	wantNoErr(t, "RevokeOIDCGrantOfUsedCode", err)
	if n != 1 {
		t.Errorf("RevokeOIDCGrantOfUsedCode = %d, want 1", n)
	}
	_, err = s.GetOIDCGrant(ctx, g.ID)
	wantErr(t, "GetOIDCGrant after the code was replayed", err, store.ErrNotFound)
}

func testOIDCConsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	_, err := s.GetOIDCConsent(ctx, u.ID, c.ID)
	wantErr(t, "GetOIDCConsent(none)", err, store.ErrNotFound)
	first := &store.OIDCConsent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid"}, GrantedAt: at(0)}
	wantNoErr(t, "PutOIDCConsent", s.PutOIDCConsent(ctx, first))
	got, err := s.GetOIDCConsent(ctx, u.ID, c.ID)
	wantNoErr(t, "GetOIDCConsent", err)
	wantSame(t, "GetOIDCConsent", got, first)
	second := &store.OIDCConsent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid", "email"}, GrantedAt: at(time.Hour)}
	wantNoErr(t, "PutOIDCConsent(replace)", s.PutOIDCConsent(ctx, second))
	got, err = s.GetOIDCConsent(ctx, u.ID, c.ID)
	wantNoErr(t, "GetOIDCConsent(replaced)", err)
	wantSame(t, "GetOIDCConsent(replaced)", got, second)
}

func testOIDCUserApplications(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	billing := mustCreateClient(t, s, "billing")
	wiki := mustCreateClient(t, s, "wiki") // first-party: a grant, no consent
	mustCreateClient(t, s, "unused")
	wantNoErr(t, "PutOIDCConsent", s.PutOIDCConsent(ctx, &store.OIDCConsent{UserID: u.ID, ClientID: billing.ID, Scopes: []string{"openid", "email"}, GrantedAt: at(0)}))
	g := mustCreateGrant(t, s, grantFixture(t, randomID(t), billing.ID, u.ID, true))
	wantNoErr(t, "CreateOIDCRefreshToken", s.CreateOIDCRefreshToken(ctx, refreshFixture(t, g.ID, at(3*time.Hour))))
	wantNoErr(t, "CreateOIDCAccessToken", s.CreateOIDCAccessToken(ctx, &store.OIDCAccessToken{ID: randomID(t), GrantID: g.ID,
		Scopes: []string{"openid"}, CreatedAt: at(2 * time.Hour), ExpiresAt: at(4 * time.Hour)}))
	mustCreateGrant(t, s, grantFixture(t, randomID(t), wiki.ID, u.ID, false))
	bobs := mustCreateGrant(t, s, grantFixture(t, randomID(t), billing.ID, bob.ID, false))

	got, err := s.ListUserOIDCApplications(ctx, u.ID, at(time.Hour))
	wantNoErr(t, "ListUserOIDCApplications", err)
	wantSame(t, "ListUserOIDCApplications", got, []store.OIDCApplication{
		{ClientID: billing.ID, Name: "billing", Scopes: []string{"openid", "email"}, ConsentedAt: at(0), LastUsedAt: at(3 * time.Hour)},
		{ClientID: wiki.ID, Name: "wiki", Scopes: []string{"openid", "profile"}, LastUsedAt: at(time.Minute)},
	})
	got, err = s.ListUserOIDCApplications(ctx, u.ID, at(25*time.Hour))
	wantNoErr(t, "ListUserOIDCApplications(grants expired)", err)
	if len(got) != 1 || got[0].ClientID != billing.ID || !got[0].LastUsedAt.IsZero() {
		t.Errorf("after the grants expired: %+v, want billing's consent only, never used", got)
	}

	n, err := s.DeleteUserOIDCClientAccess(ctx, u.ID, billing.ID)
	wantNoErr(t, "DeleteUserOIDCClientAccess", err)
	if n != 1 {
		t.Errorf("DeleteUserOIDCClientAccess = %d grants, want 1", n)
	}
	_, err = s.GetOIDCConsent(ctx, u.ID, billing.ID)
	wantErr(t, "GetOIDCConsent after removal", err, store.ErrNotFound)
	_, err = s.GetOIDCGrant(ctx, g.ID)
	wantErr(t, "GetOIDCGrant after removal", err, store.ErrNotFound)
	_, err = s.GetOIDCGrant(ctx, bobs.ID)
	wantNoErr(t, "GetOIDCGrant of another user", err)
	_, err = s.DeleteUserOIDCClientAccess(ctx, u.ID, billing.ID)
	wantErr(t, "DeleteUserOIDCClientAccess again", err, store.ErrNotFound)
	got, err = s.ListUserOIDCApplications(ctx, u.ID, at(time.Hour))
	wantNoErr(t, "ListUserOIDCApplications after removal", err)
	if len(got) != 1 || got[0].ClientID != wiki.ID {
		t.Errorf("after removal: %+v, want wiki only", got)
	}
}

func testOIDCAccessToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	g := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, u.ID, false))
	got, err := s.GetOIDCGrant(ctx, g.ID)
	wantNoErr(t, "GetOIDCGrant", err)
	wantSame(t, "GetOIDCGrant", got, g)

	tok := &store.OIDCAccessToken{ID: randomID(t), GrantID: g.ID, Scopes: []string{"openid"}, CreatedAt: at(time.Minute), ExpiresAt: at(11 * time.Minute)}
	wantNoErr(t, "CreateOIDCAccessToken", s.CreateOIDCAccessToken(ctx, tok))
	gotTok, err := s.GetOIDCAccessToken(ctx, tok.ID, at(10*time.Minute))
	wantNoErr(t, "GetOIDCAccessToken", err)
	want := *tok
	want.Grant = g
	wantSame(t, "GetOIDCAccessToken", gotTok, &want)

	_, err = s.GetOIDCAccessToken(ctx, tok.ID, at(11*time.Minute))
	wantErr(t, "GetOIDCAccessToken at its expiry", err, store.ErrNotFound)
	wantNoErr(t, "DeleteOIDCAccessToken", s.DeleteOIDCAccessToken(ctx, tok.ID))
	_, err = s.GetOIDCAccessToken(ctx, tok.ID, at(time.Minute))
	wantErr(t, "GetOIDCAccessToken(revoked)", err, store.ErrNotFound)
	wantNoErr(t, "DeleteOIDCAccessToken(unknown)", s.DeleteOIDCAccessToken(ctx, tok.ID))

	other := &store.OIDCAccessToken{ID: randomID(t), GrantID: g.ID, Scopes: []string{"openid"}, CreatedAt: at(time.Minute), ExpiresAt: at(11 * time.Minute)}
	wantNoErr(t, "CreateOIDCAccessToken(second)", s.CreateOIDCAccessToken(ctx, other))
	wantNoErr(t, "DeleteOIDCGrant", s.DeleteOIDCGrant(ctx, g.ID))
	_, err = s.GetOIDCAccessToken(ctx, other.ID, at(time.Minute))
	wantErr(t, "GetOIDCAccessToken of a revoked grant", err, store.ErrNotFound)
	wantErr(t, "DeleteOIDCGrant(again)", s.DeleteOIDCGrant(ctx, g.ID), store.ErrNotFound)
}

func testOIDCRefreshRotate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	g := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, u.ID, true))
	first := refreshFixture(t, g.ID, at(time.Minute))
	wantNoErr(t, "CreateOIDCRefreshToken", s.CreateOIDCRefreshToken(ctx, first))
	got, err := s.GetOIDCRefreshToken(ctx, first.TokenHash)
	wantNoErr(t, "GetOIDCRefreshToken", err)
	wantSame(t, "GetOIDCRefreshToken", got, first)

	second := refreshFixture(t, g.ID, at(time.Hour))
	wantNoErr(t, "RotateOIDCRefreshToken", s.RotateOIDCRefreshToken(ctx, first.TokenHash, second, at(time.Hour)))
	got, err = s.GetOIDCRefreshToken(ctx, first.TokenHash)
	wantNoErr(t, "GetOIDCRefreshToken(rotated)", err)
	if !got.UsedAt.Equal(at(time.Hour)) {
		t.Errorf("rotated token UsedAt = %s, want %s", got.UsedAt, at(time.Hour))
	}
	got, err = s.GetOIDCRefreshToken(ctx, second.TokenHash)
	wantNoErr(t, "GetOIDCRefreshToken(new)", err)
	wantSame(t, "new refresh token", got, second)
	gotGrant, err := s.GetOIDCGrant(ctx, g.ID)
	wantNoErr(t, "GetOIDCGrant", err)
	if !gotGrant.ExpiresAt.Equal(second.ExpiresAt) {
		t.Errorf("grant ExpiresAt = %s, want the new token's %s", gotGrant.ExpiresAt, second.ExpiresAt)
	}

	err = s.RotateOIDCRefreshToken(ctx, first.TokenHash, refreshFixture(t, g.ID, at(2*time.Hour)), at(2*time.Hour))
	wantErr(t, "RotateOIDCRefreshToken(used token)", err, store.ErrNotFound)
	err = s.RotateOIDCRefreshToken(ctx, second.TokenHash, refreshFixture(t, g.ID, second.ExpiresAt), second.ExpiresAt)
	wantErr(t, "RotateOIDCRefreshToken(expired token)", err, store.ErrNotFound)
	err = s.RotateOIDCRefreshToken(ctx, randomBytes(t, 32), refreshFixture(t, g.ID, at(2*time.Hour)), at(2*time.Hour))
	wantErr(t, "RotateOIDCRefreshToken(unknown)", err, store.ErrNotFound)

	wantNoErr(t, "DeleteOIDCGrant", s.DeleteOIDCGrant(ctx, g.ID))
	_, err = s.GetOIDCRefreshToken(ctx, second.TokenHash)
	wantErr(t, "GetOIDCRefreshToken of a revoked family", err, store.ErrNotFound)
}

func testOIDCRevokeUserSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	c := mustCreateClient(t, s, "billing")
	online := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, alice.ID, false))
	offline := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, alice.ID, true))
	otherSession := grantFixture(t, randomID(t), c.ID, alice.ID, false)
	otherSession.SessionID = "sess-2"
	mustCreateGrant(t, s, otherSession)
	bobs := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, bob.ID, true))

	n, err := s.DeleteSessionOIDCGrants(ctx, "sess-1")
	wantNoErr(t, "DeleteSessionOIDCGrants", err)
	if n != 1 {
		t.Errorf("DeleteSessionOIDCGrants(sess-1) = %d, want 1 (the grant without refresh token)", n)
	}
	_, err = s.GetOIDCGrant(ctx, online.ID)
	wantErr(t, "GetOIDCGrant(session grant)", err, store.ErrNotFound)
	if _, err := s.GetOIDCGrant(ctx, offline.ID); err != nil {
		t.Errorf("offline grant after its session ended: %v, want it kept", err)
	}

	n, err = s.DeleteUserOIDCGrants(ctx, alice.ID)
	wantNoErr(t, "DeleteUserOIDCGrants", err)
	if n != 2 {
		t.Errorf("DeleteUserOIDCGrants(alice) = %d, want 2", n)
	}
	_, err = s.GetOIDCGrant(ctx, offline.ID)
	wantErr(t, "GetOIDCGrant(alice's offline grant)", err, store.ErrNotFound)
	if _, err := s.GetOIDCGrant(ctx, bobs.ID); err != nil {
		t.Errorf("bob's grant: %v, want it kept", err)
	}
}

func testOIDCRevokeOther(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	c := mustCreateClient(t, s, "billing")
	kept := []*store.OIDCGrant{ // obtained through sess-1
		mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, alice.ID, false)),
		mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, alice.ID, true)),
		mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, bob.ID, true)), // sess-1 of no concern to bob's
	}
	var gone []*store.OIDCGrant
	for _, offline := range []bool{false, true} {
		g := grantFixture(t, randomID(t), c.ID, alice.ID, offline)
		g.SessionID = "sess-2"
		gone = append(gone, mustCreateGrant(t, s, g))
	}
	bobs := grantFixture(t, randomID(t), c.ID, bob.ID, true)
	bobs.SessionID = "sess-2"
	kept = append(kept, mustCreateGrant(t, s, bobs))

	n, err := s.DeleteOtherOIDCGrants(ctx, alice.ID, "sess-1")
	wantNoErr(t, "DeleteOtherOIDCGrants", err)
	if n != len(gone) {
		t.Errorf("DeleteOtherOIDCGrants(alice, sess-1) = %d, want %d (the grants of sess-2, offline included)", n, len(gone))
	}
	for _, g := range gone {
		_, err := s.GetOIDCGrant(ctx, g.ID)
		wantErr(t, "GetOIDCGrant(grant of another session)", err, store.ErrNotFound)
	}
	for _, g := range kept {
		if _, err := s.GetOIDCGrant(ctx, g.ID); err != nil {
			t.Errorf("grant of %s through %s (offline %v): %v, want it kept", g.UserID, g.SessionID, g.Offline, err)
		}
	}
}

func signingKeyFixture(t testing.TB, alg string, created time.Time) *store.OIDCSigningKey {
	t.Helper()
	return &store.OIDCSigningKey{ID: randomID(t), Alg: alg, PrivateEnc: randomBytes(t, 64), CreatedAt: created}
}

func testOIDCSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	es1 := signingKeyFixture(t, "ES256", at(0))
	wantNoErr(t, "CreateOIDCSigningKey(ES256)", s.CreateOIDCSigningKey(ctx, es1))
	wantErr(t, "CreateOIDCSigningKey(second current ES256)", s.CreateOIDCSigningKey(ctx, signingKeyFixture(t, "ES256", at(time.Minute))), store.ErrConflict)
	rs := signingKeyFixture(t, "RS256", at(time.Minute))
	wantNoErr(t, "CreateOIDCSigningKey(RS256)", s.CreateOIDCSigningKey(ctx, rs))

	n, err := s.RetireOIDCSigningKeys(ctx, "ES256", at(time.Hour), at(25*time.Hour))
	wantNoErr(t, "RetireOIDCSigningKeys", err)
	if n != 1 {
		t.Errorf("RetireOIDCSigningKeys = %d, want 1", n)
	}
	es2 := signingKeyFixture(t, "ES256", at(time.Hour))
	wantNoErr(t, "CreateOIDCSigningKey(ES256 after retiring)", s.CreateOIDCSigningKey(ctx, es2))

	keys, err := s.ListOIDCSigningKeys(ctx, at(2*time.Hour))
	wantNoErr(t, "ListOIDCSigningKeys", err)
	retired := *es1
	retired.RetiredAt, retired.ExpiresAt = at(time.Hour), at(25*time.Hour)
	wantSame(t, "ListOIDCSigningKeys", keys, []store.OIDCSigningKey{*es2, *rs, retired})

	keys, err = s.ListOIDCSigningKeys(ctx, at(25*time.Hour))
	wantNoErr(t, "ListOIDCSigningKeys(after expiry)", err)
	wantSame(t, "ListOIDCSigningKeys(after expiry)", keys, []store.OIDCSigningKey{*es2, *rs})
}

func testOIDCHousekeeping(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	a := mustCreateAuthRequest(t, s, c.ID)
	g := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, u.ID, true))
	live := grantFixture(t, randomID(t), c.ID, u.ID, true)
	live.ExpiresAt = at(48 * time.Hour)
	mustCreateGrant(t, s, live)
	rt := refreshFixture(t, live.ID, at(time.Minute))
	wantNoErr(t, "CreateOIDCRefreshToken", s.CreateOIDCRefreshToken(ctx, rt))
	old := &store.OIDCAccessToken{ID: randomID(t), GrantID: live.ID, Scopes: []string{"openid"}, CreatedAt: at(0), ExpiresAt: at(10 * time.Minute)}
	wantNoErr(t, "CreateOIDCAccessToken", s.CreateOIDCAccessToken(ctx, old))
	key := signingKeyFixture(t, "ES256", at(0))
	wantNoErr(t, "CreateOIDCSigningKey", s.CreateOIDCSigningKey(ctx, key))
	_, err := s.RetireOIDCSigningKeys(ctx, "ES256", at(time.Minute), at(time.Hour))
	wantNoErr(t, "RetireOIDCSigningKeys", err)
	current := signingKeyFixture(t, "ES256", at(time.Minute))
	wantNoErr(t, "CreateOIDCSigningKey(current)", s.CreateOIDCSigningKey(ctx, current))

	n, err := s.DeleteExpiredOIDC(ctx, at(24*time.Hour))
	wantNoErr(t, "DeleteExpiredOIDC", err)
	if n != 4 {
		t.Errorf("DeleteExpiredOIDC = %d, want 4 (request, grant, access token, retired key)", n)
	}
	_, err = s.GetOIDCAuthRequest(ctx, a.ID, at(0))
	wantErr(t, "expired auth request", err, store.ErrNotFound)
	_, err = s.GetOIDCGrant(ctx, g.ID)
	wantErr(t, "expired grant", err, store.ErrNotFound)
	if _, err := s.GetOIDCGrant(ctx, live.ID); err != nil {
		t.Errorf("unexpired grant: %v, want it kept", err)
	}
	if _, err := s.GetOIDCRefreshToken(ctx, rt.TokenHash); err != nil {
		t.Errorf("unexpired refresh token: %v, want it kept", err)
	}
	keys, err := s.ListOIDCSigningKeys(ctx, at(0))
	wantNoErr(t, "ListOIDCSigningKeys", err)
	wantSame(t, "signing keys after housekeeping", keys, []store.OIDCSigningKey{*current})
	again, err := s.DeleteExpiredOIDC(ctx, at(24*time.Hour))
	wantNoErr(t, "DeleteExpiredOIDC(again)", err)
	if again != 0 {
		t.Errorf("second DeleteExpiredOIDC = %d, want 0 (idempotent)", again)
	}
}

func testOIDCRaceClaimCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	a, code := codeReadyRequest(t, s, c.ID, u.ID)
	got := make([]*store.OIDCAuthRequest, parallel)
	errs := race(parallel, func(i int) error {
		var err error
		got[i], err = s.ClaimOIDCAuthCode(ctx, code, at(time.Minute+time.Duration(i)*time.Millisecond))
		return err
	})
	w := oneWinner(t, "ClaimOIDCAuthCode", errs)
	if got[w].ID != a.ID {
		t.Errorf("winner claimed request %s, want %s", got[w].ID, a.ID)
	}
}

// testOIDCRaceClaimCodeWithGrant claims the code as the token endpoint does: in one
// transaction with the grant it starts.
func testOIDCRaceClaimCodeWithGrant(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	a, code := codeReadyRequest(t, s, c.ID, u.ID)
	g := grantFixture(t, a.ID, c.ID, u.ID, false)
	errs := race(parallel, func(i int) error {
		return s.WithTx(ctx, func(tx store.Store) error {
			if _, err := tx.ClaimOIDCAuthCode(ctx, code, at(time.Minute+time.Duration(i)*time.Millisecond)); err != nil {
				return err
			}
			return tx.CreateOIDCGrant(ctx, g)
		})
	})
	oneWinner(t, "claim the code and create its grant", errs)
	if _, err := s.GetOIDCGrant(ctx, a.ID); err != nil {
		t.Errorf("the winner's grant: %v", err)
	}
}

func testOIDCRaceComplete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	a := mustCreateAuthRequest(t, s, c.ID)
	errs := race(parallel, func(i int) error {
		return s.CompleteOIDCAuthRequest(ctx, a.ID, completion(u.ID, "sess-"+string(rune('A'+i%26))), at(time.Minute))
	})
	oneWinner(t, "CompleteOIDCAuthRequest", errs)
}

func testOIDCRaceRotate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustCreateClient(t, s, "billing")
	g := mustCreateGrant(t, s, grantFixture(t, randomID(t), c.ID, u.ID, true))
	first := refreshFixture(t, g.ID, at(time.Minute))
	wantNoErr(t, "CreateOIDCRefreshToken", s.CreateOIDCRefreshToken(ctx, first))
	next := make([]*store.OIDCRefreshToken, parallel)
	for i := range next {
		next[i] = refreshFixture(t, g.ID, at(time.Hour))
	}
	errs := race(parallel, func(i int) error { return s.RotateOIDCRefreshToken(ctx, first.TokenHash, next[i], at(time.Hour)) })
	w := oneWinner(t, "RotateOIDCRefreshToken", errs)
	for i, n := range next {
		_, err := s.GetOIDCRefreshToken(ctx, n.TokenHash)
		if i == w && err != nil {
			t.Errorf("winner's new token: %v", err)
		}
		if i != w && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("loser %d's new token: got %v, want ErrNotFound (rolled back)", i, err)
		}
	}
}

func testOIDCRaceSigningKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	keys := make([]*store.OIDCSigningKey, parallel)
	for i := range keys {
		keys[i] = signingKeyFixture(t, "ES256", at(time.Duration(i)*time.Millisecond))
	}
	errs := race(parallel, func(i int) error { return s.CreateOIDCSigningKey(ctx, keys[i]) })
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("goroutine %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d goroutines stored a current ES256 key, want exactly 1", wins, parallel)
	}
	list, err := s.ListOIDCSigningKeys(ctx, at(0))
	wantNoErr(t, "ListOIDCSigningKeys", err)
	if len(list) != 1 {
		t.Errorf("%d keys stored, want 1", len(list))
	}
}
