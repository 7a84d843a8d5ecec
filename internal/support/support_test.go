package support_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/support"
)

const testPassword = "correct horse battery staple 9"

type fixture struct {
	db    *sqlstore.DB
	rec   *recordingStore
	auth  *auth.Service
	svc   *support.Service
	mail  *mailtest.Queue
	queue *mail.Queue
	clock time.Time
}

// newFixture wires a support service over a recording SQLite store.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keyring, err := secrets.NewKeyring(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, clock: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.rec = &recordingStore{Store: db, log: &callLog{}}
	now := func() time.Time { return f.clock }
	f.mail = mailtest.NewQueue(t, db, keyring, now)
	f.queue = f.mail.Queue
	f.auth = auth.New(auth.Options{Store: db, Keyring: keyring, Now: now,
		Hasher: password.NewHasher(password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 4, 5*time.Second)})
	f.svc = support.New(support.Options{Store: f.rec, Auth: f.auth, Post: mail.Post{Queue: f.queue, BaseURL: "https://id.example.com/"},
		CasesPerIPHour: 100000, CasesPerEmailHour: 100000, Now: now})
	return f
}

func (f *fixture) user(t *testing.T, name, role string) *store.User {
	t.Helper()
	u, err := f.auth.CreateUser(t.Context(), auth.NewUser{Username: name, Email: name + "@example.com", Role: role, Password: testPassword}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func request(email string) support.CaseRequest {
	return support.CaseRequest{FullName: "Ada Lovelace", Email: email, Organisation: "Engines", Category: support.CategoryLostDevice,
		Description: "Lost my phone."}
}

// TestOpenCaseDoesTheSameWorkForExistingAndMissingAccounts checks what makes case creation
// unable to reveal an account: both paths call the same store methods in the same order
// (none of which looks a user up), send the same kind of mail, and answer alike.
func TestOpenCaseDoesTheSameWorkForExistingAndMissingAccounts(t *testing.T) {
	f := newFixture(t)
	f.user(t, "ada", store.RoleUser)
	f.rec.log.take()
	m := auth.Meta{IP: "192.0.2.1", UserAgent: "test"}

	open := func(email string) ([]string, string) {
		t.Helper()
		ref, err := f.svc.OpenCase(t.Context(), request(email), m)
		if err != nil {
			t.Fatalf("OpenCase(%s): %v", email, err)
		}
		return f.rec.log.take(), ref
	}
	existing, ref1 := open("ada@example.com")
	missing, ref2 := open("nobody@example.com")
	t.Logf("store calls for either: %v", existing)
	if !slices.Equal(existing, missing) {
		t.Errorf("store calls differ:\n  existing account: %v\n  missing account:  %v", existing, missing)
	}
	for _, call := range existing {
		if strings.HasPrefix(call, "GetUser") || call == "ListUsers" {
			t.Errorf("opening a case looks an account up (%s)", call)
		}
	}
	if len(ref1) != len(ref2) || ref1 == ref2 {
		t.Errorf("references %q and %q", ref1, ref2)
	}
	msgs := f.mail.Messages()
	if len(msgs) != 2 || msgs[0].Kind != msgs[1].Kind || msgs[0].To != "ada@example.com" || msgs[1].To != "nobody@example.com" {
		t.Errorf("mail: %+v", msgs)
	}
	if strings.ReplaceAll(msgs[0].Text, ref1, "REF") != strings.ReplaceAll(msgs[1].Text, ref2, "REF") {
		t.Errorf("the confirmations differ beyond the reference")
	}

	// Timing, for the report only (speed is never asserted): medians of many tries.
	const n = 100
	var a, b []time.Duration
	for i := range 2 * n {
		email := "ada@example.com"
		if i%2 == 1 {
			email = "nobody@example.com"
		}
		start := time.Now()
		if _, err := f.svc.OpenCase(t.Context(), request(email), m); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			a = append(a, time.Since(start))
		} else {
			b = append(b, time.Since(start))
		}
	}
	t.Logf("median time to open a case (SQLite, %d tries each): existing account %v, missing account %v", n, median(a), median(b))
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func TestNormalizeReference(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"TF-ACD234", "TF-ACD234", true},
		{" tf-acd234 ", "TF-ACD234", true},
		{"TFACD234", "TF-ACD234", true},
		{"acd234", "TF-ACD234", true},
		{"TF-ACD23", "", false},
		{"TF-ACD2345", "", false},
		{"TF-0CD234", "", false}, // 0 is not in the alphabet
		{"TF-ICD234", "", false},
		{"TF-ACD23%", "", false},
		{"", "", false},
		{strings.Repeat("A", 100), "", false},
	} {
		got, ok := support.NormalizeReference(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeReference(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestReferencesAreRandomAndUnambiguous(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for i := range 200 {
		ref, err := f.svc.OpenCase(t.Context(), request("ada@example.com"), auth.Meta{IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if norm, ok := support.NormalizeReference(ref); !ok || norm != ref {
			t.Fatalf("reference %q is not in normal form", ref)
		}
		if strings.ContainsAny(ref[3:], "01OILUVSB58") {
			t.Fatalf("reference %q has an ambiguous character", ref)
		}
		if seen[ref] {
			t.Fatalf("reference %q drawn twice in %d", ref, i)
		}
		seen[ref] = true
	}
}

func TestResetAtConsole(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ada := f.user(t, "ada", store.RoleUser)
	bob := f.user(t, "bob", store.RoleUser)
	if err := f.db.PutTOTP(ctx, &store.TOTPCredential{UserID: ada.ID, SecretEnc: []byte("x"), CreatedAt: f.clock}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.PutRecoveryCode(ctx, &store.RecoveryCode{UserID: ada.ID, CodeHash: []byte("h"), CreatedAt: f.clock}); err != nil {
		t.Fatal(err)
	}
	ref, err := f.svc.OpenCase(ctx, request("ada@example.com"), auth.Meta{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	console := auth.Meta{IP: "console", UserAgent: "twofold-cli"}

	t.Run("a_reason_is_required", func(t *testing.T) {
		_, err := f.svc.ResetAtConsole(ctx, ada, "  ", "", console)
		wantCode(t, err, apperr.CodeBadRequest)
	})
	t.Run("the_case_must_match_the_user", func(t *testing.T) {
		_, err := f.svc.ResetAtConsole(ctx, bob, "lost phone", ref, console)
		wantCode(t, err, apperr.CodeForbidden)
		_, err = f.svc.ResetAtConsole(ctx, ada, "lost phone", "TF-ZZZZZZ", console)
		wantCode(t, err, apperr.CodeNotFound)
	})
	t.Run("reset_with_a_case", func(t *testing.T) {
		res, err := f.svc.ResetAtConsole(ctx, ada, "called back, voice known", strings.ToLower(ref), console)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != support.ResetDone || !res.EnrollmentRequired || !res.Notified {
			t.Errorf("result %+v", res)
		}
		if _, err := f.db.GetTOTP(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("authenticator: %v", err)
		}
		if _, err := f.db.GetRecoveryCode(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("recovery code: %v", err)
		}
		msgs := f.mail.Messages()
		last := msgs[len(msgs)-1]
		if last.To != "ada@example.com" || !strings.Contains(last.Text, ref) {
			t.Errorf("notice: %+v", last)
		}
		events, err := f.db.ListAudit(ctx, store.AuditFilter{UserID: ada.ID, Limit: 1})
		if err != nil || len(events) != 1 || events[0].Event != "support.mfa_reset" || events[0].IP != "console" ||
			!strings.Contains(events[0].Detail, "case="+ref) || !strings.Contains(events[0].Detail, "agent=the console") {
			t.Errorf("audit: %+v %v", events, err)
		}
	})
	t.Run("reset_without_a_case", func(t *testing.T) {
		res, err := f.svc.ResetAtConsole(ctx, bob, "new phone, verified in person", "", console)
		if err != nil {
			t.Fatal(err)
		}
		if res.Username != "bob" {
			t.Errorf("result %+v", res)
		}
		events, _ := f.db.ListAudit(ctx, store.AuditFilter{UserID: bob.ID, Limit: 1})
		if len(events) != 1 || !strings.Contains(events[0].Detail, "case=-") || !strings.Contains(events[0].Detail, "reason=new phone") {
			t.Errorf("audit: %+v", events)
		}
	})
}

func TestOnlyAgentsWorkCases(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.user(t, "ursula", store.RoleUser)
	ref, _ := f.svc.OpenCase(ctx, request("ursula@example.com"), auth.Meta{})
	for name, call := range map[string]func() error{
		"list":   func() error { _, err := f.svc.ListCases(ctx, &u.Account, support.Filter{}); return err },
		"case":   func() error { _, err := f.svc.Case(ctx, &u.Account, ref); return err },
		"note":   func() error { _, err := f.svc.AddNote(ctx, &u.Account, ref, "x", auth.Meta{}); return err },
		"assign": func() error { return f.svc.Assign(ctx, &u.Account, ref, auth.Meta{}) },
		"verify": func() error { _, err := f.svc.SendVerification(ctx, &u.Account, ref, "", auth.Meta{}); return err },
		"reset": func() error {
			_, err := f.svc.RequestReset(ctx, &u.Account, ref, support.ResetRequest{Verification: "other", Note: "x"}, auth.Meta{})
			return err
		},
		"approve": func() error { _, err := f.svc.ApproveReset(ctx, &u.Account, ref, auth.Meta{}); return err },
		"close":   func() error { return f.svc.Close(ctx, &u.Account, ref, "resolved", "x", auth.Meta{}) },
		"nil":     func() error { _, err := f.svc.ListCases(ctx, nil, support.Filter{}); return err },
	} {
		t.Run(name, func(t *testing.T) { wantCode(t, call(), apperr.CodeForbidden) })
	}
	disabled := f.user(t, "sam", store.RoleSupport)
	disabled.Disabled = true
	_, err := f.svc.ListCases(ctx, &disabled.Account, support.Filter{})
	wantCode(t, err, apperr.CodeForbidden)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}
