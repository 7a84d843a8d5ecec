package storetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

var adminTests = []subtest{
	{"SearchFiltersByStatusRoleAndFactors", testSearchUsersFilters},
	{"SearchMatchesNameEmailAndDisplayName", testSearchUsersQuery},
	{"CountsByStatus", testCountUsers},
	{"PagesStableUnderInserts", testSearchUsersPaging},
	{"OpenCasesOfAUser", testListUserCases},
	{"LockAdminsCountsEnabledAdministrators", testLockAdminsCount},
	{"DemotingTheLastTwoAdminsInParallelLeavesOne", testLockAdminsRace},
	{"LockUserReadsTheRowInATransaction", testLockUser},
}

// adminFixture stores the users the admin tests filter: ada (active, authenticator app),
// bob (disabled), ivy (invited: no password yet), lou (locked), kay (two security keys,
// support role) and root (administrator, app and key).
func adminFixture(t *testing.T, s store.Store) map[string]*store.User {
	t.Helper()
	ctx := t.Context()
	users := map[string]*store.User{}
	for i, name := range []string{"ada", "bob", "ivy", "lou", "kay", "root"} {
		u := userFixture(t, name)
		u.CreatedAt = at(time.Duration(i) * time.Minute)
		switch name {
		case "bob":
			u.Disabled = true
		case "ivy":
			u.PasswordHash = ""
		case "kay":
			u.Role = store.RoleSupport
		case "root":
			u.Role = store.RoleAdmin
		}
		wantNoErr(t, "CreateUser "+name, s.CreateUser(ctx, u))
		users[name] = u
	}
	mustPutTOTP(t, s, users["ada"].ID)
	mustPutTOTP(t, s, users["root"].ID)
	mustCreateWebAuthn(t, s, webauthnFixture(t, users["kay"].ID, "blue key"))
	mustCreateWebAuthn(t, s, webauthnFixture(t, users["kay"].ID, "green key"))
	mustCreateWebAuthn(t, s, webauthnFixture(t, users["root"].ID, "desk key"))
	// One failure of lou's second factor: locked for a filter whose limit is 1. A
	// failure of bob's (disabled wins) and of an unknown name change nothing.
	for _, key := range []string{users["lou"].ID, users["bob"].ID, "login:abc"} {
		_, ok, err := s.ReserveAttempt(ctx, store.BudgetSecondFactor, key, throttle.Default, at(0))
		wantNoErr(t, "ReserveAttempt", err)
		if !ok {
			t.Fatal("first attempt refused")
		}
	}
	return users
}

// names lists the usernames of a page in its order.
func names(list []store.UserSummary) []string {
	out := make([]string, 0, len(list))
	for _, u := range list {
		out = append(out, u.Username)
	}
	return out
}

func testSearchUsersFilters(t *testing.T, s store.Store) {
	users := adminFixture(t, s)
	for _, tc := range []struct {
		name string
		f    store.UserFilter
		want []string // newest first
	}{
		{"everyone", store.UserFilter{}, []string{"root", "kay", "lou", "ivy", "bob", "ada"}},
		{"active", store.UserFilter{Status: store.UserActive}, []string{"root", "kay", "ada"}},
		{"disabled", store.UserFilter{Status: store.UserDisabled}, []string{"bob"}},
		{"invited", store.UserFilter{Status: store.UserInvited}, []string{"ivy"}},
		{"locked", store.UserFilter{Status: store.UserLocked}, []string{"lou"}},
		{"locked_needs_the_limit", store.UserFilter{Status: store.UserLocked, LockedAt: 2}, nil},
		{"role_admin", store.UserFilter{Role: store.RoleAdmin}, []string{"root"}},
		{"one_by_id", store.UserFilter{ID: users["kay"].ID}, []string{"kay"}},
		{"unknown_id", store.UserFilter{ID: "x"}, nil},
		{"role_support", store.UserFilter{Role: store.RoleSupport}, []string{"kay"}},
		{"no_second_factor", store.UserFilter{MFA: store.MFANone}, []string{"lou", "ivy", "bob"}},
		{"app", store.UserFilter{MFA: store.MFAApp}, []string{"root", "ada"}},
		{"key", store.UserFilter{MFA: store.MFAKey}, []string{"root", "kay"}},
		{"key_and_active_user", store.UserFilter{MFA: store.MFAKey, Role: store.RoleUser}, nil},
		{"limit", store.UserFilter{Limit: 2}, []string{"root", "kay"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			if f.LockedAt == 0 {
				f.LockedAt = 1
			}
			got, err := s.SearchUsers(t.Context(), f)
			wantNoErr(t, "SearchUsers", err)
			if !slices.Equal(names(got), tc.want) {
				t.Errorf("got %v, want %v", names(got), tc.want)
			}
		})
	}
	all, err := s.SearchUsers(t.Context(), store.UserFilter{LockedAt: 1})
	wantNoErr(t, "SearchUsers", err)
	facts := map[string]string{}
	for _, u := range all {
		facts[u.Username] = u.Status + " totp=" + map[bool]string{true: "yes", false: "no"}[u.TOTP] + " keys=" + string(rune('0'+u.Keys))
	}
	for name, want := range map[string]string{"ada": "active totp=yes keys=0", "bob": "disabled totp=no keys=0",
		"ivy": "invited totp=no keys=0", "lou": "locked totp=no keys=0", "kay": "active totp=no keys=2", "root": "active totp=yes keys=1"} {
		if facts[name] != want {
			t.Errorf("%s: %s, want %s", name, facts[name], want)
		}
	}
	for _, u := range all {
		if u.Username == "ada" && (u.Email != "ada@Example.com" || !u.CreatedAt.Equal(at(0)) || u.Role != store.RoleUser) {
			t.Errorf("ada's row: %+v", u.User)
		}
	}
}

