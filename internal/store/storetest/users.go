package storetest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var userTests = []subtest{
	{"CreateAndGet", testUserCreateAndGet},
	{"LookupByLogin", testUserLookupByLogin},
	{"UnknownUserNotFound", testUserNotFound},
	{"ConflictOnUsername", testUserConflictUsername},
	{"ConflictOnEmail", testUserConflictEmail},
	{"ListOrderedByUsername", testUserList},
	{"SetRole", testUserSetRole},
	{"SetDisabled", testUserSetDisabled},
	{"SetMFAOverride", testUserSetMFAOverride},
	{"SetPasswordHash", testUserSetPasswordHash},
	{"SetDisplayName", testUserSetDisplayName},
	{"SetLanguage", testUserSetLanguage},
	{"SetLastLogin", testUserSetLastLogin},
	{"AddMFAResetCountsEachOne", testUserAddMFAReset},
	{"CreateVerified", testUserCreateVerified},
	{"SetEmailVerifiedOnlyForTheSameAddress", testUserSetEmailVerified},
	{"SetEmail", testUserSetEmail},
	{"SetEmailToATakenAddressConflicts", testUserSetEmailConflict},
	{"SettersOnUnknownUserNotFound", testUserSettersNotFound},
	{"CountWithRoleIgnoresDisabled", testUserCountWithRole},
	{"DeleteTakesWhatHangsOnIt", testUserDelete},
}

func testUserCreateAndGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := userFixture(t, "Alice")
	u.Role = store.RoleSupport
	u.MFAOverride = store.MFAOverrideYes
	u.UpdatedAt = at(time.Minute)
	u.MFAResets = 2
	wantNoErr(t, "CreateUser", s.CreateUser(ctx, u))

	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "GetUser", got, u)
	if !got.LastLoginAt.IsZero() {
		t.Errorf("LastLoginAt = %v, want the zero time for a user who never signed in", got.LastLoginAt)
	}

	got, err = s.GetUserByUsername(ctx, "alice")
	wantNoErr(t, "GetUserByUsername", err)
	wantSame(t, "GetUserByUsername", got, u)
}

func testUserLookupByLogin(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")

	for _, tc := range []struct {
		name, login string
		want        *store.User
	}{
		{"username", "alice", alice},
		{"e-mail", "bob@example.com", bob},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetUserByLogin(ctx, tc.login)
			wantNoErr(t, "GetUserByLogin("+tc.login+")", err)
			wantSame(t, "GetUserByLogin("+tc.login+")", got, tc.want)
		})
	}
	t.Run("username lookup ignores e-mail", func(t *testing.T) {
		_, err := s.GetUserByUsername(ctx, "alice@example.com")
		wantErr(t, "GetUserByUsername(e-mail)", err, store.ErrNotFound)
	})
	t.Run("keys are looked up as given", func(t *testing.T) {
		// Normalising is the caller's job: the store matches the stored key exactly.
		_, err := s.GetUserByLogin(ctx, "Alice")
		wantErr(t, "GetUserByLogin(Alice)", err, store.ErrNotFound)
	})
}

func testUserNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, "alice")
	_, err := s.GetUser(ctx, randomID(t))
	wantErr(t, "GetUser(unknown)", err, store.ErrNotFound)
	_, err = s.GetUserByUsername(ctx, "nobody")
	wantErr(t, "GetUserByUsername(unknown)", err, store.ErrNotFound)
	_, err = s.GetUserByLogin(ctx, "nobody")
	wantErr(t, "GetUserByLogin(unknown)", err, store.ErrNotFound)
	_, err = s.GetUserByLogin(ctx, "nobody@example.com")
	wantErr(t, "GetUserByLogin(unknown e-mail)", err, store.ErrNotFound)
}

func wantConflict(t *testing.T, err error, field string) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("got error %v, want a *store.ConflictError for %s", err, field)
	}
	if ce.Field != field {
		t.Errorf("ConflictError.Field = %q, want %q", ce.Field, field)
	}
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("errors.Is(%v, ErrConflict) = false", err)
	}
}

func testUserConflictUsername(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	dup := userFixture(t, "ALICE") // same normalised username, other e-mail
	dup.UsernameNorm = "alice"
	dup.Email, dup.EmailNorm = "other@example.com", "other@example.com"
	wantConflict(t, s.CreateUser(ctx, dup), "username")

	_, err := s.GetUser(ctx, dup.ID)
	wantErr(t, "GetUser(refused user)", err, store.ErrNotFound)
	got, err := s.GetUserByUsername(ctx, "alice")
	wantNoErr(t, "GetUserByUsername", err)
	wantSame(t, "the first user", got, alice)
}

func testUserConflictEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	dup := userFixture(t, "alicia")
	dup.Email, dup.EmailNorm = "ALICE@example.com", alice.EmailNorm
	wantConflict(t, s.CreateUser(ctx, dup), "email")

	_, err := s.GetUser(ctx, dup.ID)
	wantErr(t, "GetUser(refused user)", err, store.ErrNotFound)
	users, err := s.ListUsers(ctx)
	wantNoErr(t, "ListUsers", err)
	if len(users) != 1 {
		t.Errorf("ListUsers returned %d users, want 1", len(users))
	}
}

func testUserList(t *testing.T, s store.Store) {
	ctx := t.Context()
	users, err := s.ListUsers(ctx)
	wantNoErr(t, "ListUsers(empty)", err)
	if len(users) != 0 {
		t.Fatalf("ListUsers on an empty store returned %d users", len(users))
	}
	carol := mustCreateUser(t, s, "carol")
	alice := mustCreateUser(t, s, "Alice")
	bob := mustCreateUser(t, s, "bob")
	users, err = s.ListUsers(ctx)
	wantNoErr(t, "ListUsers", err)
	wantSame(t, "ListUsers", users, []store.User{*alice, *bob, *carol})
}

func testUserSetRole(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	other := mustCreateUser(t, s, "bob")
	wantNoErr(t, "SetUserRole", s.SetUserRole(ctx, u.ID, store.RoleAdmin, at(time.Hour)))
	u.Role, u.UpdatedAt = store.RoleAdmin, at(time.Hour)
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "user after SetUserRole", got, u)
	got, err = s.GetUser(ctx, other.ID)
	wantNoErr(t, "GetUser(other)", err)
	wantSame(t, "other user", got, other)
}

func testUserSetDisabled(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	for i, disabled := range []bool{true, false, true} {
		now := at(time.Duration(i+1) * time.Minute)
		wantNoErr(t, "SetUserDisabled", s.SetUserDisabled(ctx, u.ID, disabled, now))
		u.Disabled, u.UpdatedAt = disabled, now
		got, err := s.GetUser(ctx, u.ID)
		wantNoErr(t, "GetUser", err)
		wantSame(t, "user after SetUserDisabled", got, u)
	}
}

func testUserSetMFAOverride(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	for i, v := range []string{store.MFAOverrideYes, store.MFAOverrideNo, store.MFAOverrideDefault} {
		now := at(time.Duration(i+1) * time.Minute)
		wantNoErr(t, "SetUserMFAOverride("+v+")", s.SetUserMFAOverride(ctx, u.ID, v, now))
		u.MFAOverride, u.UpdatedAt = v, now
		got, err := s.GetUser(ctx, u.ID)
		wantNoErr(t, "GetUser", err)
		wantSame(t, "user after SetUserMFAOverride("+v+")", got, u)
	}
}

func testUserSetPasswordHash(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	const hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA"
	wantNoErr(t, "SetUserPasswordHash", s.SetUserPasswordHash(ctx, u.ID, hash, at(time.Hour)))
	u.PasswordHash, u.UpdatedAt = hash, at(time.Hour)
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "user after SetUserPasswordHash", got, u)
}

func testUserSetLastLogin(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	for _, when := range []time.Time{at(time.Hour), at(2 * time.Hour)} {
		wantNoErr(t, "SetUserLastLogin", s.SetUserLastLogin(ctx, u.ID, when))
		got, err := s.GetUser(ctx, u.ID)
		wantNoErr(t, "GetUser", err)
		if !got.LastLoginAt.Equal(when) {
			t.Errorf("LastLoginAt = %v, want %v", got.LastLoginAt, when)
		}
	}
}

func testUserAddMFAReset(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	if u.MFAResets != 0 {
		t.Fatalf("a new user's MFAResets = %d, want 0", u.MFAResets)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() { errs <- s.AddUserMFAReset(ctx, u.ID) }()
	}
	for range n {
		wantNoErr(t, "AddUserMFAReset", <-errs)
	}
	u.MFAResets = n
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "user after AddUserMFAReset", got, u)
	got, err = s.GetUser(ctx, bob.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "another user after AddUserMFAReset", got, bob)
}

