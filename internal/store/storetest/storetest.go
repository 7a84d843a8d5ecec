package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// RunTests runs the whole conformance suite against the stores that newStore makes.
//
// newStore is called once per subtest and must return an empty, migrated store that no
// other subtest shares; it closes the store itself (with t.Cleanup) when t ends. Subtests
// are named after the behaviour they check, such as
// Sessions/StepUpOnlyWithCurrentToken, so every backend reports the same names.
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"Users", userTests},
		{"TOTP", totpTests},
		{"PendingTOTP", pendingTests},
		{"RecoveryCodes", recoveryTests},
		{"Sessions", sessionTests},
		{"Housekeeping", housekeepingTests},
		{"Audit", auditTests},
		{"SetupTokens", setupTests},
		{"Transactions", txTests},
		{"Concurrency", concurrencyTests},
		{"Support", supportTests},
		{"Throttle", throttleTests},
		{"Counters", counterTests},
		{"OIDC", oidcTests},
		{"Mail", mailTests},
		{"LinkTokens", linkTests},
		{"Invitations", invitationTests},
		{"WebAuthn", webauthnTests},
		{"APITokens", apiTokenTests},
		{"Admin", adminTests},
		{"KeyCheck", keyCheckTests},
		{"InvalidText", textTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
			}
		})
	}
}

type subtest struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// base is the suite's "now". Stores keep times to the millisecond, so every time the
// suite writes is a whole number of milliseconds.
var base = time.Date(2030, time.March, 4, 5, 6, 7, 890_000_000, time.UTC)

// at returns base moved by d, truncated to milliseconds.
func at(d time.Duration) time.Time { return base.Add(d).Truncate(time.Millisecond) }

var errBoom = errors.New("storetest: fn failed on purpose")

// randomID returns a fresh random identifier.
func randomID(t testing.TB) string {
	t.Helper()
	return hex.EncodeToString(randomBytes(t, 16))
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("crypto/rand: %v", err)
	}
	return b
}

// userFixture returns an unsaved user called name with e-mail name@example.com.
func userFixture(t testing.TB, name string) *store.User {
	t.Helper()
	return &store.User{
		Account:      store.Account{ID: randomID(t), Username: name, Email: name + "@Example.com", Role: store.RoleUser},
		UsernameNorm: strings.ToLower(name),
		EmailNorm:    strings.ToLower(name) + "@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$" + name,
		CreatedAt:    at(0),
		UpdatedAt:    at(0),
	}
}

// mustCreateUser stores a fresh user called name.
func mustCreateUser(t testing.TB, s store.Store, name string) *store.User {
	t.Helper()
	u := userFixture(t, name)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

// sessionFixture returns an unsaved authenticated session of userID created at created.
func sessionFixture(t testing.TB, userID string, created time.Time) *store.SessionRecord {
	t.Helper()
	return &store.SessionRecord{
		Session: store.Session{
			ID:         randomID(t),
			TokenHash:  randomBytes(t, 32),
			UserID:     userID,
			State:      store.StateAuthenticated,
			AMR:        []string{"pwd", "otp", "mfa"},
			AuthTime:   created,
			LastSeenAt: created,
			ExpiresAt:  created.Add(12 * time.Hour),
		},
		CreatedAt: created,
		IP:        "192.0.2.7",
		UserAgent: "storetest/1.0",
	}
}

func mustCreateSession(t testing.TB, s store.Store, userID string, created time.Time) *store.SessionRecord {
	t.Helper()
	x := sessionFixture(t, userID, created)
	if err := s.CreateSession(t.Context(), x); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return x
}

// wantErr fails unless err matches target (errors.Is).
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// wantNoErr stops the test when err is not nil.
func wantNoErr(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantSame reports every field in which got differs from want. Times are compared with
// Equal, and a nil slice equals an empty one.
func wantSame(t testing.TB, what string, got, want any) {
	t.Helper()
	var diffs []string
	compare(reflect.ValueOf(got), reflect.ValueOf(want), "", &diffs)
	if len(diffs) > 0 {
		t.Errorf("%s differs from what was stored:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

var timeType = reflect.TypeFor[time.Time]()

func compare(got, want reflect.Value, path string, diffs *[]string) {
	for got.Kind() == reflect.Pointer || got.Kind() == reflect.Interface {
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				*diffs = append(*diffs, fmt.Sprintf("%s: got %v, want %v", path, got, want))
			}
			return
		}
		got, want = got.Elem(), want.Elem()
	}
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %s, want %s", path, g, w))
		}
	case got.Kind() == reflect.Struct:
		for i := range got.NumField() {
			name := got.Type().Field(i).Name
			compare(got.Field(i), want.Field(i), strings.TrimPrefix(path+"."+name, "."), diffs)
		}
	case got.Kind() == reflect.Slice && got.Type().Elem().Kind() == reflect.Uint8:
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %x, want %x", path, got.Bytes(), want.Bytes()))
		}
	case got.Kind() == reflect.Slice:
		if got.Len() != want.Len() {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %v, want %v", path, got, want))
			return
		}
		for i := range got.Len() {
			compare(got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i), diffs)
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %v, want %v", path, got, want))
		}
	}
}