func testSearchUsersQuery(t *testing.T, s store.Store) {
	ctx := t.Context()
	users := adminFixture(t, s)
	wantNoErr(t, "SetUserDisplayName", s.SetUserDisplayName(ctx, users["kay"].ID, "Katherine Johnson", at(0)))
	odd := userFixture(t, "under_score")
	odd.CreatedAt = at(time.Hour)
	wantNoErr(t, "CreateUser", s.CreateUser(ctx, odd))
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"AD", []string{"ada"}},
		{"example.COM", []string{"under_score", "root", "kay", "lou", "ivy", "bob", "ada"}},
		{"johnson", []string{"kay"}},
		{"oo", []string{"root"}},
		{"_", []string{"under_score"}},
		{"%", nil},
		{`\`, nil},
		{"nobody", nil},
	} {
		got, err := s.SearchUsers(ctx, store.UserFilter{Query: tc.query, LockedAt: 1})
		wantNoErr(t, "SearchUsers", err)
		if !slices.Equal(names(got), tc.want) {
			t.Errorf("query %q: got %v, want %v", tc.query, names(got), tc.want)
		}
	}
	_, err := s.SearchUsers(ctx, store.UserFilter{Query: "a\x00b"})
	wantErr(t, "SearchUsers with a NUL", err, store.ErrInvalidText)
	_, err = s.CountUsers(ctx, store.UserFilter{Query: "\xff"})
	wantErr(t, "CountUsers with bad UTF-8", err, store.ErrInvalidText)
}

func testCountUsers(t *testing.T, s store.Store) {
	adminFixture(t, s)
	for _, tc := range []struct {
		f    store.UserFilter
		want store.UserCounts
	}{
		{store.UserFilter{LockedAt: 1}, store.UserCounts{All: 6, Active: 3, Disabled: 1, Invited: 1, Locked: 1}},
		{store.UserFilter{LockedAt: 1, Status: store.UserDisabled, Limit: 1}, store.UserCounts{All: 6, Active: 3, Disabled: 1, Invited: 1, Locked: 1}},
		{store.UserFilter{LockedAt: 2}, store.UserCounts{All: 6, Active: 4, Disabled: 1, Invited: 1}},
		{store.UserFilter{LockedAt: 1, MFA: store.MFANone}, store.UserCounts{All: 3, Disabled: 1, Invited: 1, Locked: 1}},
		{store.UserFilter{LockedAt: 1, Query: "zzz"}, store.UserCounts{}},
	} {
		got, err := s.CountUsers(t.Context(), tc.f)
		wantNoErr(t, "CountUsers", err)
		if got != tc.want {
			t.Errorf("%+v: got %+v, want %+v", tc.f, got, tc.want)
		}
	}
}

func testSearchUsersPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Seven users, three of them created in the same millisecond: the id breaks the tie.
	var want []string
	for i := range 7 {
		u := userFixture(t, "u"+string(rune('a'+i)))
		u.CreatedAt = at(time.Duration(min(i, 4)) * time.Second)
		wantNoErr(t, "CreateUser", s.CreateUser(ctx, u))
	}
	all, err := s.SearchUsers(ctx, store.UserFilter{})
	wantNoErr(t, "SearchUsers", err)
	want = names(all)
	if len(want) != 7 {
		t.Fatalf("got %v", want)
	}
	var got []string
	var after store.Cursor
	for page := 0; ; page++ {
		rows, err := s.SearchUsers(ctx, store.UserFilter{After: after, Limit: 3})
		wantNoErr(t, "SearchUsers", err)
		rows, next := store.NextPage(rows, 2, store.UserSummary.Cursor)
		got = append(got, names(rows)...)
		// Insert between pages: a newer account, and one as old as the page's last row.
		n := userFixture(t, "new"+string(rune('a'+page)))
		n.CreatedAt = at(time.Hour)
		wantNoErr(t, "CreateUser", s.CreateUser(ctx, n))
		if next.IsZero() {
			break
		}
		// The cursor survives its text form.
		if after, err = store.ParseCursor("users", next.Encode("users")); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v: each user once, in order, whatever was inserted", got, want)
	}
	if strings.Join(got, "") == "" {
		t.Fatal("no rows")
	}
}

func testListUserCases(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := mustCreateUser(t, s, "ada")
	byMail := mustCreateCase(t, s, "TF-AAAAA2", ada.EmailNorm, at(0))
	closed := mustCreateCase(t, s, "TF-AAAAA3", ada.EmailNorm, at(time.Minute))
	wantNoErr(t, "CloseCase", s.CloseCase(ctx, closed.ID, store.CaseResolved, "agent", "done", at(time.Minute)))
	proven := mustCreateCase(t, s, "TF-AAAAA4", "old@example.org", at(2*time.Minute))
	wantNoErr(t, "ConfirmCaseEmail", s.ConfirmCaseEmail(ctx, proven.ID, ada.ID, "old@example.org", "192.0.2.1", at(2*time.Minute)))
	mustCreateCase(t, s, "TF-AAAAA5", "someone@example.org", at(3*time.Minute))
	got, err := s.ListUserCases(ctx, ada.ID, ada.EmailNorm)
	wantNoErr(t, "ListUserCases", err)
	var refs []string
	for _, c := range got {
		refs = append(refs, c.Reference)
	}
	if !slices.Equal(refs, []string{proven.Reference, byMail.Reference}) {
		t.Fatalf("got %v", refs)
	}
}

func testLockAdminsCount(t *testing.T, s store.Store) {
	adminFixture(t, s) // root
	for _, name := range []string{"a2", "a3"} {
		u := userFixture(t, name)
		u.Role, u.Disabled = store.RoleAdmin, name == "a3"
		wantNoErr(t, "CreateUser", s.CreateUser(t.Context(), u))
	}
	n, err := s.LockAdmins(t.Context())
	wantNoErr(t, "LockAdmins", err)
	if n != 2 {
		t.Fatalf("%d enabled administrators, want 2", n)
	}
}

func testLockUser(t *testing.T, s store.Store) {
	ada := adminFixture(t, s)["ada"]
	err := s.WithTx(t.Context(), func(tx store.Store) error {
		u, err := tx.LockUser(t.Context(), ada.ID)
		if err != nil {
			return err
		}
		if u.ID != ada.ID || u.Username != ada.Username || u.Role != ada.Role {
			t.Errorf("LockUser = %+v, want ada", u)
		}
		if _, err := tx.LockUser(t.Context(), "no-such-user"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LockUser of an unknown id: %v, want ErrNotFound", err)
		}
		return nil
	})
	wantNoErr(t, "WithTx", err)
}

var errLastAdmin = errors.New("storetest: the last administrator")

func testLockAdminsRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	var admins []*store.User
	for _, name := range []string{"a1", "a2"} {
		u := userFixture(t, name)
		u.Role = store.RoleAdmin
		wantNoErr(t, "CreateUser", s.CreateUser(ctx, u))
		admins = append(admins, u)
	}
	errs := make([]error, len(admins))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, u := range admins {
		wg.Go(func() {
			<-start
			errs[i] = s.WithTx(ctx, func(tx store.Store) error {
				n, err := tx.LockAdmins(ctx)
				if err != nil {
					return err
				}
				if n <= 1 {
					return errLastAdmin
				}
				return tx.SetUserRole(ctx, u.ID, store.RoleUser, at(0))
			})
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errLastAdmin):
			t.Errorf("demotion failed with %v, want the last-administrator refusal", err)
		}
	}
	n, err := s.LockAdmins(ctx)
	wantNoErr(t, "LockAdmins", err)
	if won != 1 || n != 1 {
		t.Fatalf("%d demotions won, %d administrators left; want 1 and 1", won, n)
	}
}
