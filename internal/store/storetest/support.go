package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// supportTests cover SupportStore (issue 4): cases, timelines, e-mail links and MFA resets.
var supportTests = []subtest{
	{"CaseRoundTrip", testCaseRoundTrip},
	{"CaseReferenceIsUnique", testCaseReferenceUnique},
	{"UnknownCaseNotFound", testUnknownCase},
	{"ListCasesFiltersAndSearches", testListCases},
	{"ClosedCaseChangesNoMore", testClosedCase},
	{"ConfirmCaseEmail", testConfirmCaseEmail},
	{"CaseEventsOldestFirst", testCaseEvents},
	{"EmailLinkWorksOnce", testEmailLinkOnce},
	{"EmailLinkExpires", testEmailLinkExpires},
	{"NewEmailLinkReplacesUnusedOne", testEmailLinkReplaced},
	{"MFAResetOnePendingPerCase", testMFAResetPending},
	{"MFAResetNotApprovedByRequester", testMFAResetApproval},
	{"CancelMFAResets", testMFAResetCancel},
	{"ListPendingMFAResetsOfAUser", testListPendingResets},
	{"ListMFAResetsOfAUser", testListResets},
	{"UseEmailLinkOneWinner", testRaceEmailLink},
	{"CloseCaseOneWinner", testRaceCloseCase},
	{"ApproveMFAResetOneWinner", testRaceApproveReset},
}

// caseFixture returns an unsaved open case for e-mail, created at created.
func caseFixture(t testing.TB, ref, email string, created time.Time) *store.SupportCase {
	t.Helper()
	return &store.SupportCase{
		ID: randomID(t), Reference: ref, FullName: "Ada Lovelace", Email: email, EmailNorm: email,
		Organisation: "Analytical Engines Ltd", Phone: "+44 20 7946 0000", Category: "lost_device",
		Description: "I lost my phone.\nPlease help.", Status: store.CaseOpen,
		IP: "192.0.2.9", UserAgent: "storetest/1.0", CreatedAt: created, UpdatedAt: created,
	}
}

func mustCreateCase(t testing.TB, s store.Store, ref, email string, created time.Time) *store.SupportCase {
	t.Helper()
	c := caseFixture(t, ref, email, created)
	wantNoErr(t, "CreateCase "+ref, s.CreateCase(t.Context(), c))
	return c
}

func getCase(t testing.TB, s store.Store, ref string) *store.SupportCase {
	t.Helper()
	c, err := s.GetCaseByReference(t.Context(), ref)
	wantNoErr(t, "GetCaseByReference "+ref, err)
	return c
}

func testCaseRoundTrip(t *testing.T, s store.Store) {
	c := caseFixture(t, "TF-ABC234", "ada@example.com", at(0))
	c.AssigneeID = "agent-1"
	c.EmailConfirmedAt, c.EmailConfirmedIP, c.EmailConfirmedUserID, c.EmailConfirmedNorm = at(time.Minute), "198.51.100.1", "u1", "ada@example.com"
	c.Description = "Unicode ✓ and 'quotes' and \"double\" and a % sign"
	c.DescriptionMessage = `{"k":"case.description_admin","a":[{"n":"Reason","v":"lost ✓"}]}`
	wantNoErr(t, "CreateCase", s.CreateCase(t.Context(), c))
	wantSame(t, "case", getCase(t, s, c.Reference), c)
	byID, err := s.GetCase(t.Context(), c.ID)
	wantNoErr(t, "GetCase", err)
	wantSame(t, "case by id", byID, c)
}

func testCaseReferenceUnique(t *testing.T, s store.Store) {
	mustCreateCase(t, s, "TF-ABC234", "ada@example.com", at(0))
	err := s.CreateCase(t.Context(), caseFixture(t, "TF-ABC234", "bob@example.com", at(time.Second)))
	wantErr(t, "second case with the same reference", err, store.ErrConflict)
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		t.Errorf("error %v is not a *ConflictError", err)
	}
}

