package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

func TestAuditPrune(t *testing.T) {
	c := newConsole(t)
	c.addUser("alice", "alice@example.com", "user")
	db := c.openStore()
	ctx := context.Background()
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range []store.AuditEvent{
		{At: old, Event: "login.failed", SubjectID: "x"},
		{At: old.Add(time.Hour), Event: "throttle.refused", SubjectID: "x", Detail: "budget=password", Dedup: "k"},
		{At: old.Add(time.Hour), Event: "throttle.refused", SubjectID: "x", Dedup: "k"},
		{At: time.Now(), Event: "throttle.refused", SubjectID: "x", Detail: "budget=second_factor", Dedup: "k2"},
		{At: time.Now(), Event: "throttle.refused", SubjectID: "x", Dedup: "k2"},
	} {
		if err := db.AppendAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}

	wantLine(t, c.ok("", "audit"), `\sthrottle\.refused\s+-\s+x\s+-\s+budget=second_factor \(2 times\)$`)

	c.fails("", []string{"audit", "prune"}, "--before is required")
	c.fails("", []string{"audit", "prune", "--before", "last week"}, `--before "last week": want a date such as 2026-01-31`)
	c.fails("", []string{"audit", "prune", "--before", "2999-01-01"}, "keeps the last 24h0m0s")
	// A cutoff of now (or of an hour ago) would empty the log as surely as a future one.
	c.fails("", []string{"audit", "prune", "--before", time.Now().UTC().Format(time.RFC3339)}, "keeps the last 24h0m0s")
	c.fails("", []string{"audit", "prune", "--before", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "keeps the last 24h0m0s")

	out := c.ok("", "audit", "prune", "--before", "2021-01-01")
	if !strings.Contains(out, "Deleted 2 events before 2021-01-01T00:00:00Z.") {
		t.Fatalf("prune said %q", out)
	}
	events, err := db.ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range events {
		names = append(names, e.Event)
		if e.At.Before(old.Add(24 * time.Hour)) {
			t.Errorf("event %s of %s survived the prune", e.Event, e.At)
		}
	}
	if events[0].Event != "audit.pruned" || events[0].Detail != "2 events before 2021-01-01T00:00:00Z" || events[0].IP != "console" {
		t.Fatalf("newest event %+v, want the prune's own audit.pruned row", events[0])
	}
	if strings.Contains(strings.Join(names, " "), "login.failed") {
		t.Fatalf("events after the prune: %v", names)
	}
	// A prune with nothing to delete is still audited.
	c.ok("", "audit", "prune", "--before", "2021-01-01T00:00:00Z")
	if events, _ = db.ListAudit(ctx, store.AuditFilter{Limit: 1}); events[0].Detail != "0 events before 2021-01-01T00:00:00Z" {
		t.Fatalf("second prune recorded %+v", events[0])
	}
}
