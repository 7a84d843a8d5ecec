package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// TestHousekeepingPrunesTheAuditLog walks audit.retention: events older than the
// retention (cut at midnight UTC) go in the first round of a day, which says so in one
// audit.pruned event; later rounds that find nothing write nothing; without a retention
// nothing is ever pruned.
func TestHousekeepingPrunesTheAuditLog(t *testing.T) {
	ctx := context.Background()
	events := func(t *testing.T, st store.Store) []store.AuditEvent {
		t.Helper()
		ev, err := st.ListAudit(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	seed := func(t *testing.T, st store.Store, now time.Time) {
		t.Helper()
		for _, age := range []time.Duration{40 * 24 * time.Hour, 31 * 24 * time.Hour, 29 * 24 * time.Hour, time.Hour} {
			if err := st.AppendAudit(ctx, &store.AuditEvent{At: now.Add(-age), Event: "login.failed"}); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("with_a_retention", func(t *testing.T) {
		svc, clock := newService(t, auth.Options{AuditRetention: 30 * 24 * time.Hour})
		seed(t, fullStore(svc), clock.Now())
		if _, err := svc.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		got := events(t, fullStore(svc))
		if len(got) != 3 || got[0].Event != "audit.pruned" || got[0].IP != "housekeeping" {
			t.Fatalf("after the first round: %+v, want audit.pruned and the 2 events younger than 30 days", got)
		}
		cutoff := clock.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)
		if want := "2 events before " + cutoff.Format(time.RFC3339); got[0].Detail != want {
			t.Fatalf("audit.pruned says %q, want %q", got[0].Detail, want)
		}
		clock.Advance(5 * time.Minute)
		if _, err := svc.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if again := events(t, fullStore(svc)); len(again) != 3 {
			t.Fatalf("a round with nothing to prune wrote %d events, want none", len(again)-3)
		}
	})

	t.Run("forever_by_default", func(t *testing.T) {
		svc, clock := newService(t, auth.Options{})
		seed(t, fullStore(svc), clock.Now())
		if _, err := svc.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if got := events(t, fullStore(svc)); len(got) != 4 {
			t.Fatalf("without a retention %d events are left, want all 4", len(got))
		}
	})
}
