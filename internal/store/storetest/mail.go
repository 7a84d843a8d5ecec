package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var mailTests = []subtest{
	{"EnqueueStoresPending", testMailEnqueue},
	{"EnqueueRollsBackWithItsTransaction", testMailEnqueueRollback},
	{"AfterCommitRunsOnlyOnCommit", testMailAfterCommit},
	{"ClaimTakesOnlyDueUnclaimedMail", testMailClaimDue},
	{"ExpiredLeaseIsClaimedAgain", testMailLeaseExpiry},
	{"SentOnlyUnderTheClaim", testMailMarkSent},
	{"DeferReleasesTheClaim", testMailDefer},
	{"FailedMailRetriesOnRequest", testMailFailRetry},
	{"ListNewestFirstByStatus", testMailList},
	{"NextDueIsTheEarliest", testMailNextDue},
	{"QueueStatsCountPendingAndFailed", testMailQueueStats},
	{"ParallelClaimsAreDisjoint", testMailParallelClaims},
	{"DeleteExpiredRemovesOldSentMail", testMailDeleteExpired},
}

// mailFixture returns an unsaved mail to to, due at due.
func mailFixture(t testing.TB, to string, due time.Time) *store.QueuedMail {
	t.Helper()
	return &store.QueuedMail{
		Kind:          "password_changed",
		To:            to,
		Message:       randomBytes(t, 48),
		CreatedAt:     due,
		NextAttemptAt: due,
		GiveUpAt:      due.Add(24 * time.Hour),
	}
}

func mustEnqueue(t testing.TB, s store.Store, to string, due time.Time) *store.QueuedMail {
	t.Helper()
	m := mailFixture(t, to, due)
	if err := s.EnqueueMail(t.Context(), m); err != nil {
		t.Fatalf("EnqueueMail: %v", err)
	}
	return m
}

func getMail(t testing.TB, s store.Store, id int64) *store.QueuedMail {
	t.Helper()
	m, err := s.GetMail(t.Context(), id)
	if err != nil {
		t.Fatalf("GetMail(%d): %v", id, err)
	}
	return m
}

func testMailEnqueue(t *testing.T, s store.Store) {
	a := mustEnqueue(t, s, "a@example.com", at(0))
	b := mustEnqueue(t, s, "b@example.com", at(0))
	if a.ID == 0 || b.ID == a.ID {
		t.Fatalf("ids %d and %d: want distinct non-zero ids", a.ID, b.ID)
	}
	want := *a
	want.Status = store.MailPending
	wantSame(t, "enqueued mail", getMail(t, s, a.ID), &want)
	_, err := s.GetMail(t.Context(), a.ID+b.ID+100)
	wantErr(t, "GetMail(unknown)", err, store.ErrNotFound)
}

func testMailEnqueueRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	var id int64
	err := s.WithTx(ctx, func(tx store.Store) error {
		m := mailFixture(t, "a@example.com", at(0))
		if err := tx.EnqueueMail(ctx, m); err != nil {
			return err
		}
		id = m.ID
		return errBoom
	})
	wantErr(t, "WithTx", err, errBoom)
	_, err = s.GetMail(ctx, id)
	wantErr(t, "GetMail after rollback", err, store.ErrNotFound)
	got, err := s.ClaimMail(ctx, "c", at(time.Hour), at(2*time.Hour), 10)
	wantNoErr(t, "ClaimMail", err)
	if len(got) != 0 {
		t.Errorf("claimed %d mails after the enqueue rolled back, want 0", len(got))
	}
}

func testMailAfterCommit(t *testing.T, s store.Store) {
	ctx := t.Context()
	ran := 0
	s.AfterCommit(func() { ran++ })
	if ran != 1 {
		t.Fatalf("AfterCommit outside a transaction ran %d times, want 1 at once", ran)
	}
	_ = s.WithTx(ctx, func(tx store.Store) error {
		tx.AfterCommit(func() { ran++ })
		return errBoom
	})
	if ran != 1 {
		t.Errorf("AfterCommit ran on rollback")
	}
	err := s.WithTx(ctx, func(tx store.Store) error {
		tx.AfterCommit(func() { ran++ })
		return tx.WithTx(ctx, func(tx2 store.Store) error {
			tx2.AfterCommit(func() { ran++ })
			if ran != 1 {
				t.Errorf("AfterCommit ran before the commit")
			}
			return nil
		})
	})
	wantNoErr(t, "WithTx", err)
	if ran != 3 {
		t.Errorf("after the commit AfterCommit ran %d functions, want 2", ran-1)
	}
}

func testMailClaimDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	due := mustEnqueue(t, s, "due@example.com", at(0))
	mustEnqueue(t, s, "later@example.com", at(time.Hour))
	got, err := s.ClaimMail(ctx, "first", at(time.Minute), at(6*time.Minute), 10)
	wantNoErr(t, "ClaimMail", err)
	if len(got) != 1 || got[0].ID != due.ID {
		t.Fatalf("claimed %v, want only the due mail %d", got, due.ID)
	}
	if got[0].Claim != "first" || got[0].Attempts != 1 || !got[0].ClaimedUntil.Equal(at(6*time.Minute)) {
		t.Errorf("claimed mail: claim %q attempts %d until %s, want first, 1, %s",
			got[0].Claim, got[0].Attempts, got[0].ClaimedUntil, at(6*time.Minute))
	}
	wantSame(t, "claimed mail (as returned)", &got[0], getMail(t, s, due.ID))
	again, err := s.ClaimMail(ctx, "second", at(2*time.Minute), at(7*time.Minute), 10)
	wantNoErr(t, "ClaimMail again", err)
	if len(again) != 0 {
		t.Errorf("a held claim was taken again: %v", again)
	}
}

func testMailLeaseExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := mustEnqueue(t, s, "a@example.com", at(0))
	_, err := s.ClaimMail(ctx, "crashed", at(0), at(5*time.Minute), 10)
	wantNoErr(t, "ClaimMail", err)
	got, err := s.ClaimMail(ctx, "next", at(5*time.Minute), at(10*time.Minute), 10)
	wantNoErr(t, "ClaimMail after the lease", err)
	if len(got) != 1 || got[0].ID != m.ID || got[0].Claim != "next" || got[0].Attempts != 2 {
		t.Fatalf("after the lease ran out got %+v, want mail %d claimed by next at attempt 2", got, m.ID)
	}
	err = s.MarkMailSent(ctx, m.ID, "crashed", at(6*time.Minute))
	wantErr(t, "MarkMailSent by the claim that expired", err, store.ErrNotFound)
}

func testMailMarkSent(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := mustEnqueue(t, s, "a@example.com", at(0))
	err := s.MarkMailSent(ctx, m.ID, "", at(time.Second))
	wantErr(t, "MarkMailSent unclaimed", err, store.ErrNotFound)
	_, err = s.ClaimMail(ctx, "mine", at(0), at(time.Minute), 10)
	wantNoErr(t, "ClaimMail", err)
	err = s.MarkMailSent(ctx, m.ID, "other", at(time.Second))
	wantErr(t, "MarkMailSent with another claim", err, store.ErrNotFound)
	wantNoErr(t, "MarkMailSent", s.MarkMailSent(ctx, m.ID, "mine", at(time.Second)))
	got := getMail(t, s, m.ID)
	if got.Status != store.MailSent || got.Message != nil || got.Claim != "" || !got.FinishedAt.Equal(at(time.Second)) {
		t.Errorf("sent mail: status %q message %x claim %q finished %s; want sent, no message, no claim, %s",
			got.Status, got.Message, got.Claim, got.FinishedAt, at(time.Second))
	}
	err = s.MarkMailSent(ctx, m.ID, "mine", at(2*time.Second))
	wantErr(t, "MarkMailSent twice", err, store.ErrNotFound)
	again, err := s.ClaimMail(ctx, "later", at(time.Hour), at(2*time.Hour), 10)
	wantNoErr(t, "ClaimMail", err)
	if len(again) != 0 {
		t.Errorf("a sent mail was claimed again")
	}
}

func testMailDefer(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := mustEnqueue(t, s, "a@example.com", at(0))
	_, err := s.ClaimMail(ctx, "mine", at(0), at(time.Minute), 10)
	wantNoErr(t, "ClaimMail", err)
	err = s.DeferMail(ctx, m.ID, "other", "refused", at(time.Minute))
	wantErr(t, "DeferMail with another claim", err, store.ErrNotFound)
	wantNoErr(t, "DeferMail", s.DeferMail(ctx, m.ID, "mine", "451 try later", at(10*time.Minute)))
	got := getMail(t, s, m.ID)
	if got.Status != store.MailPending || got.LastError != "451 try later" || got.Claim != "" ||
		!got.ClaimedUntil.IsZero() || !got.NextAttemptAt.Equal(at(10*time.Minute)) {
		t.Errorf("deferred mail: %+v", got)
	}
	early, err := s.ClaimMail(ctx, "x", at(9*time.Minute), at(20*time.Minute), 10)
	wantNoErr(t, "ClaimMail early", err)
	if len(early) != 0 {
		t.Errorf("a deferred mail was claimed before its next attempt")
	}
	due, err := s.ClaimMail(ctx, "y", at(10*time.Minute), at(20*time.Minute), 10)
	wantNoErr(t, "ClaimMail due", err)
	if len(due) != 1 || due[0].Attempts != 2 {
		t.Errorf("at its next attempt got %+v, want the mail at attempt 2", due)
	}
}