func testUnknownCase(t *testing.T, s store.Store) {
	_, err := s.GetCaseByReference(t.Context(), "TF-NOSUCH")
	wantErr(t, "GetCaseByReference of an unknown reference", err, store.ErrNotFound)
	_, err = s.GetCase(t.Context(), "nope")
	wantErr(t, "GetCase of an unknown id", err, store.ErrNotFound)
	wantErr(t, "AssignCase of an unknown case", s.AssignCase(t.Context(), "nope", "a", at(0)), store.ErrNotFound)
	wantErr(t, "CloseCase of an unknown case", s.CloseCase(t.Context(), "nope", store.CaseResolved, "a", "r", at(0)), store.ErrNotFound)
}

func refs(cases []store.SupportCase) []string {
	out := []string{}
	for _, c := range cases {
		out = append(out, c.Reference)
	}
	return out
}

func testListCases(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustCreateCase(t, s, "TF-AAAAAA", "ada@example.com", at(0))
	b := caseFixture(t, "TF-BBBBBB", "bob@example.com", at(time.Minute))
	b.FullName, b.Organisation = "Bob Builder", "100% Construction_Co"
	wantNoErr(t, "CreateCase", s.CreateCase(ctx, b))
	c := mustCreateCase(t, s, "TF-CCCCCC", "carol@example.org", at(2*time.Minute))
	wantNoErr(t, "SetCaseStatus", s.SetCaseStatus(ctx, c.ID, store.CaseWaitingForUser, at(3*time.Minute)))
	_ = a

	for _, tc := range []struct {
		name string
		f    store.CaseFilter
		want []string
	}{
		{"everything_newest_first", store.CaseFilter{}, []string{"TF-CCCCCC", "TF-BBBBBB", "TF-AAAAAA"}},
		{"by_status", store.CaseFilter{Status: store.CaseOpen}, []string{"TF-BBBBBB", "TF-AAAAAA"}},
		{"waiting_for_user", store.CaseFilter{Status: store.CaseWaitingForUser}, []string{"TF-CCCCCC"}},
		{"status_without_cases", store.CaseFilter{Status: store.CaseResolved}, []string{}},
		{"limit", store.CaseFilter{Limit: 1}, []string{"TF-CCCCCC"}},
		{"reference_part_any_case", store.CaseFilter{Search: "tf-bbb"}, []string{"TF-BBBBBB"}},
		{"name_any_case", store.CaseFilter{Search: "BUILDER"}, []string{"TF-BBBBBB"}},
		{"email", store.CaseFilter{Search: "example.org"}, []string{"TF-CCCCCC"}},
		{"organisation", store.CaseFilter{Search: "analytical"}, []string{"TF-CCCCCC", "TF-AAAAAA"}},
		{"percent_is_literal", store.CaseFilter{Search: "100%"}, []string{"TF-BBBBBB"}},
		{"underscore_is_literal", store.CaseFilter{Search: "n_c"}, []string{"TF-BBBBBB"}},
		{"wildcards_match_nothing_else", store.CaseFilter{Search: "%"}, []string{"TF-BBBBBB"}},
		{"search_and_status", store.CaseFilter{Search: "example.com", Status: store.CaseOpen}, []string{"TF-BBBBBB", "TF-AAAAAA"}},
		{"no_match", store.CaseFilter{Search: "zzz"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListCases(ctx, tc.f)
			wantNoErr(t, "ListCases", err)
			if fmt.Sprint(refs(got)) != fmt.Sprint(tc.want) {
				t.Errorf("ListCases(%+v) = %v, want %v", tc.f, refs(got), tc.want)
			}
		})
	}
}

