package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var auditTests = []subtest{
	{"AppendAndListNewestFirst", testAuditList},
	{"FilterByActorOrSubject", testAuditFilter},
	{"Limit", testAuditLimit},
	{"FilterByEventAddressAndTime", testAuditFilterMore},
	{"PagesByBeforeIDStayStableUnderAppends", testAuditPages},
	{"CountedEventIsOneRow", testAuditCounted},
	{"ParallelCountedEventsMakeOneRow", testAuditCountedRace},
	{"ParallelPlainAndCountedEvents", testAuditMixedRace},
	{"PruneDeletesOnlyOlderEvents", testAuditPrune},
}

var setupTests = []subtest{
	{"CheckAndUseOnce", testSetupUseOnce},
	{"Expired", testSetupExpired},
	{"Unknown", testSetupUnknown},
	{"AdminExistedDeletesThemForGood", testSetupAdminExisted},
	{"FirstAdminIsClaimedOnce", testClaimFirstAdmin},
}

func listAudit(t testing.TB, s store.Store, f store.AuditFilter) []store.AuditEvent {
	t.Helper()
	events, err := s.ListAudit(t.Context(), f)
	wantNoErr(t, "ListAudit", err)
	return events
}

func mustAppend(t testing.TB, s store.Store, e store.AuditEvent) store.AuditEvent {
	t.Helper()
	wantNoErr(t, "AppendAudit("+e.Event+")", s.AppendAudit(t.Context(), &e))
	if e.Count == 0 {
		e.Count = 1 // as ListAudit reports it
	}
	return e
}

// wantEvents checks events against want, ignoring IDs, which must be set and distinct.
func wantEvents(t testing.TB, what string, got, want []store.AuditEvent) {
	t.Helper()
	seen := map[int64]bool{}
	for i := range got {
		if got[i].ID == 0 || seen[got[i].ID] {
			t.Errorf("%s: event %d has ID %d, want a distinct non-zero ID", what, i, got[i].ID)
		}
		seen[got[i].ID] = true
	}
	if len(got) != len(want) {
		t.Fatalf("%s: got %d events %v, want %d", what, len(got), eventNames(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		g.ID, w.ID = 0, 0
		wantSame(t, fmt.Sprintf("%s: event %d", what, i), g, w)
	}
}

func eventNames(events []store.AuditEvent) []string {
	var names []string
	for _, e := range events {
		names = append(names, e.Event)
	}
	return names
}

func testAuditList(t *testing.T, s store.Store) {
	if got := listAudit(t, s, store.AuditFilter{}); len(got) != 0 {
		t.Fatalf("ListAudit on an empty store returned %d events", len(got))
	}
	a := mustAppend(t, s, store.AuditEvent{At: at(0), Event: "user.created", SubjectID: "u1", IP: "console", UserAgent: "twofold-cli", Detail: "role=user"})
	b := mustAppend(t, s, store.AuditEvent{At: at(time.Second), Event: "login.succeeded", ActorID: "u1", SubjectID: "u1", IP: "192.0.2.1", UserAgent: "Firefox"})
	c := mustAppend(t, s, store.AuditEvent{At: at(2 * time.Second), Event: "setup.token_issued"})
	wantEvents(t, "ListAudit", listAudit(t, s, store.AuditFilter{}), []store.AuditEvent{c, b, a})
}

func testAuditFilter(t *testing.T, s store.Store) {
	byA := mustAppend(t, s, store.AuditEvent{At: at(0), Event: "login.succeeded", ActorID: "A", SubjectID: "A"})
	onA := mustAppend(t, s, store.AuditEvent{At: at(time.Second), Event: "user.role_changed", ActorID: "B", SubjectID: "A"})
	bOnC := mustAppend(t, s, store.AuditEvent{At: at(2 * time.Second), Event: "user.disabled", ActorID: "B", SubjectID: "C"})
	anon := mustAppend(t, s, store.AuditEvent{At: at(3 * time.Second), Event: "login.failed"})

	for _, tc := range []struct {
		user string
		want []store.AuditEvent
	}{
		{"A", []store.AuditEvent{onA, byA}},
		{"B", []store.AuditEvent{bOnC, onA}},
		{"C", []store.AuditEvent{bOnC}},
		{"D", nil},
		{"", []store.AuditEvent{anon, bOnC, onA, byA}},
	} {
		t.Run("user "+tc.user, func(t *testing.T) {
			wantEvents(t, "ListAudit(user "+tc.user+")", listAudit(t, s, store.AuditFilter{UserID: tc.user}), tc.want)
		})
	}
}

func testAuditFilterMore(t *testing.T, s store.Store) {
	ok := mustAppend(t, s, store.AuditEvent{At: at(0), Event: "login.succeeded", SubjectID: "A", IP: "192.0.2.1"})
	failed := mustAppend(t, s, store.AuditEvent{At: at(time.Second), Event: "login.failed", SubjectID: "A", IP: "192.0.2.2"})
	// "login_x" shares the first characters of "login." but not the dot: a prefix is no LIKE.
	odd := mustAppend(t, s, store.AuditEvent{At: at(2 * time.Second), Event: "login_x%", SubjectID: "B", IP: "192.0.2.1"})
	role := mustAppend(t, s, store.AuditEvent{At: at(3 * time.Second), Event: "user.role_changed", ActorID: "B", SubjectID: "A", IP: "192.0.2.1"})
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []store.AuditEvent
	}{
		{"event", store.AuditFilter{Event: "login.failed"}, []store.AuditEvent{failed}},
		{"event prefix", store.AuditFilter{Event: "login.*"}, []store.AuditEvent{failed, ok}},
		{"event prefix with a wildcard character", store.AuditFilter{Event: "login_x%*"}, []store.AuditEvent{odd}},
		{"bare star is everything", store.AuditFilter{Event: "*"}, []store.AuditEvent{role, odd, failed, ok}},
		{"unknown event", store.AuditFilter{Event: "login"}, nil},
		{"address", store.AuditFilter{IP: "192.0.2.1"}, []store.AuditEvent{role, odd, ok}},
		{"since (inclusive)", store.AuditFilter{Since: at(time.Second)}, []store.AuditEvent{role, odd, failed}},
		{"until (exclusive)", store.AuditFilter{Until: at(time.Second)}, []store.AuditEvent{ok}},
		{"range", store.AuditFilter{Since: at(time.Second), Until: at(3 * time.Second)}, []store.AuditEvent{odd, failed}},
		{"all together", store.AuditFilter{UserID: "A", Event: "login.*", IP: "192.0.2.1", Since: at(0), Until: at(time.Hour)},
			[]store.AuditEvent{ok}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantEvents(t, "ListAudit("+tc.name+")", listAudit(t, s, tc.f), tc.want)
		})
	}
}