func testUserCreateVerified(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := userFixture(t, "alice")
	u.EmailVerified = true
	wantNoErr(t, "CreateUser", s.CreateUser(ctx, u))
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "verified user", got, u)
	if other := mustCreateUser(t, s, "bob"); other.EmailVerified {
		t.Fatal("fixture is verified")
	} else if got, err := s.GetUser(ctx, other.ID); err != nil || got.EmailVerified {
		t.Errorf("GetUser(bob) = %+v, %v: a new address starts unverified", got, err)
	}
}

func testUserSetEmailVerified(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	other := mustCreateUser(t, s, "bob")
	wantErr(t, "SetUserEmailVerified(another address)",
		s.SetUserEmailVerified(ctx, u.ID, "old@example.com", at(time.Minute)), store.ErrNotFound)
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "user after a refused SetUserEmailVerified", got, u)

	wantNoErr(t, "SetUserEmailVerified", s.SetUserEmailVerified(ctx, u.ID, u.EmailNorm, at(time.Hour)))
	u.EmailVerified, u.UpdatedAt = true, at(time.Hour)
	got, err = s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "user after SetUserEmailVerified", got, u)
	wantNoErr(t, "SetUserEmailVerified a second time", s.SetUserEmailVerified(ctx, u.ID, u.EmailNorm, at(time.Hour)))
	got, err = s.GetUser(ctx, other.ID)
	wantNoErr(t, "GetUser(other)", err)
	wantSame(t, "other user", got, other)
}

func testUserSetEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	for i, verified := range []bool{true, false} {
		now := at(time.Duration(i+1) * time.Minute)
		email := "Alice." + strconv.Itoa(i) + "@Example.org"
		norm := strings.ToLower(email)
		wantNoErr(t, "SetUserEmail", s.SetUserEmail(ctx, u.ID, email, norm, verified, now))
		u.Email, u.EmailNorm, u.EmailVerified, u.UpdatedAt = email, norm, verified, now
		got, err := s.GetUser(ctx, u.ID)
		wantNoErr(t, "GetUser", err)
		wantSame(t, "user after SetUserEmail", got, u)
		got, err = s.GetUserByLogin(ctx, norm)
		wantNoErr(t, "GetUserByLogin(new address)", err)
		wantSame(t, "user by the new address", got, u)
	}
	_, err := s.GetUserByLogin(ctx, "alice@example.com")
	wantErr(t, "GetUserByLogin(old address)", err, store.ErrNotFound)
}

func testUserSetEmailConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	wantConflict(t, s.SetUserEmail(ctx, alice.ID, "BOB@example.com", bob.EmailNorm, true, at(time.Hour)), "email")
	for _, u := range []*store.User{alice, bob} {
		got, err := s.GetUser(ctx, u.ID)
		wantNoErr(t, "GetUser", err)
		wantSame(t, "user after the refused SetUserEmail", got, u)
	}
}

func testUserSetDisplayName(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	if u.DisplayName != "" {
		t.Fatalf("a new user's display name is %q, want none", u.DisplayName)
	}
	const name = "Alice Lovelace-Müller 李"
	wantNoErr(t, "SetUserDisplayName", s.SetUserDisplayName(ctx, u.ID, name, at(time.Hour)))
	u.DisplayName, u.UpdatedAt = name, at(time.Hour)
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "user after SetUserDisplayName", got, u)
	wantNoErr(t, "SetUserDisplayName(clear)", s.SetUserDisplayName(ctx, u.ID, "", at(2*time.Hour)))
	got, err = s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	if got.DisplayName != "" {
		t.Errorf("display name after clearing: %q", got.DisplayName)
	}
}

func testUserSetLanguage(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	if u.Language != "" {
		t.Fatalf("a new user's language is %q, want none", u.Language)
	}
	wantNoErr(t, "SetUserLanguage", s.SetUserLanguage(ctx, u.ID, "de", at(time.Hour)))
	u.Language, u.UpdatedAt = "de", at(time.Hour)
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	wantSame(t, "user after SetUserLanguage", got, u)
}

func testUserSettersNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, "alice")
	id := randomID(t)
	wantErr(t, "SetUserRole", s.SetUserRole(ctx, id, store.RoleAdmin, base), store.ErrNotFound)
	wantErr(t, "SetUserDisabled", s.SetUserDisabled(ctx, id, true, base), store.ErrNotFound)
	wantErr(t, "SetUserMFAOverride", s.SetUserMFAOverride(ctx, id, store.MFAOverrideNo, base), store.ErrNotFound)
	wantErr(t, "SetUserPasswordHash", s.SetUserPasswordHash(ctx, id, "x", base), store.ErrNotFound)
	wantErr(t, "SetUserLastLogin", s.SetUserLastLogin(ctx, id, base), store.ErrNotFound)
	wantErr(t, "AddUserMFAReset", s.AddUserMFAReset(ctx, id), store.ErrNotFound)
	wantErr(t, "SetUserDisplayName", s.SetUserDisplayName(ctx, id, "Alice", base), store.ErrNotFound)
	wantErr(t, "SetUserLanguage", s.SetUserLanguage(ctx, id, "de", base), store.ErrNotFound)
	wantErr(t, "SetUserEmailVerified", s.SetUserEmailVerified(ctx, id, "alice@example.com", base), store.ErrNotFound)
	wantErr(t, "SetUserEmail", s.SetUserEmail(ctx, id, "x@example.com", "x@example.com", true, base), store.ErrNotFound)
}

func testUserCountWithRole(t *testing.T, s store.Store) {
	ctx := t.Context()
	count := func(role string) int {
		t.Helper()
		n, err := s.CountUsersWithRole(ctx, role)
		wantNoErr(t, "CountUsersWithRole("+role+")", err)
		return n
	}
	if n := count(store.RoleAdmin); n != 0 {
		t.Fatalf("admins in an empty store = %d, want 0", n)
	}
	for _, name := range []string{"ann", "abe", "amy"} {
		u := mustCreateUser(t, s, name)
		wantNoErr(t, "SetUserRole", s.SetUserRole(ctx, u.ID, store.RoleAdmin, base))
		if name == "amy" {
			wantNoErr(t, "SetUserDisabled", s.SetUserDisabled(ctx, u.ID, true, base))
		}
	}
	mustCreateUser(t, s, "uma")
	for role, want := range map[string]int{store.RoleAdmin: 2, store.RoleUser: 1, store.RoleSupport: 0} {
		if n := count(role); n != want {
			t.Errorf("CountUsersWithRole(%s) = %d, want %d (disabled users do not count)", role, n, want)
		}
	}
}

func testUserDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	c := mustCreateClient(t, s, "billing")
	var sessions []*store.SessionRecord
	for _, u := range []*store.User{alice, bob} {
		x := sessionFixture(t, u.ID, at(0))
		wantNoErr(t, "CreateSession", s.CreateSession(ctx, x))
		sessions = append(sessions, x)
		mustPutTOTP(t, s, u.ID)
		mustPutRecovery(t, s, u.ID)
		wantNoErr(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, pendingFixture(t, u.ID)))
		mustCreateGrant(t, s, grantFixture(t, u.ID+"-grant", c.ID, u.ID, true))
	}
	mustAppend(t, s, store.AuditEvent{At: at(0), Event: "user.created", SubjectID: alice.ID})

	wantNoErr(t, "DeleteUser", s.DeleteUser(ctx, alice.ID))
	wantErr(t, "DeleteUser a second time", s.DeleteUser(ctx, alice.ID), store.ErrNotFound)
	_, err := s.GetUser(ctx, alice.ID)
	wantErr(t, "GetUser(deleted)", err, store.ErrNotFound)
	_, err = s.GetSessionByToken(ctx, sessions[0].TokenHash)
	wantErr(t, "GetSessionByToken(deleted user's session)", err, store.ErrNotFound)
	_, err = s.GetTOTP(ctx, alice.ID)
	wantErr(t, "GetTOTP(deleted user)", err, store.ErrNotFound)
	_, err = s.GetRecoveryCode(ctx, alice.ID)
	wantErr(t, "GetRecoveryCode(deleted user)", err, store.ErrNotFound)
	_, err = s.GetPendingTOTP(ctx, alice.ID, base)
	wantErr(t, "GetPendingTOTP(deleted user)", err, store.ErrNotFound)
	_, err = s.GetOIDCGrant(ctx, alice.ID+"-grant")
	wantErr(t, "GetOIDCGrant(deleted user)", err, store.ErrNotFound)
	if events := listAudit(t, s, store.AuditFilter{UserID: alice.ID}); len(events) != 1 {
		t.Errorf("audit events of the deleted user = %d, want 1 (audit rows stay)", len(events))
	}

	getSession(t, s, sessions[1].TokenHash)
	getTOTP(t, s, bob.ID)
	getRecovery(t, s, bob.ID)
	if _, err := s.GetOIDCGrant(ctx, bob.ID+"-grant"); err != nil {
		t.Errorf("bob's grant: %v, want it kept", err)
	}
}
