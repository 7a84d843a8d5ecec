package loadtest

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// seedBatch is how many rows one seeding transaction writes.
const seedBatch = 5000

// seedEvents are the audit events the seeded rows carry, in turn: what a busy deployment's
// log mostly holds.
var seedEvents = []string{"login.succeeded", "login.password_verified", "login.failed", "session.ended", "oidc.token_issued"}

// seed adds users accounts that cannot sign in (no password, no authenticator) and events
// audit rows about them, through the store of the harness process, so that the scenarios
// run against a database of that size. It returns one seeded user's id (for the audit
// listing) or "" when it seeded no users.
func seed(ctx context.Context, b *backend, users, events int, out io.Writer) (string, error) {
	st := b.setup.Store
	now := b.clock.Now()
	ids := make([]string, 0, min(users, 100_000)) // the subjects of the events
	start := time.Now()
	for i := 0; i < users; i += seedBatch {
		err := st.WithTx(ctx, func(tx store.Store) error {
			for k := i; k < min(i+seedBatch, users); k++ {
				name := fmt.Sprintf("seed%08d", k)
				u := &store.User{ID: fmt.Sprintf("seed-%08d", k), Username: name, UsernameNorm: name,
					Email: name + "@example.com", EmailNorm: name + "@example.com", Role: "user",
					PasswordHash: "!", CreatedAt: now, UpdatedAt: now}
				if err := tx.CreateUser(ctx, u); err != nil {
					return fmt.Errorf("seed user %s: %w", name, err)
				}
				if len(ids) < cap(ids) {
					ids = append(ids, u.ID)
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	if users > 0 {
		fmt.Fprintf(out, "seeded %d users in %s\n", users, time.Since(start).Round(time.Millisecond))
	}
	start = time.Now()
	for i := 0; i < events; i += seedBatch {
		err := st.WithTx(ctx, func(tx store.Store) error {
			for k := i; k < min(i+seedBatch, events); k++ {
				subject := ""
				if len(ids) > 0 {
					subject = ids[k%len(ids)]
				}
				e := &store.AuditEvent{At: now.Add(time.Duration(k-events) * time.Second), Event: seedEvents[k%len(seedEvents)],
					ActorID: subject, SubjectID: subject, IP: fmt.Sprintf("10.%d.%d.%d", byte(k>>16), byte(k>>8), byte(k)),
					UserAgent: "twofold-load seed", Detail: "seeded"}
				if err := tx.AppendAudit(ctx, e); err != nil {
					return fmt.Errorf("seed audit row: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	if events > 0 {
		fmt.Fprintf(out, "seeded %d audit rows in %s\n", events, time.Since(start).Round(time.Millisecond))
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[len(ids)/2], nil
}

// auditQueries are the audit listings the audit scenario times: a page of the newest
// events, a page of one user's, a page of one event kind's and of an event prefix's.
func auditQueries(userID string) []struct {
	name string
	f    store.AuditFilter
} {
	return []struct {
		name string
		f    store.AuditFilter
	}{
		{"newest 50", store.AuditFilter{Limit: 50}},
		{"one user's newest 50", store.AuditFilter{UserID: userID, Limit: 50}},
		{"one event's newest 50", store.AuditFilter{Event: "session.ended", Limit: 50}},
		{"event prefix login.*, newest 50", store.AuditFilter{Event: "login.*", Limit: 50}},
	}
}

// auditListing times the audit listings through the store of the harness process (not over
// HTTP: the admin API needs an administrator's token, and the query is what grows): each
// listing as often as it fits in a share of the scenario's time. Completed is calls; the
// latencies are per listing.
func auditListing(ctx context.Context, b *backend, userID string, c Config) (*Result, error) {
	qs := auditQueries(userID)
	r := &Result{Name: ScenarioAudit, Concurrency: 1}
	start := time.Now()
	per := c.Duration / time.Duration(len(qs))
	for _, q := range qs {
		rec := &recorder{}
		end := time.Now().Add(per)
		for n := 0; n < c.MaxRequests && time.Now().Before(end); n++ {
			t0 := time.Now()
			_, err := b.setup.Store.ListAudit(ctx, q.f)
			status := 200
			if err != nil {
				status = transportError
			}
			rec.add(status, time.Since(t0))
		}
		e := merge(endpoint{name: "ListAudit: " + q.name, expected: 200}, []*recorder{rec})
		r.Endpoints = append(r.Endpoints, e)
		r.Completed += e.Requests
	}
	r.Elapsed = time.Since(start)
	r.Notes = []string{"store calls in the harness process, one at a time (not over HTTP); server CPU and RSS do not apply"}
	return r, nil
}
