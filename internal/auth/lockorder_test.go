package auth_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/totp"
)

// The row writes and locks recordingStore records besides its own (and LockUser, in
// reset_test.go): the ones a transaction that takes the second-factor budget may make on
// the user's other rows.

func (s recordingStore) AcceptTOTPStep(ctx context.Context, userID string, step int64, now time.Time) error {
	s.add("AcceptTOTPStep")
	return s.Store.AcceptTOTPStep(ctx, userID, step, now)
}

func (s recordingStore) PutTOTP(ctx context.Context, c *store.TOTPCredential) error {
	s.add("PutTOTP")
	return s.Store.PutTOTP(ctx, c)
}

func (s recordingStore) PutPendingTOTP(ctx context.Context, p *store.PendingTOTP) error {
	s.add("PutPendingTOTP")
	return s.Store.PutPendingTOTP(ctx, p)
}

func (s recordingStore) ClaimPendingTOTP(ctx context.Context, userID, sessionID string, secretEnc []byte) error {
	s.add("ClaimPendingTOTP")
	return s.Store.ClaimPendingTOTP(ctx, userID, sessionID, secretEnc)
}

func (s recordingStore) PutRecoveryCode(ctx context.Context, c *store.RecoveryCode) error {
	s.add("PutRecoveryCode")
	return s.Store.PutRecoveryCode(ctx, c)
}

func (s recordingStore) ConsumeRecoveryCode(ctx context.Context, userID string, oldHash, newHash []byte, now time.Time) error {
	s.add("ConsumeRecoveryCode")
	return s.Store.ConsumeRecoveryCode(ctx, userID, oldHash, newHash, now)
}

func (s recordingStore) SetSessionSecondFactor(ctx context.Context, id string, at time.Time) error {
	s.add("SetSessionSecondFactor")
	return s.Store.SetSessionSecondFactor(ctx, id, at)
}

func (s recordingStore) SetUserLastLogin(ctx context.Context, id string, at time.Time) error {
	s.add("SetUserLastLogin")
	return s.Store.SetUserLastLogin(ctx, id, at)
}

func (s recordingStore) LockAdmins(ctx context.Context) (int, error) {
	s.add("LockAdmins")
	return s.Store.LockAdmins(ctx)
}

// rowWrites are the recorded calls that write or lock a user's rows.
var rowWrites = []string{"AcceptTOTPStep", "PutTOTP", "PutPendingTOTP", "ClaimPendingTOTP", "PutRecoveryCode",
	"ConsumeRecoveryCode", "SetSessionSecondFactor", "SetUserLastLogin", "LockUser", "LockAdmins"}

// writesByTransaction returns, for each transaction in calls (recordingStore's), the
// budget and row writes it made, in order.
func writesByTransaction(calls []string) [][]string {
	var txs [][]string
	in := false
	for _, c := range calls {
		name, inTx := strings.CutPrefix(c, "tx.")
		switch {
		case !inTx:
			in = c == "WithTx"
			if in {
				txs = append(txs, nil)
			}
		case in && (strings.HasPrefix(name, "ReserveAttempt(") || strings.HasPrefix(name, "ResetBudget(") || slices.Contains(rowWrites, name)):
			txs[len(txs)-1] = append(txs[len(txs)-1], name)
		}
	}
	return txs
}

// TestSecondFactorBudgetComesFirst: every transaction that takes a user's second-factor
// budget takes it before the user's other rows (authenticator, pending setup, recovery
// code, session, account), so on PostgreSQL two such transactions queue in one order and
// never deadlock (TestParallelCodeChecks races some of them). It walks every flow that
// takes the budget in a transaction with other rows: enrolling, the sign-in with a code and
// with the recovery code, a new recovery code, "confirm it is you", replacing the app with
// a code, and an API token's unlock.
func TestSecondFactorBudgetComesFirst(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	plain, _ := newService(t, auth.Options{})
	svc, clock := newService(t, auth.Options{Store: recordingStore{fullStore(plain), rec, false}})
	u, err := svc.CreateUser(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com", Password: testserver.Password}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	nextStep := func() {
		now := clock.Now()
		clock.Advance(time.Unix((totp.Step(now)+1)*30+10, 0).Sub(now))
	}
	login := func() *auth.Current {
		t.Helper()
		res, err := svc.Login(ctx, "alice", testserver.Password, auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Current
	}
	var secret []byte
	code := func() string { return totp.Code(secret, totp.Step(clock.Now())) }
	cur := login()
	budgetFirst := func(flow string) {
		t.Helper()
		took := false
		for _, tx := range writesByTransaction(rec.take()) {
			if !slices.Contains(tx, "ReserveAttempt(second_factor)") && !slices.Contains(tx, "ResetBudget(second_factor)") {
				continue
			}
			took = true
			if first := tx[0]; !strings.HasPrefix(first, "ReserveAttempt(") && !strings.HasPrefix(first, "ResetBudget(") {
				t.Errorf("%s: a transaction wrote %s before the second-factor budget: %v", flow, first, tx)
			}
		}
		if !took {
			t.Errorf("%s: no transaction took the second-factor budget", flow)
		}
	}

	rec.take()
	setup, err := svc.BeginTOTPSetup(ctx, cur, "", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	secret = testserver.DecodeSecret(t, setup.Secret)
	_, recoveryCode, err := svc.ConfirmTOTPSetup(ctx, cur, code(), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	budgetFirst("enrolling")

	for _, flow := range []struct {
		name string
		run  func() error
	}{
		{"sign-in with a code", func() error {
			pending := login()
			rec.take()
			_, err := svc.VerifyTOTP(ctx, pending, code(), auth.Meta{})
			return err
		}},
		{"sign-in with the recovery code", func() error {
			pending := login()
			rec.take()
			_, fresh, err := svc.UseRecoveryCode(ctx, pending, recoveryCode, auth.Meta{})
			recoveryCode = fresh
			return err
		}},
		{"new recovery code", func() error {
			_, err := svc.NewRecoveryCode(ctx, cur, code(), auth.Meta{})
			return err
		}},
		{"confirm it is you", func() error { return svc.ProveWithCode(ctx, cur, code(), auth.Meta{}) }},
		{"replace the app", func() error {
			_, err := svc.BeginTOTPSetup(ctx, cur, code(), auth.Meta{})
			return err
		}},
		{"unlock with an API token", func() error {
			return svc.Unlock(ctx, u, auth.Meta{ActorID: audit.TokenActorPrefix + "t1"})
		}},
	} {
		nextStep()
		rec.take()
		if err := flow.run(); err != nil {
			t.Fatalf("%s: %v", flow.name, err)
		}
		budgetFirst(flow.name)
	}
}