func testMailFailRetry(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := mustEnqueue(t, s, "a@example.com", at(0))
	err := s.RetryMail(ctx, m.ID, at(time.Second), at(time.Hour))
	wantErr(t, "RetryMail of a pending mail", err, store.ErrNotFound)
	_, err = s.ClaimMail(ctx, "mine", at(0), at(time.Minute), 10)
	wantNoErr(t, "ClaimMail", err)
	err = s.FailMail(ctx, m.ID, "other", "gone", at(time.Second))
	wantErr(t, "FailMail with another claim", err, store.ErrNotFound)
	wantNoErr(t, "FailMail", s.FailMail(ctx, m.ID, "mine", "550 no such user", at(time.Second)))
	got := getMail(t, s, m.ID)
	if got.Status != store.MailFailed || got.LastError != "550 no such user" || got.Claim != "" ||
		!got.FinishedAt.Equal(at(time.Second)) || string(got.Message) != string(m.Message) {
		t.Errorf("failed mail: %+v", got)
	}
	none, err := s.ClaimMail(ctx, "x", at(time.Hour), at(2*time.Hour), 10)
	wantNoErr(t, "ClaimMail", err)
	if len(none) != 0 {
		t.Errorf("a failed mail was claimed")
	}
	wantNoErr(t, "RetryMail", s.RetryMail(ctx, m.ID, at(time.Hour), at(25*time.Hour)))
	got = getMail(t, s, m.ID)
	if got.Status != store.MailPending || got.Attempts != 0 || !got.FinishedAt.IsZero() ||
		!got.NextAttemptAt.Equal(at(time.Hour)) || !got.GiveUpAt.Equal(at(25*time.Hour)) {
		t.Errorf("retried mail: %+v", got)
	}
	err = s.RetryMail(ctx, m.ID+1000, at(time.Hour), at(25*time.Hour))
	wantErr(t, "RetryMail of an unknown mail", err, store.ErrNotFound)
}