func testClosedCase(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mustCreateCase(t, s, "TF-AAAAAA", "ada@example.com", at(0))
	wantNoErr(t, "AssignCase", s.AssignCase(ctx, c.ID, "agent-1", at(time.Minute)))
	wantNoErr(t, "SetCaseStatus", s.SetCaseStatus(ctx, c.ID, store.CaseWaitingForUser, at(2*time.Minute)))
	wantNoErr(t, "CloseCase", s.CloseCase(ctx, c.ID, store.CaseRejected, "agent-1", "could not verify", at(3*time.Minute)))
	got := getCase(t, s, c.Reference)
	if got.Status != store.CaseRejected || got.ClosedBy != "agent-1" || got.Resolution != "could not verify" ||
		!got.ClosedAt.Equal(at(3*time.Minute)) || !got.UpdatedAt.Equal(at(3*time.Minute)) || got.AssigneeID != "agent-1" {
		t.Errorf("closed case = %+v", got)
	}
	wantErr(t, "AssignCase on a closed case", s.AssignCase(ctx, c.ID, "agent-2", at(4*time.Minute)), store.ErrNotFound)
	wantErr(t, "SetCaseStatus on a closed case", s.SetCaseStatus(ctx, c.ID, store.CaseOpen, at(4*time.Minute)), store.ErrNotFound)
	wantErr(t, "ConfirmCaseEmail on a closed case", s.ConfirmCaseEmail(ctx, c.ID, "u", "e", "ip", at(4*time.Minute)), store.ErrNotFound)
	wantErr(t, "CloseCase again", s.CloseCase(ctx, c.ID, store.CaseResolved, "agent-2", "x", at(4*time.Minute)), store.ErrNotFound)
	if got := getCase(t, s, c.Reference); got.Status != store.CaseRejected || got.AssigneeID != "agent-1" {
		t.Errorf("a closed case changed: %+v", got)
	}
}

func testConfirmCaseEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mustCreateCase(t, s, "TF-AAAAAA", "ada@example.com", at(0))
	wantNoErr(t, "ConfirmCaseEmail", s.ConfirmCaseEmail(ctx, c.ID, "u1", "ada@example.com", "203.0.113.5", at(time.Hour)))
	got := getCase(t, s, c.Reference)
	if !got.EmailConfirmedAt.Equal(at(time.Hour)) || got.EmailConfirmedIP != "203.0.113.5" ||
		got.EmailConfirmedUserID != "u1" || got.EmailConfirmedNorm != "ada@example.com" {
		t.Errorf("confirmation not stored: %+v", got)
	}
}

func testCaseEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustCreateCase(t, s, "TF-AAAAAA", "ada@example.com", at(0))
	b := mustCreateCase(t, s, "TF-BBBBBB", "bob@example.com", at(0))
	var want []store.CaseEvent
	for i, kind := range []string{"created", "note", "assigned"} {
		// Nanoseconds the store does not keep: e.At says what it kept, as the list does.
		e := &store.CaseEvent{CaseID: a.ID, At: at(time.Duration(i)*time.Minute + 123456*time.Nanosecond), Kind: kind, ActorID: "agent", Body: "entry " + kind}
		if kind != "note" { // a note has no catalog sentence
			e.Message = `{"k":"timeline.` + kind + `","a":[{"n":"Agent","v":"zoë ‘<b>’"}]}`
		}
		wantNoErr(t, "AddCaseEvent", s.AddCaseEvent(ctx, e))
		if e.ID == 0 || (len(want) > 0 && e.ID <= want[len(want)-1].ID) {
			t.Errorf("event ids not increasing: %d after %v", e.ID, want)
		}
		want = append(want, *e)
	}
	wantNoErr(t, "AddCaseEvent (other case)", s.AddCaseEvent(ctx, &store.CaseEvent{CaseID: b.ID, At: at(0), Kind: "note", Body: "other"}))
	got, err := s.ListCaseEvents(ctx, a.ID)
	wantNoErr(t, "ListCaseEvents", err)
	wantSame(t, "timeline", got, want)
}

// linkFixture stores a user, a case and an unsaved link for them, valid 24 h from at(0).
func linkFixture(t testing.TB, s store.Store) (*store.User, *store.SupportCase, *store.EmailLink) {
	t.Helper()
	u := mustCreateUser(t, s, "ada")
	c := mustCreateCase(t, s, "TF-AAAAAA", u.EmailNorm, at(0))
	return u, c, &store.EmailLink{TokenHash: randomBytes(t, 32), CaseID: c.ID, UserID: u.ID, EmailNorm: u.EmailNorm,
		CreatedBy: "agent", CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)}
}

func testEmailLinkOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, _, l := linkFixture(t, s)
	wantNoErr(t, "CreateEmailLink", s.CreateEmailLink(ctx, l))
	got, err := s.GetEmailLink(ctx, l.TokenHash, at(time.Hour))
	wantNoErr(t, "GetEmailLink", err)
	wantSame(t, "link", got, l)
	wantNoErr(t, "UseEmailLink", s.UseEmailLink(ctx, l.TokenHash, at(time.Hour)))
	wantErr(t, "UseEmailLink a second time", s.UseEmailLink(ctx, l.TokenHash, at(time.Hour)), store.ErrNotFound)
	_, err = s.GetEmailLink(ctx, l.TokenHash, at(time.Hour))
	wantErr(t, "GetEmailLink of a used link", err, store.ErrNotFound)
	_, err = s.GetEmailLink(ctx, randomBytes(t, 32), at(time.Hour))
	wantErr(t, "GetEmailLink of an unknown token", err, store.ErrNotFound)
}

func testEmailLinkExpires(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, _, l := linkFixture(t, s)
	wantNoErr(t, "CreateEmailLink", s.CreateEmailLink(ctx, l))
	_, err := s.GetEmailLink(ctx, l.TokenHash, at(24*time.Hour))
	wantErr(t, "GetEmailLink at expiry", err, store.ErrNotFound)
	wantErr(t, "UseEmailLink at expiry", s.UseEmailLink(ctx, l.TokenHash, at(24*time.Hour)), store.ErrNotFound)
	wantNoErr(t, "UseEmailLink just before expiry", s.UseEmailLink(ctx, l.TokenHash, at(24*time.Hour-time.Millisecond)))
}

func testEmailLinkReplaced(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, c, first := linkFixture(t, s)
	wantNoErr(t, "CreateEmailLink", s.CreateEmailLink(ctx, first))
	// Another case's link that expires soon, and is dropped once expired.
	other := mustCreateCase(t, s, "TF-BBBBBB", u.EmailNorm, at(0))
	short := &store.EmailLink{TokenHash: randomBytes(t, 32), CaseID: other.ID, UserID: u.ID, EmailNorm: u.EmailNorm,
		CreatedAt: at(0), ExpiresAt: at(time.Minute)}
	wantNoErr(t, "CreateEmailLink (other case)", s.CreateEmailLink(ctx, short))
	second := &store.EmailLink{TokenHash: randomBytes(t, 32), CaseID: c.ID, UserID: u.ID, EmailNorm: u.EmailNorm,
		CreatedAt: at(time.Hour), ExpiresAt: at(25 * time.Hour)}
	wantNoErr(t, "CreateEmailLink (second)", s.CreateEmailLink(ctx, second))
	wantErr(t, "the first link after a second was sent", s.UseEmailLink(ctx, first.TokenHash, at(time.Hour)), store.ErrNotFound)
	wantNoErr(t, "the second link", s.UseEmailLink(ctx, second.TokenHash, at(time.Hour)))
	_, err := s.GetEmailLink(ctx, short.TokenHash, at(0))
	wantErr(t, "an expired link of another case (dropped)", err, store.ErrNotFound)
}

// resetFixture stores a user, a case and returns an unsaved pending reset requested by "agent-a".
func resetFixture(t testing.TB, s store.Store) (*store.SupportCase, *store.MFAReset) {
	t.Helper()
	u := mustCreateUser(t, s, "ada")
	c := mustCreateCase(t, s, "TF-AAAAAA", u.EmailNorm, at(0))
	return c, &store.MFAReset{ID: randomID(t), CaseID: c.ID, UserID: u.ID, RequestedBy: "agent-a",
		Verification: "phone_callback", Note: "called back on the number on file", RequestedAt: at(time.Minute), Status: store.ResetPending}
}

func testMFAResetPending(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, r := resetFixture(t, s)
	wantNoErr(t, "CreateMFAReset", s.CreateMFAReset(ctx, r))
	got, err := s.GetPendingMFAReset(ctx, c.ID)
	wantNoErr(t, "GetPendingMFAReset", err)
	wantSame(t, "pending reset", got, r)
	again := *r
	again.ID = randomID(t)
	wantErr(t, "a second pending reset for the case", s.CreateMFAReset(ctx, &again), store.ErrConflict)
	done := *r
	done.ID, done.Status, done.DecidedBy, done.DecidedAt = randomID(t), store.ResetDone, "agent-a", at(time.Minute)
	wantNoErr(t, "a done reset next to the pending one", s.CreateMFAReset(ctx, &done))
}