func testAuditPages(t *testing.T, s store.Store) {
	var all []store.AuditEvent
	for i := range 7 {
		all = append(all, mustAppend(t, s, store.AuditEvent{At: at(time.Duration(i) * time.Second), Event: "event.page", SubjectID: "A"}))
	}
	page1 := listAudit(t, s, store.AuditFilter{Event: "event.page", Limit: 3})
	wantEvents(t, "page 1", page1, []store.AuditEvent{all[6], all[5], all[4]})
	// Events appended between pages never shift the next page.
	mustAppend(t, s, store.AuditEvent{At: at(time.Hour), Event: "event.page", SubjectID: "A"})
	page2 := listAudit(t, s, store.AuditFilter{Event: "event.page", Limit: 3, BeforeID: page1[2].ID})
	wantEvents(t, "page 2", page2, []store.AuditEvent{all[3], all[2], all[1]})
	page3 := listAudit(t, s, store.AuditFilter{Event: "event.page", Limit: 3, BeforeID: page2[2].ID})
	wantEvents(t, "page 3", page3, []store.AuditEvent{all[0]})
}

func testAuditLimit(t *testing.T, s store.Store) {
	var all []store.AuditEvent
	for i := range 5 {
		subject := "A"
		if i%2 == 1 {
			subject = "B"
		}
		all = append(all, mustAppend(t, s, store.AuditEvent{At: at(time.Duration(i) * time.Second), Event: fmt.Sprintf("event.%d", i), SubjectID: subject}))
	}
	wantEvents(t, "ListAudit(limit 2)", listAudit(t, s, store.AuditFilter{Limit: 2}), []store.AuditEvent{all[4], all[3]})
	wantEvents(t, "ListAudit(limit 10)", listAudit(t, s, store.AuditFilter{Limit: 10}), []store.AuditEvent{all[4], all[3], all[2], all[1], all[0]})
	wantEvents(t, "ListAudit(user A, limit 2)", listAudit(t, s, store.AuditFilter{UserID: "A", Limit: 2}), []store.AuditEvent{all[4], all[2]})
}

