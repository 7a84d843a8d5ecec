package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestInvitedUserCannotSignIn: an account created by invitation has no password, and no
// password (not even an empty one) signs it in; the answer is the usual wrong-password one.
func TestInvitedUserCannotSignIn(t *testing.T) {
	svc, _ := newService(t, auth.Options{})
	ctx := context.Background()
	var u *store.User
	err := fullStore(svc).WithTx(ctx, func(st store.Store) error {
		var err error
		u, err = svc.CreateInvitedUser(ctx, st, auth.NewUser{Username: "ivy", Email: "ivy@example.com"}, auth.Meta{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{testserver.Password, "", "$argon2id$"} {
		_, err := svc.Login(ctx, "ivy", pw, auth.Meta{})
		if !errors.Is(err, apperr.ErrInvalidCredentials) {
			t.Errorf("Login(ivy, %q) = %v, want invalid credentials", pw, err)
		}
	}
	hash, err := svc.HashNewPassword(ctx, u, testserver.Password)
	if err != nil {
		t.Fatal(err)
	}
	var cur *auth.Current
	err = fullStore(svc).WithTx(ctx, func(st store.Store) error {
		cur, err = svc.SetFirstPassword(ctx, st, u, hash, auth.Meta{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Session.State != store.StateAuthenticated {
		t.Errorf("first session state %s, want authenticated (MFA is required of nobody here)", cur.Session.State)
	}
	if _, err := svc.Login(ctx, "ivy", testserver.Password, auth.Meta{}); err != nil {
		t.Errorf("Login with the password set on acceptance: %v", err)
	}
}

// TestHashNewPasswordAppliesThePolicy: the first password of an invited account follows the
// same policy as every other.
func TestHashNewPasswordAppliesThePolicy(t *testing.T) {
	svc, _ := newService(t, auth.Options{})
	u := &store.User{Account: store.Account{Username: "ivy", Email: "ivy@example.com"}}
	for _, pw := range []string{"short", "ivy@example.com", "password12345"} {
		_, err := svc.HashNewPassword(context.Background(), u, pw)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeWeakPassword {
			t.Errorf("HashNewPassword(%q) = %v, want weak_password", pw, err)
		}
	}
}