func testMFAResetApproval(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, r := resetFixture(t, s)
	wantNoErr(t, "CreateMFAReset", s.CreateMFAReset(ctx, r))
	wantErr(t, "approval by the requester", s.ApproveMFAReset(ctx, r.ID, "agent-a", at(time.Hour)), store.ErrNotFound)
	wantNoErr(t, "approval by a second agent", s.ApproveMFAReset(ctx, r.ID, "agent-b", at(time.Hour)))
	wantErr(t, "a second approval", s.ApproveMFAReset(ctx, r.ID, "agent-c", at(time.Hour)), store.ErrNotFound)
	_, err := s.GetPendingMFAReset(ctx, c.ID)
	wantErr(t, "GetPendingMFAReset after approval", err, store.ErrNotFound)
	next := *r
	next.ID = randomID(t)
	wantNoErr(t, "a new pending reset after the approval", s.CreateMFAReset(ctx, &next))
}

func testMFAResetCancel(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, r := resetFixture(t, s)
	n, err := s.CancelMFAResets(ctx, c.ID, "agent-a", at(time.Hour))
	wantNoErr(t, "CancelMFAResets without any", err)
	if n != 0 {
		t.Errorf("cancelled %d, want 0", n)
	}
	wantNoErr(t, "CreateMFAReset", s.CreateMFAReset(ctx, r))
	n, err = s.CancelMFAResets(ctx, c.ID, "agent-a", at(time.Hour))
	wantNoErr(t, "CancelMFAResets", err)
	if n != 1 {
		t.Errorf("cancelled %d, want 1", n)
	}
	wantErr(t, "approving a cancelled reset", s.ApproveMFAReset(ctx, r.ID, "agent-b", at(time.Hour)), store.ErrNotFound)
}

func testListPendingResets(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, r := resetFixture(t, s)
	got, err := s.ListPendingMFAResets(ctx, r.UserID)
	wantNoErr(t, "ListPendingMFAResets without any", err)
	if len(got) != 0 {
		t.Errorf("ListPendingMFAResets without any = %+v", got)
	}
	wantNoErr(t, "CreateMFAReset", s.CreateMFAReset(ctx, r))
	other := mustCreateCase(t, s, "TF-BBBBBB", "ada@example.com", at(0))
	later := *r
	later.ID, later.CaseID, later.RequestedAt = randomID(t), other.ID, at(2*time.Minute)
	wantNoErr(t, "CreateMFAReset on another case", s.CreateMFAReset(ctx, &later))
	done := *r
	done.ID, done.Status, done.DecidedBy, done.DecidedAt = randomID(t), store.ResetDone, "agent-a", at(time.Minute)
	wantNoErr(t, "CreateMFAReset done", s.CreateMFAReset(ctx, &done))
	bob := mustCreateUser(t, s, "bob")
	theirs := *r
	theirs.ID, theirs.UserID, theirs.CaseID = randomID(t), bob.ID, mustCreateCase(t, s, "TF-CCCCCC", bob.EmailNorm, at(0)).ID
	wantNoErr(t, "CreateMFAReset for another user", s.CreateMFAReset(ctx, &theirs))

	got, err = s.ListPendingMFAResets(ctx, r.UserID)
	wantNoErr(t, "ListPendingMFAResets", err)
	if len(got) != 2 {
		t.Fatalf("ListPendingMFAResets = %d resets, want ada's 2 pending ones", len(got))
	}
	wantSame(t, "oldest pending reset", &got[0], r)
	wantSame(t, "newer pending reset", &got[1], &later)
	_, err = s.CancelMFAResets(ctx, c.ID, "agent-a", at(time.Hour))
	wantNoErr(t, "CancelMFAResets", err)
	got, err = s.ListPendingMFAResets(ctx, r.UserID)
	wantNoErr(t, "ListPendingMFAResets after a cancel", err)
	if len(got) != 1 || got[0].ID != later.ID {
		t.Errorf("ListPendingMFAResets after cancelling the first case = %+v, want only the other case's", got)
	}
}

