package auth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// failingAudit is the service's store with an audit log that refuses every write.
type failingAudit struct{ auth.Store }

func (failingAudit) AppendAudit(context.Context, *store.AuditEvent) error {
	return errors.New("disk full")
}

// TestFailedAuditWritesAreLogged: an event recorded beside an answer (here a wrong
// password) that cannot be written does not change the answer, and is logged, not dropped.
func TestFailedAuditWritesAreLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc, _ := newService(t, auth.Options{Log: log})
	if _, err := svc.CreateUser(context.Background(), auth.NewUser{Username: "alice", Email: "alice@example.com",
		Password: "correct horse battery staple 9"}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	broken, _ := newService(t, auth.Options{Log: log, Store: failingAudit{svc.Store()}})
	_, err := broken.Login(context.Background(), "alice", "not the password at all", auth.Meta{IP: "192.0.2.1"})
	if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeInvalidCredentials {
		t.Fatalf("Login with a wrong password and a broken audit log = %v, want invalid_credentials", err)
	}
	if !strings.Contains(logs.String(), "audit event not recorded") || !strings.Contains(logs.String(), "event=login.failed") ||
		!strings.Contains(logs.String(), "disk full") {
		t.Fatalf("the lost audit event was not logged:\n%s", logs.String())
	}
}
