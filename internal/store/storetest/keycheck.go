package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var keyCheckTests = []subtest{
	{"NoneUntilPut", testKeyCheckNoneUntilPut},
	{"FirstPutStays", testKeyCheckFirstPutStays},
	{"ParallelPutsKeepOne", testKeyCheckParallelPuts},
	{"AnyTOTPSecretReturnsOneWithItsUser", testAnyTOTPSecret},
	{"NewestOIDCSigningKey", testNewestOIDCSigningKey},
}

// testNewestOIDCSigningKey: none in a new store; then the newest key by creation, retired
// or not, sealed as stored.
func testNewestOIDCSigningKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.NewestOIDCSigningKey(ctx)
	wantErr(t, "NewestOIDCSigningKey of a new store", err, store.ErrNotFound)
	old := signingKeyFixture(t, "ES256", at(0))
	wantNoErr(t, "CreateOIDCSigningKey(ES256)", s.CreateOIDCSigningKey(ctx, old))
	newest := signingKeyFixture(t, "RS256", at(time.Hour))
	wantNoErr(t, "CreateOIDCSigningKey(RS256)", s.CreateOIDCSigningKey(ctx, newest))
	_, err = s.RetireOIDCSigningKeys(ctx, "RS256", at(2*time.Hour), at(3*time.Hour))
	wantNoErr(t, "RetireOIDCSigningKeys", err)
	got, err := s.NewestOIDCSigningKey(ctx)
	wantNoErr(t, "NewestOIDCSigningKey", err)
	if got.ID != newest.ID || got.Alg != newest.Alg || !bytes.Equal(got.PrivateEnc, newest.PrivateEnc) || !got.CreatedAt.Equal(newest.CreatedAt) {
		t.Errorf("NewestOIDCSigningKey = %s %s %x at %v, want %s %s %x at %v", got.ID, got.Alg, got.PrivateEnc, got.CreatedAt,
			newest.ID, newest.Alg, newest.PrivateEnc, newest.CreatedAt)
	}
}

func testKeyCheckNoneUntilPut(t *testing.T, s store.Store) {
	_, err := s.KeyCheck(t.Context())
	wantErr(t, "KeyCheck of a new store", err, store.ErrNotFound)
	sealed := randomBytes(t, 60)
	wantNoErr(t, "PutKeyCheck", s.PutKeyCheck(t.Context(), sealed, at(0)))
	got, err := s.KeyCheck(t.Context())
	wantNoErr(t, "KeyCheck", err)
	if !bytes.Equal(got, sealed) {
		t.Errorf("KeyCheck = %x, want %x", got, sealed)
	}
}

func testKeyCheckFirstPutStays(t *testing.T, s store.Store) {
	first, second := randomBytes(t, 60), randomBytes(t, 60)
	wantNoErr(t, "PutKeyCheck first", s.PutKeyCheck(t.Context(), first, at(0)))
	wantNoErr(t, "PutKeyCheck second", s.PutKeyCheck(t.Context(), second, at(1)))
	got, err := s.KeyCheck(t.Context())
	wantNoErr(t, "KeyCheck", err)
	if !bytes.Equal(got, first) {
		t.Errorf("KeyCheck = %x, want the first value %x", got, first)
	}
}

// testKeyCheckParallelPuts: instances starting at once each put a value of their own; all
// succeed, one value is stored, and every one reads back that same value.
func testKeyCheckParallelPuts(t *testing.T, s store.Store) {
	const n = 8
	values := make([][]byte, n)
	for i := range values {
		values[i] = randomBytes(t, 60)
	}
	readBack := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := s.PutKeyCheck(t.Context(), values[i], at(0)); err != nil {
				errs[i] = err
				return
			}
			readBack[i], errs[i] = s.KeyCheck(t.Context())
		})
	}
	wg.Wait()
	for i, err := range errs {
		wantNoErr(t, fmt.Sprintf("instance %d", i), err)
	}
	stored, err := s.KeyCheck(t.Context())
	wantNoErr(t, "KeyCheck", err)
	found := false
	for i := range n {
		found = found || bytes.Equal(stored, values[i])
		if !bytes.Equal(readBack[i], stored) {
			t.Errorf("instance %d read back %x, the store holds %x", i, readBack[i], stored)
		}
	}
	if !found {
		t.Errorf("the stored value %x is none of those put", stored)
	}
}

func testAnyTOTPSecret(t *testing.T, s store.Store) {
	_, _, err := s.AnyTOTPSecret(t.Context())
	wantErr(t, "AnyTOTPSecret without authenticators", err, store.ErrNotFound)
	alice := mustCreateUser(t, s, "alice")
	wantNoErr(t, "PutPendingTOTP", s.PutPendingTOTP(t.Context(), &store.PendingTOTP{UserID: alice.ID,
		SecretEnc: randomBytes(t, 48), CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
	_, _, err = s.AnyTOTPSecret(t.Context())
	wantErr(t, "AnyTOTPSecret with a setup not confirmed", err, store.ErrNotFound)
	c := mustPutTOTP(t, s, alice.ID)
	userID, sealed, err := s.AnyTOTPSecret(t.Context())
	wantNoErr(t, "AnyTOTPSecret", err)
	if userID != alice.ID || !bytes.Equal(sealed, c.SecretEnc) {
		t.Errorf("AnyTOTPSecret = %s, %x; want %s, %x", userID, sealed, alice.ID, c.SecretEnc)
	}
}