func testListResets(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, r := resetFixture(t, s)
	got, err := s.ListMFAResets(ctx, r.UserID)
	wantNoErr(t, "ListMFAResets without any", err)
	if len(got) != 0 {
		t.Errorf("ListMFAResets without any = %+v", got)
	}
	done := *r
	done.ID, done.Status, done.DecidedBy, done.DecidedAt = randomID(t), store.ResetDone, "agent-a", at(time.Minute)
	wantNoErr(t, "CreateMFAReset done", s.CreateMFAReset(ctx, &done))
	other := mustCreateCase(t, s, "TF-BBBBBB", "ada@example.com", at(0))
	later := *r
	later.ID, later.CaseID, later.RequestedAt = randomID(t), other.ID, at(2*time.Minute)
	wantNoErr(t, "CreateMFAReset pending on another case", s.CreateMFAReset(ctx, &later))
	cancelled := later
	cancelled.ID, cancelled.CaseID, cancelled.RequestedAt = randomID(t), r.CaseID, at(3*time.Minute)
	wantNoErr(t, "CreateMFAReset to cancel", s.CreateMFAReset(ctx, &cancelled))
	_, err = s.CancelMFAResets(ctx, r.CaseID, "agent-b", at(4*time.Minute))
	wantNoErr(t, "CancelMFAResets", err)
	cancelled.Status, cancelled.DecidedBy, cancelled.DecidedAt = store.ResetCancelled, "agent-b", at(4*time.Minute)
	bob := mustCreateUser(t, s, "bob")
	theirs := done
	theirs.ID, theirs.UserID, theirs.CaseID = randomID(t), bob.ID, mustCreateCase(t, s, "TF-CCCCCC", bob.EmailNorm, at(0)).ID
	wantNoErr(t, "CreateMFAReset for another user", s.CreateMFAReset(ctx, &theirs))

	got, err = s.ListMFAResets(ctx, r.UserID)
	wantNoErr(t, "ListMFAResets", err)
	if len(got) != 3 {
		t.Fatalf("ListMFAResets = %d resets, want ada's 3 (done, pending, cancelled)", len(got))
	}
	wantSame(t, "oldest reset (done)", &got[0], &done)
	wantSame(t, "newer reset (pending)", &got[1], &later)
	wantSame(t, "newest reset (cancelled)", &got[2], &cancelled)
}

func testRaceEmailLink(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, _, l := linkFixture(t, s)
	wantNoErr(t, "CreateEmailLink", s.CreateEmailLink(ctx, l))
	errs := race(parallel, func(i int) error {
		return s.UseEmailLink(ctx, l.TokenHash, at(time.Hour+time.Duration(i)*time.Millisecond))
	})
	oneWinner(t, "UseEmailLink", errs)
}

func testRaceCloseCase(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mustCreateCase(t, s, "TF-AAAAAA", "ada@example.com", at(0))
	errs := race(parallel, func(i int) error {
		status := store.CaseResolved
		if i%2 == 1 {
			status = store.CaseRejected
		}
		return s.CloseCase(ctx, c.ID, status, fmt.Sprintf("agent-%d", i), fmt.Sprintf("reason %d", i), at(time.Hour))
	})
	w := oneWinner(t, "CloseCase", errs)
	if got := getCase(t, s, c.Reference); got.ClosedBy != fmt.Sprintf("agent-%d", w) || got.Resolution != fmt.Sprintf("reason %d", w) {
		t.Errorf("closed by %q with %q, want the winner %d's", got.ClosedBy, got.Resolution, w)
	}
}

func testRaceApproveReset(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, r := resetFixture(t, s)
	wantNoErr(t, "CreateMFAReset", s.CreateMFAReset(ctx, r))
	errs := race(parallel, func(i int) error {
		return s.ApproveMFAReset(ctx, r.ID, fmt.Sprintf("agent-%d", i), at(time.Hour))
	})
	oneWinner(t, "ApproveMFAReset", errs)
}
