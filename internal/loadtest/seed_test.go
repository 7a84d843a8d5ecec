package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testutil"
)

// storeSeed writes what seeder writes the slow way, row by row through the store: the
// reference TestSeedWritesWhatTheStoreWrites compares the bulk statements with.
func storeSeed(ctx context.Context, st store.Store, users, events int, now time.Time) error {
	subjects := min(users, seedSubjects)
	for k := range users {
		name := fmt.Sprintf("seed%08d", k)
		u := &store.User{
			Account:      store.Account{ID: seedUserID(k), Username: name, Email: name + "@example.com", Role: "user"},
			UsernameNorm: name,
			EmailNorm:    name + "@example.com",
			PasswordHash: "!",
			CreatedAt:    now,
			UpdatedAt:    now,
		}
		if err := st.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	for k := range events {
		subject := ""
		if subjects > 0 {
			subject = seedUserID(k % subjects)
		}
		e := &store.AuditEvent{At: now.Add(time.Duration(k-events) * time.Second), Event: seedEvents[k%len(seedEvents)],
			ActorID: subject, SubjectID: subject, IP: fmt.Sprintf("10.%d.%d.%d", byte(k>>16), byte(k>>8), byte(k)),
			UserAgent: "twofold-load seed", Detail: "seeded"}
		if err := st.AppendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// TestSeedWritesWhatTheStoreWrites seeds one database through the store and another with
// the harness's bulk statements (a few rows per statement, so that several run), and
// reads both through the store: the same users, found by id and by login, and the same
// audit pages, in the same order, for every listing the audit scenario times.
func TestSeedWritesWhatTheStoreWrites(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.UnixMilli(time.Now().UnixMilli()).UTC()
	const users, events = 23, 61
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			open := func(url string) *backend {
				b, err := openBackend(ctx, t.TempDir(), url, CheapArgon2, log, io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { b.Close() })
				return b
			}
			second := ""
			if db.url != "" {
				second = testutil.PostgresURL(t)
			}
			ref, bulk := open(db.url), open(second)
			if err := storeSeed(ctx, ref.setup.Store, users, events, now); err != nil {
				t.Fatalf("seed through the store: %v", err)
			}
			s := seeder{db: bulk.raw, postgres: db.url != "", now: now, chunk: 7}
			if err := s.users(ctx, users); err != nil {
				t.Fatal(err)
			}
			if err := s.audit(ctx, events, min(users, seedSubjects)); err != nil {
				t.Fatal(err)
			}
			for k := range users {
				want, err := ref.setup.Store.GetUser(ctx, seedUserID(k))
				if err != nil {
					t.Fatal(err)
				}
				got, err := bulk.setup.Store.GetUserByLogin(ctx, fmt.Sprintf("seed%08d@example.com", k))
				if err != nil {
					t.Fatalf("user %d: %v", k, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("user %d:\n got %+v\nwant %+v", k, got, want)
				}
			}
			if _, err := bulk.setup.Store.GetUser(ctx, seedUserID(users)); err != store.ErrNotFound {
				t.Errorf("user %d of %d: got %v, want ErrNotFound", users, users, err)
			}
			listings := append(auditQueries(seedUserID(5)), struct {
				name string
				f    store.AuditFilter
			}{"all", store.AuditFilter{}})
			for _, q := range listings {
				want, err := ref.setup.Store.ListAudit(ctx, q.f)
				if err != nil {
					t.Fatal(err)
				}
				got, err := bulk.setup.Store.ListAudit(ctx, q.f)
				if err != nil {
					t.Fatal(err)
				}
				if len(want) == 0 {
					t.Fatalf("%s: the reference lists nothing", q.name)
				}
				if len(got) != len(want) {
					t.Fatalf("%s: %d events, want %d", q.name, len(got), len(want))
				}
				for i := range got {
					g, w := got[i], want[i]
					g.ID, w.ID = 0, 0 // both count from 1 here, but need not
					if g != w {
						t.Errorf("%s, event %d:\n got %+v\nwant %+v", q.name, i, g, w)
					}
				}
			}
		})
	}
}

// TestRunSeeds runs the audit scenario over a seeded database: the harness reports the
// seeding and lists a seeded user's events.
func TestRunSeeds(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			var out bytes.Buffer
			p := CheapArgon2
			_, err := Run(context.Background(), Config{Users: 2, Duration: 200 * time.Millisecond, SeedUsers: 1200,
				SeedAudit: 3000, Scenarios: []string{ScenarioAudit}, DatabaseURL: db.url, Argon2: &p, Out: &out,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			for _, want := range []string{"seeded 1200 users", "seeded 3000 audit rows"} {
				if !bytes.Contains(out.Bytes(), []byte(want)) {
					t.Errorf("the report does not say %q:\n%s", want, out.String())
				}
			}
		})
	}
}