func testMailList(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustEnqueue(t, s, "a@example.com", at(0))
	b := mustEnqueue(t, s, "b@example.com", at(0))
	c := mustEnqueue(t, s, "c@example.com", at(time.Hour))
	_, err := s.ClaimMail(ctx, "mine", at(0), at(time.Minute), 10)
	wantNoErr(t, "ClaimMail", err)
	wantNoErr(t, "FailMail", s.FailMail(ctx, b.ID, "mine", "gone", at(time.Second)))
	ids := func(f store.MailFilter) []int64 {
		t.Helper()
		list, err := s.ListMail(ctx, f)
		wantNoErr(t, "ListMail", err)
		var out []int64
		for _, m := range list {
			out = append(out, m.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f    store.MailFilter
		want []int64
	}{
		{store.MailFilter{}, []int64{c.ID, b.ID, a.ID}},
		{store.MailFilter{Limit: 2}, []int64{c.ID, b.ID}},
		{store.MailFilter{Status: store.MailFailed}, []int64{b.ID}},
		{store.MailFilter{Status: store.MailPending}, []int64{c.ID, a.ID}},
		{store.MailFilter{Status: store.MailSent}, nil},
	} {
		if got := ids(tc.f); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ListMail(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
}

func testMailNextDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, ok, err := s.NextMailDue(ctx)
	wantNoErr(t, "NextMailDue", err)
	if ok {
		t.Errorf("NextMailDue on an empty queue: ok, want none")
	}
	mustEnqueue(t, s, "late@example.com", at(time.Hour))
	m := mustEnqueue(t, s, "soon@example.com", at(time.Minute))
	due, ok, err := s.NextMailDue(ctx)
	wantNoErr(t, "NextMailDue", err)
	if !ok || !due.Equal(at(time.Minute)) {
		t.Errorf("NextMailDue = %s, %v; want %s", due, ok, at(time.Minute))
	}
	_, err = s.ClaimMail(ctx, "mine", at(time.Minute), at(30*time.Minute), 1)
	wantNoErr(t, "ClaimMail", err)
	due, _, err = s.NextMailDue(ctx)
	wantNoErr(t, "NextMailDue", err)
	if !due.Equal(at(30 * time.Minute)) {
		t.Errorf("NextMailDue with mail %d claimed until %s = %s", m.ID, at(30*time.Minute), due)
	}
}

// testMailQueueStats: the counts of pending and failed mail, and the earliest due as
// NextMailDue says it.
func testMailQueueStats(t *testing.T, s store.Store) {
	ctx := t.Context()
	st, err := s.MailQueueStats(ctx)
	wantNoErr(t, "MailQueueStats", err)
	if st.Pending != 0 || st.Failed != 0 || !st.NextDue.IsZero() {
		t.Errorf("MailQueueStats of an empty queue = %+v", st)
	}
	failing := mustEnqueue(t, s, "gone@example.com", at(0))
	_, err = s.ClaimMail(ctx, "mine", at(0), at(time.Minute), 1)
	wantNoErr(t, "ClaimMail", err)
	wantNoErr(t, "FailMail", s.FailMail(ctx, failing.ID, "mine", "550 no such user", at(time.Second)))
	soon := mustEnqueue(t, s, "soon@example.com", at(time.Minute))
	mustEnqueue(t, s, "late@example.com", at(time.Hour))
	sent := mustEnqueue(t, s, "sent@example.com", at(-time.Hour))
	_, err = s.ClaimMail(ctx, "mine", at(-time.Hour), at(time.Minute), 1)
	wantNoErr(t, "ClaimMail", err)
	wantNoErr(t, "MarkMailSent", s.MarkMailSent(ctx, sent.ID, "mine", at(-time.Hour)))
	st, err = s.MailQueueStats(ctx)
	wantNoErr(t, "MailQueueStats", err)
	if st.Pending != 2 || st.Failed != 1 || !st.NextDue.Equal(at(time.Minute)) {
		t.Errorf("MailQueueStats = %+v, want 2 pending, 1 failed, next due %s", st, at(time.Minute))
	}
	// A claim holds the mail until its lease ends: then it is due again.
	_, err = s.ClaimMail(ctx, "mine", at(time.Minute), at(30*time.Minute), 1)
	wantNoErr(t, "ClaimMail", err)
	st, err = s.MailQueueStats(ctx)
	wantNoErr(t, "MailQueueStats", err)
	if !st.NextDue.Equal(at(30 * time.Minute)) {
		t.Errorf("MailQueueStats with mail %d claimed until %s: next due %s", soon.ID, at(30*time.Minute), st.NextDue)
	}
}

// testMailParallelClaims: senders claiming at once take every mail exactly once.
func testMailParallelClaims(t *testing.T, s store.Store) {
	ctx := t.Context()
	const mails, senders = 60, 8
	for i := range mails {
		mustEnqueue(t, s, fmt.Sprintf("u%d@example.com", i), at(0))
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	errs := race(senders, func(i int) error {
		for {
			got, err := s.ClaimMail(ctx, fmt.Sprintf("sender%d", i), at(time.Second), at(time.Hour), 3)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, m := range got {
				claimed[m.ID]++
			}
			mu.Unlock()
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("sender %d: %v", i, err)
		}
	}
	if len(claimed) != mails {
		t.Errorf("%d of %d mails claimed", len(claimed), mails)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("mail %d claimed %d times", id, n)
		}
	}
}

// testMailDeleteExpired: housekeeping removes mail sent more than SentMailKept ago, and
// keeps recent sent mail, failed mail and pending mail whatever their age.
func testMailDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	oldSent := mustEnqueue(t, s, "old@example.com", at(0))
	newSent := mustEnqueue(t, s, "new@example.com", at(0))
	failed := mustEnqueue(t, s, "failed@example.com", at(0))
	claimed, err := s.ClaimMail(ctx, "mine", at(0), at(time.Minute), 10)
	wantNoErr(t, "ClaimMail", err)
	if len(claimed) != 3 {
		t.Fatalf("claimed %d, want 3", len(claimed))
	}
	pending := mustEnqueue(t, s, "pending@example.com", at(0))
	wantNoErr(t, "MarkMailSent", s.MarkMailSent(ctx, oldSent.ID, "mine", at(time.Second)))
	wantNoErr(t, "MarkMailSent", s.MarkMailSent(ctx, newSent.ID, "mine", at(time.Hour)))
	wantNoErr(t, "FailMail", s.FailMail(ctx, failed.ID, "mine", "gone", at(time.Second)))
	now := at(time.Hour + store.SentMailKept)
	n, err := s.DeleteExpired(ctx, now, now)
	wantNoErr(t, "DeleteExpired", err)
	if n != 1 {
		t.Errorf("DeleteExpired = %d, want 1 (the mail sent long ago)", n)
	}
	_, err = s.GetMail(ctx, oldSent.ID)
	wantErr(t, "GetMail(sent long ago)", err, store.ErrNotFound)
	for _, id := range []int64{newSent.ID, failed.ID, pending.ID} {
		getMail(t, s, id)
	}
}
