package support_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

// dualControl is a fixture whose service requires a second agent's approval, with a user
// ada who has an authenticator and recovery code, a case about her, and two agents.
type dualControl struct {
	*fixture
	approval, direct *support.Service
	ada, alice, bob  *store.User
	ref              string
}

func newDualControl(t *testing.T) *dualControl {
	t.Helper()
	f := newFixture(t)
	d := &dualControl{fixture: f}
	now := func() time.Time { return f.clock }
	opts := support.Options{Store: f.rec, Auth: f.auth, Post: mail.Post{Queue: f.queue, BaseURL: "https://id.example.com/"},
		CasesPerIPHour: 100000, CasesPerEmailHour: 100000, Now: now, RequireApproval: true}
	d.approval = support.New(opts)
	opts.RequireApproval = false
	d.direct = support.New(opts)
	d.ada = f.user(t, "ada", store.RoleUser)
	d.alice = f.user(t, "alice", store.RoleSupport)
	d.bob = f.user(t, "bob", store.RoleSupport)
	d.enroll(t)
	var err error
	if d.ref, err = f.svc.OpenCase(t.Context(), request("ada@example.com"), auth.Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	return d
}

// enroll gives ada an authenticator and a recovery code created now.
func (d *dualControl) enroll(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	if err := d.db.PutTOTP(ctx, &store.TOTPCredential{UserID: d.ada.ID, SecretEnc: []byte("secret"), CreatedAt: d.clock}); err != nil {
		t.Fatal(err)
	}
	if err := d.db.PutRecoveryCode(ctx, &store.RecoveryCode{UserID: d.ada.ID, CodeHash: []byte("hash"), CreatedAt: d.clock}); err != nil {
		t.Fatal(err)
	}
}

func (d *dualControl) request(t *testing.T) {
	t.Helper()
	res, err := d.approval.RequestReset(t.Context(), &d.alice.Account, d.ref, support.ResetRequest{Verification: support.VerifyOther, Note: "called back"}, auth.Meta{})
	if err != nil || res.Status != support.ResetPending {
		t.Fatalf("RequestReset = %+v, %v; want pending", res, err)
	}
}

// wantConflict checks err is a 409 whose message says why.
func wantConflict(t *testing.T, err error, why string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.CodeConflict || !strings.Contains(e.Message, why) {
		t.Fatalf("error %v, want a conflict saying %q", err, why)
	}
}

func (d *dualControl) wantAuthenticatorKept(t *testing.T) {
	t.Helper()
	if _, err := d.db.GetTOTP(t.Context(), d.ada.ID); err != nil {
		t.Fatalf("ada's authenticator is gone: %v", err)
	}
}

func TestStaleResetRequests(t *testing.T) {
	t.Run("a request expires after 24 hours", func(t *testing.T) {
		d := newDualControl(t)
		d.request(t)
		d.clock = d.clock.Add(support.PendingResetTTL + time.Second)
		_, err := d.approval.ApproveReset(t.Context(), &d.bob.Account, d.ref, auth.Meta{})
		wantConflict(t, err, "expired")
		d.wantAuthenticatorKept(t)

		// It is cancelled for good, noted on the case; a new request can be made.
		c, err := d.approval.Case(t.Context(), &d.bob.Account, d.ref)
		if err != nil {
			t.Fatal(err)
		}
		if c.Pending != nil {
			t.Errorf("the expired request is still shown as pending: %+v", c.Pending)
		}
		last := c.Timeline[len(c.Timeline)-1]
		if last.Kind != support.EventResetCancelled || !strings.Contains(last.Body, "expired") {
			t.Errorf("last timeline entry %+v, want the expiry", last)
		}
		d.request(t)
	})
	t.Run("an expired request is not offered for approval", func(t *testing.T) {
		d := newDualControl(t)
		d.request(t)
		c, err := d.approval.Case(t.Context(), &d.bob.Account, d.ref)
		if err != nil || c.Pending == nil {
			t.Fatalf("Case = %+v, %v; want the request pending", c, err)
		}
		d.clock = d.clock.Add(support.PendingResetTTL)
		if c, err = d.approval.Case(t.Context(), &d.bob.Account, d.ref); err != nil || c.Pending != nil {
			t.Fatalf("Case 24h later = pending %+v, %v; want none", c.Pending, err)
		}
		d.request(t) // replaces it
	})
	t.Run("a request within 24 hours is approved", func(t *testing.T) {
		d := newDualControl(t)
		d.request(t)
		d.clock = d.clock.Add(support.PendingResetTTL - time.Minute)
		if res, err := d.approval.ApproveReset(t.Context(), &d.bob.Account, d.ref, auth.Meta{}); err != nil || res.Status != support.ResetDone {
			t.Fatalf("ApproveReset = %+v, %v", res, err)
		}
	})
	for _, change := range []struct {
		name string
		do   func(*dualControl, *testing.T)
	}{
		{"a new authenticator", func(d *dualControl, t *testing.T) {
			if err := d.db.PutTOTP(t.Context(), &store.TOTPCredential{UserID: d.ada.ID, SecretEnc: []byte("fresh"), CreatedAt: d.clock}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a new recovery code", func(d *dualControl, t *testing.T) {
			if err := d.db.PutRecoveryCode(t.Context(), &store.RecoveryCode{UserID: d.ada.ID, CodeHash: []byte("fresh"), CreatedAt: d.clock}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run("a request is void after "+change.name, func(t *testing.T) {
			d := newDualControl(t)
			d.request(t)
			d.clock = d.clock.Add(time.Hour)
			change.do(d, t) // she got her factors back meanwhile
			d.clock = d.clock.Add(time.Hour)
			_, err := d.approval.ApproveReset(t.Context(), &d.bob.Account, d.ref, auth.Meta{})
			wantConflict(t, err, "changed after")
			d.wantAuthenticatorKept(t)
			if _, err := d.db.GetPendingMFAReset(t.Context(), mustCase(t, d).ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the void request is still pending: %v", err)
			}
		})
	}
	t.Run("a direct reset is refused while a request is pending", func(t *testing.T) {
		d := newDualControl(t)
		d.request(t)
		_, err := d.direct.RequestReset(t.Context(), &d.bob.Account, d.ref, support.ResetRequest{Verification: support.VerifyOther, Note: "in person"}, auth.Meta{})
		wantConflict(t, err, "waiting for approval")
		_, err = d.direct.ResetAtConsole(context.Background(), d.ada, "lost phone", "", auth.Meta{IP: "console"})
		wantConflict(t, err, "waiting for approval")
		d.wantAuthenticatorKept(t)

		// Once it expired, it no longer stands in the way.
		d.clock = d.clock.Add(support.PendingResetTTL + time.Second)
		if res, err := d.direct.ResetAtConsole(context.Background(), d.ada, "lost phone", "", auth.Meta{IP: "console"}); err != nil || res.Status != support.ResetDone {
			t.Fatalf("console reset after the request expired = %+v, %v", res, err)
		}
	})
}

func mustCase(t *testing.T, d *dualControl) *store.SupportCase {
	t.Helper()
	c, err := d.db.GetCaseByReference(t.Context(), d.ref)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
