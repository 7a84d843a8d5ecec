package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// Gate is a store.Store that pauses one call, the first made inside a transaction once
// Race has begun, right after it returns: the transaction then holds the rows that call
// locked while a second transaction starts. Tests of lock order line two transactions up
// with it. Give it to the services under test in place of the store it wraps.
type Gate struct {
	store.Store
	g    *gate
	inTx bool
}

type gate struct {
	at          string
	armed       atomic.Bool
	holds, goOn chan struct{}
}

// gated are the calls a Gate can pause at, with the argument that may narrow them.
var gated = map[string]bool{
	"ClaimPendingTOTP": true, "ConsumeRecoveryCode": true, "SetUserEmail": true,
	"ConsumeLinkToken": true, "ResetBudget/" + store.BudgetSecondFactor: true,
}

// NewGate returns st behind a gate at the method named at: ClaimPendingTOTP,
// ConsumeRecoveryCode, SetUserEmail, ConsumeLinkToken, or ResetBudget/second_factor (the
// reset of a second-factor budget).
func NewGate(st store.Store, at string) *Gate {
	if !gated[at] {
		panic(fmt.Sprintf("storetest: a Gate cannot pause at %q", at))
	}
	return &Gate{Store: st, g: &gate{at: at, holds: make(chan struct{}), goOn: make(chan struct{})}}
}

// WithTx runs fn with the transaction behind the same gate.
func (g *Gate) WithTx(ctx context.Context, fn func(store.Store) error) error {
	return g.Store.WithTx(ctx, func(tx store.Store) error {
		return fn(&Gate{Store: tx, g: g.g, inTx: true})
	})
}

// pause holds the calling transaction when it made the gated call, once.
func (g *Gate) pause(call string) {
	if g.inTx && call == g.g.at && g.g.armed.CompareAndSwap(true, false) {
		close(g.g.holds)
		<-g.g.goOn
	}
}

func (g *Gate) ClaimPendingTOTP(ctx context.Context, userID, sessionID string, secretEnc []byte) error {
	err := g.Store.ClaimPendingTOTP(ctx, userID, sessionID, secretEnc)
	g.pause("ClaimPendingTOTP")
	return err
}

func (g *Gate) ConsumeRecoveryCode(ctx context.Context, userID string, oldHash, newHash []byte, now time.Time) error {
	err := g.Store.ConsumeRecoveryCode(ctx, userID, oldHash, newHash, now)
	g.pause("ConsumeRecoveryCode")
	return err
}

func (g *Gate) SetUserEmail(ctx context.Context, id, email, emailNorm string, verified bool, now time.Time) error {
	err := g.Store.SetUserEmail(ctx, id, email, emailNorm, verified, now)
	g.pause("SetUserEmail")
	return err
}

func (g *Gate) ConsumeLinkToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*store.LinkToken, error) {
	l, err := g.Store.ConsumeLinkToken(ctx, purpose, hash, now)
	g.pause("ConsumeLinkToken")
	return l, err
}

func (g *Gate) ResetBudget(ctx context.Context, kind, key string) error {
	err := g.Store.ResetBudget(ctx, kind, key)
	g.pause("ResetBudget/" + kind)
	return err
}

// Race runs first until it has made the gated call, then second; gives second 300 ms to
// reach the rows it locks; lets first go on, and returns both errors. Were second slower
// than that, the test would pass without proving the order: it cannot fail for a slow
// machine. It fails the test at once when first ends before the gated call. One Race per
// Gate.
func (g *Gate) Race(t testing.TB, first, second func() error) (errFirst, errSecond error) {
	t.Helper()
	g.g.armed.Store(true)
	firstDone := make(chan error, 1)
	go func() { firstDone <- first() }()
	select {
	case <-g.g.holds:
	case err := <-firstDone:
		t.Fatalf("the first action ended before it reached %s: %v", g.g.at, err)
	}
	secondDone := make(chan error, 1)
	go func() { secondDone <- second() }()
	time.Sleep(300 * time.Millisecond)
	close(g.g.goOn)
	return <-firstDone, <-secondDone
}

// NoDeadlock fails the test when err says the database ended the action, as PostgreSQL
// ends one transaction of a deadlock (store.ErrUnavailable).
func NoDeadlock(t testing.TB, what string, err error) {
	t.Helper()
	if errors.Is(err, store.ErrUnavailable) {
		t.Errorf("%s: %v (the database ended it as a deadlock)", what, err)
	}
}