func testAuditCounted(t *testing.T, s store.Store) {
	first := mustAppend(t, s, store.AuditEvent{At: at(0), Event: "throttle.refused", SubjectID: "A", IP: "192.0.2.1",
		Detail: "budget=password", Dedup: "password/A/1"})
	plain := mustAppend(t, s, store.AuditEvent{At: at(time.Second), Event: "login.failed", SubjectID: "A"})
	for i := range 3 {
		mustAppend(t, s, store.AuditEvent{At: at(time.Duration(2+i) * time.Second), Event: "throttle.refused", SubjectID: "A",
			IP: "198.51.100.7", Detail: "later", Dedup: "password/A/1"})
	}
	other := mustAppend(t, s, store.AuditEvent{At: at(time.Minute), Event: "throttle.refused", SubjectID: "A",
		Detail: "next period", Dedup: "password/A/2"})
	first.Count = 4 // the first refusal's row, counting the three after it
	wantEvents(t, "ListAudit", listAudit(t, s, store.AuditFilter{}), []store.AuditEvent{other, plain, first})
}

func testAuditCountedRace(t *testing.T, s store.Store) {
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- s.AppendAudit(t.Context(), &store.AuditEvent{At: at(time.Duration(i) * time.Millisecond),
				Event: "throttle.refused", SubjectID: "A", Dedup: "second_factor/A/1"})
		}()
	}
	for range n {
		wantNoErr(t, "AppendAudit(counted, in parallel)", <-errs)
	}
	got := listAudit(t, s, store.AuditFilter{})
	if len(got) != 1 || got[0].Count != n {
		t.Fatalf("%d parallel counted events left %d rows (%+v), want one row counting %d", n, len(got), got, n)
	}
}

// testAuditMixedRace appends plain events and the repeats of two counted ones in parallel:
// every plain event is a row of its own, and each key's repeats are one row that counts them.
func testAuditMixedRace(t *testing.T, s store.Store) {
	const n = 12
	errs := make(chan error, 2*n)
	for i := range n {
		key := []string{"password/A/1", "password/B/1"}[i%2]
		go func() {
			errs <- s.AppendAudit(t.Context(), &store.AuditEvent{At: at(time.Duration(i) * time.Millisecond),
				Event: "login.failed", SubjectID: "A", Detail: fmt.Sprint(i)})
		}()
		go func() {
			errs <- s.AppendAudit(t.Context(), &store.AuditEvent{At: at(time.Duration(i) * time.Millisecond),
				Event: "throttle.refused", SubjectID: "A", Dedup: key})
		}()
	}
	for range 2 * n {
		wantNoErr(t, "AppendAudit(plain or counted, in parallel)", <-errs)
	}
	plain, counted := map[string]bool{}, map[string]int{}
	for _, e := range listAudit(t, s, store.AuditFilter{}) {
		switch e.Event {
		case "login.failed":
			if e.Count != 1 || e.Dedup != "" || plain[e.Detail] {
				t.Errorf("plain event %+v: want one row of count 1 without a key per event", e)
			}
			plain[e.Detail] = true
		case "throttle.refused":
			counted[e.Dedup] += e.Count
			if e.Count != n/2 {
				t.Errorf("counted row %+v: want one row per key counting %d", e, n/2)
			}
		}
	}
	if len(plain) != n || len(counted) != 2 {
		t.Errorf("%d plain and %d counted rows (%v), want %d and 2", len(plain), len(counted), counted, n)
	}
}

func testAuditPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustAppend(t, s, store.AuditEvent{At: at(0), Event: "user.created", SubjectID: "A"})
	mustAppend(t, s, store.AuditEvent{At: at(time.Second), Event: "throttle.refused", SubjectID: "A", Dedup: "k"})
	edge := mustAppend(t, s, store.AuditEvent{At: at(time.Hour), Event: "login.succeeded", SubjectID: "A"})
	recent := mustAppend(t, s, store.AuditEvent{At: at(2 * time.Hour), Event: "login.succeeded", SubjectID: "A"})

	n, err := s.PruneAudit(ctx, at(time.Hour))
	wantNoErr(t, "PruneAudit", err)
	if n != 2 {
		t.Fatalf("PruneAudit deleted %d events, want the 2 before the cutoff", n)
	}
	wantEvents(t, "ListAudit after the prune", listAudit(t, s, store.AuditFilter{}), []store.AuditEvent{recent, edge})
	n, err = s.PruneAudit(ctx, at(time.Hour))
	wantNoErr(t, "PruneAudit again", err)
	if n != 0 {
		t.Fatalf("a second prune deleted %d events, want 0", n)
	}

	// Inside a transaction the prune commits or rolls back with the rest.
	err = s.WithTx(ctx, func(tx store.Store) error {
		if _, err := tx.PruneAudit(ctx, at(3*time.Hour)); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "WithTx(prune, then fail)", err, errBoom)
	wantEvents(t, "ListAudit after a rolled-back prune", listAudit(t, s, store.AuditFilter{}), []store.AuditEvent{recent, edge})
	// A counted event pruned away starts a new row.
	again := mustAppend(t, s, store.AuditEvent{At: at(3 * time.Hour), Event: "throttle.refused", SubjectID: "A", Dedup: "k"})
	wantEvents(t, "ListAudit after counting a pruned key", listAudit(t, s, store.AuditFilter{}), []store.AuditEvent{again, recent, edge})
}

func testSetupUseOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok, other := randomBytes(t, 32), randomBytes(t, 32)
	expires := at(time.Hour)
	wantNoErr(t, "CreateSetupToken", s.CreateSetupToken(ctx, tok, expires))
	wantNoErr(t, "CreateSetupToken(other)", s.CreateSetupToken(ctx, other, expires))

	wantNoErr(t, "CheckSetupToken", s.CheckSetupToken(ctx, tok, base))
	wantNoErr(t, "CheckSetupToken again (checking does not use it)", s.CheckSetupToken(ctx, tok, at(time.Minute)))
	wantNoErr(t, "UseSetupToken", s.UseSetupToken(ctx, tok, at(2*time.Minute)))
	wantErr(t, "UseSetupToken a second time", s.UseSetupToken(ctx, tok, at(3*time.Minute)), store.ErrNotFound)
	wantErr(t, "CheckSetupToken after use", s.CheckSetupToken(ctx, tok, at(3*time.Minute)), store.ErrNotFound)
	wantNoErr(t, "CheckSetupToken(other token)", s.CheckSetupToken(ctx, other, at(3*time.Minute)))
}

func testSetupExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := randomBytes(t, 32)
	expires := at(time.Hour)
	wantNoErr(t, "CreateSetupToken", s.CreateSetupToken(ctx, tok, expires))
	wantNoErr(t, "CheckSetupToken just before expiry", s.CheckSetupToken(ctx, tok, expires.Add(-time.Millisecond)))
	wantErr(t, "CheckSetupToken at expiry", s.CheckSetupToken(ctx, tok, expires), store.ErrNotFound)
	wantErr(t, "UseSetupToken at expiry", s.UseSetupToken(ctx, tok, expires), store.ErrNotFound)
	wantErr(t, "UseSetupToken after expiry", s.UseSetupToken(ctx, tok, expires.Add(time.Hour)), store.ErrNotFound)
}

func testSetupUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	wantErr(t, "CheckSetupToken(unknown)", s.CheckSetupToken(ctx, randomBytes(t, 32), base), store.ErrNotFound)
	wantErr(t, "UseSetupToken(unknown)", s.UseSetupToken(ctx, randomBytes(t, 32), base), store.ErrNotFound)
}

func testSetupAdminExisted(t *testing.T, s store.Store) {
	ctx := t.Context()
	existed, err := s.AdminHasExisted(ctx)
	wantNoErr(t, "AdminHasExisted in an empty store", err)
	if existed {
		t.Fatal("AdminHasExisted = true in an empty store")
	}
	tok := randomBytes(t, 32)
	wantNoErr(t, "CreateSetupToken", s.CreateSetupToken(ctx, tok, at(time.Hour)))
	wantNoErr(t, "MarkAdminExisted", s.MarkAdminExisted(ctx, base))
	wantNoErr(t, "MarkAdminExisted again", s.MarkAdminExisted(ctx, at(time.Minute)))
	existed, err = s.AdminHasExisted(ctx)
	wantNoErr(t, "AdminHasExisted", err)
	if !existed {
		t.Error("AdminHasExisted = false after MarkAdminExisted")
	}
	wantErr(t, "CheckSetupToken after MarkAdminExisted", s.CheckSetupToken(ctx, tok, base), store.ErrNotFound)
	wantErr(t, "UseSetupToken after MarkAdminExisted", s.UseSetupToken(ctx, tok, base), store.ErrNotFound)
}

func testClaimFirstAdmin(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := randomBytes(t, 32)
	wantNoErr(t, "CreateSetupToken", s.CreateSetupToken(ctx, tok, at(time.Hour)))
	wantNoErr(t, "ClaimFirstAdmin", s.ClaimFirstAdmin(ctx, base))
	existed, err := s.AdminHasExisted(ctx)
	wantNoErr(t, "AdminHasExisted", err)
	if !existed {
		t.Error("AdminHasExisted = false after ClaimFirstAdmin")
	}
	wantErr(t, "ClaimFirstAdmin again", s.ClaimFirstAdmin(ctx, at(time.Minute)), store.ErrConflict)
	wantNoErr(t, "MarkAdminExisted after the claim", s.MarkAdminExisted(ctx, at(time.Minute)))
	wantErr(t, "ClaimFirstAdmin after MarkAdminExisted", s.ClaimFirstAdmin(ctx, at(time.Minute)), store.ErrConflict)
}
